//! The `cloudabi-run` command; everything lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    cloudabi_run::cli::main(std::env::args_os())
}
