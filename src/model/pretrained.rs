//! Pretrained word vectors for `embedding: {init: pretrained, path: ...}`:
//! GloVe or word2vec text files (plain or `.gz`), read as a stream keeping only
//! the vocabulary's words.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// What building a model may need beyond the layer specs.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildContext<'a> {
    /// The tokenizer's words in index order: `vocabulary[0]` is the word for
    /// token id 1, `vocabulary[1]` for id 2, … (id 0 is padding). Needed by
    /// `init: pretrained`.
    pub vocabulary: Option<&'a [String]>,
    /// Folder that a relative `embedding.path` is resolved against (the spec's folder).
    pub spec_dir: Option<&'a Path>,
    /// The weights are overwritten right after building (`Model::load`), so
    /// pretrained vectors are not read.
    pub weights_follow: bool,
}

/// How many vocabulary words a word-vector file covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Vocabulary words (token ids `1..input_dim`) found in the file.
    pub found: usize,
    /// Vocabulary words with a token id below `input_dim`.
    pub total: usize,
    /// The word-vector file, as resolved.
    pub source: String,
}

impl Coverage {
    /// `found / total` (0 when the vocabulary is empty).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.found as f64 / self.total as f64
        }
    }
}

/// The file `path` names, relative to `spec_dir` when it is relative.
pub fn resolve(path: &Path, spec_dir: Option<&Path>) -> PathBuf {
    match spec_dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

/// Fill the rows of `table` (`input_dim × dim`, row-major) for the vocabulary
/// words found in the word-vector file `path`; other rows are left as they are.
///
/// Accepts GloVe text (`word v1 … vd` per line) and word2vec text (the same
/// after a first line `count dim`), plain or gzip-compressed (`.gz`). A file
/// whose vectors do not have `dim` values is an error naming the file and both
/// numbers. Errors are messages ready to show.
pub fn load_vectors(
    path: &Path,
    vocabulary: &[String],
    dim: usize,
    table: &mut [f32],
) -> Result<Coverage, String> {
    let input_dim = table.len() / dim.max(1);
    let shown = path.display();
    let file =
        File::open(path).map_err(|e| format!("cannot open word-vector file {shown}: {e}"))?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    // Word → token id, for ids the embedding has rows for.
    let wanted: HashMap<&[u8], usize> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_bytes(), i + 1))
        .filter(|(_, id)| *id < input_dim)
        .collect();
    let total = wanted.len();
    let mut seen = vec![false; input_dim];
    let mut found = 0usize;
    let mut line = Vec::with_capacity(4096);
    let mut line_no = 0usize;
    let mut checked_dim = false;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read word-vector file {shown}: {e}"))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = trim_end(&line);
        if text.is_empty() {
            continue;
        }
        if line_no == 1 {
            if let Some(header_dim) = word2vec_header(text) {
                if header_dim != dim {
                    return Err(mismatch(&shown, header_dim, dim));
                }
                continue;
            }
        }
        let Some(space) = text.iter().position(|b| *b == b' ' || *b == b'\t') else {
            return Err(format!(
                "word-vector file {shown}, line {line_no}: expected a word followed by {dim} numbers"
            ));
        };
        let word = &text[..space];
        let id = wanted.get(word).copied();
        if checked_dim && id.is_none() {
            continue;
        }
        let values = &text[space + 1..];
        let count = values
            .split(|b| *b == b' ' || *b == b'\t')
            .filter(|t| !t.is_empty())
            .count();
        if count != dim {
            return Err(mismatch(&shown, count, dim));
        }
        checked_dim = true;
        let Some(id) = id else { continue };
        if seen[id] {
            continue; // the first vector of a repeated word wins
        }
        let row = &mut table[id * dim..(id + 1) * dim];
        for (slot, tok) in row.iter_mut().zip(
            values
                .split(|b| *b == b' ' || *b == b'\t')
                .filter(|t| !t.is_empty()),
        ) {
            *slot = std::str::from_utf8(tok)
                .ok()
                .and_then(|t| t.parse::<f32>().ok())
                .ok_or_else(|| {
                    format!(
                        "word-vector file {shown}, line {line_no}: `{}` is not a number",
                        String::from_utf8_lossy(tok)
                    )
                })?;
        }
        seen[id] = true;
        found += 1;
    }
    Ok(Coverage {
        found,
        total,
        source: path.display().to_string(),
    })
}

fn mismatch(file: &std::path::Display<'_>, got: usize, want: usize) -> String {
    format!(
        "word-vector file {file} has {got}-dimensional vectors but the embedding's output_dim is {want}; set `output_dim: {got}` or use a {want}-dimensional file"
    )
}

/// Without trailing `\r`, `\n` and spaces.
fn trim_end(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !matches!(b, b'\n' | b'\r' | b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    &line[..end]
}

/// A word2vec text header `count dim`: its `dim`.
fn word2vec_header(text: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(text).ok()?;
    let mut it = s.split_ascii_whitespace();
    let (a, b) = (it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    a.parse::<usize>().ok()?;
    b.parse::<usize>().ok()
}
