//! `kerros init DIR`: a new experiment folder with an example spec, a
//! `.gitignore` for the cache and reports, the CI workflow and a README.

mod assignment;

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The example spec written as `experiment.yaml`.
pub const EXPERIMENT_YAML: &str = include_str!("init/experiment.yaml");

/// The folder's README: the three commands to use.
pub const README_MD: &str = include_str!("init/README.md");

/// The `.gitignore`: the stage cache and the reports are outputs, not sources.
pub const GITIGNORE: &str =
    "# kerros outputs: the stage cache and the HTML reports\n.kerros/\nreports/\n";

/// The CI example shipped with kerros (`examples/ci/github-actions.yml`).
pub const CI_WORKFLOW: &str = include_str!("../../examples/ci/github-actions.yml");

/// The line of [`CI_WORKFLOW`] naming the specs to run; `init` points it at
/// `experiment.yaml`, the spec of the new folder.
const SPECS_LINE: &str = "KERROS_SPECS: \"pipelines/*.yaml\"";

/// The files `init` writes, relative to the folder, with their contents.
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        ("experiment.yaml", EXPERIMENT_YAML.to_string()),
        (".gitignore", GITIGNORE.to_string()),
        (".github/workflows/kerros.yml", ci_workflow_for_init()),
        ("README.md", README_MD.to_string()),
    ]
}

/// The CI workflow with its spec glob pointed at `experiment.yaml`.
fn ci_workflow_for_init() -> String {
    CI_WORKFLOW.replacen(SPECS_LINE, "KERROS_SPECS: \"experiment.yaml\"", 1)
}

/// Create `dir` (and its parents) with the files of [`files`]; returns the
/// paths written. Nothing is written when any of the files already exists:
/// the error names it.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>> {
    let files = files();
    for (name, _) in &files {
        let path = dir.join(name);
        if path.exists() {
            bail!(
                "{} already exists; kerros init does not overwrite files (choose a new folder or remove it)",
                path.display()
            );
        }
    }
    let mut written = Vec::with_capacity(files.len());
    for (name, content) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create folder {}", parent.display()))?;
        }
        // `create_new` so a file appearing meanwhile is still never overwritten.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(content.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// `kerros init`; with `assignment`, a student folder for that assignment
/// (see [`assignment::init_assignment`]).
pub fn command(dir: &Path, assignment: Option<&Path>) -> Result<i32> {
    if let Some(a) = assignment {
        let files = assignment::init_assignment(a, dir)?;
        for f in &files {
            println!("created {}", f.display());
        }
        if let Some(spec) = files.first() {
            println!(
                "next: kerros run {} --data-dir <folder with the data>",
                spec.display()
            );
        }
        return Ok(0);
    }
    let files = init(dir)?;
    for f in &files {
        println!("created {}", f.display());
    }
    println!(
        "next: cd {} && kerros run experiment.yaml --data-dir <folder with imdb/>",
        dir.display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_copy_runs_the_init_spec() {
        assert!(
            CI_WORKFLOW.contains(SPECS_LINE),
            "the CI example lost its KERROS_SPECS line"
        );
        let ci = ci_workflow_for_init();
        assert!(ci.contains("KERROS_SPECS: \"experiment.yaml\""));
        assert!(!ci.contains(SPECS_LINE));
    }
}
