//! Validation of archive entry paths: nothing may point outside the folder
//! the archive is read into.

/// Limits on archive contents, so a malicious archive (a decompression bomb,
/// a header announcing a huge entry) is refused instead of filling memory or disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Largest accepted single entry, in bytes.
    pub max_entry: u64,
    /// Largest accepted sum of all entry sizes, in bytes.
    pub max_total: u64,
    /// Most entries accepted.
    pub max_entries: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        // The real aclImdb archive unpacks to about 0.5 GB in about 100k
        // entries; its largest member (a .feat file) is under 100 MB; the
        // Drugs.com training TSV is about 85 MB.
        ArchiveLimits {
            max_entry: 512 * 1024 * 1024,
            max_total: 4 * 1024 * 1024 * 1024,
            max_entries: 1_000_000,
        }
    }
}

/// Splits an archive entry path into its normal components, or explains why
/// the path is unsafe: absolute, a drive or UNC prefix, a `..` component, an
/// empty path or a NUL byte. `.` components are dropped.
pub fn safe_components(path: &str) -> Result<Vec<&str>, String> {
    if path.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    if path.starts_with('/') || path.starts_with('\\') {
        return Err("is an absolute path".into());
    }
    // A Windows drive letter (`C:`) anywhere first makes the path absolute there.
    if path.len() >= 2 && path.as_bytes()[1] == b':' {
        return Err("has a drive prefix".into());
    }
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err("has a `..` component (escapes the target folder)".into()),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err("is empty".into());
    }
    Ok(parts)
}

/// Checks a link's target relative to the link's own folder (`entry_parts`
/// without its last element) stays inside the archive root.
pub fn link_stays_inside(entry_parts: &[&str], target: &str) -> Result<(), String> {
    if target.starts_with('/') || target.starts_with('\\') {
        return Err(format!("links to the absolute path `{target}`"));
    }
    if target.len() >= 2 && target.as_bytes()[1] == b':' {
        return Err(format!("links to `{target}` (drive prefix)"));
    }
    let mut depth = entry_parts.len().saturating_sub(1) as i64;
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("links to `{target}`, outside the archive"));
                }
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_rejected() {
        assert!(safe_components("aclImdb/../evil.txt").is_err());
        assert!(safe_components("../x").is_err());
        assert!(safe_components("/etc/passwd").is_err());
        assert!(safe_components("C:/x").is_err());
        assert!(safe_components("a\\..\\b").is_err());
        assert!(safe_components("./").is_err());
        assert_eq!(
            safe_components("./aclImdb//train/pos/1_9.txt").expect("safe"),
            vec!["aclImdb", "train", "pos", "1_9.txt"]
        );
    }

    #[test]
    fn link_targets_checked() {
        let entry = ["aclImdb", "train", "link"];
        assert!(link_stays_inside(&entry, "../test/x").is_ok());
        assert!(link_stays_inside(&entry, "../../x").is_ok());
        assert!(link_stays_inside(&entry, "../../../x").is_err());
        assert!(link_stays_inside(&entry, "/etc/passwd").is_err());
    }
}
