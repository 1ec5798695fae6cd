//! CSV and TSV files with a header row: quoted multi-line fields, CRLF line
//! endings, errors located by the physical line where a record starts.

use super::error::{DataError, DataErrorKind, Result};
use super::table::{ColumnPlan, Table};
use crate::spec::BadRows;
use std::path::Path;

/// Read a delimited file (`b','` for CSV, `b'\t'` for TSV) with a header row.
pub fn read_delimited(path: &Path, delimiter: u8, plan: &ColumnPlan) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    read_delimited_bytes(&bytes, path, delimiter, plan)
}

/// [`read_delimited`] on bytes already in memory; `path` names them in errors.
pub fn read_delimited_bytes(
    bytes: &[u8],
    path: &Path,
    delimiter: u8,
    plan: &ColumnPlan,
) -> Result<Table> {
    // A UTF-8 byte order mark is not part of the first column's name.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        // Field counts are checked here so that bad rows can be skipped and located.
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let read = |rdr: &mut csv::Reader<&[u8]>, record: &mut csv::ByteRecord| {
        rdr.read_byte_record(record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            DataError::in_file(
                DataErrorKind::BadRow,
                path,
                format!("cannot parse the file: {e}"),
            )
            .at_line(line)
        })
    };
    if !read(&mut rdr, &mut record)? {
        return Err(DataError::in_file(
            DataErrorKind::Format,
            path,
            "the file is empty; expected a header row naming the columns",
        ));
    }
    let header_line = record.position().map(|p| p.line()).unwrap_or(1);
    let mut header = Vec::with_capacity(record.len());
    for (i, f) in record.iter().enumerate() {
        match std::str::from_utf8(f) {
            Ok(s) => header.push(s.trim().to_string()),
            Err(e) => {
                return Err(DataError::in_file(
                    DataErrorKind::BadRow,
                    path,
                    format!(
                        "header column {} is not valid UTF-8 (bad byte at offset {}); save the file as UTF-8",
                        i + 1,
                        e.valid_up_to()
                    ),
                )
                .at_line(header_line))
            }
        }
    }
    plan.rename_header(&mut header);
    let resolved = plan.resolve(&header, path, |_| true)?;
    let mut table = Table {
        rows: Vec::new(),
        skipped: 0,
        columns: header.clone(),
    };
    let mut index = 0usize;
    'records: while read(&mut rdr, &mut record)? {
        let pos = record
            .position()
            .cloned()
            .unwrap_or_else(csv::Position::new);
        let line = pos.line();
        let this = index;
        index += 1;
        let problem: DataError = 'row: {
            if record.len() != header.len() {
                let mut msg = format!(
                    "expected {} fields (as in the header), found {}",
                    header.len(),
                    record.len()
                );
                if let Some((_, hint)) =
                    quoting_problem(bytes, pos.byte() as usize, delimiter, line)
                {
                    msg.push_str("; ");
                    msg.push_str(&hint);
                }
                break 'row DataError::in_file(DataErrorKind::BadRow, path, msg).at_line(line);
            }
            let mut cells: Vec<&str> = Vec::with_capacity(record.len());
            for (i, f) in record.iter().enumerate() {
                match std::str::from_utf8(f) {
                    Ok(s) => cells.push(s),
                    Err(e) => {
                        break 'row DataError::in_file(
                            DataErrorKind::BadRow,
                            path,
                            format!(
                                "invalid UTF-8 (bad byte at offset {} of the field); save the file as UTF-8",
                                e.valid_up_to()
                            ),
                        )
                        .at_line(line)
                        .at_column(header[i].clone())
                    }
                }
            }
            // A quote left open at the end of the file swallows the rest into one field.
            if rdr.position().byte() as usize >= bytes.len() {
                if let Some((true, hint)) =
                    quoting_problem(bytes, pos.byte() as usize, delimiter, line)
                {
                    break 'row DataError::in_file(
                        DataErrorKind::BadRow,
                        path,
                        format!("bad quoting: {hint}"),
                    )
                    .at_line(line);
                }
            }
            match resolved.build_row(&cells, this, &plan.separator) {
                Ok(row) => {
                    table.rows.push(row);
                    continue 'records;
                }
                Err(p) => DataError::in_file(DataErrorKind::BadRow, path, p.message)
                    .at_line(line)
                    .at_column(p.column),
            }
        };
        match plan.on_bad_rows {
            BadRows::Error => return Err(problem),
            BadRows::Skip => table.skipped += 1,
        }
    }
    Ok(table)
}

/// Look for a quoting problem in the record starting at byte `start` (on line
/// `line`): a quote never closed, text after a closing quote, or a quoted field
/// running over several lines (the usual sign of a stray quote). Describes it;
/// the flag is true for a quote never closed (always an error).
fn quoting_problem(bytes: &[u8], start: usize, delimiter: u8, line: u64) -> Option<(bool, String)> {
    let mut i = start;
    let mut cur_line = line;
    let mut at_field_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if at_field_start && b == b'"' {
            let open_line = cur_line;
            i += 1;
            loop {
                if i >= bytes.len() {
                    return Some((
                        true,
                        format!("the quote that opens a field on line {open_line} is never closed"),
                    ));
                }
                match bytes[i] {
                    b'"' if bytes.get(i + 1) == Some(&b'"') => i += 2,
                    b'"' => {
                        i += 1;
                        break;
                    }
                    b'\n' => {
                        cur_line += 1;
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
            match bytes.get(i) {
                None | Some(b'\r') | Some(b'\n') => {}
                Some(&d) if d == delimiter => {}
                Some(_) => {
                    return Some((
                        false,
                        format!(
                            "bad quoting: text follows the closing quote of a field on line {cur_line}; \
                             a quote inside a quoted field must be doubled (\"\")"
                        ),
                    ))
                }
            }
            if cur_line > open_line {
                return Some((
                    false,
                    format!(
                        "a quoted field runs from line {open_line} to line {cur_line}; a stray quote may have opened it"
                    ),
                ));
            }
            at_field_start = false;
            continue;
        }
        match b {
            b'\n' | b'\r' => return None,
            d if d == delimiter => at_field_start = true,
            _ => at_field_start = false,
        }
        i += 1;
    }
    None
}
