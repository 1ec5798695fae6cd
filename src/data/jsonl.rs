//! JSON Lines: one JSON object per line; blank lines are ignored.

use super::decode::{open_text, sniff, DecodingReader};
use super::error::{DataError, DataErrorKind, Result};
use super::table::{missing_column, ColumnPlan, Table};
use crate::spec::BadRows;
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;

/// Read a JSONL file, a line at a time. The columns are the keys of the first
/// object; every later object must have the columns the plan reads (other
/// keys are ignored). Strings are taken as is, numbers and booleans as
/// written, `null` as empty. `data.encoding` applies as for CSV.
pub fn read_jsonl(path: &Path, plan: &ColumnPlan) -> Result<Table> {
    let encoding = plan.options.encoding().map_err(|p| option_error(path, p))?;
    let reader = open_text(path, encoding).map_err(|e| DataError::io(path, e))?;
    read_lines(std::io::BufReader::new(reader), path, plan)
}

/// [`read_jsonl`] on bytes already in memory; `path` names them in errors.
pub fn read_jsonl_bytes(bytes: &[u8], path: &Path, plan: &ColumnPlan) -> Result<Table> {
    let encoding = plan.options.encoding().map_err(|p| option_error(path, p))?;
    match sniff(encoding, bytes) {
        Some(enc) => read_lines(
            std::io::BufReader::new(DecodingReader::new(bytes, enc)),
            path,
            plan,
        ),
        None => read_lines(
            bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
            path,
            plan,
        ),
    }
}

/// A bad parsing option, reported against the file being read.
fn option_error(path: &Path, (key, message): (&'static str, String)) -> DataError {
    DataError::in_file(DataErrorKind::Spec, path, format!("`{key}`: {message}"))
}

/// Read JSON lines from `reader` (UTF-8).
fn read_lines(mut reader: impl BufRead, path: &Path, plan: &ColumnPlan) -> Result<Table> {
    let mut table = Table::default();
    let mut resolved = None;
    let mut used: Vec<usize> = Vec::new();
    // The first object's keys as written (renames change only the names shown).
    let mut keys: Vec<String> = Vec::new();
    let mut index = 0usize;
    let mut buf = Vec::new();
    let mut line = 0u64;
    'lines: loop {
        buf.clear();
        if reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| DataError::io(path, e))?
            == 0
        {
            break;
        }
        line += 1;
        let raw = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let bad = |msg: String| DataError::in_file(DataErrorKind::BadRow, path, msg).at_line(line);
        let parsed: std::result::Result<serde_json::Map<String, Value>, DataError> = match std::str::from_utf8(raw) {
            Err(e) => Err(bad(format!(
                "invalid UTF-8 (bad byte at offset {} of the line); save the file as UTF-8",
                e.valid_up_to()
            ))),
            Ok(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(other) => Err(bad(format!(
                    "expected a JSON object like {{\"text\": \"...\", \"label\": \"...\"}}, found {}",
                    kind_of(&other)
                ))),
                Err(e) => Err(bad(format!("invalid JSON at character {}: {e}", e.column()))),
            },
        };
        let obj = match parsed {
            Ok(o) => o,
            // The first object defines the columns: it cannot be skipped.
            Err(e) if plan.on_bad_rows == BadRows::Skip && resolved.is_some() => {
                table.skip(e, 1);
                index += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if resolved.is_none() {
            keys = obj.keys().cloned().collect();
            let mut header = keys.clone();
            plan.rename_header(&mut header);
            let r = plan.resolve(&header, path, |_| true).map_err(|mut e| {
                e.line = Some(line);
                e
            })?;
            table.columns = header;
            used = r.used();
            resolved = Some(r);
        }
        let Some(r) = resolved.as_ref() else { continue };
        let this = index;
        index += 1;
        let problem = 'row: {
            // Only the columns used are copied out of the object.
            let mut cells: Vec<String> = Vec::with_capacity(used.len());
            for &i in &used {
                let (name, key) = (&r.names[i], &keys[i]);
                let needed = r.is_needed(i);
                match obj.get(key) {
                    None if needed => {
                        let present: Vec<String> = obj.keys().cloned().collect();
                        break 'row missing_column(name, &present, path, Some(line));
                    }
                    // Extras are for exploration only: absent is empty, nested is JSON text.
                    None => cells.push(String::new()),
                    Some(v) => match cell_text(v) {
                        Some(s) => cells.push(s),
                        None if !needed => cells.push(v.to_string()),
                        None => {
                            break 'row bad(format!(
                                "expected a string or a number, found {}",
                                kind_of(v)
                            ))
                            .at_column(name.clone())
                        }
                    },
                }
            }
            let cell = |i: usize| {
                used.binary_search(&i)
                    .map(|k| cells[k].as_str())
                    .unwrap_or("")
            };
            match r.build_row(cell, this, &plan.separator) {
                Ok(row) => {
                    table.rows.push(row);
                    continue 'lines;
                }
                Err(p) => bad(p.message).at_column(p.column),
            }
        };
        match plan.on_bad_rows {
            BadRows::Error => return Err(problem),
            BadRows::Skip => table.skip(problem, 1),
        }
    }
    if resolved.is_none() {
        return Err(DataError::in_file(
            DataErrorKind::Format,
            path,
            "the file has no JSON objects; expected one object per line",
        ));
    }
    Ok(table)
}

/// A scalar JSON value as cell text; `None` for arrays and objects.
fn cell_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A JSON value's kind, for messages.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
