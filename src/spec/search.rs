//! `search:` beside (instead of) `matrix:`: random search. Each of `trials`
//! variants draws one value per `space` entry from its distribution, with a
//! seeded generator, so the same spec always gives the same variants. The
//! variants then go through the sweep's machinery (`sweep::expand`) exactly
//! like a matrix's, sharing cached stages and `select:`.

use super::error::Invalid;
use super::OrderedMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

/// Most trials one search may ask for (as many as a matrix's variants).
pub const MAX_TRIALS: usize = 1000;

/// The generator stream of a search, apart from the data's streams.
const SEARCH_STREAM: u64 = 101;

/// `search: {trials: 8, seed: 1, space: {path: distribution, ...}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SearchSpec {
    /// How many variants to draw (1 to [`MAX_TRIALS`]).
    pub trials: usize,
    /// Seed of the draws; unset: the spec's `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Dotted spec paths (as in `matrix:`) mapped to distributions.
    pub space: OrderedMap<Distribution>,
}

/// Where one setting's values are drawn from. Written as a one-key map
/// (`{log_uniform: [0.0001, 0.01]}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(try_from = "DistributionMap", into = "DistributionMap")]
pub enum Distribution {
    /// `{uniform: [low, high]}`: a float, uniform between the bounds.
    Uniform([f64; 2]),
    /// `{log_uniform: [low, high]}`: a float whose logarithm is uniform
    /// (learning rates); both bounds above 0.
    LogUniform([f64; 2]),
    /// `{int: [low, high]}`: an integer, uniform, both bounds included.
    Int([i64; 2]),
    /// `{choice: [a, b, ...]}`: one of the listed values, each equally likely.
    Choice(Vec<Value>),
}

/// The YAML form of a [`Distribution`]: exactly one of its keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistributionMap {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uniform: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_uniform: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    int: Option<[i64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    choice: Option<Vec<Value>>,
}

impl TryFrom<DistributionMap> for Distribution {
    type Error = String;

    fn try_from(m: DistributionMap) -> Result<Distribution, String> {
        let mut found = Vec::new();
        if let Some(r) = m.uniform {
            found.push(Distribution::Uniform(r));
        }
        if let Some(r) = m.log_uniform {
            found.push(Distribution::LogUniform(r));
        }
        if let Some(r) = m.int {
            found.push(Distribution::Int(r));
        }
        if let Some(v) = m.choice {
            found.push(Distribution::Choice(v));
        }
        if found.len() != 1 {
            return Err(format!(
                "give exactly one distribution ({} given): `uniform: [low, high]`, `log_uniform: [low, high]`, `int: [low, high]` or `choice: [a, b, ...]`",
                found.len()
            ));
        }
        Ok(found.remove(0))
    }
}

impl From<Distribution> for DistributionMap {
    fn from(d: Distribution) -> DistributionMap {
        let mut m = DistributionMap::default();
        match d {
            Distribution::Uniform(r) => m.uniform = Some(r),
            Distribution::LogUniform(r) => m.log_uniform = Some(r),
            Distribution::Int(r) => m.int = Some(r),
            Distribution::Choice(v) => m.choice = Some(v),
        }
        m
    }
}

