//! The test predictions a report's record and a run record keep, compactly:
//! example ids, true and predicted class indices, as varints (ids as deltas)
//! compressed with deflate and written in URL-safe base64. They let
//! `kerros compare` and `kerros grade` pair two runs example by example
//! (McNemar's test), and the report's bootstrap intervals be recomputed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::io::{Read, Write};

/// The largest decompressed payload read back (a guard against a forged
/// record that inflates without bound): 30 bytes per example for ten
/// million examples.
const MAX_PAYLOAD: u64 = 300_000_000;

/// A classification run's test predictions, in test-split order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestPredictions {
    /// Example ids.
    pub ids: Vec<i64>,
    /// True class index per example.
    pub truth: Vec<u32>,
    /// Predicted class index per example.
    pub predicted: Vec<u32>,
}

impl TestPredictions {
    /// Per example, whether the prediction was right.
    pub fn correct(&self) -> Vec<bool> {
        self.truth
            .iter()
            .zip(&self.predicted)
            .map(|(t, p)| t == p)
            .collect()
    }

    /// The payload: varint count, zigzag varint id deltas, truths, predictions.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ids.len() * 3 + 8);
        put_varint(&mut out, self.ids.len() as u64);
        let mut previous = 0i64;
        for &id in &self.ids {
            let delta = id.wrapping_sub(previous);
            put_varint(&mut out, ((delta << 1) ^ (delta >> 63)) as u64);
            previous = id;
        }
        for &v in self.truth.iter().chain(&self.predicted) {
            put_varint(&mut out, u64::from(v));
        }
        out
    }

    fn from_bytes(bytes: &[u8]) -> Result<TestPredictions, String> {
        let mut at = 0usize;
        let n = get_varint(bytes, &mut at)? as usize;
        if n > bytes.len() {
            return Err(format!("it claims {n} examples in {} bytes", bytes.len()));
        }
        let mut ids = Vec::with_capacity(n);
        let mut previous = 0i64;
        for _ in 0..n {
            let z = get_varint(bytes, &mut at)?;
            let delta = ((z >> 1) as i64) ^ -((z & 1) as i64);
            previous = previous.wrapping_add(delta);
            ids.push(previous);
        }
        let mut class = || -> Result<u32, String> {
            u32::try_from(get_varint(bytes, &mut at)?).map_err(|_| "a class index overflows".into())
        };
        let truth = (0..n).map(|_| class()).collect::<Result<Vec<_>, _>>()?;
        let predicted = (0..n).map(|_| class()).collect::<Result<Vec<_>, _>>()?;
        if at != bytes.len() {
            return Err(format!("{} bytes left over", bytes.len() - at));
        }
        Ok(TestPredictions {
            ids,
            truth,
            predicted,
        })
    }

    /// Deflated and base64-encoded [`Self::to_bytes`].
    pub fn encode(&self) -> String {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing into a Vec cannot fail.
        let _ = z.write_all(&self.to_bytes());
        URL_SAFE_NO_PAD.encode(z.finish().unwrap_or_default())
    }

    /// The inverse of [`Self::encode`]; the error says what is malformed.
    pub fn decode(text: &str) -> Result<TestPredictions, String> {
        let packed = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|e| format!("the test predictions are not base64: {e}"))?;
        let mut bytes = Vec::new();
        flate2::read::DeflateDecoder::new(packed.as_slice())
            .take(MAX_PAYLOAD + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("the test predictions do not inflate: {e}"))?;
        if bytes.len() as u64 > MAX_PAYLOAD {
            return Err("the test predictions inflate past 300 MB".into());
        }
        Self::from_bytes(&bytes).map_err(|e| format!("the test predictions are malformed: {e}"))
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let Some(&b) = bytes.get(*at) else {
            return Err("it ends inside a number".into());
        };
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err("a number is longer than 64 bits".into())
}

/// In JSON: `{"examples": n, "deflate_base64": "…"}`.
#[derive(Serialize, Deserialize)]
struct Packed {
    examples: usize,
    deflate_base64: String,
}

impl Serialize for TestPredictions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Packed {
            examples: self.ids.len(),
            deflate_base64: self.encode(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TestPredictions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let packed = Packed::deserialize(d)?;
        let p =
            TestPredictions::decode(&packed.deflate_base64).map_err(serde::de::Error::custom)?;
        if p.ids.len() != packed.examples {
            return Err(serde::de::Error::custom(format!(
                "the test predictions hold {} examples, not the {} recorded",
                p.ids.len(),
                packed.examples
            )));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_compactly() {
        let p = TestPredictions {
            ids: (0..25_000).chain([-5, i64::MAX, i64::MIN]).collect(),
            truth: (0..25_003).map(|i| (i % 2) as u32).collect(),
            predicted: (0..25_003).map(|i| (i % 3 % 2) as u32).collect(),
        };
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.len() < 20_000, "{} bytes", json.len());
        let back: TestPredictions = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let right = (0..25_003).filter(|i| i % 2 == i % 3 % 2).count();
        assert_eq!(p.correct().iter().filter(|&&c| c).count(), right);
    }

    #[test]
    fn malformed_payloads_are_errors() {
        assert!(TestPredictions::decode("!!").is_err());
        let truncated = {
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(&[5, 2]).unwrap();
            URL_SAFE_NO_PAD.encode(z.finish().unwrap())
        };
        let e = TestPredictions::decode(&truncated).unwrap_err();
        assert!(e.contains("malformed"), "{e}");
        let p = TestPredictions::default();
        let json = format!(r#"{{"examples": 3, "deflate_base64": "{}"}}"#, p.encode());
        assert!(serde_json::from_str::<TestPredictions>(&json).is_err());
    }
}
