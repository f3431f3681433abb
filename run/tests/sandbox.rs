//! `--sandbox`: the conformance case `sandbox_escape` (raw Linux system
//! calls that skip the vDSO) run as the suite runs it, with the default
//! sandbox, with `--sandbox`, and with `--no-sandbox`, where the same
//! attempts must get through (so that the case is not vacuous); and a
//! sandboxed program re-executing cloudabi-run, the one executable the
//! sandbox lets it run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

mod common;

/// The runs create (without the sandbox) and look for (with it) the same
/// escape evidence in /tmp, so they take turns.
static TURN: Mutex<()> = Mutex::new(());

fn program() -> PathBuf {
    common::guest("conformance/sandbox_escape")
}

/// Escape evidence the program leaves in /tmp when nothing stops it.
fn evidence_in_tmp() -> Vec<PathBuf> {
    fs::read_dir("/tmp")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("cloudabi64-escape"))
        .map(|e| e.path())
        .collect()
}

fn remove(paths: &[PathBuf]) {
    for p in paths {
        let _ = fs::remove_file(p).or_else(|_| fs::remove_dir_all(p));
    }
}

/// Runs the program with its spec, `@TMPDIR@` a fresh `scratch` directory
/// in `parent`, and cloudabi-run's `flags`.
fn run(parent: &Path, flags: &[&str]) -> Output {
    let spec = fs::read_to_string(program().with_extension("yaml")).unwrap();
    let scratch = parent.join("scratch");
    fs::create_dir(&scratch).unwrap();
    let config = parent.join("config.yaml");
    fs::write(&config, spec.replace("@TMPDIR@", scratch.to_str().unwrap())).unwrap();
    Command::new(common::BIN)
        .args(flags)
        .arg("--config")
        .arg(&config)
        .arg(program())
        .current_dir(parent)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

#[test]
fn the_sandbox_stops_every_escape() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    for flags in [&[][..], &["--sandbox"], &["--no-sandbox", "--sandbox"]] {
        let parent = tempfile::tempdir().unwrap();
        let out = run(parent.path(), flags);
        let lines = lines(&out);
        let failed: Vec<&String> = lines.iter().filter(|l| !l.starts_with("ok ")).collect();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && failed.is_empty(),
            "{flags:?}: {:?}\n{}\n{stderr}",
            out.status,
            failed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
        );
        assert!(lines.len() > 70, "{flags:?}: only {} checks ran", lines.len());
        // This kernel has everything: no warning.
        assert!(stderr.is_empty(), "{flags:?}: {stderr}");
        let beside: Vec<PathBuf> = fs::read_dir(parent.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("cloudabi64-escape"))
            .collect();
        assert!(beside.is_empty(), "{flags:?}: {beside:?}");
        let tmp = evidence_in_tmp();
        remove(&tmp);
        assert!(tmp.is_empty(), "{flags:?}: {tmp:?}");
        println!("{flags:?}: {} attempts, all refused", lines.len());
    }
}

#[test]
fn without_the_sandbox_the_same_attempts_get_through() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let parent = tempfile::tempdir().unwrap();
    let out = run(parent.path(), &["--no-sandbox"]);
    let tmp = evidence_in_tmp();
    remove(&tmp);
    let lines = lines(&out);
    assert_eq!(out.status.code(), Some(1), "{lines:?}");
    let failed = |name: &str| lines.iter().any(|l| l.starts_with(&format!("FAIL sandbox/{name}: ")));
    // Reading a file by absolute path and through `..`, creating files
    // outside the granted directories and in the read-only one, sockets,
    // signals to init, ptrace-like reads, i386 system calls.
    for name in [
        "openat-absolute",
        "openat-dotdot",
        "create-in-tmp",
        "ro-create",
        "socket-inet",
        "kill-init",
        "process-vm-readv",
        "int80-getpid",
    ] {
        assert!(failed(name), "{name} was refused without the sandbox:\n{}", lines.join("\n"));
    }
    let got_through = lines.iter().filter(|l| l.starts_with("FAIL ")).count();
    println!("--no-sandbox: {got_through} of {} attempts got through", lines.len());
    assert!(tmp.iter().any(|p| p.ends_with("cloudabi64-escape-sandbox")), "{tmp:?}");
    assert!(parent.path().join("cloudabi64-escape-ro").exists());
}

#[test]
fn a_sandboxed_program_can_only_re_execute_cloudabi_run() {
    let mut child = common::spawn(&program(), "reexec: true\nout: !fd stdout\n");
    // The program execveat()s the descriptor its sandbox allows with
    // --version: the dynamic loader, the libraries and the Rust runtime
    // must all start inside the inherited sandbox.
    let status = child.wait().unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(status.success(), "{status:?}: {out}");
    assert_eq!(out, format!("ok sandbox/reexec-marker\ncloudabi-run {}\n", env!("CARGO_PKG_VERSION")));
}
