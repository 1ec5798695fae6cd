//! Where the windows of a 1-D convolution lie, and the im2col gather and
//! scatter over them; shared by the vector and the token path.

/// Where the windows of a batch lie.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub batch: usize,
    pub steps: usize,
    pub channels: usize,
    pub size: usize,
    pub stride: usize,
    pub out: usize,
    pub pad_left: usize,
}

impl Geometry {
    /// For window `o`, offset `j`: the input step, when inside the sequence.
    pub(crate) fn source(&self, o: usize, j: usize) -> Option<usize> {
        (o * self.stride + j)
            .checked_sub(self.pad_left)
            .filter(|&s| s < self.steps)
    }

    /// The im2col matrix `(batch · out) × (size · channels)` of `x`.
    pub(crate) fn gather(&self, x: &[f32]) -> Vec<f32> {
        let c = self.channels;
        let per_example = self.out * self.size * c;
        let mut dst = vec![0f32; self.batch * per_example];
        for b in 0..self.batch {
            let x = &x[b * self.steps * c..(b + 1) * self.steps * c];
            let y = &mut dst[b * per_example..(b + 1) * per_example];
            for o in 0..self.out {
                for j in 0..self.size {
                    if let Some(s) = self.source(o, j) {
                        let at = (o * self.size + j) * c;
                        y[at..at + c].copy_from_slice(&x[s * c..(s + 1) * c]);
                    }
                }
            }
        }
        dst
    }

    /// The input gradient from the window gradient: each window value's
    /// gradient added back to the step it was copied from.
    pub(crate) fn scatter(&self, g: &[f32]) -> Vec<f32> {
        let c = self.channels;
        let per_example = self.out * self.size * c;
        let mut dx = vec![0f32; self.batch * self.steps * c];
        for b in 0..self.batch {
            let gy = &g[b * per_example..(b + 1) * per_example];
            let x = &mut dx[b * self.steps * c..(b + 1) * self.steps * c];
            for o in 0..self.out {
                for j in 0..self.size {
                    if let Some(s) = self.source(o, j) {
                        let at = (o * self.size + j) * c;
                        for (d, v) in x[s * c..(s + 1) * c].iter_mut().zip(&gy[at..at + c]) {
                            *d += v;
                        }
                    }
                }
            }
        }
        dx
    }
}
