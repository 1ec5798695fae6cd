//! Folders a fetch creates for its data dir, removed again when the fetch
//! fails, so a failed fetch never leaves an empty data dir behind (an empty
//! folder would later pass for "the data is here").

use std::path::{Path, PathBuf};

/// The folders [`CreatedDirs::create`] made, deepest first; they are removed
/// on drop (each only while empty) unless [`CreatedDirs::keep`] was called.
#[derive(Debug)]
pub(crate) struct CreatedDirs {
    /// Folders that did not exist before, deepest first.
    dirs: Vec<PathBuf>,
    /// Set once the fetch succeeded.
    kept: bool,
}

impl CreatedDirs {
    /// Create `dir` and any missing parents, remembering which were missing.
    pub(crate) fn create(dir: &Path) -> std::io::Result<CreatedDirs> {
        let mut dirs = Vec::new();
        let mut p = Some(dir);
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            dirs.push(d.to_path_buf());
            p = d.parent();
        }
        let created = CreatedDirs { dirs, kept: false };
        // On failure `created` drops here and removes what was made so far.
        std::fs::create_dir_all(dir)?;
        Ok(created)
    }

    /// Keep the folders: the fetch succeeded.
    pub(crate) fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for CreatedDirs {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        for d in &self.dirs {
            // `remove_dir` refuses a folder that is not empty: whatever another
            // process put there meanwhile stays, and so do its parents.
            if std::fs::remove_dir(d).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_what_it_created_and_only_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        drop(CreatedDirs::create(&deep).unwrap());
        assert!(!tmp.path().join("a").exists());
        assert!(tmp.path().exists());

        let created = CreatedDirs::create(&deep).unwrap();
        std::fs::write(tmp.path().join("a/b/keep.txt"), b"x").unwrap();
        drop(created);
        assert!(!deep.exists());
        assert!(tmp.path().join("a/b/keep.txt").is_file());

        let created = CreatedDirs::create(&deep).unwrap();
        created.keep();
        assert!(deep.is_dir());
    }
}
