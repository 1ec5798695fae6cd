//! Which variant of a `matrix:` spec `predict` uses: the one named with
//! `--variant`, else the one the spec's `select:` chooses on validation
//! metrics; never silently the first.

use super::{run_spec, RunOptions};
use crate::report::selection::select_best;
use crate::spec::{self, sweep, Invalid, Locator, Spec};
use anyhow::Result;
use std::path::Path;

/// A variant chosen for prediction, and why.
#[derive(Debug, Clone)]
pub struct ChosenVariant {
    /// The variant's resolved spec (the spec itself without a matrix).
    pub spec: Spec,
    /// How it was chosen, for the user: `selected by val_loss` or
    /// `chosen with --variant`; `None` for a spec without a matrix.
    pub reason: Option<String>,
}

/// The variant of the spec in `spec_path` to predict with. `variant` names
/// one (its full name `name[k=v]`, or the bracketed part `k=v`); otherwise a
/// spec with `select:` runs its variants (cached ones are only read) and
/// takes the best by the selection metric. A matrix spec with neither, or an
/// unknown name, is a located [`spec::SpecError`] listing the variants.
pub fn choose_variant(
    spec_path: &Path,
    variant: Option<&str>,
    opts: &RunOptions,
) -> Result<ChosenVariant> {
    let source = sweep::read_source(spec_path)?;
    let locator = Locator::new(&source);
    let (base, _) = spec::parse_spec(&source, spec_path)?;
    let mut variants = sweep::expand(&source, spec_path)?;
    let names: Vec<String> = variants.iter().map(|v| v.name.clone()).collect();
    let listing = || format!("the variants: {}", names.join(", "));
    if let Some(wanted) = variant {
        let found = variants
            .iter()
            .position(|v| v.name == wanted || v.name.ends_with(&format!("[{wanted}]")));
        let Some(i) = found else {
            let at = if base.matrix.is_some() {
                "matrix"
            } else if base.search.is_some() {
                "search"
            } else {
                "name"
            };
            return Err(Invalid::new(
                at,
                format!("no variant `{wanted}` (--variant); {}", listing()),
            )
            .at(spec_path, &locator)
            .into());
        };
        return Ok(ChosenVariant {
            spec: variants.swap_remove(i).spec,
            reason: Some("chosen with --variant".into()),
        });
    }
    if base.matrix.is_none() && base.search.is_none() {
        let spec = variants.swap_remove(0).spec;
        check_model(&spec, spec_path, &locator)?;
        return Ok(ChosenVariant { spec, reason: None });
    }
    let Some(select) = base.select else {
        return Err(Invalid::new(
            if base.matrix.is_some() { "matrix" } else { "search" },
            format!(
                "a matrix or search spec needs `select: {{metric: val_loss}}` or `--variant NAME` to say which model predicts; {}",
                listing()
            ),
        )
        .at(spec_path, &locator)
        .into());
    };
    let mut values = Vec::new();
    for v in &variants {
        check_model(&v.spec, spec_path, &locator)?;
        let outcome = run_spec(&v.spec, spec_path, opts)?;
        values.push(
            outcome
                .validation
                .get(&select.metric)
                .and_then(|x| x.as_f64()),
        );
    }
    let Some(best) = select_best(&values, &select.metric) else {
        anyhow::bail!(
            "no variant has the validation metric `{}` (is there a validation split?); choose one with --variant: {}",
            select.metric,
            names.join(", ")
        );
    };
    Ok(ChosenVariant {
        spec: variants.swap_remove(best).spec,
        reason: Some(format!("selected by {}", select.metric)),
    })
}

fn check_model(spec: &Spec, path: &Path, locator: &Locator) -> Result<()> {
    Ok(super::validate(spec, path, locator)?)
}
