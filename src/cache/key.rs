//! Stage keys: blake3 over a stage's settings, upstream keys and input files.

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// A stage's identity: its name and the hash of everything it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageKey {
    /// Stage name (`load`, `split`, `vocabulary`, ...).
    pub stage: String,
    /// Hex blake3 hash.
    pub hex: String,
}

/// Incremental builder for a [`StageKey`].
pub struct StageKeyBuilder {
    stage: String,
    hasher: blake3::Hasher,
}

impl StageKey {
    /// Start a key for `stage` from its own resolved settings (any serialisable value).
    pub fn build(stage: &str, settings: &impl Serialize) -> StageKeyBuilder {
        let mut hasher = blake3::Hasher::new();
        // The version is part of every key: a new kerros may compute differently.
        hasher.update(b"kerros-stage-v1\0");
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update(b"\0");
        hasher.update(stage.as_bytes());
        hasher.update(b"\0");
        // serde_json writes struct fields in declaration order and maps sorted
        // (BTreeMap), so equal settings give equal bytes.
        let json = serde_json::to_vec(settings).unwrap_or_default();
        hasher.update(&json);
        StageKeyBuilder {
            stage: stage.to_string(),
            hasher,
        }
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl StageKeyBuilder {
    /// Depend on an upstream stage.
    pub fn input(mut self, upstream: &StageKey) -> Self {
        self.hasher.update(b"\0input\0");
        self.hasher.update(upstream.stage.as_bytes());
        self.hasher.update(upstream.hex.as_bytes());
        self
    }

    /// Depend on a file's content (give its content hash, see [`hash_file`]).
    pub fn file(mut self, label: &str, content_hash: &str) -> Self {
        self.hasher.update(b"\0file\0");
        self.hasher.update(label.as_bytes());
        self.hasher.update(content_hash.as_bytes());
        self
    }

    /// The finished key.
    pub fn finish(self) -> StageKey {
        StageKey {
            stage: self.stage,
            hex: self.hasher.finalize().to_hex().to_string(),
        }
    }
}

/// blake3 hex hash of a file's content.
pub fn hash_file(path: &Path) -> Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_settings_inputs_and_files() {
        let a = StageKey::build("train", &("epochs", 10)).finish();
        let b = StageKey::build("train", &("epochs", 11)).finish();
        assert_ne!(a, b);
        assert_eq!(a, StageKey::build("train", &("epochs", 10)).finish());
        let up = StageKey::build("load", &1).finish();
        assert_ne!(
            a,
            StageKey::build("train", &("epochs", 10))
                .input(&up)
                .finish()
        );
        assert_ne!(
            StageKey::build("load", &0).file("train", "aa").finish(),
            StageKey::build("load", &0).file("train", "ab").finish()
        );
        assert_ne!(
            StageKey::build("load", &0).finish(),
            StageKey::build("split", &0).finish()
        );
    }
}
