//! Running the built binary in integration tests: one helper for every test file.
//!
//! `breakout(dir, args)` runs it in `dir` and returns a [`Run`]; `command` gives the
//! prepared command for tests that add standard input or environment variables, and
//! `finish` runs it; `write_tree` and `write_file` lay out the files a test scans. Every run is checked for crashes (a signal, a hang, a panic).

#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_breakout");
/// The crate root: sample paths read as users write them (`samples/k8s/...`).
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// A process that runs longer than this has hung; it is killed and the test fails.
pub const HANG: Duration = Duration::from_secs(300);

/// What one run of the binary did.
pub struct Run {
    /// Exit code (`None` when killed by a signal or the hang timeout).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How long it took.
    pub elapsed: Duration,
}

impl Run {
    /// Standard output as a JSON report.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a JSON report ({e})\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The rule IDs that fired (suppressed or not).
    pub fn rules(&self) -> std::collections::BTreeSet<String> {
        self.json()["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["rule_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails the test unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\nstderr:\n{}\nstdout:\n{}",
            self.stderr,
            self.stdout
        );
        self
    }

    /// `breakout: error: ...` lines of standard error that name `file`.
    pub fn errors_for(&self, file: &str) -> Vec<&str> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("breakout: error: "))
            .filter(|l| l.starts_with(&format!("{file}:")))
            .collect()
    }
}

/// The binary with `args`, run in `dir`, without the caller's `NO_COLOR`,
/// `RAYON_NUM_THREADS`, `CI` or `COLUMNS` (the table's width).
pub fn command(dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    cmd.current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("CI")
        .env_remove("COLUMNS")
        .timeout(HANG);
    cmd
}

/// Runs a prepared command; fails the test if it crashed.
pub fn finish(cmd: &mut assert_cmd::Command) -> Run {
    let start = Instant::now();
    let out = cmd.output().expect("breakout runs");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        elapsed: start.elapsed(),
    };
    assert_no_crash(&run);
    run
}

/// Runs the binary in `dir`.
pub fn breakout(dir: &Path, args: &[&str]) -> Run {
    finish(&mut command(dir, args))
}

/// Writes `(relative path, contents)` files into a new temporary folder.
pub fn write_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, text) in files {
        write_file(dir.path(), name, text);
    }
    dir
}

/// Writes `file` (a relative path) under `root`, creating its folders.
pub fn write_file(root: &Path, file: &str, contents: impl AsRef<[u8]>) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().expect("a file inside root")).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// Fails the test if the run was killed or panicked.
pub fn assert_no_crash(run: &Run) {
    assert!(
        run.code.is_some(),
        "breakout was killed (hang or signal) after {:?}\nstderr:\n{}",
        run.elapsed,
        run.stderr
    );
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack overflow",
        "thread '",
        "SIGSEGV",
    ] {
        assert!(
            !run.stderr.contains(bad),
            "stderr shows a crash ({bad}):\n{}",
            run.stderr
        );
    }
}
