//! Shared helpers of the fetch tests: a tiny HTTP/1.1 server bound to
//! 127.0.0.1 (nothing else is ever contacted) and builders of archives in the
//! official layouts.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// What the server does for one path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with the bytes and their Content-Length.
    Bytes(Vec<u8>),
    /// Announces the full length, sends half, then closes the connection.
    DropHalfway(Vec<u8>),
    /// Announces the full length, sends half, then goes silent for a minute.
    Stall(Vec<u8>),
    /// Reads the request and never answers.
    Silent,
    /// 302 to the given Location.
    Redirect(String),
}

/// A running server; its threads live until the test process exits.
pub struct Server {
    /// Where it listens (always 127.0.0.1).
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
}

impl Server {
    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Connections accepted so far.
    pub fn hits(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Starts a server on 127.0.0.1:0 answering `routes` (path → reply); other
/// paths get 404.
pub fn serve(routes: Vec<(&str, Reply)>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    assert!(addr.ip().is_loopback());
    let routes: Arc<Vec<(String, Reply)>> = Arc::new(
        routes
            .into_iter()
            .map(|(p, r)| (p.to_string(), r))
            .collect(),
    );
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let routes = routes.clone();
            std::thread::spawn(move || handle(stream, &routes));
        }
    });
    Server { addr, connections }
}

fn handle(mut stream: TcpStream, routes: &[(String, Reply)]) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => return,
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let reply = routes
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, r)| r.clone());
    let head = |status: &str, len: usize, extra: &str| {
        format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n{extra}\r\n")
    };
    let _ = match reply {
        None => stream.write_all(head("404 Not Found", 0, "").as_bytes()),
        Some(Reply::Bytes(b)) => stream
            .write_all(head("200 OK", b.len(), "").as_bytes())
            .and_then(|_| stream.write_all(&b)),
        Some(Reply::DropHalfway(b)) => {
            let r = stream
                .write_all(head("200 OK", b.len(), "").as_bytes())
                .and_then(|_| stream.write_all(&b[..b.len() / 2]))
                .and_then(|_| stream.flush());
            let _ = stream.shutdown(std::net::Shutdown::Both);
            r
        }
        Some(Reply::Stall(b)) => {
            let r = stream
                .write_all(head("200 OK", b.len(), "").as_bytes())
                .and_then(|_| stream.write_all(&b[..b.len() / 2]))
                .and_then(|_| stream.flush());
            std::thread::sleep(Duration::from_secs(60));
            r
        }
        Some(Reply::Silent) => {
            std::thread::sleep(Duration::from_secs(60));
            Ok(())
        }
        Some(Reply::Redirect(location)) => {
            stream.write_all(head("302 Found", 0, &format!("Location: {location}\r\n")).as_bytes())
        }
    };
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One review file of the aclImdb layout.
#[derive(Debug, Clone)]
pub struct ReviewFile {
    /// `train` or `test`.
    pub split: &'static str,
    /// `pos`, `neg` or `unsup`.
    pub label: &'static str,
    /// The id in the file name.
    pub id: i64,
    /// The rating in the file name.
    pub rating: i8,
    /// The file's content.
    pub text: String,
}

/// A few dozen reviews in the official layout, in a deliberately scrambled
/// order (ids 10 and 2 check numeric, not textual, ordering; pos and neg
/// share ids as in the real archive).
pub fn sample_reviews() -> Vec<ReviewFile> {
    let mut out = Vec::new();
    let mut add = |split, label, id, rating, text: String| {
        out.push(ReviewFile {
            split,
            label,
            id,
            rating,
            text,
        })
    };
    for (id, rating) in [(10, 9), (2, 7), (0, 10), (7, 8), (1, 10), (33, 7)] {
        add(
            "train",
            "pos",
            id,
            rating,
            format!("Great film #{id}.<br /><br />Loved it, \"really\" ({rating}/10) — café"),
        );
    }
    for (id, rating) in [(5, 1), (0, 2), (12, 4), (3, 3), (100, 1)] {
        add(
            "train",
            "neg",
            id,
            rating,
            format!("Awful #{id}.<br />Tabs\tand, commas; rating {rating}"),
        );
    }
    for (id, rating) in [(4, 8), (40, 9), (9, 10), (11, 7)] {
        add(
            "test",
            "pos",
            id,
            rating,
            format!("test pos {id} <br /> good"),
        );
    }
    for (id, rating) in [(8, 2), (1, 1), (20, 4), (6, 3), (15, 2)] {
        add(
            "test",
            "neg",
            id,
            rating,
            format!("test neg {id} <br /> bad"),
        );
    }
    for id in [21, 3, 13, 0, 8, 1, 2, 34, 5] {
        add("train", "unsup", id, 0, format!("unlabelled review {id}"));
    }
    out
}

