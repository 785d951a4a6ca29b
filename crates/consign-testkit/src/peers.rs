//! Real components a test needs (a Python package, PostgreSQL, Garage):
//! found, or skipped with a message saying how to get them, except under
//! `CI=true`, where a missing component fails the test.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Whether the tests run in CI (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `true` when `missing` is `None`; otherwise prints why `what` is skipped
/// and how to get it (`false`), or panics under CI.
///
/// # Panics
/// Under `CI=true` when something is missing.
pub fn available(what: &str, missing: Option<String>, how_to_get: &str) -> bool {
    let Some(why) = missing else { return true };
    assert!(!in_ci(), "{what} cannot run in CI: {why}; {how_to_get}");
    eprintln!("SKIPPED {what}: {why}; {how_to_get}");
    false
}

/// The Python to run peer scripts with: `$PYTHON` or `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Why `python -c "import <modules>"` fails, if it does.
pub fn python_lacks(modules: &str) -> Option<String> {
    python_cannot(&["-c", &format!("import {modules}")])
}

/// Why `python <args>` fails (`["-m", "awscli", "--version"]`), if it does.
pub fn python_cannot(args: &[&str]) -> Option<String> {
    let python = python();
    match Command::new(&python).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).output() {
        Err(e) => Some(format!("cannot run {python:?} ({e})")),
        Ok(out) if !out.status.success() => {
            Some(format!("{python} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
        }
        Ok(_) => None,
    }
}

/// A directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory named after `label`.
    ///
    /// # Panics
    /// When it cannot be created.
    pub fn new(label: &str) -> Self {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("consign-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
