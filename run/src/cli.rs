//! The command line: `cloudabi-run [OPTIONS] EXECUTABLE < config.yaml`.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::config::{self, ConfigError};
use crate::exit::{Failure, Status};
use crate::{argdata, dump, launch, resolve, resources};

/// Runs a CloudABI program with exactly the file descriptors and the
/// configuration that a YAML document describes.
#[derive(Debug, Parser)]
#[command(
    name = "cloudabi-run",
    version,
    after_help = "The configuration is read from standard input unless --config is given. See cloudabi-run(1)."
)]
pub struct Args {
    /// The CloudABI executable to run.
    #[arg(value_name = "EXECUTABLE")]
    pub executable: PathBuf,

    /// Read the configuration from FILE instead of standard input.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print one line per system call to standard error (Linux backend).
    #[arg(long)]
    pub trace: bool,

    /// Refuse to start the program unless the kernel can confine its raw
    /// system calls (Landlock and seccomp; Linux backend). Without this
    /// option they are confined as far as the kernel allows.
    #[arg(long, overrides_with_all = ["sandbox", "no_sandbox"])]
    pub sandbox: bool,

    /// Do not confine the program's raw system calls (Linux backend).
    /// UNSAFE: a program that makes Linux system calls itself can then do
    /// anything the user can.
    #[arg(long, overrides_with_all = ["sandbox", "no_sandbox"])]
    pub no_sandbox: bool,

    /// Print the encoded argument data and the descriptor list, then exit
    /// without running the program.
    #[arg(long)]
    pub dump_argdata: bool,

    /// Accepted and ignored, so that command lines written for the
    /// original cloudabi-run work: its `-e` ran the program in its
    /// user-space emulator, which is what cloudabi-run always does on
    /// Linux (and never needs on FreeBSD).
    #[arg(short = 'e')]
    pub emulate: bool,
}

/// The whole command: the exit status, after printing any error.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // Nothing better to do if standard error is gone.
            let _ = writeln!(io::stderr(), "{failure}");
            ExitCode::from(failure.status.code())
        }
    }
}

/// Runs the command. Returns `Ok` after `--help`, `--version` and
/// `--dump-argdata`; a launch that works does not return.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<(), Failure> {
    let Some(args) = parse(args)? else { return Ok(()) };
    let exe = open_executable(&args.executable)?;
    let (source, text) = read_config(args.config.as_deref())?;
    let located = |e: ConfigError| Failure::new(Status::Config, e.located(&source));
    let tree = config::load(&text).map_err(located)?;
    let resolved =
        resolve::resolve(&tree, &mut resources::System::new(&exe, &args.executable)).map_err(located)?;
    let encoded = argdata::encode(&resolved.value);
    if args.dump_argdata {
        let descriptions = resolved.fds.entries().iter().map(|d| d.description.as_str());
        return dump::dump(&mut io::stdout().lock(), &encoded, descriptions)
            .map_err(|e| Failure::new(Status::OsError, format!("cannot write the dump: {e}")));
    }
    let options = launch::Options {
        trace: args.trace,
        sandbox: launch::Sandbox::from_flags(args.sandbox, args.no_sandbox),
    };
    Err(launch::launch(exe, &args.executable, encoded, resolved.fds.into_fds(), &options))
}

/// The arguments, or `None` once help or the version has been printed.
fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<Args>, Failure> {
    match Args::try_parse_from(args) {
        Ok(args) => Ok(Some(args)),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.print().map_err(|io| Failure::new(Status::OsError, format!("cannot print: {io}")))?;
            Ok(None)
        }
        Err(e) => {
            // clap's "error: " becomes our "cloudabi-run: ".
            let text = e.render().to_string();
            Err(Failure::new(Status::Usage, text.strip_prefix("error: ").unwrap_or(&text).trim_end()))
        }
    }
}

fn open_executable(path: &Path) -> Result<File, Failure> {
    let cannot =
        |e: io::Error| Failure::new(Status::NoInput, format!("cannot open `{}`: {e}", path.display()));
    // Checked before opening too: opening a FIFO would block.
    if !fs::metadata(path).map_err(cannot)?.is_file() {
        return Err(Failure::new(Status::NoInput, format!("`{}` is not a regular file", path.display())));
    }
    // std opens close-on-exec.
    let file = File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(Failure::new(Status::NoInput, format!("`{}` is not a regular file", path.display())));
    }
    Ok(file)
}

/// The configuration's name for messages (`<stdin>` or the path) and text.
fn read_config(path: Option<&Path>) -> Result<(String, String), Failure> {
    let (source, bytes) = match path {
        Some(path) => {
            let bytes = fs::read(path).map_err(|e| {
                Failure::new(Status::NoInput, format!("cannot read `{}`: {e}", path.display()))
            })?;
            (path.display().to_string(), bytes)
        }
        None => {
            let mut bytes = Vec::new();
            io::stdin().lock().read_to_end(&mut bytes).map_err(|e| {
                Failure::new(
                    Status::NoInput,
                    format!("cannot read the configuration from standard input: {e}"),
                )
            })?;
            ("<stdin>".to_owned(), bytes)
        }
    };
    let text =
        config::text_from_bytes(bytes).map_err(|e| Failure::new(Status::Config, e.located(&source)))?;
    Ok((source, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::Sandbox;

    fn sandbox(flags: &[&str]) -> Sandbox {
        let argv = ["cloudabi-run"].iter().chain(flags).chain(&["prog"]).map(OsString::from);
        let args = parse(argv).unwrap().unwrap();
        Sandbox::from_flags(args.sandbox, args.no_sandbox)
    }

    #[test]
    fn sandbox_flags_and_the_last_one_wins() {
        assert_eq!(sandbox(&[]), Sandbox::Auto);
        assert_eq!(sandbox(&["--sandbox"]), Sandbox::Required);
        assert_eq!(sandbox(&["--no-sandbox"]), Sandbox::Off);
        assert_eq!(sandbox(&["--sandbox", "--no-sandbox"]), Sandbox::Off);
        assert_eq!(sandbox(&["--no-sandbox", "--sandbox"]), Sandbox::Required);
        assert_eq!(sandbox(&["--sandbox", "--sandbox"]), Sandbox::Required);
    }

    #[test]
    fn the_original_emulator_flag_is_accepted() {
        let argv = ["cloudabi-run", "-e", "prog"].map(OsString::from);
        let args = parse(argv).unwrap().unwrap();
        assert!(args.emulate);
        assert_eq!(args.executable, PathBuf::from("prog"));
        assert_eq!(sandbox(&["-e"]), Sandbox::Auto);
    }
}
