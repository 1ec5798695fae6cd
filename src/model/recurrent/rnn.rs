//! `Recurrent`: the layer behind `simple_rnn`, `lstm` and `gru`, and the
//! shape / parameter checks of recurrent layers.

use super::fused::{Cell, FusedRecurrence, InputProbe, Recurrence};
use super::{gru, lstm, orthogonal, simple_rnn};
use crate::model::init;
use crate::model::layer::{live, Layer, Pass, Weight};
use crate::model::layer_shape::{LayerShape, ShapeContext};
use crate::model::shape::{Inferred, Site};
use crate::model::{Distinct, EmbeddedTokens, Shape};
use crate::spec::{
    Activation, BidirectionalSpec, GruSpec, Invalid, LayerSpec, LstmSpec, MergeMode, SimpleRnnSpec,
};
use candle_core::{Device, Result, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, Mutex};

/// The settings every recurrent layer type shares, read from its spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub cell: Cell,
    pub units: usize,
    pub activation: Activation,
    pub recurrent_activation: Activation,
    pub return_sequences: bool,
    pub dropout: f64,
    pub go_backwards: bool,
    pub unit_forget_bias: bool,
}

impl Settings {
    /// The settings of a `simple_rnn`, `lstm` or `gru` spec; `None` for other layers.
    pub(crate) fn of(spec: &LayerSpec) -> Option<Settings> {
        Some(match spec {
            LayerSpec::SimpleRnn(s) => Settings {
                cell: Cell::Simple,
                units: s.units,
                activation: s.activation,
                recurrent_activation: Activation::Sigmoid,
                return_sequences: s.return_sequences,
                dropout: s.dropout,
                go_backwards: s.go_backwards,
                unit_forget_bias: false,
            },
            LayerSpec::Lstm(s) => Settings {
                cell: Cell::Lstm,
                units: s.units,
                activation: s.activation,
                recurrent_activation: s.recurrent_activation,
                return_sequences: s.return_sequences,
                dropout: s.dropout,
                go_backwards: s.go_backwards,
                unit_forget_bias: s.unit_forget_bias,
            },
            LayerSpec::Gru(s) => Settings {
                cell: Cell::Gru,
                units: s.units,
                activation: s.activation,
                recurrent_activation: s.recurrent_activation,
                return_sequences: s.return_sequences,
                dropout: s.dropout,
                go_backwards: s.go_backwards,
                unit_forget_bias: false,
            },
            _ => return None,
        })
    }

    /// Keras parameter count for `inputs` features per step.
    pub(crate) fn params(&self, inputs: usize) -> usize {
        match self.cell {
            Cell::Simple => simple_rnn::params(inputs, self.units),
            Cell::Lstm => lstm::params(inputs, self.units),
            Cell::Gru => gru::params(inputs, self.units),
        }
    }
}

/// Whether a layer spec outputs a 2-D last state because `return_sequences` is false.
fn drops_time_axis(spec: &LayerSpec) -> bool {
    match spec {
        LayerSpec::Bidirectional(b) => Settings::of(&b.layer).is_some_and(|s| !s.return_sequences),
        other => Settings::of(other).is_some_and(|s| !s.return_sequences),
    }
}

/// The recurrent layers' shape rule reads the layer as written (and the
/// layer before it, which decides the time axis), whatever its type.
macro_rules! recurrent_shape {
    ($($spec:ty),*) => {$(
        impl LayerShape for $spec {
            fn infer(
                &self,
                input: &Shape,
                cx: &ShapeContext<'_>,
            ) -> std::result::Result<Inferred, Invalid> {
                infer(cx.layer, input, cx.site, cx.previous)
            }
        }
    )*};
}

recurrent_shape!(SimpleRnnSpec, LstmSpec, GruSpec, BidirectionalSpec);

