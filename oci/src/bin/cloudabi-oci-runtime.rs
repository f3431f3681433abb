//! `cloudabi-oci-runtime`: the OCI runtime containerd's runc shim runs for
//! CloudABI containers (`BinaryName`, or `runc` on the shim's `PATH`; see
//! docs/cluster.md). Every command goes to runc unchanged, except that
//! before `create` and `run` a CloudABI container's `config.json` is
//! rewritten to run the program through `cloudabi-run --sandbox`.
//!
//! Exit status: runc's, or 1 when the rewrite fails (the reason on standard
//! error and in runc's `--log` file).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use cloudabi_oci::{Error, runc_args, runtime};

fn fail(log: Option<&Path>, e: &Error) -> ExitCode {
    let message = format!("cloudabi-oci-runtime: {e}");
    eprintln!("{message}");
    if let Some(log) = log {
        runtime::log_error(log, &message);
    }
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let inv = runc_args::parse(&args);
    let log = inv.log.as_deref();
    let own = match std::env::current_exe().and_then(std::fs::canonicalize) {
        Ok(p) => p,
        Err(e) => return fail(log, &Error::new(format!("cannot find this program's path: {e}"))),
    };
    let runc = match runtime::find_runc(std::env::var_os("CLOUDABI_OCI_RUNC"), std::env::var_os("PATH"), &own)
    {
        Ok(r) => r,
        Err(e) => return fail(log, &e),
    };
    if inv.creates() {
        let bundle = inv.bundle.clone().unwrap_or_else(|| PathBuf::from("."));
        let runner = || runtime::find_runner(std::env::var_os("CLOUDABI_OCI_CLOUDABI_RUN"), &own);
        if let Err(e) = runtime::prepare(&bundle, runner) {
            return fail(log, &e);
        }
    }
    // Only returns on failure.
    let e = Command::new(&runc).args(&args).exec();
    fail(log, &Error::new(format!("cannot run {}: {e}", runc.display())))
}
