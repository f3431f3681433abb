//! vmctl: the host side of freebsd-vm/run (docs/testing.md).
//!
//! ```text
//! vmctl cases --cloudabi-run BIN --specs DIR [--programs DIR] [--status FILE]
//!             --base PATH [--function NAME] [--only NAME,...] [--limits] --out FILE
//! vmctl drive --log FILE --timeout SECS --script FILE [--echo]
//!             [--type-delay-ms N] [--grace SECS] -- COMMAND...
//! vmctl parse --log FILE [--label TEXT] [--dmesg-out FILE]
//! vmctl decode WORD
//! ```
//!
//! Exit status: `cases` 0, or 1 with a message; `drive` 0 (script done),
//! 10 (fail pattern), 11 (timeout), 12 (QEMU exited early), 13 (QEMU
//! could not be started); `parse` 0 (all passed), 1 (failed cases),
//! 6 (kernel panic or fatal trap), 7 (kldload/kldunload error),
//! 8 (timeout), 10 (incomplete run); 2 for a wrong command line.

mod cases;
mod drive;
mod parse;
mod script;
mod shenc;

use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: vmctl cases|drive|parse|decode ... (see freebsd-vm/vmctl/src/main.rs)";

fn usage(message: &str) -> ExitCode {
    eprintln!("vmctl: {message}\n{USAGE}");
    ExitCode::from(2)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("vmctl: {message}");
    ExitCode::from(1)
}

/// `--name value` options up to an optional `--`; returns the options and
/// what follows `--`.
struct Args {
    pairs: Vec<(String, OsString)>,
    flags: Vec<String>,
    rest: Vec<OsString>,
}

impl Args {
    fn parse(args: Vec<OsString>, flags: &[&str]) -> Result<Args, String> {
        let mut out = Args { pairs: Vec::new(), flags: Vec::new(), rest: Vec::new() };
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let text = arg.to_string_lossy().to_string();
            if text == "--" {
                out.rest = it.collect();
                break;
            }
            if !text.starts_with("--") {
                return Err(format!("unexpected argument `{text}`"));
            }
            if flags.contains(&text.as_str()) {
                out.flags.push(text);
                continue;
            }
            let value = it.next().ok_or_else(|| format!("{text} needs a value"))?;
            out.pairs.push((text, value));
        }
        Ok(out)
    }

    fn get(&self, name: &str) -> Option<&OsString> {
        self.pairs.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn need(&self, name: &str) -> Result<&OsString, String> {
        self.get(name).ok_or_else(|| format!("{name} is required"))
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.need(name).map(PathBuf::from)
    }

    fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.to_str().and_then(|s| s.parse().ok()).ok_or_else(|| format!("{name}: not a number")),
        }
    }

    fn check(&self, allowed: &[&str]) -> Result<(), String> {
        match self.pairs.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
            Some((n, _)) => Err(format!("unknown option {n}")),
            None => Ok(()),
        }
    }
}

fn cases(args: Args) -> Result<ExitCode, String> {
    args.check(&[
        "--cloudabi-run",
        "--specs",
        "--programs",
        "--status",
        "--base",
        "--function",
        "--only",
        "--out",
    ])?;
    let specs = args.path("--specs")?;
    let opts = cases::Options {
        cloudabi_run: args.path("--cloudabi-run")?,
        programs: args.get("--programs").map(PathBuf::from).unwrap_or_else(|| specs.clone()),
        specs,
        status: args.get("--status").map(PathBuf::from),
        base: args.path("--base")?,
        function: args
            .get("--function")
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or("run_case".into()),
        only: args.get("--only").map(|o| o.to_string_lossy().split(',').map(String::from).collect()),
        limits: args.flags.iter().any(|f| f == "--limits"),
    };
    let out = args.path("--out")?;
    match cases::generate(&opts) {
        Ok(text) => {
            fs::write(&out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(&e)),
    }
}

fn drive(args: Args) -> Result<ExitCode, String> {
    args.check(&["--log", "--timeout", "--script", "--type-delay-ms", "--grace"])?;
    let script_path = args.path("--script")?;
    let text = fs::read_to_string(&script_path)
        .map_err(|e| format!("cannot read {}: {e}", script_path.display()))?;
    let script = script::parse(&text).map_err(|e| format!("{}: {e}", script_path.display()))?;
    if args.rest.is_empty() {
        return Err("no command after --".into());
    }
    let timeout = args.number("--timeout", 0)?;
    if timeout == 0 {
        return Err("--timeout SECS is required".into());
    }
    let outcome = drive::drive(drive::Options {
        log: args.path("--log")?,
        timeout: Duration::from_secs(timeout),
        script,
        echo: args.flags.iter().any(|f| f == "--echo"),
        type_delay: Duration::from_millis(args.number("--type-delay-ms", 10)?),
        grace: Duration::from_secs(args.number("--grace", 5)?),
        command: args.rest,
    });
    Ok(ExitCode::from(outcome.code()))
}

fn parse_log(args: Args) -> Result<ExitCode, String> {
    args.check(&["--log", "--label", "--dmesg-out"])?;
    let log = args.path("--log")?;
    let bytes = fs::read(&log).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let report = parse::parse(&bytes);
    let label = args.get("--label").map(|l| l.to_string_lossy().to_string()).unwrap_or("freebsd-vm".into());
    if let Some(path) = args.get("--dmesg-out").filter(|_| !report.dmesg.is_empty()) {
        let mut text = report.dmesg.join("\n");
        text.push('\n');
        fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.to_string_lossy()))?;
    }
    for name in &report.failed {
        println!("failed: {name}");
    }
    if let Some(note) = &report.after_done {
        println!("note: after the runner's last line: {note}");
    }
    println!("{}", report.summary(&label));
    Ok(ExitCode::from(report.verdict().code()))
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.is_empty() {
        return usage("no command");
    }
    let command = args.remove(0).to_string_lossy().to_string();
    if command == "decode" {
        return match args.as_slice() {
            [word] => match shenc::decode(&word.to_string_lossy()) {
                Ok(bytes) => {
                    println!("{}", cases::to_hex(&bytes));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            },
            _ => usage("decode takes one word"),
        };
    }
    let flags: &[&str] = match command.as_str() {
        "drive" => &["--echo"],
        "cases" => &["--limits"],
        _ => &[],
    };
    let args = match Args::parse(args, flags) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let result = match command.as_str() {
        "cases" => cases(args),
        "drive" => drive(args),
        "parse" => parse_log(args),
        _ => return usage(&format!("unknown command `{command}`")),
    };
    result.unwrap_or_else(|e| usage(&e))
}
