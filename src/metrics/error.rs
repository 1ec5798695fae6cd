//! Errors for metric inputs that cannot be scored.

/// Why a set of predictions could not be scored.
///
/// These are caller mistakes (mismatched lengths, labels outside the class
/// list, non-finite numbers), reported instead of panicking.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// Two inputs that must pair up element by element have different lengths.
    #[error("metrics: `{left}` has {left_len} entries but `{right}` has {right_len}; they must have the same length")]
    LengthMismatch {
        /// Name of the first input.
        left: &'static str,
        /// Its length.
        left_len: usize,
        /// Name of the second input.
        right: &'static str,
        /// Its length.
        right_len: usize,
    },
    /// A class index is not below the number of classes.
    #[error("metrics: `{field}[{index}]` is class {label}, but there are {n_classes} classes (valid: 0 to {n_classes} - 1)")]
    LabelOutOfRange {
        /// `y_true` or `y_pred`.
        field: &'static str,
        /// Position of the bad entry.
        index: usize,
        /// The offending class index.
        label: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// A probability row does not have one column per class.
    #[error("metrics: `probs[{row}]` has {found} columns; expected one per class ({expected})")]
    ProbsWidth {
        /// Row (example) index.
        row: usize,
        /// Columns found.
        found: usize,
        /// Columns expected (the number of classes).
        expected: usize,
    },
    /// An input number is NaN or infinite.
    #[error("metrics: `{field}` is {value}, not a finite number")]
    NonFinite {
        /// Where it is, e.g. `y_pred[3]` or `probs[2][1]`.
        field: String,
        /// The value found.
        value: f64,
    },
    /// No class names were given for a classification task.
    #[error("metrics: no class names given; a classification task needs at least one class")]
    NoClasses,
    /// The same class name appears twice.
    #[error("metrics: class name {name:?} appears at positions {first} and {second}; class names must be unique")]
    DuplicateClass {
        /// The repeated name.
        name: String,
        /// First position.
        first: usize,
        /// Second position.
        second: usize,
    },
    /// The regression range is not usable.
    #[error("metrics: regression range [{lo}, {hi}] is not valid; it needs finite bounds with lo <= hi and at least one integer between them")]
    InvalidRange {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
}
