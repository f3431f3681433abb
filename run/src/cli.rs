//! The command line: `cloudabi-run [OPTIONS] EXECUTABLE < config.yaml`,
//! `cloudabi-run [OPTIONS] --exec PROGRAM [ARG...]` (direct execution), and
//! the `binfmt_misc` registration.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::config::{self, ConfigError};
use crate::exit::{Failure, Status};
use crate::{argdata, direct, dump, launch, resolve, resources};

/// Runs a CloudABI program with exactly the file descriptors and the
/// configuration that a YAML document describes.
#[derive(Debug, Parser)]
#[command(
    name = "cloudabi-run",
    version,
    override_usage = "cloudabi-run [OPTIONS] <EXECUTABLE> < config.yaml\n       \
                      cloudabi-run [OPTIONS] --exec <EXECUTABLE> [ARG]...\n       \
                      cloudabi-run --register-binfmt | --unregister-binfmt | --binfmt-conf",
    after_help = "The configuration is read from standard input unless --config is given. \
                  With --exec, no configuration is read: the program gets descriptors 0, 1 and 2 \
                  and its arguments, as on a native exec on FreeBSD. See cloudabi-run(1)."
)]
pub struct Args {
    /// The CloudABI executable to run.
    #[arg(
        value_name = "EXECUTABLE",
        required_unless_present_any = ["register_binfmt", "unregister_binfmt", "binfmt_conf"]
    )]
    pub executable: Option<PathBuf>,

    /// With --exec: the program's arguments (its argv[1] and on).
    #[arg(value_name = "ARG", requires = "exec", trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,

    /// Run EXECUTABLE like a native command: no configuration; it gets this
    /// process's descriptors 0, 1 and 2 (with the rights their open modes
    /// allow) and its arguments as a native FreeBSD exec passes them.
    #[arg(long, conflicts_with_all = ["config", "dump_argdata"])]
    pub exec: bool,

    /// Read the configuration from FILE instead of standard input ("-":
    /// standard input).
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

    /// With --dump-argdata: after each descriptor, the Capsicum limits a
    /// native launch on FreeBSD sets on it (rights and the exact CloudABI
    /// rights of its ioctl list), for the FreeBSD VM rig.
    #[arg(long, requires = "dump_argdata")]
    pub dump_limits: bool,

    /// Register CloudABI executables with Linux binfmt_misc, so that
    /// running one from a shell runs it with --exec (root). Prints what it
    /// wrote.
    #[arg(long, conflicts_with_all = ["executable", "unregister_binfmt", "binfmt_conf"])]
    pub register_binfmt: bool,

    /// Remove the binfmt_misc registration (root).
    #[arg(long, conflicts_with_all = ["executable", "binfmt_conf"])]
    pub unregister_binfmt: bool,

    /// Print the registration as a binfmt.d(5) file for systemd-binfmt
    /// (e.g. /usr/lib/binfmt.d/cloudabi.conf).
    #[arg(long, conflicts_with = "executable")]
    pub binfmt_conf: bool,

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
    let args: Vec<OsString> = args.into_iter().collect();
    #[cfg(target_os = "linux")]
    if args.first().is_some_and(|a| crate::binfmt::invoked_as_interpreter(a)) {
        let (path, argv) = crate::binfmt::split_invocation(args)?;
        let options = launch::Options { supervise: true, ..launch::Options::default() };
        return run_direct(&path, &argv, &options);
    }
    let Some(args) = parse(args)? else { return Ok(()) };
    if let Some(result) = binfmt_command(&args) {
        return result;
    }
    let Some(path) = args.executable.as_deref() else {
        return Err(Failure::new(Status::Usage, "no EXECUTABLE given"));
    };
    let options = launch::Options {
        trace: args.trace,
        sandbox: launch::Sandbox::from_flags(args.sandbox, args.no_sandbox),
        supervise: true,
        private_fds: Vec::new(),
    };
    if args.exec {
        let argv: Vec<OsString> = std::iter::once(path.as_os_str().to_owned()).chain(args.args).collect();
        return run_direct(path, &argv, &options);
    }
    let exe = open_executable(path)?;
    // Before the configuration: a run must not create its files only to
    // find that the program cannot run. A dump describes the configuration
    // and takes any file: the VM rig dumps the configurations of aarch64
    // programs on x86-64 (freebsd-vm/vmctl).
    if !args.dump_argdata {
        launch::check_executable(&exe)
            .map_err(|f| Failure { message: format!("{}: {}", path.display(), f.message), ..f })?;
    }
    let (source, text) = read_config(args.config.as_deref())?;
    let located = |e: ConfigError| Failure::new(Status::Config, e.located(&source));
    let tree = config::load(&text).map_err(located)?;
    if args.dump_argdata {
        // Checks what a run would open without creating or binding
        // anything (resources::Checker).
        let resolved = resolve::resolve(&tree, &mut resources::Checker::new(&exe, path)).map_err(located)?;
        let encoded = argdata::encode(&resolved.value);
        let limits = |d: &crate::resolve::Descriptor| {
            if args.dump_limits { crate::native::caps::describe(d.ceiling) } else { None }
        };
        let descriptions = resolved.fds.entries().iter().map(|d| (d.description.as_str(), limits(d)));
        return dump::dump(&mut io::stdout().lock(), &encoded, descriptions)
            .map_err(|e| Failure::new(Status::OsError, format!("cannot write the dump: {e}")));
    }
    let resolved = resolve::resolve(&tree, &mut resources::System::new(&exe, path)).map_err(located)?;
    let encoded = argdata::encode(&resolved.value);
    #[cfg(target_os = "linux")]
    if args.trace {
        let names: Vec<String> = resolved.fds.entries().iter().map(|d| d.description.clone()).collect();
        crate::linux::trace::start(&names);
    }
    let options = launch::Options { private_fds: resolved.fds.private(), ..options };
    Err(launch::launch(exe, path, encoded, resolved.fds.into_fds(), &options))
}

