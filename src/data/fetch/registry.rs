//! The registry of built-in datasets: official source, size, checksum and the
//! files each one produces once converted.

use super::error::FetchError;

/// How a downloaded archive is turned into the dataset folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// `aclImdb_v1.tar.gz`: reviews streamed out of the tar and written as
    /// `train.parquet`, `test.parquet`, `unsup.parquet`.
    ImdbTarGz,
    /// A zip holding TSV files (possibly in a folder or a nested zip); the
    /// files named in [`DatasetInfo::files`] are extracted as they are.
    ZipTsv,
}

/// One built-in dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetInfo {
    /// The name used in specs and on the command line (`imdb`).
    pub name: &'static str,
    /// One line describing the dataset and its source.
    pub description: &'static str,
    /// The official download URL.
    pub url: &'static str,
    /// The official archive size in bytes, when known in advance.
    pub size: Option<u64>,
    /// The official archive sha256 (lowercase hex), when known in advance;
    /// otherwise the checksum seen first is recorded in a lock file.
    pub sha256: Option<&'static str>,
    /// How the archive is converted.
    pub kind: ArchiveKind,
    /// The files the dataset folder holds once converted.
    pub files: &'static [&'static str],
    /// How a spec uses it: the `dataset:` line and the columns read by default.
    pub usage: &'static str,
}

impl DatasetInfo {
    /// The archive's file name: the last path segment of the official URL
    /// (appended to a mirror base URL).
    pub fn archive_name(&self) -> &'static str {
        self.url.rsplit('/').next().unwrap_or(self.url)
    }
}

/// All built-in datasets.
pub static REGISTRY: &[DatasetInfo] = &[
    DatasetInfo {
        name: "imdb",
        description: "Large Movie Review Dataset (Maas et al., ACL 2011): 25k train / 25k test labelled reviews, 50k unlabelled",
        url: "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        size: Some(84_125_825),
        sha256: Some("c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"),
        kind: ArchiveKind::ImdbTarGz,
        files: &["train.parquet", "test.parquet", "unsup.parquet"],
        usage: "data: {dataset: imdb}; text `text`, label `label` (pos/neg), id `id`; also `rating` (1-4, 7-10)",
    },
    DatasetInfo {
        name: "druglib",
        description: "UCI Drug Review Dataset (Druglib.com), Graesser et al. 2018: 3,107 train / 1,036 test reviews with ratings",
        url: "https://archive.ics.uci.edu/static/public/461/drug+review+dataset+druglib+com.zip",
        size: None,
        sha256: None,
        kind: ArchiveKind::ZipTsv,
        files: &["drugLibTrain_raw.tsv", "drugLibTest_raw.tsv"],
        usage: "data: {dataset: druglib}; text: benefitsReview, sideEffectsReview and commentsReview joined; label `rating` (1-10); also urlDrugName, effectiveness, sideEffects, condition",
    },
    DatasetInfo {
        name: "drugscom",
        description: "UCI Drug Review Dataset (Drugs.com), Graesser et al. 2018: about 161k train / 54k test reviews with ratings",
        url: "https://archive.ics.uci.edu/static/public/462/drug+review+dataset+drugs+com.zip",
        size: None,
        sha256: None,
        kind: ArchiveKind::ZipTsv,
        files: &["drugsComTrain_raw.tsv", "drugsComTest_raw.tsv"],
        usage: "data: {dataset: drugscom}; text `review` (HTML entities: add clean: {html_entities: true}), label `rating` (1-10); also drugName, condition, date, usefulCount",
    },
];

/// The built-in dataset called `name`, if there is one.
pub fn builtin(name: &str) -> Option<&'static DatasetInfo> {
    REGISTRY.iter().find(|d| d.name == name)
}

/// Like [`builtin`], but an unknown name is an error listing the known ones
/// (with a "did you mean" hint for near misses).
pub fn lookup(name: &str) -> Result<&'static DatasetInfo, FetchError> {
    if let Some(info) = builtin(name) {
        return Ok(info);
    }
    let best = REGISTRY
        .iter()
        .map(|d| (strsim::levenshtein(name, d.name), d.name))
        .min();
    let hint = match best {
        Some((dist, near)) if dist <= 2 => format!("; did you mean `{near}`?"),
        _ => String::new(),
    };
    Err(FetchError::UnknownDataset {
        name: name.to_string(),
        hint,
        known: REGISTRY
            .iter()
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_and_archive_names() {
        let imdb = builtin("imdb").expect("imdb registered");
        assert_eq!(imdb.archive_name(), "aclImdb_v1.tar.gz");
        assert_eq!(imdb.size, Some(84_125_825));
        assert_eq!(
            builtin("drugscom").map(|d| d.archive_name()),
            Some("drug+review+dataset+drugs+com.zip")
        );
        assert!(builtin("mnist").is_none());
    }

    #[test]
    fn lookup_suggests_near_names() {
        let err = lookup("imbd").expect_err("not a dataset");
        let msg = err.to_string();
        assert!(msg.contains("did you mean `imdb`"), "{msg}");
        assert!(msg.contains("imdb, druglib, drugscom"), "{msg}");
    }
}
