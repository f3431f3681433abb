//! Starting the program: through the Linux backend, or natively on
//! FreeBSD. Either way this only returns if the program did not start;
//! once it runs, its exit status (or fatal signal) is cloudabi-run's.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::Path;

use sys::backend::FdRights;

use crate::exit::Failure;
#[cfg(not(target_os = "freebsd"))]
use crate::exit::Status;

/// Command-line choices that reach the backend.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub trace: bool,
    pub sandbox: Sandbox,
    /// Linux: fork once and stay as the program's supervisor, which
    /// reports a death by signal (`linux::supervise`). Only the command
    /// sets it: a library caller (a test harness with its threads) must not
    /// be forked and then exited under.
    pub supervise: bool,
    /// Linux: which of the descriptors cloudabi-run opened for the program
    /// itself (`resolve::Descriptor::private`); missing entries are false.
    pub private_fds: Vec<bool>,
}

/// `--sandbox` / `--no-sandbox`: whether the Linux backend confines the
/// program's raw system calls (Landlock and seccomp). On FreeBSD the
/// kernel module always confines, and the choice means nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sandbox {
    /// Neither flag: confine with what the kernel has, warning about the
    /// rest.
    #[default]
    Auto,
    /// `--sandbox`: refuse to start the program if the kernel cannot
    /// confine it.
    Required,
    /// `--no-sandbox`: do not confine (unsafe with untrusted programs).
    Off,
}

impl Sandbox {
    /// From the two flags; clap keeps only the last of them set.
    pub fn from_flags(sandbox: bool, no_sandbox: bool) -> Sandbox {
        match (sandbox, no_sandbox) {
            (_, true) => Sandbox::Off,
            (true, false) => Sandbox::Required,
            (false, false) => Sandbox::Auto,
        }
    }
}

/// Runs `exe` (at `path`, for messages) with `argdata` and `fds[i]` as
/// descriptor `i`, limited to its rights ceiling; returns why it could not.
pub fn launch(
    exe: File,
    path: &Path,
    argdata: Vec<u8>,
    fds: Vec<(OwnedFd, FdRights)>,
    options: &Options,
) -> Failure {
    // On Linux the program runs in a child of this process, which reports
    // its death by a signal (`linux::supervise`).
    #[cfg(target_os = "linux")]
    if options.supervise
        && let Err(e) = crate::linux::supervise(path)
    {
        return linux_failure(e);
    }
    let failure = backend(exe, argdata, fds, options);
    Failure { message: format!("{}: {}", path.display(), failure.message), ..failure }
}

#[cfg(target_os = "linux")]
fn backend(exe: File, argdata: Vec<u8>, fds: Vec<(OwnedFd, FdRights)>, options: &Options) -> Failure {
    use crate::linux::sandbox::Policy;
    let sandbox = match options.sandbox {
        Sandbox::Auto => Some(Policy::BestEffort),
        Sandbox::Required => Some(Policy::Required),
        Sandbox::Off => None,
    };
    let backend_options = crate::linux::Options { trace: options.trace, sandbox };
    let fds = fds
        .into_iter()
        .enumerate()
        .map(|(i, (fd, rights))| (fd, rights, options.private_fds.get(i).copied().unwrap_or(false)))
        .collect();
    let Err(error) = crate::linux::launch(exe, argdata, fds, &backend_options);
    linux_failure(error)
}

/// Checks that `exe` is a CloudABI executable this backend can run, before
/// anything of the configuration is opened or created (and for
/// `--dump-argdata`). The launch checks again; the messages are the same.
#[cfg(target_os = "linux")]
pub fn check_executable(exe: &File) -> Result<(), Failure> {
    use std::os::fd::AsFd;

    use crate::linux::{LaunchError, elf};
    if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        return Ok(()); // the launch says the backend is unavailable here
    }
    let data = crate::linux::read_from_start(exe.as_fd())
        .map_err(|e| linux_failure(LaunchError::Setup(format!("reading the executable: {e}"))))?;
    let img = elf::parse(&data).map_err(|e| linux_failure(LaunchError::NotExecutable(e.0)))?;
    elf::check_executable(&img, elf::EM_HOST).map_err(|e| linux_failure(LaunchError::NotExecutable(e.0)))
}

#[cfg(target_os = "freebsd")]
pub fn check_executable(exe: &File) -> Result<(), Failure> {
    crate::native::elf::check(exe).map_err(|m| Failure::new(crate::exit::Status::NotExecutable, m))
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
pub fn check_executable(_: &File) -> Result<(), Failure> {
    Ok(())
}

/// The exit status for each way the Linux backend can fail.
#[cfg(target_os = "linux")]
pub fn linux_failure(error: crate::linux::LaunchError) -> Failure {
    use crate::linux::LaunchError;
    let status = match &error {
        LaunchError::NotExecutable(_) => Status::NotExecutable,
        LaunchError::Unsupported(_) => Status::Unavailable,
        LaunchError::Setup(_) => Status::OsError,
    };
    Failure::new(status, error.to_string())
}

#[cfg(target_os = "freebsd")]
fn backend(exe: File, argdata: Vec<u8>, fds: Vec<(OwnedFd, FdRights)>, options: &Options) -> Failure {
    use crate::exit::Status;
    use crate::native;
    if options.trace {
        let warning = "cloudabi-run: warning: --trace needs the Linux backend; use ktrace(1) instead";
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{warning}\n").as_bytes());
    }
    // --sandbox means nothing here: the cloudabi64 module confines every
    // CloudABI process itself, and --no-sandbox cannot turn that off.
    if options.sandbox == Sandbox::Off {
        let warning =
            "cloudabi-run: warning: --no-sandbox has no effect: the cloudabi64 module always confines";
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{warning}\n").as_bytes());
    }
    if let Err(message) = native::elf::check(&exe) {
        return Failure::new(Status::NotExecutable, message);
    }
    native::exec::exec(exe, &argdata, fds)
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn backend(_: File, _: Vec<u8>, _: Vec<(OwnedFd, FdRights)>, _: &Options) -> Failure {
    Failure::new(Status::Unavailable, "no backend runs CloudABI programs on this system")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::linux::LaunchError;

    #[test]
    fn backend_errors_map_to_exit_statuses() {
        let cases = [
            (LaunchError::NotExecutable("not ELF".into()), Status::NotExecutable),
            (LaunchError::Unsupported("no".into()), Status::Unavailable),
            (LaunchError::Setup("mmap".into()), Status::OsError),
        ];
        for (error, status) in cases {
            let message = error.to_string();
            let failure = linux_failure(error);
            assert_eq!((failure.status, failure.message), (status, message));
        }
    }

    #[test]
    fn the_last_sandbox_flag_counts() {
        assert_eq!(Sandbox::from_flags(false, false), Sandbox::Auto);
        assert_eq!(Sandbox::from_flags(true, false), Sandbox::Required);
        assert_eq!(Sandbox::from_flags(false, true), Sandbox::Off);
    }

    #[test]
    fn failures_name_the_executable() {
        let exe = File::open("/dev/null").unwrap();
        let failure = launch(exe, Path::new("./prog"), Vec::new(), Vec::new(), &Options::default());
        assert!(failure.message.starts_with("./prog: "), "{}", failure.message);
    }
}
