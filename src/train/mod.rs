//! Training: losses, optimizers, the fit loop and its history.
