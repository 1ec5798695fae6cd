//! Keras `pad_sequences`: equal-length rows from token sequences.

use crate::spec::Side;

/// Keras `pad_sequences`, returning row-major data and the row width.
///
/// - `maxlen` `None`: the width is the longest sequence (0 for no sequences).
/// - `truncating` `Pre` keeps the last `maxlen` tokens, `Post` the first.
/// - `padding` `Pre` puts `value` before the tokens, `Post` after.
/// - An empty sequence becomes a row of `value`.
///
/// Unlike Keras, `maxlen` 0 gives rows of width 0 instead of an error.
pub fn pad_sequences(
    seqs: &[Vec<u32>],
    maxlen: Option<usize>,
    padding: Side,
    truncating: Side,
    value: u32,
) -> (Vec<u32>, usize) {
    let width = maxlen.unwrap_or_else(|| seqs.iter().map(Vec::len).max().unwrap_or(0));
    let mut data = vec![value; seqs.len() * width];
    if width == 0 {
        return (data, 0);
    }
    for (row, s) in data.chunks_exact_mut(width).zip(seqs) {
        let kept = match truncating {
            Side::Pre => &s[s.len().saturating_sub(width)..],
            Side::Post => &s[..s.len().min(width)],
        };
        match padding {
            Side::Pre => row[width - kept.len()..].copy_from_slice(kept),
            Side::Post => row[..kept.len()].copy_from_slice(kept),
        }
    }
    (data, width)
}