/// A `.tar.gz` in the aclImdb layout: directories, the reviews, and the
/// other files of the real archive (README, vocabulary, URL lists, bag of words).
pub fn imdb_tar_gz(reviews: &[ReviewFile]) -> Vec<u8> {
    imdb_tar_gz_with(reviews, &[])
}

/// Like [`imdb_tar_gz`], with extra raw entries (name bytes written as they
/// are, bypassing the tar crate's own path checks) appended at the end.
pub fn imdb_tar_gz_with(reviews: &[ReviewFile], raw_extra: &[(&str, &[u8])]) -> Vec<u8> {
    build_tar_gz(reviews, raw_extra, flate2::Compression::default())
}

/// Like [`imdb_tar_gz`] with the fastest gzip level (for big archives).
pub fn imdb_tar_gz_fast(reviews: &[ReviewFile]) -> Vec<u8> {
    build_tar_gz(reviews, &[], flate2::Compression::fast())
}

fn build_tar_gz(
    reviews: &[ReviewFile],
    raw_extra: &[(&str, &[u8])],
    level: flate2::Compression,
) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), level);
    let mut tar = tar::Builder::new(gz);
    for dir in [
        "aclImdb/",
        "aclImdb/train/",
        "aclImdb/train/pos/",
        "aclImdb/train/neg/",
        "aclImdb/train/unsup/",
        "aclImdb/test/",
        "aclImdb/test/pos/",
        "aclImdb/test/neg/",
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(0o755);
        h.set_path(dir).expect("dir path");
        h.set_cksum();
        tar.append(&h, std::io::empty()).expect("append dir");
    }
    let file = |tar: &mut tar::Builder<_>, path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_path(path).expect("file path");
        h.set_cksum();
        tar.append(&h, data).expect("append file");
    };
    file(
        &mut tar,
        "aclImdb/README",
        b"Large Movie Review Dataset v1.0\n",
    );
    file(&mut tar, "aclImdb/imdb.vocab", b"the\nand\na\n");
    file(&mut tar, "aclImdb/train/labeledBow.feat", b"9 0:9 1:1\n");
    file(
        &mut tar,
        "aclImdb/train/urls_pos.txt",
        b"http://www.imdb.com/title/tt0453418/usercomments\n",
    );
    for r in reviews {
        let path = format!("aclImdb/{}/{}/{}_{}.txt", r.split, r.label, r.id, r.rating);
        file(&mut tar, &path, r.text.as_bytes());
    }
    for (name, data) in raw_extra {
        let mut h = tar::Header::new_old();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        let field = &mut h.as_old_mut().name;
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        tar.append(&h, *data).expect("append raw");
    }
    tar.into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip")
}

/// A zip holding `(name, bytes)` entries, deflated.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).expect("start zip entry");
        w.write_all(data).expect("write zip entry");
    }
    w.finish().expect("finish zip").into_inner()
}

/// Everything under `dir` (relative paths, sorted), to check what a failed
/// fetch left behind.
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).expect("under dir").to_path_buf());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Options for a quiet test fetch from `url`.
pub fn opts(url: String, sha256: Option<String>) -> kerros::data::fetch::FetchOptions {
    kerros::data::fetch::FetchOptions {
        url: Some(url),
        sha256,
        progress: false,
        timeout: Duration::from_secs(5),
    }
}
