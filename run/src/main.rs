//! The `cloudabi-run` command; everything lives in the library.

use std::process::ExitCode;

/// Out of memory is exit status 71 with a message, not an abort.
#[global_allocator]
static ALLOCATOR: cloudabi_run::oom::ExitOnFailure = cloudabi_run::oom::ExitOnFailure;

fn main() -> ExitCode {
    // The continuation of a CloudABI process after proc_exec.
    #[cfg(target_os = "linux")]
    if let Some(code) = cloudabi_run::linux::reexec::main() {
        return code;
    }
    cloudabi_run::cli::main(std::env::args_os())
}
