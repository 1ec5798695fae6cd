//! The pipeline stages and the runner that executes them with the cache.
