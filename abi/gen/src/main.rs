//! `abi-gen [--root DIR] [--check]`: writes (or, with `--check`, verifies)
//! every file derived from `abi/cloudabi.spec`.
//!
//! Exit status: 0 on success, 1 on a spec or status-table error (printed as
//! `file:line:column: message`), 2 on a usage error, 3 when `--check` finds
//! a generated file that differs from what the spec produces.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut root = PathBuf::from(".");
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => return usage("--root needs a directory"),
            },
            "-h" | "--help" => {
                println!("usage: abi-gen [--root DIR] [--check]");
                println!("Generates the ABI crate, cloudabi.h, the vDSO sources and docs/syscalls.md");
                println!("from abi/cloudabi.spec. With --check, only verifies they are up to date.");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }
    let outputs = match abi_gen::generate(&root) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let mut stale = 0;
    for o in &outputs {
        let path = root.join(o.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(o.text.as_str()) {
            continue;
        }
        if check {
            eprintln!("{}: out of date with {} (run scripts/gen)", o.path, abi_gen::SPEC_PATH);
            stale += 1;
            continue;
        }
        if let Some(dir) = path.parent()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            eprintln!("{}: cannot create directory: {e}", dir.display());
            return ExitCode::from(1);
        }
        if let Err(e) = std::fs::write(&path, &o.text) {
            eprintln!("{}: cannot write: {e}", o.path);
            return ExitCode::from(1);
        }
        println!("wrote {}", o.path);
    }
    if stale > 0 {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("abi-gen: {msg}");
    eprintln!("usage: abi-gen [--root DIR] [--check]");
    ExitCode::from(2)
}
