//! Content-addressed stage artifacts: keys, manifests, atomic writes.