/// Direct execution of the executable at `path` with `argv` (see
/// [`direct`]); returns only if it could not start.
fn run_direct(path: &Path, argv: &[OsString], options: &launch::Options) -> Result<(), Failure> {
    let exe = open_executable(path)?;
    let fds = direct::standard_fds().map_err(|e| Failure::new(Status::OsError, e))?;
    #[cfg(target_os = "linux")]
    if options.trace {
        crate::linux::trace::start(&["!fd 0".into(), "!fd 1".into(), "!fd 2".into()]);
    }
    Err(launch::launch(exe, path, direct::argdata(argv), fds, options))
}

/// The binfmt_misc options, when one was given: Linux only.
#[cfg(not(target_os = "linux"))]
fn binfmt_command(args: &Args) -> Option<Result<(), Failure>> {
    (args.register_binfmt || args.unregister_binfmt || args.binfmt_conf).then(|| {
        Err(Failure::new(
            Status::Unavailable,
            "binfmt_misc is a Linux facility; on FreeBSD, load cloudabi64 and run CloudABI programs directly",
        ))
    })
}

/// The binfmt_misc options, when one was given.
#[cfg(target_os = "linux")]
fn binfmt_command(args: &Args) -> Option<Result<(), Failure>> {
    use crate::binfmt;
    let out = &mut io::stdout().lock();
    if args.register_binfmt {
        Some(binfmt::register(out))
    } else if args.unregister_binfmt {
        Some(binfmt::unregister(out))
    } else if args.binfmt_conf {
        Some(binfmt::interpreter_path().and_then(|interpreter| {
            out.write_all(binfmt::conf(&interpreter).as_bytes())
                .map_err(|e| Failure::new(Status::OsError, format!("cannot print: {e}")))
        }))
    } else {
        None
    }
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
    // `--config -` is standard input, as for most Unix tools.
    let path = path.filter(|p| p.as_os_str() != "-");
    let (source, bytes) = match path {
        Some(path) => {
            let bytes = fs::read(path).map_err(|e| {
                Failure::new(Status::NoInput, format!("cannot read `{}`: {e}", path.display()))
            })?;
            (path.display().to_string(), bytes)
        }
        None => {
            use std::io::IsTerminal;
            let stdin = io::stdin();
            if stdin.is_terminal() {
                // Otherwise a bare `cloudabi-run prog` waits silently.
                let _ = writeln!(
                    io::stderr(),
                    "cloudabi-run: reading the configuration from the terminal (end with Ctrl-D; \
                     --config FILE reads a file, --exec runs without one)"
                );
            }
            let mut bytes = Vec::new();
            stdin.lock().read_to_end(&mut bytes).map_err(|e| {
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

    fn parsed(argv: &[&str]) -> Result<Args, Failure> {
        parse(argv.iter().map(OsString::from)).map(Option::unwrap)
    }

    #[test]
    fn exec_takes_the_program_and_its_arguments_verbatim() {
        let a = parsed(&["cloudabi-run", "--no-sandbox", "--exec", "./prog", "-x", "--trace", "y"]).unwrap();
        assert!(a.exec && a.no_sandbox && !a.trace);
        assert_eq!(a.executable.as_deref(), Some(Path::new("./prog")));
        assert_eq!(a.args, ["-x", "--trace", "y"]);
    }

    #[test]
    fn options_after_the_executable_still_count_without_exec() {
        let a = parsed(&["cloudabi-run", "./prog", "--trace"]).unwrap();
        assert!(a.trace && a.args.is_empty());
    }

    #[test]
    fn arguments_need_exec_and_exec_takes_no_configuration() {
        for argv in [
            &["cloudabi-run", "./prog", "extra"][..],
            &["cloudabi-run", "--exec", "--config", "c.yaml", "./prog"],
            &["cloudabi-run", "--exec", "--dump-argdata", "./prog"],
            &["cloudabi-run", "--exec"],
            &["cloudabi-run"],
        ] {
            let e = parsed(argv).unwrap_err();
            assert_eq!(e.status, Status::Usage, "{argv:?}: {}", e.message);
        }
    }

    #[test]
    fn binfmt_options_need_no_executable() {
        assert!(parsed(&["cloudabi-run", "--binfmt-conf"]).unwrap().binfmt_conf);
        assert!(parsed(&["cloudabi-run", "--register-binfmt"]).unwrap().register_binfmt);
        assert_eq!(parsed(&["cloudabi-run", "--register-binfmt", "p"]).unwrap_err().status, Status::Usage);
    }

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
        assert_eq!(args.executable, Some(PathBuf::from("prog")));
        assert_eq!(sandbox(&["-e"]), Sandbox::Auto);
    }
}
