//! The conformance suite (`guest/conformance`, built by `scripts/build-guest`
//! into `target/guest/x86_64/conformance`), each run through the real
//! `cloudabi-run` binary with its spec (`guest/conformance/README.md`):
//!
//! - the exit status must be the spec's `#% exit: N` or death by its
//!   `#% signal: NAME`, within `#% timeout: S` (default 30);
//! - every line of standard output must be `ok <name>`, and there must be
//!   at least one;
//! - nothing named `cloudabi64-escape-*` may appear outside the scratch
//!   directory (the programs use that name for every escape attempt);
//! - a spec with `#% requires: SYSCALL...` is skipped, with the reason
//!   printed, while `run/syscall-status.txt` lists one of them as `enosys`.
//!
//! Every program also runs with the fallbacks forced (no `openat2`, no
//! FSGSBASE, no `clock_time_get` fast path, no TLS-free fast path for
//! descriptor calls), so both paths of the backend are exercised.
//!
//! `scripts/conformance` runs this test for either architecture: by default
//! it runs the programs of the architecture it was built for with the
//! `cloudabi-run` built beside it; `CLOUDABI_CONFORMANCE_ARCH` (`x86_64`,
//! `aarch64`) picks the programs, `CLOUDABI_CONFORMANCE_BIN` the
//! `cloudabi-run` to run them with, `CLOUDABI_CONFORMANCE_EMULATOR` a
//! command line it is run under (`qemu-aarch64-static -L DIR`) and
//! `CLOUDABI_CONFORMANCE_ARGS` options put before the program
//! (`--no-sandbox`). Under an emulator the specs that need `proc_exec` are
//! skipped with the reason: `proc_exec` re-executes cloudabi-run, a foreign
//! binary that the host kernel can run only through `binfmt_misc`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cloudabi-run");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The directives of one spec.
#[derive(Debug, Default)]
struct Spec {
    exit: Option<i32>,
    signal: Option<i32>,
    timeout: u64,
    requires: Vec<String>,
}

fn signal_number(name: &str) -> Option<i32> {
    Some(match name {
        "SIGABRT" => libc::SIGABRT,
        "SIGBUS" => libc::SIGBUS,
        "SIGFPE" => libc::SIGFPE,
        "SIGILL" => libc::SIGILL,
        "SIGKILL" => libc::SIGKILL,
        "SIGPIPE" => libc::SIGPIPE,
        "SIGSEGV" => libc::SIGSEGV,
        "SIGSYS" => libc::SIGSYS,
        "SIGTERM" => libc::SIGTERM,
        "SIGUSR1" => libc::SIGUSR1,
        "SIGUSR2" => libc::SIGUSR2,
        _ => return None,
    })
}

fn parse_spec(path: &Path, text: &str) -> Spec {
    let mut spec = Spec { timeout: 30, ..Spec::default() };
    for line in text.lines().filter_map(|l| l.strip_prefix("#% ")) {
        let (key, value) =
            line.split_once(':').unwrap_or_else(|| panic!("{}: bad directive {line:?}", path.display()));
        let value = value.trim();
        match key {
            "exit" => spec.exit = Some(value.parse().expect("exit status")),
            "signal" => {
                spec.signal = Some(signal_number(value).unwrap_or_else(|| panic!("unknown signal {value}")))
            }
            "timeout" => spec.timeout = value.parse().expect("timeout"),
            "requires" => spec.requires = value.split_whitespace().map(String::from).collect(),
            _ => panic!("{}: unknown directive {key}", path.display()),
        }
    }
    assert!(
        spec.exit.is_some() != spec.signal.is_some(),
        "{}: exactly one of exit and signal",
        path.display()
    );
    spec
}

/// `run/syscall-status.txt`: syscall name to status.
fn linux_status() -> BTreeMap<String, String> {
    let text = fs::read_to_string(root().join("run/syscall-status.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            (w.next().unwrap().to_string(), w.next().unwrap().to_string())
        })
        .collect()
}

/// Files named like an escape attempt directly in `dir`.
fn escapes_in(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("cloudabi64-escape"))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

enum Verdict {
    Pass,
    Fail(String),
}

/// How to run cloudabi-run, and for which architecture's programs.
struct Runner {
    arch: String,
    /// The command line up to the program: emulator, cloudabi-run, options.
    command: Vec<String>,
    emulated: bool,
}

