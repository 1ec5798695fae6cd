//! `GradSink`: a weight's gradient buffer that a fused op adds into during
//! backward, and the optimizer reads and clears, instead of returning the
//! gradient to candle.
//!
//! A gradient returned to candle costs, every step and for the whole weight,
//! the op's freshly allocated buffer, candle's zero tensor to sum it into and
//! that sum (for the course model's 10,000 × 16 embedding table: three 640 KB
//! buffers, their page faults and a parallel add whose threads then spin),
//! which is more than the course model's arithmetic. A sink is one buffer,
//! allocated once per weight.

use std::sync::{Mutex, MutexGuard};

/// The pending gradient of one weight (`len` values), or none.
#[derive(Debug)]
pub struct GradSink {
    len: usize,
    state: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// All zeros, or the sum of the gradients added since the last take;
    /// empty until the first add.
    values: Vec<f32>,
    /// Whether a gradient was added since the last take.
    filled: bool,
}

impl GradSink {
    /// An empty sink for a weight of `len` values (nothing allocated yet).
    pub fn new(len: usize) -> GradSink {
        GradSink {
            len,
            state: Mutex::new(Pending::default()),
        }
    }

    /// Number of values of the weight.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the weight has no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffer, even if a panicking op poisoned the lock (the values are
    /// then discarded by [`GradSink::clear`] at the next `fit`).
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Let `add` add a gradient into the buffer (zeros before the first add
    /// since the last take).
    pub(crate) fn add(&self, add: impl FnOnce(&mut [f32])) {
        let mut p = self.lock();
        if p.values.len() != self.len {
            p.values = vec![0.0; self.len];
        }
        add(&mut p.values);
        p.filled = true;
    }

    /// The gradient `fill` writes into zeros: added into `sink` when there
    /// is one (then `None`: the op returns no gradient to candle), else in a
    /// new buffer of `len` values.
    pub(crate) fn add_or_new(
        sink: Option<&GradSink>,
        len: usize,
        fill: impl FnOnce(&mut [f32]),
    ) -> Option<Vec<f32>> {
        match sink {
            Some(sink) => {
                sink.add(fill);
                None
            }
            None => {
                let mut values = vec![0.0; len];
                fill(&mut values);
                Some(values)
            }
        }
    }

    /// `read` of the pending gradient, or `None` when none was added since
    /// the last take. The gradient stays pending.
    pub fn peek<R>(&self, read: impl FnOnce(&[f32]) -> R) -> Option<R> {
        let p = self.lock();
        p.filled.then(|| read(&p.values))
    }

    /// `read` of the pending gradient (as [`GradSink::peek`]), after which the
    /// buffer is zeroed for the next step.
    pub fn take<R>(&self, read: impl FnOnce(&[f32]) -> R) -> Option<R> {
        let mut p = self.lock();
        if !p.filled {
            return None;
        }
        let r = read(&p.values);
        p.values.fill(0.0);
        p.filled = false;
        Some(r)
    }

    /// Free the buffer (training is over; a later add allocates it again).
    pub fn release(&self) {
        *self.lock() = Pending::default();
    }

    /// Drop any pending gradient (a step that failed half-way leaves one).
    pub fn clear(&self) {
        let mut p = self.lock();
        if p.filled {
            p.values.fill(0.0);
            p.filled = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_accumulate_until_taken_then_start_from_zero() {
        let sink = GradSink::new(3);
        assert_eq!(sink.peek(|v| v.to_vec()), None, "nothing added yet");
        sink.add(|v| v[1] += 2.0);
        sink.add(|v| v.iter_mut().for_each(|x| *x += 1.0));
        assert_eq!(sink.peek(|v| v.to_vec()), Some(vec![1.0, 3.0, 1.0]));
        assert_eq!(sink.take(|v| v.to_vec()), Some(vec![1.0, 3.0, 1.0]));
        assert_eq!(sink.take(|v| v.to_vec()), None, "taken once");
        sink.add(|v| v[0] += 5.0);
        assert_eq!(sink.take(|v| v.to_vec()), Some(vec![5.0, 0.0, 0.0]));
        sink.add(|v| v[2] += 1.0);
        sink.clear();
        assert_eq!(sink.peek(|v| v.to_vec()), None, "cleared");
        sink.add(|v| v[2] += 1.0);
        sink.release();
        assert_eq!(sink.peek(|v| v.to_vec()), None, "released");
        assert!(sink.lock().values.is_empty(), "the buffer is freed");
        sink.add(|v| v[1] += 4.0);
        assert_eq!(sink.take(|v| v.to_vec()), Some(vec![0.0, 4.0, 0.0]));
    }
}
