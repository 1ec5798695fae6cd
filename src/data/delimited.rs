//! CSV and TSV files, read as a stream: a header row (or `columns` names),
//! quoted multi-line fields, LF or CRLF line endings (a lone carriage return
//! inside a field is text), any encoding, errors located by the physical line
//! where a record starts. Only the columns used are checked and copied.

use super::decode::{open_text, sniff, DecodingReader};
use super::error::{DataError, DataErrorKind, Result};
use super::table::{ColumnPlan, Table};
use crate::spec::BadRows;
use std::io::Read;
use std::path::Path;

/// Read a delimited file (`b','` for CSV, `b'\t'` for TSV unless the plan's
/// `delimiter` says otherwise).
pub fn read_delimited(path: &Path, delimiter: u8, plan: &ColumnPlan) -> Result<Table> {
    let encoding = plan.options.encoding().map_err(|p| option_error(path, p))?;
    let reader = open_text(path, encoding).map_err(|e| DataError::io(path, e))?;
    read_stream(reader, path, delimiter, plan)
}

/// [`read_delimited`] on bytes already in memory; `path` names them in errors.
pub fn read_delimited_bytes(
    bytes: &[u8],
    path: &Path,
    delimiter: u8,
    plan: &ColumnPlan,
) -> Result<Table> {
    let encoding = plan.options.encoding().map_err(|p| option_error(path, p))?;
    match sniff(encoding, bytes) {
        Some(enc) => read_stream(DecodingReader::new(bytes, enc), path, delimiter, plan),
        None => {
            // A UTF-8 byte order mark is not part of the first column's name.
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            read_stream(bytes, path, delimiter, plan)
        }
    }
}

/// A bad parsing option, reported against the file being read.
fn option_error(path: &Path, (key, message): (&'static str, String)) -> DataError {
    DataError::in_file(DataErrorKind::Spec, path, format!("`{key}`: {message}"))
}

/// The reader under the CSV parser: it keeps the bytes from the start of the
/// current record, so a malformed record can be examined (quoting hints,
/// lines spanned) without holding the whole file.
struct Window<R> {
    inner: R,
    /// Bytes read and not yet forgotten; `buf[0]` is at stream offset `offset`.
    buf: Vec<u8>,
    offset: u64,
    eof: bool,
}

impl<R: Read> Read for Window<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.eof |= n == 0 && !out.is_empty();
        self.buf.extend_from_slice(&out[..n]);
        Ok(n)
    }
}

impl<R> Window<R> {
    /// The bytes from stream offset `pos` on (as far as read).
    fn from(&self, pos: u64) -> &[u8] {
        let start = (pos.saturating_sub(self.offset) as usize).min(self.buf.len());
        &self.buf[start..]
    }

    /// Drop the bytes before stream offset `pos`.
    fn forget_before(&mut self, pos: u64) {
        let n = (pos.saturating_sub(self.offset) as usize).min(self.buf.len());
        self.buf.drain(..n);
        self.offset += n as u64;
    }

    /// Whether stream offset `pos` is the end of the input.
    fn ends_at(&self, pos: u64) -> bool {
        self.eof && pos >= self.offset + self.buf.len() as u64
    }
}

/// A field without the carriage return of a CRLF line ending (the parser
/// ends records at `\n` only, so a lone `\r` inside a field stays text).
fn field(record: &csv::ByteRecord, i: usize) -> &[u8] {
    let f = record.get(i).unwrap_or(b"");
    if i + 1 == record.len() {
        f.strip_suffix(b"\r").unwrap_or(f)
    } else {
        f
    }
}

