//! Read-only caches: a course may hand out a prepared cache on a read-only
//! share. Everything a fully cached run needs is read; what it would merely
//! add (its run record) is skipped with a warning instead of failing it.

use anyhow::Result;
use std::io::ErrorKind;

/// Whether `e` (or anything it was caused by) says the place is not
/// writable: permission denied or a read-only file system.
pub fn is_not_writable(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| {
            matches!(
                io.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            )
        })
}

/// `result`, except that a not-writable failure becomes a warning on stderr
/// naming `what` and `Ok(None)`; other failures stay failures.
pub fn warn_if_not_writable<T>(result: Result<T>, what: &str) -> Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_writable(&e) => {
            eprintln!("warning: {what} not saved, the cache is not writable: {e:#}");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn not_writable_failures_become_warnings_others_stay_errors() {
        let denied: Result<()> = Err(std::io::Error::from(ErrorKind::PermissionDenied))
            .context("cannot create the run records folder /c/runs");
        assert!(matches!(
            warn_if_not_writable(denied, "run record"),
            Ok(None)
        ));
        let rofs: Result<()> = Err(std::io::Error::from_raw_os_error(30)).context("x");
        assert!(matches!(warn_if_not_writable(rofs, "run record"), Ok(None)));
        let full: Result<()> = Err(std::io::Error::from(ErrorKind::StorageFull)).context("x");
        assert!(warn_if_not_writable(full, "run record").is_err());
        assert_eq!(warn_if_not_writable(Ok(3), "x").unwrap(), Some(3));
    }
}
