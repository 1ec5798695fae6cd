//! What a spec field expects, in the user's words rather than Rust's.
//!
//! serde describes a wrong-typed value by the Rust type it wanted ("expected
//! struct ValidationSpec", "expected u64") and serde_yaml describes a list
//! given for a name as wanting a YAML tag. The valid keys and names are not
//! in those messages, but the types know them: the value at the error's path
//! is replaced by a probe (a map with one unknown key, or an unknown name)
//! and the document is read again, so the type itself answers with "unknown
//! field …, expected one of …". No list of keys is written twice.

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

/// A key or name no spec type accepts; only its rejection is read.
const PROBE: &str = "\u{1}kerros-probe";

/// `message` (from reading `source` as a `T`, at dotted `path`) with Rust
/// type names replaced by what the spec accepts there.
pub(crate) fn plain_expected<T: DeserializeOwned>(
    source: &str,
    path: Option<&str>,
    message: String,
) -> String {
    let wants_struct = message.contains("expected struct ");
    let wants_name = message.contains("expected a YAML tag starting with '!'");
    let mut message = message;
    if wants_struct || wants_name {
        let probe = if wants_struct {
            Value::Mapping(Mapping::from_iter([(Value::from(PROBE), Value::Null)]))
        } else {
            Value::from(PROBE)
        };
        if let Some(valid) = valid_list::<T>(source, path.unwrap_or(""), probe) {
            let said = if wants_struct {
                format!("expected a map of settings, keys among {valid}")
            } else {
                format!("expected one name: {valid}")
            };
            message = replace_expected(&message, &said);
        }
    }
    plain_types(&message)
}

/// The "`a`, `b`, `c`" list the type at `path` gives when `probe` stands there.
fn valid_list<T: DeserializeOwned>(source: &str, path: &str, probe: Value) -> Option<String> {
    let mut doc: Value = serde_yaml::from_str(source).ok()?;
    *node_at(&mut doc, path)? = probe;
    let err = serde_yaml::from_value::<T>(doc).err()?.to_string();
    let at = err.find(&format!("`{PROBE}`, expected "))?;
    let rest = &err[at + PROBE.len() + ", expected ".len() + 2..];
    let list = rest.strip_prefix("one of ").unwrap_or(rest);
    let list = list.split(" at line ").next().unwrap_or(list).trim();
    // "there are no fields" / "no variants": nothing useful to show.
    list.starts_with('`').then(|| list.to_string())
}

/// The node at a serde_yaml path such as `model.layers[0].dense` (the root
/// for an empty path).
fn node_at<'a>(root: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut node = root;
    if path.is_empty() {
        return Some(node);
    }
    for segment in path.split('.') {
        let (key, mut indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            node = node.as_mapping_mut()?.get_mut(key)?;
        }
        while let Some(rest) = indices.strip_prefix('[') {
            let (index, after) = rest.split_once(']')?;
            node = node
                .as_sequence_mut()?
                .get_mut(index.parse::<usize>().ok()?)?;
            indices = after;
        }
    }
    Some(node)
}

/// `message` with everything from "expected " replaced by `said`.
fn replace_expected(message: &str, said: &str) -> String {
    match message.find("expected ") {
        Some(i) => format!("{}{said}", &message[..i]),
        None => message.to_string(),
    }
}

/// Rust's primitive type names, and what is left of serde's jargon, in words.
fn plain_types(message: &str) -> String {
    let Some(i) = message.find("expected ") else {
        return message.to_string();
    };
    let (head, wanted) = message.split_at(i + "expected ".len());
    let words = match wanted {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "a list (`[a, b]` or one `- item` per line)",
        "a YAML tag starting with '!'" => "a single name, not a list or map",
        w if w.starts_with("struct ") => "a map of settings (`key: value`)",
        _ => return message.to_string(),
    };
    format!("{head}{words}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    fn said(source: &str, path: &str, message: &str) -> String {
        plain_expected::<Spec>(source, Some(path), message.to_string())
    }

    #[test]
    fn a_struct_lists_its_keys() {
        let src = "name: x\ndata:\n  validation: yes\n";
        let out = said(
            src,
            "data.validation",
            "invalid type: string \"yes\", expected struct ValidationSpec",
        );
        assert!(out
            .starts_with("invalid type: string \"yes\", expected a map of settings, keys among `"));
        assert!(out.contains("`fraction`"), "{out}");
        assert!(!out.contains("ValidationSpec"), "{out}");
    }

    #[test]
    fn an_enum_lists_its_names() {
        let src = "name: x\nvectorize:\n  mode: [1]\n";
        let out = said(
            src,
            "vectorize.mode",
            "invalid type: sequence, expected a YAML tag starting with '!'",
        );
        assert!(
            out.contains("expected one name: `int`, `multi_hot`"),
            "{out}"
        );
        assert!(out.contains("`doc_vectors`"), "{out}");
    }

    #[test]
    fn a_layer_path_with_an_index_is_followed() {
        let src = "name: x\nmodel:\n  layers:\n    - flatten\n    - dense: yes\n";
        let out = said(
            src,
            "model.layers[1].dense",
            "invalid type: string \"yes\", expected struct DenseSpec",
        );
        assert!(out.contains("`units`"), "{out}");
    }

    #[test]
    fn numbers_are_named_in_words() {
        assert_eq!(
            plain_types("invalid type: string \"x\", expected u64"),
            "invalid type: string \"x\", expected a whole number, 0 or more"
        );
        assert_eq!(
            plain_types("invalid type: map, expected f64"),
            "invalid type: map, expected a number"
        );
        assert_eq!(plain_types("unknown field `a`"), "unknown field `a`");
    }

    #[test]
    fn the_root_lists_the_top_level_keys() {
        let out = plain_expected::<Spec>(
            "[1, 2]\n",
            None,
            "invalid type: sequence, expected struct Spec".to_string(),
        );
        assert!(out.contains("keys among `name`, `seed`, `data`"), "{out}");
    }

    #[test]
    fn an_unreachable_path_falls_back_to_words() {
        let out = said(
            "name: x\n",
            "no.such",
            "invalid type: unit value, expected struct X",
        );
        assert_eq!(
            out,
            "invalid type: unit value, expected a map of settings (`key: value`)"
        );
    }
}