/// Check a recurrent layer (`simple_rnn`, `lstm`, `gru`, or `bidirectional`
/// around one) against its input: it needs `(batch, steps, features)`.
/// `previous` is the layer feeding it, for a message that names the fix.
pub(crate) fn infer(
    spec: &LayerSpec,
    input: &Shape,
    site: Site,
    previous: Option<&LayerSpec>,
) -> std::result::Result<Inferred, Invalid> {
    let kind = spec.type_name();
    let (settings, field_kind, merge) = match spec {
        LayerSpec::Bidirectional(b) => match Settings::of(&b.layer) {
            Some(s) => (s, b.layer.type_name(), Some(b.merge_mode)),
            None => {
                return Err(Invalid::new(
                    site.field("bidirectional", "layer"),
                    format!(
                        "bidirectional wraps a recurrent layer (`simple_rnn`, `lstm` or `gru`), not `{}`; write e.g. `bidirectional: {{layer: {{lstm: {{units: 32}}}}}}`",
                        b.layer.type_name()
                    ),
                ))
            }
        },
        other => match Settings::of(other) {
            Some(s) => (s, kind, None),
            None => {
                return Err(Invalid::new(
                    site.path(),
                    format!("`{kind}` is not a recurrent layer"),
                ))
            }
        },
    };
    let field = |name: &str| {
        if merge.is_some() {
            format!("{}.bidirectional.layer.{field_kind}.{name}", site.path())
        } else {
            site.field(kind, name)
        }
    };
    if input.rank() != 3 {
        let here = format!("{} ({kind})", site.path());
        let message = match (previous, site.index.checked_sub(1)) {
            (Some(p), Some(pi)) if drops_time_axis(p) => format!(
                "{here} gets a {}-D input {input} from model.layers[{pi}] ({}) which has return_sequences false; set `return_sequences: true` on model.layers[{pi}]",
                input.rank(),
                p.type_name()
            ),
            (Some(p), Some(pi)) => format!(
                "{here} gets a {}-D input {input} from model.layers[{pi}] ({}), but a recurrent layer reads a 3-D input (batch, steps, features); put it directly after the `embedding` (or after a layer that keeps the steps), not after `{}`",
                input.rank(),
                p.type_name(),
                p.type_name()
            ),
            _ => format!(
                "{here} gets a {}-D input {input}, but a recurrent layer reads a 3-D input (batch, steps, features): token sequences after an `embedding`",
                input.rank()
            ),
        };
        return Err(Invalid::new(site.path(), message));
    }
    if settings.units == 0 {
        return Err(Invalid::new(
            field("units"),
            "units (size of the state and of the output) must be at least 1",
        ));
    }
    if !(0.0..1.0).contains(&settings.dropout) {
        return Err(Invalid::new(
            field("dropout"),
            format!(
                "dropout (fraction of input features dropped) must be in [0, 1), got {}",
                settings.dropout
            ),
        ));
    }
    let acts = [
        ("activation", settings.activation),
        ("recurrent_activation", settings.recurrent_activation),
    ];
    if let Some((name, _)) = acts.iter().find(|(_, a)| *a == Activation::Softmax) {
        return Err(Invalid::new(
            field(name),
            "softmax is not an element-wise activation; use tanh, sigmoid, relu or linear",
        ));
    }
    let (steps, inputs) = (input.0[0], input.0[1]);
    let mut units = settings.units;
    let mut params = settings.params(inputs);
    if let Some(m) = merge {
        params *= 2;
        if m == MergeMode::Concat {
            units *= 2;
        }
    }
    let shape = if settings.return_sequences {
        Shape(vec![steps, units])
    } else {
        Shape(vec![units])
    };
    Ok(Inferred {
        shape,
        params,
        trainable: true,
    })
}

/// A recurrent layer (`simple_rnn`, `lstm` or `gru`) run as one fused op per
/// batch; weights in Keras's layout and names: `kernel` (`inputs × gates·units`),
/// `recurrent_kernel` (`units × gates·units`) and `bias` (`gates·units`, or
/// `2 × gates·units` for GRU: input and recurrent rows).
#[derive(Debug)]
pub struct Recurrent {
    name: String,
    kind: &'static str,
    settings: Settings,
    inputs: usize,
    shape: Shape,
    kernel: Var,
    recurrent_kernel: Var,
    bias: Var,
    /// Gradient of the layer input from the last backward pass, `(batch, steps, inputs)`.
    input_grad: Arc<Mutex<Option<Tensor>>>,
}