impl SearchSpec {
    /// Trials within bounds, a non-empty space, and ranges that can be drawn
    /// from; errors name `search.space.<path>`.
    pub fn check(&self) -> Result<(), Invalid> {
        if !(1..=MAX_TRIALS).contains(&self.trials) {
            return Err(Invalid::new(
                "search.trials",
                format!(
                    "trials must be between 1 and {MAX_TRIALS} (got {}); e.g. `search: {{trials: 8, space: ...}}`",
                    self.trials
                ),
            ));
        }
        if self.space.0.is_empty() {
            return Err(Invalid::new(
                "search.space",
                "the search space is empty; map dotted spec paths to distributions, e.g. \
                 `train.optimizer.learning_rate: {log_uniform: [0.0001, 0.01]}`",
            ));
        }
        for (path, d) in &self.space.0 {
            let at = format!("search.space.{path}");
            let bad = |m: String| Err(Invalid::new(&at, m));
            match d {
                Distribution::Uniform([lo, hi]) | Distribution::LogUniform([lo, hi])
                    if !(lo.is_finite() && hi.is_finite()) =>
                {
                    return bad(format!("`{path}`: the bounds must be finite numbers"));
                }
                Distribution::Uniform([lo, hi]) if lo > hi => {
                    return bad(format!(
                        "`{path}`: uniform range [{lo}, {hi}] has low above high; write [low, high]"
                    ));
                }
                Distribution::LogUniform([lo, hi]) if *lo <= 0.0 || *hi <= 0.0 => {
                    return bad(format!(
                        "`{path}`: log_uniform needs bounds above 0 (got [{lo}, {hi}]): the logarithm of 0 or a negative number does not exist; use `uniform` for ranges that reach 0"
                    ));
                }
                Distribution::LogUniform([lo, hi]) if lo > hi => {
                    return bad(format!(
                        "`{path}`: log_uniform range [{lo}, {hi}] has low above high; write [low, high]"
                    ));
                }
                Distribution::Int([lo, hi]) if lo > hi => {
                    return bad(format!(
                        "`{path}`: int range [{lo}, {hi}] has low above high; write [low, high]"
                    ));
                }
                Distribution::Choice(values) if values.is_empty() => {
                    return bad(format!(
                        "`{path}`: choice has no values; list at least one, e.g. `{{choice: [32, 64]}}`"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Draw the trials: per space entry (in the order written) the value of
    /// each trial. Trial `t`'s values are drawn before trial `t + 1`'s, so
    /// adding trials keeps the earlier ones. Floats keep 4 significant
    /// digits, so variant names show the exact value used.
    pub fn sample(&self, spec_seed: u64) -> Vec<(String, Vec<Value>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed.unwrap_or(spec_seed));
        rng.set_stream(SEARCH_STREAM);
        let mut out: Vec<(String, Vec<Value>)> = self
            .space
            .0
            .iter()
            .map(|(p, _)| (p.clone(), Vec::with_capacity(self.trials)))
            .collect();
        for _ in 0..self.trials {
            for ((_, d), (_, values)) in self.space.0.iter().zip(out.iter_mut()) {
                values.push(d.draw(&mut rng));
            }
        }
        out
    }
}

impl Distribution {
    /// One value.
    fn draw(&self, rng: &mut ChaCha8Rng) -> Value {
        match self {
            Distribution::Uniform([lo, hi]) => float(lo + (hi - lo) * rng.random::<f64>()),
            Distribution::LogUniform([lo, hi]) => {
                let (a, b) = (lo.ln(), hi.ln());
                float((a + (b - a) * rng.random::<f64>()).exp())
            }
            Distribution::Int([lo, hi]) => Value::from(rng.random_range(*lo..=*hi)),
            Distribution::Choice(values) => values[rng.random_range(0..values.len())].clone(),
        }
    }
}

/// `x` rounded to 4 significant digits, as a YAML number.
fn float(x: f64) -> Value {
    let rounded: f64 = format!("{x:.3e}").parse().unwrap_or(x);
    Value::from(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(yaml: &str) -> SearchSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn draws_are_seeded_in_range_and_rounded() {
        let s = search(
            "trials: 50\nspace:\n  lr: {log_uniform: [0.0001, 0.01]}\n  u: {int: [8, 64]}\n  b: {choice: [32, 64]}\n  x: {uniform: [-1, 1]}\n",
        );
        s.check().unwrap();
        let a = s.sample(3);
        assert_eq!(a, s.sample(3), "same seed, same trials");
        assert_ne!(a, s.sample(4));
        for v in &a[0].1 {
            let x = v.as_f64().unwrap();
            assert!((1e-4..=1e-2).contains(&x), "{x}");
            assert_eq!(format!("{x:.3e}").parse::<f64>().unwrap(), x);
        }
        assert!(a[1]
            .1
            .iter()
            .all(|v| (8..=64).contains(&v.as_i64().unwrap())));
        assert!(a[2]
            .1
            .iter()
            .all(|v| [32, 64].contains(&v.as_i64().unwrap())));
        assert!(a[3].1.iter().all(|v| v.as_f64().unwrap().abs() <= 1.0));
        // More trials keep the first ones.
        let mut more = s.clone();
        more.trials = 60;
        assert_eq!(more.sample(3)[0].1[..50], a[0].1[..]);
    }

    #[test]
    fn bad_ranges_are_refused_with_their_path() {
        for (space, want) in [
            ("{lr: {uniform: [2, 1]}}", "low above high"),
            ("{lr: {log_uniform: [0, 1]}}", "above 0"),
            ("{lr: {log_uniform: [-1, 1]}}", "above 0"),
            ("{u: {int: [9, 3]}}", "low above high"),
            ("{b: {choice: []}}", "no values"),
            ("{}", "empty"),
        ] {
            let e = search(&format!("trials: 3\nspace: {space}\n"))
                .check()
                .unwrap_err();
            assert!(e.message.contains(want), "{space}: {}", e.message);
            assert!(e.path.starts_with("search.space"), "{}", e.path);
        }
        let e = search("trials: 0\nspace: {a: {int: [1, 2]}}\n")
            .check()
            .unwrap_err();
        assert_eq!(e.path, "search.trials");
        let e = serde_yaml::from_str::<SearchSpec>("trials: 2\nspace: {a: {normal: [0, 1]}}\n")
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `normal`"), "{e}");
    }
}
