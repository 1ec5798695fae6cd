//! The sharding examples (examples/ci, examples/slurm, examples/k8s): valid
//! YAML, and the Slurm script turns its array task into the right `--shard`.

use std::path::Path;
use std::process::Command;

fn example(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_yaml_examples_parse_and_shard_one_based() {
    let gha: serde_yaml::Value =
        serde_yaml::from_str(&example("ci/github-actions-matrix.yml")).unwrap();
    assert_eq!(
        gha["jobs"]["shard"]["strategy"]["matrix"]["shard"],
        serde_yaml::from_str::<serde_yaml::Value>("[1, 2, 3, 4]").unwrap()
    );
    let steps = serde_yaml::to_string(&gha["jobs"]["shard"]["steps"]).unwrap();
    assert!(steps.contains("--shard ${{ matrix.shard }}/4"), "{steps}");
    assert!(gha["jobs"]["compare"]["needs"] == "shard");

    let k8s: serde_yaml::Value = serde_yaml::from_str(&example("k8s/indexed-job.yaml")).unwrap();
    assert_eq!(k8s["spec"]["completionMode"], "Indexed");
    let args =
        serde_yaml::to_string(&k8s["spec"]["template"]["spec"]["containers"][0]["args"]).unwrap();
    assert!(
        args.contains("--shard $((JOB_COMPLETION_INDEX + 1))/4"),
        "{args}"
    );
}

/// Run the sbatch script with bash, stand-ins for `srun` and `kerros` that
/// record their arguments, and the variables Slurm sets for task 3 of 4.
#[test]
fn the_slurm_script_runs_its_array_task_as_a_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bin = dir.join("bin");
    std::fs::create_dir_all(bin.join("..").join("logs")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slurm/sweep.sbatch");
    for (name, body) in [
        ("srun", "#!/bin/sh\nexec \"$@\"\n"),
        (
            "kerros",
            "#!/bin/sh\necho \"$KERROS_REMOTE_CACHE $*\" > \"$ARGS_FILE\"\n",
        ),
    ] {
        let p = bin.join(name);
        std::fs::write(&p, body).unwrap();
        Command::new("chmod").arg("+x").arg(&p).status().unwrap();
    }
    let args_file = dir.join("args");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .arg(&script)
        .current_dir(dir)
        .env("PATH", path)
        .env("ARGS_FILE", &args_file)
        .env("HOME", dir)
        .env_remove("KERROS_REMOTE_CACHE")
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .env("SLURM_JOB_ID", "77")
        .env("SLURM_CPUS_PER_TASK", "4")
        .env("SLURM_TMPDIR", dir.join("node"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert!(
        args.starts_with(&format!("file://{}/kerros-remote-cache ", dir.display())),
        "{args}"
    );
    assert!(args.contains("--shard 3/4"), "{args}");
    assert!(
        args.contains("--cache-dir") && args.contains("kerros-cache-77"),
        "{args}"
    );
}
