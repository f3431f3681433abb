//! Helpers shared by the integration tests that run CloudABI programs.
// Each integration test uses a subset of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_cloudabi-run");

/// A program built by `scripts/build-guest` (`target/guest/x86_64/<name>`).
pub fn guest(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guest/x86_64").join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the guest programs first (scripts/build-guest)",
        path.display()
    );
    path
}

/// Starts cloudabi-run with `program`, the configuration `config` on its
/// standard input (closed afterwards) and its output captured.
pub fn spawn(program: &Path, config: &str) -> Child {
    let mut child = Command::new(BIN)
        .arg(program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cloudabi-run");
    child.stdin.take().unwrap().write_all(config.as_bytes()).unwrap();
    child
}
