//! The f32 values behind candle tensors, borrowed inside custom ops.

use candle_core::{bail, CpuStorage, Layout, Result, Storage, Tensor};

/// The contiguous f32 values of an op input; `what` names it in the error.
pub(crate) fn f32_values<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("{what} must be f32");
    };
    let Some((a, b)) = l.contiguous_offsets() else {
        bail!("{what} must be contiguous");
    };
    Ok(&v[a..b])
}

/// The contiguous f32 values of storage an in-place op writes.
pub(crate) fn f32_values_mut<'a>(
    s: &'a mut CpuStorage,
    l: &Layout,
    what: &str,
) -> Result<&'a mut [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("{what} must be f32");
    };
    let Some((a, b)) = l.contiguous_offsets() else {
        bail!("{what} must be contiguous");
    };
    Ok(&mut v[a..b])
}

/// Run `f` on the f32 values of a CPU tensor without copying them out (a
/// non-contiguous tensor is made contiguous first); `what` names it in errors.
pub(crate) fn with_f32<R>(t: &Tensor, what: &str, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(s) = &*storage else {
        bail!("{what} must be on the CPU");
    };
    Ok(f(f32_values(s, layout, what)?))
}
