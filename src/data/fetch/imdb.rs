//! Conversion of the official `aclImdb_v1.tar.gz` into Parquet.
//!
//! The tar is streamed (100k small files are never unpacked to disk): each
//! entry's path is validated, sizes are capped, reviews are collected in
//! memory and written as `train.parquet`, `test.parquet` and `unsup.parquet`
//! with the schema of `../shared/data/README.md`:
//! `id` int64, `label` utf8, `rating` int8, `text` utf8 (train / test; rows
//! pos then neg, each by id) and `id` int64, `text` utf8 (unsup, by id).

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, Int8Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use flate2::read::GzDecoder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::error::{FetchError, Result};
use super::safe_path::{link_stays_inside, safe_components, ArchiveLimits};

/// One review read from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The number before `_` in `ID_RATING.txt`.
    pub id: i64,
    /// The number after `_` (0 for unlabelled reviews).
    pub rating: i8,
    /// The file's text as it is (`<br />` kept).
    pub text: String,
}

/// The reviews of the archive, by split and label.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImdbReviews {
    /// `aclImdb/train/pos`.
    pub train_pos: Vec<Review>,
    /// `aclImdb/train/neg`.
    pub train_neg: Vec<Review>,
    /// `aclImdb/test/pos`.
    pub test_pos: Vec<Review>,
    /// `aclImdb/test/neg`.
    pub test_neg: Vec<Review>,
    /// `aclImdb/train/unsup`.
    pub unsup: Vec<Review>,
}

/// Schema of `train.parquet` and `test.parquet`.
pub fn labelled_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("label", DataType::Utf8, true),
        Field::new("rating", DataType::Int8, true),
        Field::new("text", DataType::Utf8, true),
    ]))
}

/// Schema of `unsup.parquet`.
pub fn unsup_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("text", DataType::Utf8, true),
    ]))
}

/// Reads the reviews out of the gzipped tar at `path` (named `archive` in
/// messages), validating every entry.
pub fn read_archive(path: &Path, archive: &str, limits: ArchiveLimits) -> Result<ImdbReviews> {
    let file = File::open(path).map_err(|e| FetchError::io("cannot open", path, e))?;
    read_tar_gz(BufReader::new(file), archive, limits)
}

