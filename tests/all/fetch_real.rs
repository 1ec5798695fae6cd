//! Round trip at full scale: the reviews of `../shared/data/imdb` packed into
//! a tar.gz in the official aclImdb layout, served on 127.0.0.1, fetched and
//! converted, must give back the same Parquet rows.

use crate::fetch_support;
use crate::support;

use std::fs::File;
use std::path::Path;

use arrow::array::{Array, Int64Array, Int8Array, StringArray};
use arrow::record_batch::RecordBatch;
use fetch_support::{imdb_tar_gz_fast, opts, serve, sha256_hex, Reply, ReviewFile};
use kerros::data::fetch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read_all(path: &Path) -> RecordBatch {
    let file = File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("build reader");
    let batches: Vec<_> = reader.map(|b| b.expect("batch")).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat")
}

fn col<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} type"))
}

/// The reviews of a shared Parquet file as archive entries.
fn reviews_of(batch: &RecordBatch, split: &'static str) -> Vec<ReviewFile> {
    let ids = col::<Int64Array>(batch, "id");
    let texts = col::<StringArray>(batch, "text");
    let labels = batch.column_by_name("label").map(|c| {
        c.as_any()
            .downcast_ref::<StringArray>()
            .expect("label utf8")
    });
    let ratings = batch
        .column_by_name("rating")
        .map(|c| c.as_any().downcast_ref::<Int8Array>().expect("rating int8"));
    (0..batch.num_rows())
        .map(|i| ReviewFile {
            split,
            label: match labels.map(|l| l.value(i)) {
                Some("pos") => "pos",
                Some("neg") => "neg",
                Some(other) => panic!("unexpected label {other}"),
                None => "unsup",
            },
            id: ids.value(i),
            rating: ratings.map(|r| r.value(i)).unwrap_or(0),
            text: texts.value(i).to_string(),
        })
        .collect()
}

#[test]
fn shared_imdb_round_trips_through_the_official_layout() {
    let Some(shared) = support::imdb_data() else {
        return;
    };
    let imdb = shared.join("imdb");
    let originals: Vec<(&str, RecordBatch)> = ["train", "test", "unsup"]
        .iter()
        .map(|s| (*s, read_all(&imdb.join(format!("{s}.parquet")))))
        .collect();
    let mut reviews = Vec::new();
    for (split, batch) in &originals {
        let split = if *split == "unsup" { "train" } else { split };
        let mut r = reviews_of(batch, if split == "train" { "train" } else { "test" });
        // Scramble the archive order so the conversion has to sort.
        r.reverse();
        reviews.extend(r);
    }
    let archive = imdb_tar_gz_fast(&reviews);
    drop(reviews);
    let sha = sha256_hex(&archive);
    let server = serve(vec![("/aclImdb_v1.tar.gz", Reply::Bytes(archive))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = fetch::fetch(
        "imdb",
        tmp.path(),
        &opts(server.url("/aclImdb_v1.tar.gz"), Some(sha)),
    )
    .expect("fetch");
    for (split, original) in &originals {
        let converted = read_all(&path.join(format!("{split}.parquet")));
        assert_eq!(converted.schema(), original.schema(), "{split} schema");
        assert_eq!(converted.num_rows(), original.num_rows(), "{split} rows");
        assert!(converted == *original, "{split}: rows differ");
    }
}
