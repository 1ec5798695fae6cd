//! `kerros init --assignment A.yaml DIR`: a student folder holding a copy of
//! the assignment's template linked back to the assignment (path and
//! digest); the assignment file itself stays with the teacher.

use crate::spec::assignment::{check_spec, load_assignment};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Write `DIR/<template file name>` and `DIR/.gitignore`; returns the paths
/// written. Nothing is overwritten. The copy is checked like `kerros
/// validate` would check its assignment link before it is kept.
pub fn init_assignment(assignment: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let a = load_assignment(assignment)?;
    let Some(file_name) = a.template_path.file_name() else {
        bail!(
            "the template {} has no file name",
            a.template_path.display()
        );
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let link = relative_path(dir, assignment)?;
    let link = link.to_string_lossy().replace('\\', "/");
    let mut spec = a.template_source.clone();
    if !spec.ends_with('\n') {
        spec.push('\n');
    }
    spec.push_str(&format!(
        "\n# The assignment this folder was handed out for: `kerros run` and\n# `kerros validate` refuse changes to its locked keys ({}).\nassignment:\n  path: {}\n  digest: \"{}\"\n",
        if a.locked.is_empty() {
            "none".to_string()
        } else {
            a.locked.iter().map(|k| k.text.as_str()).collect::<Vec<_>>().join(", ")
        },
        serde_json::to_string(&link)?,
        a.digest
    ));
    let spec_path = dir.join(file_name);
    // The copy must pass its own check where it lies.
    let (parsed, locator) = crate::spec::parse_spec(&spec, &spec_path)?;
    check_spec(&parsed, &spec_path, &locator)?;
    let gitignore = super::GITIGNORE.to_string();
    let files = [(spec_path, spec), (dir.join(".gitignore"), gitignore)];
    for (path, _) in &files {
        if path.exists() {
            bail!(
                "{} already exists; kerros init does not overwrite files (choose a new folder or remove it)",
                path.display()
            );
        }
    }
    let mut written = Vec::new();
    for (path, content) in &files {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(content.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.clone());
    }
    Ok(written)
}

/// `to` relative to the folder `from` (both made absolute first), e.g.
/// `../assignment.yaml`.
fn relative_path(from: &Path, to: &Path) -> Result<PathBuf> {
    let from = normal(&std::path::absolute(from)?);
    let to = normal(&std::path::absolute(to)?);
    let common = from
        .iter()
        .zip(to.iter())
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        // Different roots (Windows drives): only an absolute path works.
        return Ok(to.iter().collect());
    }
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    Ok(out)
}

/// The components of an absolute path with `.` dropped and `..` applied.
fn normal(path: &Path) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str().to_os_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        let r = relative_path(Path::new("/a/b/c"), Path::new("/a/x/y.yaml")).unwrap();
        assert_eq!(r, PathBuf::from("../../x/y.yaml"));
        let r = relative_path(Path::new("/a/b/./c/.."), Path::new("/a/b/y.yaml")).unwrap();
        assert_eq!(r, PathBuf::from("y.yaml"));
    }
}
