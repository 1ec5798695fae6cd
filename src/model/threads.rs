//! How candle's own CPU threads are set up, once, when a process starts.
//!
//! candle runs every element-wise op of 64k values or more on a barrier pool
//! of its own, next to rayon's threads that kerros's fused ops use; after each
//! such op its worker spins before it sleeps, and its caller spins until the
//! worker is done. On a machine whose cores are all busy (two cores, both
//! rayon threads working, or another process) the caller then waits for a
//! worker that has no core: `perf` of the convolutional bench on this 2-core
//! machine put 15–37 % of the time in that spinning, and the epochs varied
//! with the machine's load. kerros's heavy work is in its own rayon-parallel
//! ops, and what is left to candle's element-wise ops (a gradient
//! accumulation of a few hundred kilobytes per step) runs as fast on one
//! thread, so the pool is turned off unless the user sized it.

/// The variable candle reads for its element-wise pool's size (threads,
/// the calling one included).
pub const CANDLE_THREADS_VAR: &str = "CANDLE_NUM_THREADS";

/// Turns candle's element-wise pool off (one thread: the caller) unless
/// [`CANDLE_THREADS_VAR`] is set. Call it first thing in `main`, before any
/// thread starts and before any candle op runs (candle sizes the pool once).
pub fn configure_candle_threads() {
    if std::env::var_os(CANDLE_THREADS_VAR).is_none() {
        // Sound: called before the process has other threads.
        std::env::set_var(CANDLE_THREADS_VAR, "1");
    }
}