/// Read delimited text from `reader` (UTF-8); `path` names it in errors.
fn read_stream<R: Read>(reader: R, path: &Path, delimiter: u8, plan: &ColumnPlan) -> Result<Table> {
    let opts = &plan.options;
    let delimiter = opts
        .delimiter_byte(delimiter)
        .map_err(|p| option_error(path, p))?;
    let quote = opts.quote_byte().map_err(|p| option_error(path, p))?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .has_headers(false)
        // Field counts are checked here so that bad rows can be skipped and located.
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(Window {
            inner: reader,
            buf: Vec::new(),
            offset: 0,
            eof: false,
        });
    let mut record = csv::ByteRecord::new();
    let read = |rdr: &mut csv::Reader<Window<R>>, record: &mut csv::ByteRecord| loop {
        let more = rdr.read_byte_record(record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            DataError::in_file(
                DataErrorKind::BadRow,
                path,
                format!("cannot parse the file: {e}"),
            )
            .at_line(line)
        })?;
        // A line holding only the `\r` of a CRLF ending is blank, like an empty line.
        if !(more && record.len() == 1 && record.get(0) == Some(b"\r")) {
            return Ok::<bool, DataError>(more);
        }
    };
    let mut header: Vec<String> = if opts.header {
        if !read(&mut rdr, &mut record)? {
            return Err(DataError::in_file(
                DataErrorKind::Format,
                path,
                "the file is empty; expected a header row naming the columns \
                 (or `header: false` with `columns: [...]`)",
            ));
        }
        let header_line = record.position().map(|p| p.line()).unwrap_or(1);
        let mut names = Vec::with_capacity(record.len());
        for i in 0..record.len() {
            match std::str::from_utf8(field(&record, i)) {
                Ok(s) => names.push(s.trim().to_string()),
                Err(e) => {
                    return Err(DataError::in_file(
                        DataErrorKind::BadRow,
                        path,
                        format!(
                            "header column {} is not valid UTF-8 (bad byte at offset {}); save the file as UTF-8 or set `data.encoding` (e.g. latin-1)",
                            i + 1,
                            e.valid_up_to()
                        ),
                    )
                    .at_line(header_line))
                }
            }
        }
        names
    } else {
        opts.columns.clone()
    };
    let header_source = if opts.header {
        "as in the header"
    } else {
        "as named in `data.columns`"
    };
    plan.rename_header(&mut header);
    let resolved = plan.resolve(&header, path, |_| true)?;
    let used = resolved.used();
    let mut table = Table {
        columns: header.clone(),
        ..Table::default()
    };
    let mut index = 0usize;
    'records: while read(&mut rdr, &mut record)? {
        let mut cells: Vec<&str> = Vec::with_capacity(used.len());
        let pos = record
            .position()
            .cloned()
            .unwrap_or_else(csv::Position::new);
        let (line, start) = (pos.line(), pos.byte());
        let end = rdr.position().byte();
        let this = index;
        index += 1;
        let window = rdr.get_ref();
        let bytes = window.from(start);
        let record_bytes = &bytes[..((end - start) as usize).min(bytes.len())];
        // Rows a malformed record stands for: one, or every line a quoting problem swallowed.
        let mut spanned = 1;
        let problem: DataError = 'row: {
            if record.len() != header.len() {
                let mut msg = format!(
                    "expected {} fields ({header_source}), found {}",
                    header.len(),
                    record.len()
                );
                if let Some((_, hint)) = quoting_problem(bytes, delimiter, quote, line) {
                    msg.push_str("; ");
                    msg.push_str(&hint);
                    spanned = physical_lines(record_bytes);
                }
                break 'row DataError::in_file(DataErrorKind::BadRow, path, msg).at_line(line);
            }
            cells.clear();
            for &i in &used {
                match std::str::from_utf8(field(&record, i)) {
                    Ok(s) => cells.push(s),
                    Err(e) => {
                        break 'row DataError::in_file(
                            DataErrorKind::BadRow,
                            path,
                            format!(
                                "invalid UTF-8 (bad byte at offset {} of the field); save the file as UTF-8 or set `data.encoding` (e.g. latin-1)",
                                e.valid_up_to()
                            ),
                        )
                        .at_line(line)
                        .at_column(header[i].clone())
                    }
                }
            }
            // A quote left open at the end of the file swallows the rest into one field.
            if window.ends_at(end) {
                if let Some((true, hint)) = quoting_problem(bytes, delimiter, quote, line) {
                    spanned = physical_lines(record_bytes);
                    break 'row DataError::in_file(
                        DataErrorKind::BadRow,
                        path,
                        format!("bad quoting: {hint}"),
                    )
                    .at_line(line);
                }
            }
            let cell = |i: usize| used.binary_search(&i).map(|k| cells[k]).unwrap_or("");
            match resolved.build_row(cell, this, &plan.separator) {
                Ok(row) => {
                    table.rows.push(row);
                    rdr.get_mut().forget_before(end);
                    continue 'records;
                }
                Err(p) => DataError::in_file(DataErrorKind::BadRow, path, p.message)
                    .at_line(line)
                    .at_column(p.column),
            }
        };
        rdr.get_mut().forget_before(end);
        match plan.on_bad_rows {
            BadRows::Error => return Err(problem),
            BadRows::Skip => table.skip(problem, spanned),
        }
    }
    Ok(table)
}

/// Physical lines in a record's bytes (a last line without `\n` counts too).
fn physical_lines(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    (newlines + usize::from(!bytes.ends_with(b"\n"))).max(1)
}

/// Look for a quoting problem in the record at the start of `bytes` (on line
/// `line`): a quote never closed, text after a closing quote, or a quoted field
/// running over several lines (the usual sign of a stray quote). Describes it;
/// the flag is true for a quote never closed (always an error).
fn quoting_problem(bytes: &[u8], delimiter: u8, quote: u8, line: u64) -> Option<(bool, String)> {
    let q = quote as char;
    let mut i = 0;
    let mut cur_line = line;
    let mut at_field_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if at_field_start && b == quote {
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
                    c if c == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
                    c if c == quote => {
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
                None | Some(b'\n') => {}
                Some(b'\r') if matches!(bytes.get(i + 1), None | Some(b'\n')) => {}
                Some(&d) if d == delimiter => {}
                Some(_) => {
                    return Some((
                        false,
                        format!(
                            "bad quoting: text follows the closing quote of a field on line {cur_line}; \
                             a quote inside a quoted field must be doubled ({q}{q})"
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
            b'\n' => return None,
            d if d == delimiter => at_field_start = true,
            _ => at_field_start = false,
        }
        i += 1;
    }
    None
}