impl Recurrent {
    /// A freshly initialised layer reading `inputs` features per step: Glorot
    /// uniform kernel, orthogonal recurrent kernel, zero bias (LSTM forget gate
    /// 1 with `unit_forget_bias`), drawn from `rng` in that order.
    pub(crate) fn new(
        settings: Settings,
        kind: &'static str,
        name: String,
        inputs: usize,
        shape: Shape,
        rng: &mut ChaCha8Rng,
    ) -> Result<Recurrent> {
        let u = settings.units;
        let gu = settings.cell.gates() * u;
        let dev = &Device::Cpu;
        let kernel = Var::from_vec(init::glorot_uniform(rng, inputs, gu), (inputs, gu), dev)?;
        let recurrent_kernel = Var::from_vec(orthogonal::orthogonal(rng, u, gu), (u, gu), dev)?;
        let bias = match settings.cell {
            Cell::Gru => Var::from_vec(vec![0f32; 2 * gu], (2, gu), dev)?,
            Cell::Lstm if settings.unit_forget_bias => {
                let mut b = vec![0f32; gu];
                b[u..2 * u].fill(1.0);
                Var::from_vec(b, gu, dev)?
            }
            _ => Var::from_vec(vec![0f32; gu], gu, dev)?,
        };
        Ok(Recurrent {
            name,
            kind,
            settings,
            inputs,
            shape,
            kernel,
            recurrent_kernel,
            bias,
            input_grad: Arc::new(Mutex::new(None)),
        })
    }

    /// Build the layer of a `simple_rnn`, `lstm` or `gru` spec.
    pub(crate) fn from_spec(
        spec: &LayerSpec,
        name: String,
        inputs: usize,
        shape: Shape,
        rng: &mut ChaCha8Rng,
    ) -> Result<Recurrent> {
        let Some(settings) = Settings::of(spec) else {
            candle_core::bail!("`{}` is not a recurrent layer", spec.type_name());
        };
        Recurrent::new(settings, spec.type_name(), name, inputs, shape, rng)
    }

