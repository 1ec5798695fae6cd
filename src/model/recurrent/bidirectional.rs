//! `bidirectional`: a recurrent layer run forwards and backwards over the
//! sequence, outputs merged (Keras `Bidirectional`).

use super::rnn::{grad_bands, Recurrent, Settings};
use crate::model::layer::{Layer, Pass, Weight};
use crate::model::{EmbeddedTokens, Shape};
use crate::spec::{BidirectionalSpec, MergeMode};
use candle_core::{Result, Tensor};
use rand_chacha::ChaCha8Rng;

/// Two copies of a recurrent layer; the backward one reads the steps last to
/// first and its step outputs are put back at their input positions. As in
/// Keras, with `return_sequences` masked steps output zeros in both directions.
#[derive(Debug)]
pub struct Bidirectional {
    name: String,
    shape: Shape,
    merge: MergeMode,
    forward: Recurrent,
    backward: Recurrent,
}

impl Bidirectional {
    /// Both directions, freshly initialised (forward first) from `rng`.
    pub(crate) fn new(
        spec: &BidirectionalSpec,
        name: String,
        inputs: usize,
        shape: Shape,
        rng: &mut ChaCha8Rng,
    ) -> Result<Bidirectional> {
        let Some(settings) = Settings::of(&spec.layer) else {
            candle_core::bail!(
                "bidirectional wraps simple_rnn, lstm or gru, not `{}`",
                spec.layer.type_name()
            );
        };
        let kind = spec.layer.type_name();
        let inner = |s: Settings, prefix: &str, rng: &mut ChaCha8Rng| {
            let units = s.units;
            let shape = if s.return_sequences {
                Shape(vec![shape.0[0], units])
            } else {
                Shape(vec![units])
            };
            Recurrent::new(s, kind, format!("{prefix}_{kind}"), inputs, shape, rng)
        };
        let forward = inner(settings, "forward", rng)?;
        let backward = inner(
            Settings {
                go_backwards: !settings.go_backwards,
                ..settings
            },
            "backward",
            rng,
        )?;
        Ok(Bidirectional {
            name,
            shape,
            merge: spec.merge_mode,
            forward,
            backward,
        })
    }
}

impl Bidirectional {
    /// Combine the two directions' outputs as `merge_mode` says.
    fn merge(&self, yf: Tensor, yb: Tensor) -> Result<Tensor> {
        match self.merge {
            MergeMode::Concat => Tensor::cat(&[&yf, &yb], yf.rank() - 1),
            MergeMode::Sum => yf + yb,
            MergeMode::Ave => (yf + yb)? * 0.5,
            MergeMode::Mul => yf * yb,
        }
    }
}

impl Layer for Bidirectional {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        "bidirectional"
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        self.forward.params() + self.backward.params()
    }
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let zero = self.forward.settings().return_sequences;
        let f = &self.forward;
        let b = &self.backward;
        let yf = f.run(x, pass, f.settings().go_backwards, true, zero)?;
        let yb = b.run(x, pass, b.settings().go_backwards, true, zero)?;
        self.merge(yf, yb)
    }
    fn forward_tokens(
        &self,
        tokens: &EmbeddedTokens,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        let (f, b) = (&self.forward, &self.backward);
        if !(f.reads_tokens(tokens, pass) && b.reads_tokens(tokens, pass)) {
            return None;
        }
        let zero = f.settings().return_sequences;
        let mut run = || {
            let yf = f.run_tokens(tokens, pass, f.settings().go_backwards, true, zero)?;
            let yb = b.run_tokens(tokens, pass, b.settings().go_backwards, true, zero)?;
            self.merge(yf, yb)
        };
        Some(run())
    }
    fn weights(&self) -> Vec<Weight<'_>> {
        let mut w = self.forward.weights_named([
            "forward_kernel",
            "forward_recurrent_kernel",
            "forward_bias",
        ]);
        w.extend(self.backward.weights_named([
            "backward_kernel",
            "backward_recurrent_kernel",
            "backward_bias",
        ]));
        w
    }
    fn timestep_grad_bands(&self) -> Option<Vec<f64>> {
        // Both directions read the same input: the norm is of their summed gradient.
        let f = self.forward.last_input_grad()?;
        let b = self.backward.last_input_grad()?;
        grad_bands(&(f + b).ok()?)
    }
}
