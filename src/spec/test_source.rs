//! `data.test`: a test file, or `{fraction: F}`, a seeded stratified part of
//! `data.train` held out as the test split.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where the test split comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TestSource {
    /// A test file, relative to the spec file (written as a plain path string).
    File(PathBuf),
    /// This fraction (0 < F < 1) of the training file, drawn before the
    /// validation split (written as `{fraction: F}`).
    Fraction(f64),
}

impl TestSource {
    /// The test file, when one is given.
    pub fn file(&self) -> Option<&Path> {
        match self {
            TestSource::File(p) => Some(p),
            TestSource::Fraction(_) => None,
        }
    }

    /// The fraction of train held out, when the test split is drawn from train.
    pub fn fraction(&self) -> Option<f64> {
        match self {
            TestSource::Fraction(f) => Some(*f),
            TestSource::File(_) => None,
        }
    }
}

/// The mapping form, `{fraction: F}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FractionForm {
    fraction: f64,
}

// A path serialises as the plain string it always was, so the stage keys of
// existing specs do not change.
impl Serialize for TestSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TestSource::File(p) => p.serialize(s),
            TestSource::Fraction(f) => FractionForm { fraction: *f }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for TestSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TestSource, D::Error> {
        struct TestVisitor;
        impl<'de> Visitor<'de> for TestVisitor {
            type Value = TestSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a test file path, or `{fraction: F}` (a part of `train`, 0 < F < 1)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TestSource, E> {
                Ok(TestSource::File(PathBuf::from(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TestSource, A::Error> {
                let form = FractionForm::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(TestSource::Fraction(form.fraction))
            }
        }
        d.deserialize_any(TestVisitor)
    }
}
