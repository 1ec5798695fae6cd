//! Streaming conversion of a text file's bytes to UTF-8 (`data.encoding`, or
//! a UTF-16 byte order mark), so readers only ever see UTF-8.

use encoding_rs::{CoderResult, Decoder, Encoding};
use std::io::{self, Read};

/// Bytes read from the file per step.
const CHUNK: usize = 64 * 1024;

/// A reader giving the UTF-8 text of `inner`, decoded from `encoding`.
///
/// A byte order mark at the start wins over `encoding` (and is dropped).
/// Bytes that are invalid in the encoding become U+FFFD.
pub struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Unread part of `output`: `output[start..end]`.
    start: usize,
    end: usize,
    finished: bool,
}

impl<R: Read> DecodingReader<R> {
    /// Decode `inner` from `encoding`.
    pub fn new(inner: R, encoding: &'static Encoding) -> DecodingReader<R> {
        let decoder = encoding.new_decoder();
        DecodingReader {
            inner,
            decoder,
            input: vec![0; CHUNK],
            output: Vec::new(),
            start: 0,
            end: 0,
            finished: false,
        }
    }

    /// Decode the next chunk into `output`; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        while self.start == self.end {
            if self.finished {
                return Ok(false);
            }
            let n = loop {
                match self.inner.read(&mut self.input) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            };
            let last = n == 0;
            let need = self
                .decoder
                .max_utf8_buffer_length(n)
                .unwrap_or(n * 3 + 16)
                .max(16);
            if self.output.len() < need {
                self.output.resize(need, 0);
            }
            let (result, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[..n], &mut self.output, last);
            // The output buffer is sized for the whole chunk, so all of it is consumed.
            debug_assert!(matches!(result, CoderResult::InputEmpty) && read == n);
            self.start = 0;
            self.end = written;
            self.finished = last;
        }
        Ok(true)
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.end - self.start);
        buf[..n].copy_from_slice(&self.output[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

/// The encoding a file is read in: the one asked for, else UTF-16 when the
/// file starts with a UTF-16 byte order mark, else `None` (UTF-8 as is).
pub fn sniff(asked: Option<&'static Encoding>, head: &[u8]) -> Option<&'static Encoding> {
    let bom = match head {
        [0xFF, 0xFE, ..] => Some(encoding_rs::UTF_16LE),
        [0xFE, 0xFF, ..] => Some(encoding_rs::UTF_16BE),
        _ => None,
    };
    asked.or(bom)
}

/// Open `path` as a stream of UTF-8 bytes (decoded when `asked` or a UTF-16
/// byte order mark says so; a UTF-8 byte order mark is dropped).
pub fn open_text(
    path: &std::path::Path,
    asked: Option<&'static Encoding>,
) -> io::Result<Box<dyn Read>> {
    let mut file = std::fs::File::open(path)?;
    let mut head = [0u8; 3];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    let head = &head[..got];
    let rest = io::Cursor::new(head.to_vec()).chain(file);
    Ok(match sniff(asked, head) {
        Some(enc) => Box::new(DecodingReader::new(rest, enc)),
        None => {
            let bom = usize::from(head.starts_with(b"\xEF\xBB\xBF")) * 3;
            let mut r = rest;
            io::copy(&mut (&mut r).take(bom as u64), &mut io::sink())?;
            Box::new(io::BufReader::with_capacity(CHUNK, r))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], enc: &'static Encoding) -> String {
        let mut s = String::new();
        DecodingReader::new(bytes, enc)
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn latin1_and_utf16_with_bom() {
        assert_eq!(decode(b"caf\xe9,\x80", encoding_rs::WINDOWS_1252), "café,€");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("hé\n".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&utf16, encoding_rs::UTF_8), "hé\n");
        assert_eq!(sniff(None, &utf16), Some(encoding_rs::UTF_16LE));
        assert_eq!(sniff(None, b"abc"), None);
    }

    #[test]
    fn long_input_is_decoded_in_chunks() {
        let text: Vec<u8> = std::iter::repeat_n(b"\xe9a".iter().copied(), 100_000)
            .flatten()
            .collect();
        let s = decode(&text, encoding_rs::WINDOWS_1252);
        assert_eq!(s.chars().count(), 200_000);
        assert!(s.starts_with("éa"));
    }
}
