//! Huge input ends in a documented exit status (issue 13, D6).
//!
//! An 8 MiB configuration runs through `--dump-argdata` and a normal
//! launch under address-space limits (`RLIMIT_AS`) from 32 MiB to 1 GiB.
//! Every run must end with status 0 (a complete dump) or 71 (`EX_OSERR`)
//! with one line saying why: out of memory, or argument data too large
//! for the stack. Never an abort with a backtrace (status 134), which is
//! what a failed allocation did before. At least one run must have run out
//! of memory, so that the path is exercised.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

const STRING: usize = 8 << 20;
const LIMITS_MIB: [u64; 5] = [32, 48, 64, 96, 1024];

fn run(config: &std::path::Path, dump: bool, limit_mib: u64) -> std::process::Output {
    let mut cmd = Command::new(common::BIN);
    if dump {
        cmd.arg("--dump-argdata");
    }
    cmd.arg("--config").arg(config).arg(common::guest("conformance/proc_exit"));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let limit = limit_mib << 20;
    // SAFETY: setrlimit is async-signal-safe; the child only lowers its
    // own limit before exec.
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            if libc::setrlimit(libc::RLIMIT_AS, &r) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("start cloudabi-run")
}

#[test]
fn huge_input_ends_in_a_documented_status() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("big.yaml");
    let text = format!("out: !fd stdout\nbig: \"{}\"\n", "x".repeat(STRING));
    std::fs::write(&config, &text).unwrap();
    let mut out_of_memory = 0;
    for limit in LIMITS_MIB {
        for dump in [true, false] {
            let out = run(&config, dump, limit);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!("{} MiB, {}", limit, if dump { "--dump-argdata" } else { "launch" });
            match out.status.code() {
                Some(0) => {
                    assert!(dump, "{what}: the launch cannot succeed (the argument data is too large)");
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    let heading = stdout.lines().next().unwrap_or("");
                    // The hex of the string alone is 16 MiB.
                    assert!(
                        heading.starts_with("argdata (") && heading.len() > 2 * STRING,
                        "{what}: {heading:.80}"
                    );
                    assert!(stdout.lines().nth(1).is_some_and(|v| v.starts_with("value: {")), "{what}");
                }
                Some(71) => {
                    let line = stderr.trim_end();
                    assert!(!line.contains('\n'), "{what}: one line expected:\n{stderr}");
                    if line == "cloudabi-run: out of memory" {
                        out_of_memory += 1;
                    } else {
                        assert!(line.contains("does not fit on the stack"), "{what}: {line}");
                    }
                }
                other => panic!("{what}: status {other:?} ({:?})\n{stderr:.2000}", out.status),
            }
            println!("{what}: {:?} {}", out.status.code(), stderr.trim_end());
        }
    }
    assert!(out_of_memory > 0, "no run ran out of memory: the limits are too generous");
}
