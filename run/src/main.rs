//! The `cloudabi-run` command; everything lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    // The continuation of a CloudABI process after proc_exec.
    #[cfg(target_os = "linux")]
    if let Some(code) = cloudabi_run::linux::reexec::main() {
        return code;
    }
    cloudabi_run::cli::main(std::env::args_os())
}
