//! `SparseBatch`: a CSR batch of sparse feature rows, and `ModelBatch`, what a
//! model's forward pass reads.

use candle_core::{bail, Device, Result, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;

thread_local! {
    /// Feature index → position in `touched`, `u32::MAX` when unseen. Kept per
    /// thread and reset entry by entry after each batch, so finding a batch's
    /// touched rows costs O(active entries), not O(width).
    static MARK: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// A batch of sparse rows in CSR form: row `r` holds the entries
/// `offsets[r]..offsets[r + 1]` of `indices` (feature ids `< width`) and
/// `values`. Repeated ids within a row add up, as in a dense row.
///
/// It also lists the distinct features the batch touches (`touched`,
/// ascending) and, per entry, its position in that list, so the
/// backward pass can sum gradients per kernel row without a width-sized buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseBatch {
    width: usize,
    offsets: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    touched: Vec<u32>,
    slots: Vec<u32>,
}

impl SparseBatch {
    /// A batch from CSR arrays; errors when the arrays disagree or an index is
    /// not below `width`.
    pub fn new(
        width: usize,
        offsets: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f32>,
    ) -> Result<SparseBatch> {
        if indices.len() != values.len() {
            bail!(
                "sparse batch: {} indices but {} values",
                indices.len(),
                values.len()
            );
        }
        if offsets.first() != Some(&0)
            || offsets.last() != Some(&indices.len())
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            bail!(
                "sparse batch: row offsets must rise from 0 to {}",
                indices.len()
            );
        }
        if let Some(i) = indices.iter().position(|&i| i as usize >= width) {
            bail!(
                "sparse batch: feature index {} is outside the input width {width} (valid 0..{})",
                indices[i],
                width.saturating_sub(1)
            );
        }
        let (touched, slots) = touched_rows(&indices, width);
        Ok(SparseBatch {
            width,
            offsets,
            indices,
            values,
            touched,
            slots,
        })
    }

    /// The batch of the given rows of `data` (each row a list of `(feature, value)`).
    pub fn gather(data: &[Vec<(u32, f32)>], rows: &[usize], width: usize) -> Result<SparseBatch> {
        let nnz = rows.iter().map(|&r| data.get(r).map_or(0, Vec::len)).sum();
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        let mut indices = Vec::with_capacity(nnz);
        let mut values = Vec::with_capacity(nnz);
        offsets.push(0);
        for &r in rows {
            let Some(row) = data.get(r) else {
                bail!(
                    "sparse batch: example {r} does not exist ({} rows)",
                    data.len()
                );
            };
            for &(i, v) in row {
                indices.push(i);
                values.push(v);
            }
            offsets.push(indices.len());
        }
        SparseBatch::new(width, offsets, indices, values)
    }

    /// Number of examples.
    pub fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of features per example.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row offsets (`rows + 1` values).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Feature index of each entry.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Value of each entry.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The distinct features present, ascending.
    pub fn touched(&self) -> &[u32] {
        &self.touched
    }

    /// Per entry, its feature's position in [`SparseBatch::touched`].
    pub(crate) fn slots(&self) -> &[u32] {
        &self.slots
    }

    /// The CSR arrays as candle tensors: `(indices u32 [nnz], values f32 [nnz],
    /// offsets u32 [rows + 1])`.
    pub fn to_tensors(&self) -> Result<(Tensor, Tensor, Tensor)> {
        let offsets: Vec<u32> = self.offsets.iter().map(|&o| o as u32).collect();
        Ok((
            Tensor::new(self.indices.as_slice(), &Device::Cpu)?,
            Tensor::new(self.values.as_slice(), &Device::Cpu)?,
            Tensor::from_vec(offsets, self.offsets.len(), &Device::Cpu)?,
        ))
    }

    /// The dense `rows × width` matrix (for tests and small widths only).
    pub fn to_dense(&self) -> Result<Tensor> {
        let mut out = vec![0f32; self.rows() * self.width];
        for r in 0..self.rows() {
            for k in self.offsets[r]..self.offsets[r + 1] {
                out[r * self.width + self.indices[k] as usize] += self.values[k];
            }
        }
        Tensor::from_vec(out, (self.rows(), self.width), &Device::Cpu)
    }

    /// Inverted dropout on the active entries: each entry is kept with
    /// probability `1 − rate` (one uniform draw per entry, in entry order;
    /// kept where `u >= rate` as Keras does) and scaled by `1 / (1 − rate)`;
    /// dropped entries are removed, so their kernel rows are not touched.
    /// (Zeros of a sparse row stay zero, exactly as dense dropout leaves them.)
    pub fn dropout(&self, rate: f64, rng: &mut ChaCha8Rng) -> Result<SparseBatch> {
        if rate == 0.0 {
            return Ok(self.clone());
        }
        let rate = rate as f32;
        let scale = 1.0 / (1.0 - rate);
        let mut offsets = Vec::with_capacity(self.offsets.len());
        let mut indices = Vec::with_capacity(self.nnz());
        let mut values = Vec::with_capacity(self.nnz());
        offsets.push(0);
        for r in 0..self.rows() {
            for k in self.offsets[r]..self.offsets[r + 1] {
                if rng.random::<f32>() >= rate {
                    indices.push(self.indices[k]);
                    values.push(self.values[k] * scale);
                }
            }
            offsets.push(indices.len());
        }
        SparseBatch::new(self.width, offsets, indices, values)
    }
}

/// The distinct indices (ascending, so later passes over the kernel rows walk
/// memory in order) and each entry's position among them.
fn touched_rows(indices: &[u32], width: usize) -> (Vec<u32>, Vec<u32>) {
    MARK.with(|mark| {
        let mut mark = mark.borrow_mut();
        if mark.len() < width {
            mark.resize(width, u32::MAX);
        }
        let mut touched = Vec::new();
        let mut slots = Vec::with_capacity(indices.len());
        for &i in indices {
            let m = &mut mark[i as usize];
            if *m == u32::MAX {
                *m = touched.len() as u32;
                touched.push(i);
            }
            slots.push(*m);
        }
        // Sort the rows and renumber the slots: the kernel, its moments and the
        // gradient are then visited in address order (fewer cache/TLB misses).
        let mut order: Vec<u32> = (0..touched.len() as u32).collect();
        order.sort_unstable_by_key(|&j| touched[j as usize]);
        let mut renumber = vec![0u32; touched.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        for &i in &touched {
            mark[i as usize] = u32::MAX;
        }
        for s in &mut slots {
            *s = renumber[*s as usize];
        }
        let touched = order.iter().map(|&j| touched[j as usize]).collect();
        (touched, slots)
    })
}

/// One batch of model input: a dense tensor (`u32` ids or `f32` rows) or sparse rows.
#[derive(Debug, Clone)]
pub enum ModelBatch {
    /// Token ids (batch × maxlen) or dense feature rows (batch × width).
    Dense(Tensor),
    /// Sparse feature rows for a model whose input is `Features`.
    Sparse(SparseBatch),
}

impl ModelBatch {
    /// Number of examples in the batch.
    pub fn rows(&self) -> usize {
        match self {
            ModelBatch::Dense(t) => t.dims().first().copied().unwrap_or(0),
            ModelBatch::Sparse(s) => s.rows(),
        }
    }
}
