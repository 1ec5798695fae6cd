//! Human names and one-line meanings of the metric keys, so the page never
//! shows a raw key such as `cohen_kappa` without saying what it is. They come
//! from the one metric catalog, [`crate::metrics::catalog`].

use crate::metrics::catalog;

/// The label and meaning of a scalar metric key; the key itself and no
/// meaning when it is not a scalar metric of the catalog.
pub fn metric_label(key: &str) -> (String, String) {
    catalog::find(key)
        .filter(|m| m.scalar)
        .map(|m| (m.label.to_string(), m.meaning.to_string()))
        .unwrap_or_else(|| (key.to_string(), String::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_keys() {
        assert_eq!(metric_label("cohen_kappa").0, "Cohen's kappa");
        assert!(metric_label("cohen_kappa_quadratic")
            .1
            .contains("far misses"));
        assert_eq!(
            metric_label("new_metric"),
            ("new_metric".into(), String::new())
        );
    }
}
