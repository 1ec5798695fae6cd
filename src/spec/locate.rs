//! Maps dotted spec paths (`model.layers[1].dense.units`) to their line and
//! column in the YAML source, so errors found after parsing can still point
//! at the line that caused them.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Line and column (both 1-based) of every key and list item in a YAML document.
#[derive(Debug, Default, Clone)]
pub struct Locator {
    positions: HashMap<String, (usize, usize)>,
    /// Deepest nesting of mappings and sequences seen (also when the source
    /// does not parse, up to where it stopped).
    depth: usize,
}

enum Frame {
    /// A mapping: the path of the mapping, and the key whose value comes next.
    Map { path: String, key: Option<String> },
    /// A sequence: its path and the index of the next item.
    Seq { path: String, next: usize },
}

/// Deepest nesting whose positions are recorded. Specs nest a few levels;
/// paths of deeper values (which serde rejects anyway) are not built, so a
/// deeply nested document costs linear, not quadratic, time and memory.
const MAX_LOCATED_DEPTH: usize = 64;

struct Receiver {
    stack: Vec<Frame>,
    positions: HashMap<String, (usize, usize)>,
    depth: usize,
}

impl Receiver {
    /// The path of the value starting now, recording list items as they start.
    fn value_path(&mut self, mark: Marker) -> String {
        if self.stack.len() > MAX_LOCATED_DEPTH {
            return String::new();
        }
        match self.stack.last_mut() {
            None => String::new(),
            Some(Frame::Map { path, key }) => join(path, key.as_deref().unwrap_or("")),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                self.positions
                    .entry(p.clone())
                    .or_insert((mark.line(), mark.col() + 1));
                p
            }
        }
    }

    /// After a value ends inside a map, the next scalar is a key again.
    fn value_done(&mut self) {
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            *key = None;
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl MarkedEventReceiver for Receiver {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                let deep = self.stack.len() > MAX_LOCATED_DEPTH;
                if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                    if key.is_none() && deep {
                        *key = Some(String::new());
                        return;
                    }
                    if key.is_none() {
                        let p = join(path, &value);
                        self.positions
                            .entry(p)
                            .or_insert((mark.line(), mark.col() + 1));
                        *key = Some(value);
                        return;
                    }
                }
                self.value_path(mark);
                self.value_done();
            }
            Event::MappingStart(..) => {
                let path = self.value_path(mark);
                self.stack.push(Frame::Map { path, key: None });
                self.depth = self.depth.max(self.stack.len());
            }
            Event::SequenceStart(..) => {
                let path = self.value_path(mark);
                self.stack.push(Frame::Seq { path, next: 0 });
                self.depth = self.depth.max(self.stack.len());
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            Event::Alias(_) => {
                self.value_path(mark);
                self.value_done();
            }
            _ => {}
        }
    }
}

impl Locator {
    /// Index a YAML source. A source that does not parse gives an empty locator
    /// (serde_yaml reports the syntax error with its own position).
    pub fn new(source: &str) -> Locator {
        let mut recv = Receiver {
            stack: Vec::new(),
            positions: HashMap::new(),
            depth: 0,
        };
        let mut parser = Parser::new_from_str(source);
        if parser.load(&mut recv, false).is_err() {
            return Locator {
                positions: HashMap::new(),
                depth: recv.depth,
            };
        }
        Locator {
            positions: recv.positions,
            depth: recv.depth,
        }
    }

    /// The deepest nesting of mappings and sequences in the source.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Whether `path` itself was written in the source (not just an ancestor).
    pub fn contains(&self, path: &str) -> bool {
        self.positions.contains_key(path)
    }

    /// Line and column of `path`, or of its nearest located ancestor.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path.to_string();
        loop {
            if let Some(pos) = self.positions.get(&p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_list_items() {
        let src = "name: x\nmodel:\n  layers:\n    - flatten\n    - dense:\n        units: 1\n";
        let loc = Locator::new(src);
        assert_eq!(loc.find("name"), Some((1, 1)));
        assert_eq!(loc.find("model.layers"), Some((3, 3)));
        assert_eq!(loc.find("model.layers[0]"), Some((4, 7)));
        assert_eq!(loc.find("model.layers[1].dense.units"), Some((6, 9)));
        // Unknown leaf falls back to its parent.
        assert_eq!(loc.find("model.layers[1].dense.kernel"), Some((5, 7)));
    }

    #[test]
    fn deep_nesting_is_fast_and_records_few_paths() {
        // yaml_rust2 gives up on this one early (the spec loader measures
        // flow depth itself); what matters here is that it returns at once.
        let n = 200_000;
        let src = format!("model: {}{}\n", "[".repeat(n), "]".repeat(n));
        let start = std::time::Instant::now();
        let loc = Locator::new(&src);
        assert!(start.elapsed().as_secs_f64() < 2.0, "{:?}", start.elapsed());
        assert!(loc.positions.len() < 100, "{}", loc.positions.len());
        // 100 nested maps parse: the depth is known, deep paths are not kept.
        let src = format!("{}1{}\n", "{a: ".repeat(100), "}".repeat(100));
        let loc = Locator::new(&src);
        assert_eq!(loc.depth(), 100);
        assert!(
            loc.positions.len() <= MAX_LOCATED_DEPTH + 1,
            "{}",
            loc.positions.len()
        );
    }
}
