//! The SIMD loops of document-vector training and inference, compiled once
//! per instruction set inside a `pulp` dispatch (AVX2/FMA, NEON or portable).
//! No closures here: a closure would not inherit the dispatch's target
//! features, and every vector intrinsic in it would become a call.

use super::rng::XorShift;
use super::{sigmoid, Sampler};
use crate::simd::axpy;
use pulp::{Simd, WithSimd};

/// `vector · row(t)` for each of the `N` targets of `group` (N ≤ 4) at
/// once: independent sums keep the FMA units busy where one sum would wait
/// on each add. A target that appears twice in a group is scored against its
/// row as it was before the group (word2vec scores it after its first
/// update; both are SGD). Each target's sum is formed the same way whatever
/// `N` is, so grouping never changes a score.
#[inline(always)]
fn dots<const N: usize, S: Simd, O: Outputs>(
    simd: S,
    vector: &[f32],
    group: &[u32],
    outputs: &O,
    dim: usize,
) -> [f32; N] {
    let (vv, vt) = S::as_simd_f32s(vector);
    let split: [(&[S::f32s], &[f32]); N] =
        std::array::from_fn(|k| S::as_simd_f32s(outputs.row(group[k], dim)));
    let mut acc = [simd.splat_f32s(0.0); N];
    for (j, v) in vv.iter().enumerate() {
        for k in 0..N {
            acc[k] = simd.mul_add_f32s(*v, split[k].0[j], acc[k]);
        }
    }
    std::array::from_fn(|k| {
        let mut sum = simd.reduce_sum_f32s(acc[k]);
        for (x, y) in vt.iter().zip(split[k].1) {
            sum = x.mul_add(*y, sum);
        }
        sum
    })
}

/// Scores of a group of one to four targets (a trailing group is not padded
/// with dummy rows).
#[inline(always)]
fn scores<S: Simd, O: Outputs>(
    simd: S,
    vector: &[f32],
    group: &[u32],
    outputs: &O,
    dim: usize,
) -> [f32; 4] {
    let mut out = [0.0; 4];
    match group.len() {
        4 => out = dots::<4, S, O>(simd, vector, group, outputs, dim),
        3 => out[..3].copy_from_slice(&dots::<3, S, O>(simd, vector, group, outputs, dim)),
        2 => out[..2].copy_from_slice(&dots::<2, S, O>(simd, vector, group, outputs, dim)),
        _ => out[..1].copy_from_slice(&dots::<1, S, O>(simd, vector, group, outputs, dim)),
    }
    out
}

/// The output vectors as one pass sees them: updated when training, frozen
/// when inferring.
trait Outputs {
    /// Output vector of `term`.
    fn row(&self, term: u32, dim: usize) -> &[f32];
    /// `grad += g · row(term)`, then `row(term) += g · vector` when training
    /// (one sweep over the row).
    fn step<S: Simd>(&mut self, simd: S, term: u32, g: f32, vector: &[f32], grad: &mut [f32]);
}

/// Where `term`'s output vector lies in a `num_terms × dim` row-major table.
#[inline(always)]
fn row_span(term: u32, dim: usize) -> std::ops::Range<usize> {
    term as usize * dim..(term as usize + 1) * dim
}

/// Training: the rows move.
struct Trained<'a>(&'a mut [f32]);

impl Outputs for Trained<'_> {
    #[inline(always)]
    fn row(&self, term: u32, dim: usize) -> &[f32] {
        &self.0[row_span(term, dim)]
    }

    #[inline(always)]
    fn step<S: Simd>(&mut self, simd: S, term: u32, g: f32, vector: &[f32], grad: &mut [f32]) {
        let dim = vector.len();
        let row = &mut self.0[row_span(term, dim)];
        let (rv, rt) = S::as_mut_simd_f32s(row);
        let (vv, vt) = S::as_simd_f32s(vector);
        let (gv, gt) = S::as_mut_simd_f32s(grad);
        let gs = simd.splat_f32s(g);
        for ((r, v), d) in rv.iter_mut().zip(vv).zip(gv.iter_mut()) {
            *d = simd.mul_add_f32s(gs, *r, *d);
            *r = simd.mul_add_f32s(gs, *v, *r);
        }
        for ((r, v), d) in rt.iter_mut().zip(vt).zip(gt.iter_mut()) {
            *d = g.mul_add(*r, *d);
            *r = g.mul_add(*v, *r);
        }
    }
}

/// Inference: the rows stay.
struct Frozen<'a>(&'a [f32]);

impl Outputs for Frozen<'_> {
    #[inline(always)]
    fn row(&self, term: u32, dim: usize) -> &[f32] {
        &self.0[row_span(term, dim)]
    }

    #[inline(always)]
    fn step<S: Simd>(&mut self, simd: S, term: u32, g: f32, vector: &[f32], grad: &mut [f32]) {
        axpy(simd, grad, g, self.row(term, vector.len()));
    }
}

