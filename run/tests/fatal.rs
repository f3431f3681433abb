//! A program that dies of a signal: cloudabi-run prints one line (the
//! signal, the faulting address when there is one, the program) and exits
//! with 128 + the signal number, as shells report such a death. The
//! programs are conformance cases built by `scripts/build-guest`.

use std::process::{Command, Stdio};

mod common;

use common::{BIN, guest};

fn run(case: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let prog = guest(&format!("conformance/{case}"));
    let mut child = Command::new(BIN)
        .arg(&prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cloudabi-run");
    child.stdin.take().unwrap().write_all(b"out: !fd stdout\n").unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned(), prog.display().to_string())
}

#[test]
fn a_fault_is_reported_with_its_address() {
    let (code, stderr, prog) = run("fatal_fault");
    assert_eq!(code, Some(128 + libc::SIGSEGV), "{stderr}");
    assert_eq!(stderr, format!("cloudabi-run: {prog}: killed by SIGSEGV (fault address 0x10)\n"));
}

#[test]
fn a_raised_signal_is_reported_without_an_address() {
    let (code, stderr, prog) = run("proc_raise");
    assert_eq!(code, Some(128 + libc::SIGUSR1), "{stderr}");
    assert_eq!(stderr, format!("cloudabi-run: {prog}: killed by SIGUSR1\n"));
}

#[test]
fn a_signal_sent_to_cloudabi_run_reaches_the_program() {
    use std::io::{BufRead, BufReader, Write};
    // sync_destroy runs for a while; once it has printed its first line it
    // runs, and SIGTERM sent to cloudabi-run is passed on to it.
    let prog = guest("conformance/sync_destroy");
    let mut child = Command::new(BIN)
        .arg(&prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cloudabi-run");
    child.stdin.take().unwrap().write_all(b"out: !fd stdout\n").unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("ok "), "{first:?}");
    // SAFETY: kill on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        // It may have finished first (it runs for well under a second).
        Some(0) => println!("fatal: the program finished before SIGTERM reached it"),
        code => {
            assert_eq!(code, Some(128 + libc::SIGTERM), "{stderr}");
            assert_eq!(stderr, format!("cloudabi-run: {}: killed by SIGTERM\n", prog.display()));
        }
    }
}