fn runner() -> Runner {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let arch = var("CLOUDABI_CONFORMANCE_ARCH").unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let emulator: Vec<String> = var("CLOUDABI_CONFORMANCE_EMULATOR")
        .map(|e| e.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let mut command = emulator.clone();
    command.push(var("CLOUDABI_CONFORMANCE_BIN").unwrap_or_else(|| BIN.to_owned()));
    command
        .extend(var("CLOUDABI_CONFORMANCE_ARGS").iter().flat_map(|a| a.split_whitespace().map(String::from)));
    Runner { arch, command, emulated: !emulator.is_empty() }
}

/// Runs `program` with `config` (placeholders already replaced) in `cwd`.
fn run_one(
    runner: &Runner,
    program: &Path,
    config: &str,
    spec: &Spec,
    cwd: &Path,
    env: &[(&str, &str)],
) -> Verdict {
    let mut child = Command::new(&runner.command[0])
        .args(&runner.command[1..])
        .arg(program)
        .current_dir(cwd)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cloudabi-run");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), config.as_bytes()).unwrap();
    drop(child.stdin.take());
    // Drain both pipes while the program runs: one that writes more than a
    // pipe holds must not block.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out_reader = drain(Box::new(child.stdout.take().unwrap()));
    let err_reader = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(spec.timeout);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Verdict::Fail(format!("no exit within {} s", spec.timeout));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    // Every line is `ok <name>`; anything else (FAIL, noise) is a failure.
    let fails: Vec<&str> = out.lines().filter(|l| !l.starts_with("ok ")).collect();
    let oks = out.lines().count() - fails.len();
    let expected = match (spec.exit, spec.signal) {
        (Some(code), _) => status.code() == Some(code),
        (_, Some(sig)) => status.signal() == Some(sig) || status.code() == Some(128 + sig),
        _ => unreachable!(),
    };
    if !expected || !fails.is_empty() || oks == 0 {
        let mut why =
            format!("status {status:?} (expected {:?} / signal {:?}), {oks} ok", spec.exit, spec.signal);
        for f in fails.iter().take(10) {
            why.push_str(&format!("\n      {f}"));
        }
        for l in err.lines().take(5) {
            why.push_str(&format!("\n      stderr: {l}"));
        }
        return Verdict::Fail(why);
    }
    Verdict::Pass
}

#[test]
fn conformance_suite_passes_under_cloudabi_run() {
    let runner = runner();
    println!("conformance suite: {} programs, run with: {}", runner.arch, runner.command.join(" "));
    let dir = common::guest_dir(&runner.arch).join("conformance");
    let status = linux_status();
    let mut specs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no guest tests in {}", dir.display());
    let variants: [(&str, &[(&str, &str)]); 2] = [
        ("", &[]),
        (
            " (fallbacks)",
            &[
                ("CLOUDABI_RUN_NO_OPENAT2", "1"),
                ("CLOUDABI_RUN_NO_FSGSBASE", "1"),
                ("CLOUDABI_RUN_NO_FAST_CLOCK", "1"),
                ("CLOUDABI_RUN_NO_FAST_PATH", "1"),
            ],
        ),
    ];
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for yaml in &specs {
        let name = yaml.file_stem().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(yaml).unwrap();
        let spec = parse_spec(yaml, &text);
        let missing: Vec<&str> = spec
            .requires
            .iter()
            .filter(|s| status.get(*s).is_none_or(|st| st == "enosys"))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            println!("SKIP {name}: needs {} (ENOSYS in run/syscall-status.txt)", missing.join(", "));
            skipped += 1;
            continue;
        }
        if runner.emulated && spec.requires.iter().any(|s| s == "proc_exec") {
            println!(
                "SKIP {name}: needs proc_exec, which re-executes cloudabi-run: under an emulator the host kernel \
                 cannot execute that foreign binary without a binfmt_misc entry, and qemu-user 7.2 has no execveat"
            );
            skipped += 1;
            continue;
        }
        for (suffix, env) in variants {
            // The scratch directory sits alone in a parent directory, so
            // anything a `..` escape creates lands there and is seen.
            let parent = tempdir(&name);
            let scratch = parent.join("scratch");
            fs::create_dir(&scratch).unwrap();
            let config = text.replace("@TMPDIR@", scratch.to_str().unwrap());
            let mut verdict = run_one(&runner, &dir.join(&name), &config, &spec, &parent, env);
            let leaked: Vec<PathBuf> = [parent.as_path(), Path::new("/tmp"), Path::new("/")]
                .iter()
                .flat_map(|d| escapes_in(d))
                .collect();
            if !leaked.is_empty() {
                verdict = Verdict::Fail(format!("escaped the scratch directory: {leaked:?}"));
                for p in &leaked {
                    let _ = fs::remove_file(p).or_else(|_| fs::remove_dir_all(p));
                }
            }
            let _ = fs::remove_dir_all(&parent);
            match verdict {
                Verdict::Pass => {
                    println!("ok   {name}{suffix}");
                    passed += 1;
                }
                Verdict::Fail(why) => {
                    println!("FAIL {name}{suffix}: {why}");
                    failed += 1;
                }
            }
        }
    }
    let _ = fs::remove_dir_all(scratch_base());
    println!(
        "conformance suite under cloudabi-run ({}{}): {} cases, each in {} configurations: {passed} passed, {failed} failed ({skipped} skipped)",
        runner.arch,
        if runner.emulated { ", emulated" } else { "" },
        specs.len(),
        variants.len()
    );
    assert_eq!(failed, 0, "{failed} guest test runs failed (see above)");
}

fn scratch_base() -> PathBuf {
    std::env::temp_dir().join(format!("cloudabi-guest-{}", std::process::id()))
}

fn tempdir(name: &str) -> PathBuf {
    let dir = scratch_base().join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}