/// Asks the CPU to start loading `row` into cache. The output rows a pass
/// reads are scattered over a table of hundreds of megabytes, so each is a
/// cache (and TLB) miss; asking for the next occurrence's rows while this
/// one computes overlaps those misses.
#[inline(always)]
fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in row.chunks(16) {
        // SAFETY: a prefetch is a hint; the address is inside `row`.
        unsafe {
            std::arch::x86_64::_mm_prefetch(
                line.as_ptr() as *const i8,
                std::arch::x86_64::_MM_HINT_T0,
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// One pass's draws over one document, made before any computing: the kept
/// occurrences (subsampling) and `negative` noise terms for each. Drawing
/// them in a tight loop lets the CPU overlap the cache misses of the
/// scattered table lookups, which the arithmetic otherwise waits on one by one.
#[derive(Default)]
struct Draws {
    kept: Vec<u32>,
    noise: Vec<u32>,
}

impl Draws {
    #[inline(always)]
    fn draw(&mut self, doc: &[u32], sampler: &Sampler, rng: &mut XorShift) {
        self.kept.clear();
        self.noise.clear();
        for &term in doc {
            if sampler.keeps(term, rng) {
                self.kept.push(term);
            }
        }
        for _ in 0..self.kept.len() * sampler.settings.negative {
            self.noise.push(sampler.noise_term(rng));
        }
    }
}

/// How many occurrences ahead the rows are prefetched.
const AHEAD: usize = 2;

/// What every pass of one training run, or of one inference, reuses: the
/// buffers (allocated once, not per pass) and the learning-rate schedule.
struct Passes<'a> {
    sampler: &'a Sampler,
    grad: Vec<f32>,
    draws: Draws,
    /// One occurrence's targets: its term, then its noise terms.
    targets: Vec<u32>,
    /// The schedule's ends, in f32 as the vectors are.
    learning_rate: f32,
    min_learning_rate: f32,
}

impl<'a> Passes<'a> {
    fn new(sampler: &'a Sampler) -> Passes<'a> {
        let s = &sampler.settings;
        Passes {
            sampler,
            grad: vec![0.0; s.dim],
            draws: Draws::default(),
            targets: Vec::with_capacity(s.negative + 1),
            learning_rate: s.learning_rate as f32,
            min_learning_rate: s.min_learning_rate as f32,
        }
    }

    /// The learning rate at `progress` (0 at the start, 1 at the end).
    #[inline(always)]
    fn alpha(&self, progress: f32) -> f32 {
        self.learning_rate - (self.learning_rate - self.min_learning_rate) * progress
    }

    /// One pass over one document at learning rate `alpha`: each kept
    /// occurrence of a term is predicted from `vector` (label 1) against its
    /// noise terms (label 0; a draw equal to the term is skipped, as in
    /// word2vec), and the summed gradient is added to `vector` after each
    /// occurrence.
    #[inline(always)]
    fn run<S: Simd, O: Outputs>(
        &mut self,
        simd: S,
        doc: &[u32],
        vector: &mut [f32],
        outputs: &mut O,
        rng: &mut XorShift,
        alpha: f32,
    ) {
        let dim = vector.len();
        let negative = self.sampler.settings.negative;
        self.draws.draw(doc, self.sampler, rng);
        let (kept, noise) = (&self.draws.kept, &self.draws.noise);
        let prefetch_occurrence = |outputs: &O, i: usize| {
            if let Some(&term) = kept.get(i) {
                prefetch(outputs.row(term, dim));
                for &t in &noise[i * negative..(i + 1) * negative] {
                    prefetch(outputs.row(t, dim));
                }
            }
        };
        for i in 0..AHEAD {
            prefetch_occurrence(outputs, i);
        }
        let (targets, grad) = (&mut self.targets, &mut self.grad);
        for (i, &term) in kept.iter().enumerate() {
            prefetch_occurrence(outputs, i + AHEAD);
            targets.clear();
            targets.push(term);
            let drawn = &noise[i * negative..(i + 1) * negative];
            targets.extend(drawn.iter().copied().filter(|&t| t != term));
            grad.iter_mut().for_each(|g| *g = 0.0);
            for (k, group) in targets.chunks(4).enumerate() {
                let scores = scores(simd, vector, group, outputs, dim);
                for (j, (&target, score)) in group.iter().zip(scores).enumerate() {
                    let label = if k == 0 && j == 0 { 1.0 } else { 0.0 };
                    let g = (label - sigmoid(score)) * alpha;
                    outputs.step(simd, target, g, vector, grad);
                }
            }
            axpy(simd, vector, 1.0, grad);
        }
    }
}

/// Every training pass: the learning rate decays linearly with the term
/// occurrences seen (before subsampling), over `total` of them.
pub(super) struct Train<'a> {
    pub docs: &'a [Vec<u32>],
    pub vectors: &'a mut [f32],
    pub outputs: &'a mut [f32],
    pub sampler: &'a Sampler,
    pub rng: &'a mut XorShift,
    pub total: f64,
}

impl WithSimd for Train<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let s = &self.sampler.settings;
        let mut passes = Passes::new(self.sampler);
        let mut outputs = Trained(self.outputs);
        let mut seen = 0u64;
        for _ in 0..s.epochs {
            for (doc, vector) in self.docs.iter().zip(self.vectors.chunks_exact_mut(s.dim)) {
                let alpha = passes.alpha((seen as f64 / self.total) as f32);
                passes.run(simd, doc, vector, &mut outputs, self.rng, alpha);
                seen += doc.len() as u64;
            }
        }
    }
}

/// Every inference pass over one document, the output vectors frozen; the
/// learning rate decays linearly from pass to pass.
pub(super) struct Infer<'a> {
    pub doc: &'a [u32],
    pub vector: &'a mut [f32],
    pub outputs: &'a [f32],
    pub sampler: &'a Sampler,
    pub rng: &'a mut XorShift,
}

impl WithSimd for Infer<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let epochs = self.sampler.settings.epochs;
        let mut passes = Passes::new(self.sampler);
        let mut outputs = Frozen(self.outputs);
        let steps = epochs.saturating_sub(1).max(1) as f32;
        for epoch in 0..epochs {
            let alpha = passes.alpha(epoch as f32 / steps);
            passes.run(simd, self.doc, self.vector, &mut outputs, self.rng, alpha);
        }
    }
}
