//! Classification and regression metrics with scikit-learn definitions.