    /// The settings the layer was built with.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Run the layer. `reverse` reads the steps last to first; `aligned` puts
    /// reversed step outputs back at their input positions; `zero_masked`
    /// outputs zeros at masked steps (both as `Bidirectional` does).
    pub(crate) fn run(
        &self,
        x: &Tensor,
        pass: &mut Pass<'_>,
        reverse: bool,
        aligned: bool,
        zero_masked: bool,
    ) -> Result<Tensor> {
        let (b, t, f) = x.dims3()?;
        let s = &self.settings;
        let mut scale = None;
        let mut x = x.clone();
        if s.dropout > 0.0 {
            if let Some(rng) = pass.rng() {
                // One mask per example, reused at every step (Keras RNN input dropout).
                let rate = s.dropout as f32;
                let keep = 1.0 / (1.0 - rate);
                let m: Vec<f32> = (0..b * f)
                    .map(|_| {
                        if rng.random::<f32>() >= rate {
                            keep
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let m = Tensor::from_vec(m, (b, 1, f), x.device())?;
                x = x.broadcast_mul(&m)?;
                scale = Some(m);
            }
        }
        let kernel = live(&self.kernel, true);
        let xp = x.reshape((b * t, f))?.matmul(&kernel)?;
        self.recur(
            &xp,
            None,
            (b, t),
            scale,
            pass,
            (reverse, aligned, zero_masked),
        )
    }

    /// Whether [`Recurrent::run_tokens`] applies to this pass: not with input
    /// dropout in training (the mask is per example, not per token) nor when
    /// recording per-timestep input gradients (they are per position).
    pub(crate) fn reads_tokens(&self, tokens: &EmbeddedTokens, pass: &Pass<'_>) -> bool {
        let input_dropout = self.settings.dropout > 0.0 && pass.is_training();
        !(tokens.flat() || pass.records_grad_bands() || input_dropout)
    }

    /// [`Recurrent::run`] straight from an embedding's tokens: the input
    /// projection is computed once per distinct token of the batch
    /// (`table[id]·W`) instead of once per position. Check
    /// [`Recurrent::reads_tokens`] first.
    pub(crate) fn run_tokens(
        &self,
        tokens: &EmbeddedTokens,
        pass: &mut Pass<'_>,
        reverse: bool,
        aligned: bool,
        zero_masked: bool,
    ) -> Result<Tensor> {
        let distinct = tokens.distinct();
        let vectors = tokens.distinct_vectors()?;
        let dims = (tokens.batch(), tokens.steps());
        let flags = (reverse, aligned, zero_masked);
        self.recur(&vectors, Some(&distinct), dims, None, pass, flags)
    }

    /// The time loop of a `(batch, steps)` input: `x` is the projected input
    /// `xp` (one row per position), or with `distinct` the batch's distinct
    /// token vectors, which the op projects itself.
    fn recur(
        &self,
        x: &Tensor,
        distinct: Option<&Distinct>,
        (b, t): (usize, usize),
        scale: Option<Tensor>,
        pass: &mut Pass<'_>,
        (reverse, aligned, zero_masked): (bool, bool, bool),
    ) -> Result<Tensor> {
        let s = &self.settings;
        let cfg = Recurrence {
            cell: s.cell,
            units: s.units,
            act: s.activation,
            rec_act: s.recurrent_activation,
            return_sequences: s.return_sequences,
            reverse,
            zero_output_for_mask: zero_masked,
            align_outputs: aligned,
        };
        let probe = if pass.records_grad_bands() {
            Some(InputProbe {
                kernel: self.kernel.as_detached_tensor(),
                scale,
                sink: Arc::clone(&self.input_grad),
            })
        } else {
            if pass.is_training() {
                // A training step that records nothing: older bands would be stale.
                *self
                    .input_grad
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            }
            None
        };
        let op = FusedRecurrence::new(cfg, b, t, pass.mask().cloned(), probe);
        let uk = live(&self.recurrent_kernel, true);
        let bias = live(&self.bias, true);
        match distinct {
            Some(d) => {
                let kernels = Tensor::cat(&[&live(&self.kernel, true), &uk], 0)?;
                x.apply_op3(&kernels, &bias, op.with_rows(d, self.inputs))
            }
            None => x.apply_op3(&uk, &bias, op),
        }
    }

    /// The input gradient recorded by the last backward pass.
    pub(crate) fn last_input_grad(&self) -> Option<Tensor> {
        self.input_grad
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The weights under the given names (kernel, recurrent kernel, bias).
    pub(crate) fn weights_named(&self, names: [&'static str; 3]) -> Vec<Weight<'_>> {
        [&self.kernel, &self.recurrent_kernel, &self.bias]
            .into_iter()
            .zip(names)
            .map(|(var, name)| Weight {
                name,
                var,
                trainable: true,
            })
            .collect()
    }
}

impl Layer for Recurrent {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        self.settings.params(self.inputs)
    }
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        self.run(x, pass, self.settings.go_backwards, false, false)
    }
    fn forward_tokens(
        &self,
        tokens: &EmbeddedTokens,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        if !self.reads_tokens(tokens, pass) {
            return None;
        }
        Some(self.run_tokens(tokens, pass, self.settings.go_backwards, false, false))
    }
    fn weights(&self) -> Vec<Weight<'_>> {
        self.weights_named(["kernel", "recurrent_kernel", "bias"])
    }
    fn timestep_grad_bands(&self) -> Option<Vec<f64>> {
        grad_bands(&self.last_input_grad()?)
    }
}

/// Per-band gradient norms of an input gradient `(batch, steps, features)`:
/// `‖∂L/∂x_t‖` (over batch and features) summed over the steps of the first,
/// the middle and the last quarter of the time axis (each `max(1, steps/4)`
/// steps; the middle band is centred).
pub(crate) fn grad_bands(dx: &Tensor) -> Option<Vec<f64>> {
    let (_, t, _) = dx.dims3().ok()?;
    let sq = dx.sqr().ok()?.sum(2).ok()?.sum(0).ok()?;
    let per_step: Vec<f64> = sq
        .to_dtype(candle_core::DType::F64)
        .ok()?
        .to_vec1::<f64>()
        .ok()?
        .into_iter()
        .map(f64::sqrt)
        .collect();
    let q = (t / 4).max(1).min(t);
    let mid = (t - q) / 2;
    let band = |a: usize| per_step[a..a + q].iter().sum::<f64>();
    Some(vec![band(0), band(mid), band(t - q)])
}
