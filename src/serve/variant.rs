//! Which experiment of a spec is served: the spec itself, or one variant of
//! its `matrix:` sweep (`--variant NAME`).
//!
//! [`Predictor::open`](crate::pipeline::predict::Predictor::open) takes a
//! spec file, so a chosen variant is written as a complete spec (no
//! `matrix:`) to a hidden temporary file beside the original: relative data
//! and embedding paths then resolve exactly as in `kerros run`, and the cache
//! keys, hence the trained model, are those of the variant's run. The file is
//! removed when the [`ChosenSpec`] is dropped.

use crate::spec::sweep::{expand, Variant};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// The spec file to open and, for a sweep, the variant it holds.
#[derive(Debug)]
pub struct ChosenSpec {
    /// The file to open: the spec itself, or a temporary variant spec.
    pub path: PathBuf,
    /// The variant's name (`name[key=value]`) when the spec has a `matrix:`.
    pub variant: Option<String>,
    /// Keeps the temporary variant spec alive.
    _file: Option<NamedTempFile>,
}

/// Choose the experiment of `spec_path` to serve.
///
/// Without `matrix:` the spec itself (and `--variant` is an error). With
/// one, `wanted` names a variant by its full name (`druglib[epochs=5]`) or
/// its settings (`epochs=5`); without `wanted` a single-variant matrix is
/// taken and a larger one is an error listing the variants.
pub fn choose(spec_path: &Path, wanted: Option<&str>) -> Result<ChosenSpec> {
    let source = std::fs::read_to_string(spec_path)
        .with_context(|| format!("cannot read the spec file {}", spec_path.display()))?;
    let variants = expand(&source, spec_path)?;
    // A matrix is never empty, so only a sweep's variants carry overrides.
    let is_sweep = variants.first().is_some_and(|v| !v.overrides.is_empty());
    if !is_sweep {
        if let Some(w) = wanted {
            bail!(
                "{} has no `matrix:`, so it has no variants; drop --variant {w}",
                spec_path.display()
            );
        }
        return Ok(ChosenSpec {
            path: spec_path.to_path_buf(),
            variant: None,
            _file: None,
        });
    }
    let variant = pick(&variants, wanted, spec_path)?;
    let yaml = serde_yaml::to_string(&variant.spec).context("cannot write the variant's spec")?;
    let dir = match spec_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".kerros-serve-")
        .suffix(".yaml")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "cannot write the spec of variant `{}` beside {} (its folder must be writable)",
                variant.name,
                spec_path.display()
            )
        })?;
    file.write_all(yaml.as_bytes())
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", file.path().display()))?;
    Ok(ChosenSpec {
        path: file.path().to_path_buf(),
        variant: Some(variant.name.clone()),
        _file: Some(file),
    })
}

/// The variant `wanted` names, or the only one.
fn pick<'a>(variants: &'a [Variant], wanted: Option<&str>, spec: &Path) -> Result<&'a Variant> {
    let list = || {
        variants
            .iter()
            .map(|v| format!("  {}", v.name))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match wanted {
        None if variants.len() == 1 => Ok(&variants[0]),
        None => bail!(
            "{} has a `matrix:` of {} variants; choose one with --variant NAME:\n{}",
            spec.display(),
            variants.len(),
            list()
        ),
        Some(w) => variants
            .iter()
            .find(|v| v.name == w || settings_part(&v.name) == Some(w))
            .with_context(|| {
                format!(
                    "{} has no variant `{w}`; its variants are:\n{}",
                    spec.display(),
                    list()
                )
            }),
    }
}

/// `key=value,...` of a variant name `name[key=value,...]`.
fn settings_part(name: &str) -> Option<&str> {
    let open = name.find('[')?;
    name[open + 1..].strip_suffix(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "name: sweep\ndata: {train: train.csv, test: test.csv}\n\
        model: {layers: [{dense: {units: 1, activation: sigmoid}}]}\n\
        vectorize: {mode: multi_hot}\n\
        matrix:\n  train.epochs: [1, 2]\n";

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("spec.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_sweep_needs_a_variant_and_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let spec = write(dir.path(), SPEC);
        let err = choose(&spec, None).unwrap_err().to_string();
        assert!(err.contains("2 variants"), "{err}");
        assert!(
            err.contains("sweep[epochs=1]") && err.contains("sweep[epochs=2]"),
            "{err}"
        );
        let err = choose(&spec, Some("epochs=3")).unwrap_err().to_string();
        assert!(err.contains("no variant `epochs=3`"), "{err}");
    }

    #[test]
    fn a_chosen_variant_is_a_complete_spec_beside_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let spec = write(dir.path(), SPEC);
        for wanted in ["sweep[epochs=2]", "epochs=2"] {
            let chosen = choose(&spec, Some(wanted)).unwrap();
            assert_eq!(chosen.variant.as_deref(), Some("sweep[epochs=2]"));
            assert_eq!(chosen.path.parent(), spec.parent());
            let (loaded, _) = crate::spec::load_spec(&chosen.path).unwrap();
            assert_eq!(loaded.name, "sweep[epochs=2]");
            assert_eq!(loaded.train.epochs, 2);
            assert!(loaded.matrix.is_none());
            let path = chosen.path.clone();
            drop(chosen);
            assert!(!path.exists(), "the temporary spec is removed");
        }
    }

    #[test]
    fn a_plain_spec_is_served_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let plain = SPEC.split("matrix:").next().unwrap();
        let spec = write(dir.path(), plain);
        let chosen = choose(&spec, None).unwrap();
        assert_eq!(chosen.path, spec);
        assert_eq!(chosen.variant, None);
        assert!(choose(&spec, Some("x")).is_err());
    }
}