/// Reads the reviews out of a gzipped tar stream.
pub fn read_tar_gz<R: Read>(
    reader: R,
    archive: &str,
    limits: ArchiveLimits,
) -> Result<ImdbReviews> {
    let bad = |message: String| FetchError::archive(archive, message);
    let corrupt = |e: std::io::Error| {
        FetchError::archive(archive, format!("truncated or corrupt gzip/tar data: {e}"))
    };
    let mut tar = tar::Archive::new(GzDecoder::new(reader));
    let mut out = ImdbReviews::default();
    let mut seen: HashSet<(u8, i64)> = HashSet::new();
    let mut total: u64 = 0;
    let mut count: u64 = 0;
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        count += 1;
        if count > limits.max_entries {
            return Err(bad(format!("more than {} entries", limits.max_entries)));
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let parts = safe_components(&name).map_err(|why| bad(format!("entry `{name}` {why}")))?;
        let size = entry.size();
        if size > limits.max_entry {
            return Err(bad(format!(
                "entry `{name}` announces {size} bytes, more than the {} allowed",
                limits.max_entry
            )));
        }
        total = total.saturating_add(size);
        if total > limits.max_total {
            return Err(bad(format!(
                "entries add up to more than {} bytes",
                limits.max_total
            )));
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let check = if kind.is_hard_link() {
                // Hard link targets are relative to the archive root.
                safe_components(&target).map(|_| ())
            } else {
                link_stays_inside(&parts, &target)
            };
            check.map_err(|why| bad(format!("link `{name}` {why}")))?;
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let Some((slot, split_label)) = review_slot(&parts) else {
            continue;
        };
        let file_name = parts[3];
        let (id, rating) = parse_review_name(file_name).ok_or_else(|| {
            bad(format!(
                "entry `{name}` is not named ID_RATING.txt (e.g. 123_8.txt)"
            ))
        })?;
        let valid_rating = match slot {
            Slot::TrainPos | Slot::TestPos => (7..=10).contains(&rating),
            Slot::TrainNeg | Slot::TestNeg => (1..=4).contains(&rating),
            Slot::Unsup => rating == 0,
        };
        if !valid_rating {
            return Err(bad(format!(
                "entry `{name}` has rating {rating}, outside what {split_label} allows (pos 7-10, neg 1-4, unsup 0)"
            )));
        }
        if !seen.insert((slot as u8, id)) {
            return Err(bad(format!(
                "entry `{name}` repeats id {id} in {split_label}"
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(limits.max_entry + 1)
            .read_to_end(&mut bytes)
            .map_err(corrupt)?;
        if bytes.len() as u64 != size {
            return Err(bad(format!(
                "entry `{name}` holds {} bytes, its header says {size}",
                bytes.len()
            )));
        }
        // Invalid UTF-8 is replaced rather than fatal: the review stays usable.
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let review = Review { id, rating, text };
        match slot {
            Slot::TrainPos => out.train_pos.push(review),
            Slot::TrainNeg => out.train_neg.push(review),
            Slot::TestPos => out.test_pos.push(review),
            Slot::TestNeg => out.test_neg.push(review),
            Slot::Unsup => out.unsup.push(review),
        }
    }
    if out.train_pos.len() + out.train_neg.len() == 0
        || out.test_pos.len() + out.test_neg.len() == 0
    {
        return Err(bad(
            "no reviews under aclImdb/train/{pos,neg} or aclImdb/test/{pos,neg}; this is not the aclImdb layout".into(),
        ));
    }
    for v in [
        &mut out.train_pos,
        &mut out.train_neg,
        &mut out.test_pos,
        &mut out.test_neg,
        &mut out.unsup,
    ] {
        v.sort_by_key(|r| r.id);
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    TrainPos,
    TrainNeg,
    TestPos,
    TestNeg,
    Unsup,
}

/// Which collection `aclImdb/<split>/<label>/<file>` belongs to.
fn review_slot(parts: &[&str]) -> Option<(Slot, &'static str)> {
    if parts.len() != 4 || parts[0] != "aclImdb" {
        return None;
    }
    match (parts[1], parts[2]) {
        ("train", "pos") => Some((Slot::TrainPos, "train/pos")),
        ("train", "neg") => Some((Slot::TrainNeg, "train/neg")),
        ("test", "pos") => Some((Slot::TestPos, "test/pos")),
        ("test", "neg") => Some((Slot::TestNeg, "test/neg")),
        ("train", "unsup") => Some((Slot::Unsup, "train/unsup")),
        _ => None,
    }
}

/// Parses `ID_RATING.txt`.
pub fn parse_review_name(file_name: &str) -> Option<(i64, i8)> {
    let stem = file_name.strip_suffix(".txt")?;
    let (id, rating) = stem.split_once('_')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(id) || !all_digits(rating) {
        return None;
    }
    Some((id.parse().ok()?, rating.parse().ok()?))
}

/// Writes the three Parquet files into `dir`.
pub fn write_parquet(reviews: &ImdbReviews, dir: &Path) -> Result<()> {
    write_labelled(
        &reviews.train_pos,
        &reviews.train_neg,
        &dir.join("train.parquet"),
    )?;
    write_labelled(
        &reviews.test_pos,
        &reviews.test_neg,
        &dir.join("test.parquet"),
    )?;
    let path = dir.join("unsup.parquet");
    let ids = Int64Array::from_iter_values(reviews.unsup.iter().map(|r| r.id));
    let texts = StringArray::from_iter_values(reviews.unsup.iter().map(|r| r.text.as_str()));
    let columns: Vec<ArrayRef> = vec![Arc::new(ids), Arc::new(texts)];
    write_batch(&path, unsup_schema(), columns)
}

/// Writes `pos` then `neg` rows with their labels.
fn write_labelled(pos: &[Review], neg: &[Review], path: &Path) -> Result<()> {
    let rows = || {
        pos.iter()
            .map(|r| ("pos", r))
            .chain(neg.iter().map(|r| ("neg", r)))
    };
    let ids = Int64Array::from_iter_values(rows().map(|(_, r)| r.id));
    let labels = StringArray::from_iter_values(rows().map(|(l, _)| l));
    let ratings = Int8Array::from_iter_values(rows().map(|(_, r)| r.rating));
    let texts = StringArray::from_iter_values(rows().map(|(_, r)| r.text.as_str()));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(labels),
        Arc::new(ratings),
        Arc::new(texts),
    ];
    write_batch(path, labelled_schema(), columns)
}

/// Writes one batch as a zstd-compressed Parquet file.
fn write_batch(path: &Path, schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<()> {
    let perr = |e: &dyn std::fmt::Display| FetchError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| perr(&e))?;
    let file = File::create(path).map_err(|e| FetchError::io("cannot create", path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| perr(&e))?;
    writer.write(&batch).map_err(|e| perr(&e))?;
    let file = writer.into_inner().map_err(|e| perr(&e))?;
    file.sync_all()
        .map_err(|e| FetchError::io("cannot flush", path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_names() {
        assert_eq!(parse_review_name("123_8.txt"), Some((123, 8)));
        assert_eq!(parse_review_name("0_0.txt"), Some((0, 0)));
        assert_eq!(parse_review_name("12_x.txt"), None);
        assert_eq!(parse_review_name("12_8.text"), None);
        assert_eq!(parse_review_name("-1_8.txt"), None);
        assert_eq!(parse_review_name("1_300.txt"), None);
    }
}
