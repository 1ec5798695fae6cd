//! The vocabulary as a trie over word ids, which transforming walks so an
//! n-gram is looked up without building its string.

use super::{gram_key, NONE};
use crate::text::hash::FxHashMap;

/// A trie over word ids: a node per distinct prefix of a vocabulary term.
#[derive(Debug, Clone, Default)]
pub(super) struct Trie {
    /// Words occurring in some term → word id.
    pub(super) words: FxHashMap<String, u32>,
    /// Word id → node of the one-word prefix, or `NONE`.
    pub(super) root: Vec<u32>,
    /// `gram_key(node, word)` → child node.
    pub(super) children: FxHashMap<u64, u32>,
    /// Node → feature index, or `NONE` for a prefix that is not a term.
    pub(super) feature: Vec<u32>,
}

impl Trie {
    pub(super) fn word_id(&self, w: &str) -> u32 {
        self.words.get(w).copied().unwrap_or(NONE)
    }

    pub(super) fn step(&self, node: u32, word: u32) -> u32 {
        if word == NONE {
            return NONE;
        }
        if node == NONE {
            return self.root[word as usize];
        }
        self.children
            .get(&gram_key(node, word))
            .copied()
            .unwrap_or(NONE)
    }

    /// Adds a term; returns the feature index it had already, if any.
    pub(super) fn insert(&mut self, term: &str, feature: u32) -> Result<Option<u32>, String> {
        let mut node = NONE;
        for w in term.split(' ') {
            if w.is_empty() {
                return Err("has an empty word (words are joined by one space)".into());
            }
            let id = match self.words.get(w) {
                Some(&id) => id,
                None => {
                    let id = self.words.len() as u32;
                    self.words.insert(w.to_owned(), id);
                    self.root.push(NONE);
                    id
                }
            };
            let next = self.step(node, id);
            node = if next != NONE {
                next
            } else {
                let new = self.feature.len() as u32;
                self.feature.push(NONE);
                if node == NONE {
                    self.root[id as usize] = new;
                } else {
                    self.children.insert(gram_key(node, id), new);
                }
                new
            };
        }
        let old = self.feature[node as usize];
        self.feature[node as usize] = feature;
        Ok((old != NONE).then_some(old))
    }
}
