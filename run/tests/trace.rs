//! `cloudabi-run --trace`: one decoded line per syscall on standard error,
//! the program's own output untouched.

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

mod common;

use common::{BIN, guest};

#[test]
fn every_syscall_of_ls_is_traced_with_decoded_arguments() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a"), "").unwrap();
    let config = format!(
        "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\ndir: !file {{path: {:?}, mode: read}}\nout: !fd stdout\n",
        dir.path().to_str().unwrap()
    );
    let mut child = Command::new(BIN)
        .arg("--trace")
        .arg(guest("ls"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(config.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\n");
    let trace = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = trace.lines().collect();
    // Every line names the process and thread, then the call.
    assert!(lines.iter().all(|l| l.starts_with('[') && l.contains("] ")), "{trace}");
    // The first line says which descriptor is which.
    let first = format!("] start: fd 0 is !file {} (read), fd 1 is !fd 1", dir.path().display());
    assert!(lines.first().is_some_and(|l| l.ends_with(&first)), "{trace}");
    // No descriptor is shown as its unsigned 32-bit value.
    assert!(!trace.contains("=4294967295"), "{trace}");
    assert!(
        lines.iter().any(|l| l.contains("] file_readdir(fd=0, buf=0x") && l.contains(", cookie=start) = ")),
        "{trace}"
    );
    // Written data is shown as strings.
    assert!(lines.iter().any(|l| l.contains(r#"] fd_write(fd=1, iovs=["a\n"], iovs_len=1) = 2"#)), "{trace}");
    assert!(lines.last().is_some_and(|l| l.contains("] proc_exit(rval=0) ...")), "{trace}");
    // clock_time_get is traced too: tracing turns its fast path off.
    println!("--trace: {} lines for ls", lines.len());
}

#[test]
fn data_read_and_written_is_shown() {
    let mut child = Command::new(BIN)
        .args(["--trace", "--exec"])
        .arg(guest("cat"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    let trace = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = trace.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("] fd_read(fd=0, iovs=[{0x") && l.ends_with(r#"iovs_len=1) = 6 "hello\n""#)),
        "{trace}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with(r#"] fd_write(fd=1, iovs=["hello\n"], iovs_len=1) = 6"#)),
        "{trace}"
    );
    // End of input: nothing read.
    assert!(lines.iter().any(|l| l.contains("] fd_read(fd=0, ") && l.ends_with(r#") = 0 """#)), "{trace}");
}
