//! Helpers shared by the integration tests that run CloudABI programs.
// Each integration test uses a subset of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_cloudabi-run");

/// A program built by `scripts/build-guest` (`target/guest/x86_64/<name>`).
pub fn guest(name: &str) -> PathBuf {
    guest_dir("x86_64").join(name)
}

/// `target/guest/<arch>`, built by `scripts/build-guest --arch <arch>` once
/// per test binary when a fresh clone has none yet (`cargo test
/// --workspace` first, as Rust users do). scripts/test builds the guest
/// programs itself, so there this only checks.
pub fn guest_dir(arch: &str) -> PathBuf {
    use std::sync::Mutex;
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let dir = root.join("target/guest").join(arch);
    // The last program build-guest links; present only after a whole build.
    let complete = || dir.join("conformance").is_dir() && dir.join("webserver").is_file();
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !complete() && !built.iter().any(|a| a == arch) {
        eprintln!("building the guest programs once: scripts/build-guest --arch {arch}");
        let status = Command::new(root.join("scripts/build-guest")).args(["--arch", arch]).status();
        built.push(arch.to_owned());
        assert!(
            matches!(status, Ok(s) if s.success()) && complete(),
            "scripts/build-guest --arch {arch} failed: it needs clang 3.7 to 17 and ld.lld (run scripts/setup)"
        );
    }
    assert!(complete(), "{} is incomplete: run scripts/build-guest --arch {arch}", dir.display());
    dir
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
    // cloudabi-run refuses a broken executable before it reads the
    // configuration; then the write finds the pipe closed.
    if let Err(e) = child.stdin.take().unwrap().write_all(config.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing the configuration: {e}");
    }
    child
}
