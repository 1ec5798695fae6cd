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

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs() -> Vec<Vec<u32>> {
        vec![vec![1, 2, 3], vec![4, 5], vec![], vec![6, 7, 8, 9, 10]]
    }

    fn rows(data: &[u32], width: usize) -> Vec<Vec<u32>> {
        data.chunks(width).map(<[u32]>::to_vec).collect()
    }

    #[test]
    fn maxlen_none_uses_longest() {
        let (d, w) = pad_sequences(&seqs(), None, Side::Pre, Side::Pre, 0);
        assert_eq!(w, 5);
        assert_eq!(
            rows(&d, w),
            [
                vec![0, 0, 1, 2, 3],
                vec![0, 0, 0, 4, 5],
                vec![0, 0, 0, 0, 0],
                vec![6, 7, 8, 9, 10]
            ]
        );
        let (d, w) = pad_sequences(&seqs(), None, Side::Post, Side::Pre, 0);
        assert_eq!(
            rows(&d, w),
            [
                vec![1, 2, 3, 0, 0],
                vec![4, 5, 0, 0, 0],
                vec![0, 0, 0, 0, 0],
                vec![6, 7, 8, 9, 10]
            ]
        );
    }

    #[test]
    fn every_padding_truncating_combination() {
        let cases = [
            (
                Side::Pre,
                Side::Pre,
                [[1, 2, 3], [9, 4, 5], [9, 9, 9], [8, 9, 10]],
            ),
            (
                Side::Post,
                Side::Pre,
                [[1, 2, 3], [4, 5, 9], [9, 9, 9], [8, 9, 10]],
            ),
            (
                Side::Pre,
                Side::Post,
                [[1, 2, 3], [9, 4, 5], [9, 9, 9], [6, 7, 8]],
            ),
            (
                Side::Post,
                Side::Post,
                [[1, 2, 3], [4, 5, 9], [9, 9, 9], [6, 7, 8]],
            ),
        ];
        for (padding, truncating, want) in cases {
            let (d, w) = pad_sequences(&seqs(), Some(3), padding, truncating, 9);
            assert_eq!(w, 3);
            let want: Vec<Vec<u32>> = want.iter().map(|r| r.to_vec()).collect();
            assert_eq!(
                rows(&d, w),
                want,
                "padding {padding:?} truncating {truncating:?}"
            );
        }
    }

    #[test]
    fn wider_than_longest_and_edge_cases() {
        let (d, w) = pad_sequences(&[vec![7]], Some(4), Side::Pre, Side::Pre, 0);
        assert_eq!((d, w), (vec![0, 0, 0, 7], 4));
        assert_eq!(
            pad_sequences(&[], None, Side::Pre, Side::Pre, 0),
            (vec![], 0)
        );
        assert_eq!(
            pad_sequences(&seqs(), Some(0), Side::Pre, Side::Post, 0),
            (vec![], 0)
        );
    }
}
