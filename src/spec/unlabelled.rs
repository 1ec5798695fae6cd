//! `data.unlabelled`: texts without labels, for the steps that learn from
//! unlabelled text (`vectorize.mode: doc_vectors`).

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;

/// Why `unlabelled: true` needs `data.dataset` (one wording for the spec
/// check and the data module).
pub const UNLABELLED_NEEDS_DATASET: &str = "`data.unlabelled: true` takes a built-in dataset's unlabelled texts, but the spec names no `dataset`; give the path of a file of texts instead";

/// Where the unlabelled texts come from.
#[derive(Debug, Clone, PartialEq)]
pub enum UnlabelledSource {
    /// The built-in dataset's own unlabelled texts (written `true`).
    Dataset,
    /// A file relative to the spec file (written as a path string).
    File(PathBuf),
}

impl Serialize for UnlabelledSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            UnlabelledSource::Dataset => s.serialize_bool(true),
            UnlabelledSource::File(p) => p.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for UnlabelledSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<UnlabelledSource, D::Error> {
        struct UnlabelledVisitor;
        impl Visitor<'_> for UnlabelledVisitor {
            type Value = UnlabelledSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "`true` (the built-in dataset's unlabelled texts) or the path of a file of texts",
                )
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<UnlabelledSource, E> {
                if v {
                    Ok(UnlabelledSource::Dataset)
                } else {
                    Err(E::custom(
                        "`unlabelled: false` is the default: remove the key, or write `true` (the built-in dataset's unlabelled texts) or a file's path",
                    ))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UnlabelledSource, E> {
                if v.trim().is_empty() {
                    return Err(E::custom(
                        "empty path; write the path of a file of texts, or `true`",
                    ));
                }
                Ok(UnlabelledSource::File(PathBuf::from(v)))
            }
        }
        d.deserialize_any(UnlabelledVisitor)
    }
}
