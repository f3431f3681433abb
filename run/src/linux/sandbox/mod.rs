//! Confinement of the program's raw Linux system calls (`--sandbox`).
//!
//! The program shares this process, so its machine code can make Linux
//! system calls itself instead of going through the vDSO and the backend.
//! Before it runs, [`apply`] confines the process (every thread and child
//! it will have, and a re-executed cloudabi-run, inherit the confinement):
//!
//! - `no_new_privs`, which both of the following need and which also keeps
//!   an `exec` from gaining privileges;
//! - Landlock (`landlock.rs`): the host file system is what the
//!   configuration granted, read-only or read-write as each directory's
//!   rights ceiling says, plus cloudabi-run's own executable (for
//!   `proc_exec`);
//! - a seccomp filter (`seccomp.rs`) refusing the system calls a CloudABI
//!   process never needs and that would get around the backend or
//!   Landlock.
//!
//! Where the kernel lacks Landlock or seccomp, the default (`--sandbox`
//! not given) is to apply what there is and print one warning line;
//! `--sandbox` makes cloudabi-run refuse to start the program instead
//! (exit status 69). A re-executed cloudabi-run finds the filter it
//! inherited through its marker and adds only a Landlock layer for the
//! descriptors the new program keeps.

mod bpf;
mod landlock;
mod seccomp;
// Built everywhere, so that its policy test runs on x86-64 hosts too.
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
mod seccomp_aarch64;

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use sys::backend::FdRights;

/// What the command line asked for (`--no-sandbox` never gets here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The default: confine with what the kernel has, warn about the rest.
    BestEffort,
    /// `--sandbox`: refuse to start the program unless both Landlock and
    /// seccomp work.
    Required,
}

/// Why the sandbox was not applied.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// `--sandbox` was given and the kernel cannot confine the program.
    Refused(String),
    /// Setting it up failed.
    Failed(String),
}

/// What the kernel offers.
#[derive(Debug)]
pub struct Probe {
    /// The Landlock ABI version, or why there is none.
    pub landlock: Result<u32, String>,
    /// Whether seccomp filters work, or why not.
    pub seccomp: Result<(), String>,
    /// The filter of the cloudabi-run that re-executed this one, if any
    /// (with the descriptor its `execveat` rule allows).
    pub inherited: Option<Option<RawFd>>,
}

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    Refuse(String),
    Confine {
        /// Add a Landlock layer of this ABI.
        landlock: Option<u32>,
        /// Install the seccomp filter (not when it is inherited).
        seccomp: bool,
        /// One line for standard error.
        warning: Option<String>,
    },
}

/// Decides from the policy and what the kernel offers.
pub fn plan(policy: Policy, probe: &Probe) -> Plan {
    let inherited = probe.inherited.is_some();
    let seccomp_ok = inherited || probe.seccomp.is_ok();
    let mut missing = Vec::new();
    if let Err(e) = &probe.landlock {
        missing.push(format!("no Landlock ({e})"));
    }
    if let (false, Err(e)) = (seccomp_ok, &probe.seccomp) {
        missing.push(format!("no seccomp filters ({e})"));
    }
    if policy == Policy::Required && !missing.is_empty() {
        return Plan::Refuse(format!(
            "--sandbox: this kernel cannot confine the program: {}; without --sandbox it would start \
             with only part of the sandbox",
            missing.join(", ")
        ));
    }
    let mut open = Vec::new();
    match &probe.landlock {
        Err(_) => open.push("files can be opened, created and removed anywhere this user can"),
        Ok(abi) => {
            if !landlock::gaps(*abi).is_empty() {
                missing.push(format!("Landlock ABI {abi}"));
            }
            open.extend(landlock::gaps(*abi));
        }
    }
    if !seccomp_ok {
        open.push("every system call is allowed (sockets, ptrace, exec, mount, ...)");
    }
    // A re-executed instance stays quiet: the first one already warned.
    let warning = (!open.is_empty() && !inherited).then(|| {
        format!(
            "warning: the sandbox is incomplete ({}): for a program making raw system calls, {}",
            missing.join(", "),
            open.join("; ")
        )
    });
    Plan::Confine {
        landlock: probe.landlock.as_ref().ok().copied(),
        seccomp: seccomp_ok && !inherited,
        warning,
    }
}

fn probe() -> Probe {
    let inherited = seccomp::inherited();
    Probe {
        landlock: landlock::abi().map_err(|e| e.to_string()),
        seccomp: if inherited.is_some() { Ok(()) } else { seccomp::available().map_err(|e| e.to_string()) },
        inherited,
    }
}

/// Confines this process (and every thread and child it will have) before
/// the guest runs; `fds` are the host descriptors the guest was granted,
/// with their rights ceilings. Called while the process has one thread.
///
/// The policy comes from the command line, the descriptor `proc_exec`
/// re-executes cloudabi-run with from the backend.
pub fn apply(fds: &[(RawFd, FdRights)], policy: Policy) -> Result<(), Error> {
    if let Some(warning) = confine(fds, super::self_exe(), policy)? {
        // Nothing better to do if standard error is gone.
        let _ = writeln!(io::stderr(), "cloudabi-run: {warning}");
    }
    Ok(())
}

/// [`apply`] with its inputs given: returns the warning to print, if any.
pub fn confine(
    fds: &[(RawFd, FdRights)],
    self_exe: Option<RawFd>,
    policy: Policy,
) -> Result<Option<String>, Error> {
    let (landlock_abi, install_seccomp, warning) = match plan(policy, &probe()) {
        Plan::Refuse(m) => return Err(Error::Refused(m)),
        Plan::Confine { landlock, seccomp, warning } => (landlock, seccomp, warning),
    };
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(Error::Failed(format!("sandbox: no_new_privs: {}", io::Error::last_os_error())));
    }
    if let Some(abi) = landlock_abi {
        // The support files' descriptors only need to live until the
        // ruleset is in force.
        let mut held = Vec::new();
        let rules = rules(fds, self_exe, &mut held);
        landlock::restrict(abi, &rules).map_err(|e| Error::Failed(format!("sandbox: {e}")))?;
    }
    if install_seccomp {
        seccomp::install(&seccomp::program(self_exe))
            .map_err(|e| Error::Failed(format!("sandbox: installing the seccomp filter: {e}")))?;
    }
    Ok(warning)
}

/// The Landlock rules: one per granted directory, and the files a
/// re-executed cloudabi-run needs (descriptors opened for them go to
/// `held`).
fn rules(fds: &[(RawFd, FdRights)], self_exe: Option<RawFd>, held: &mut Vec<OwnedFd>) -> Vec<landlock::Rule> {
    use ::landlock::{AccessFs, BitFlags};
    let mut rules: Vec<landlock::Rule> = fds
        .iter()
        .enumerate()
        .filter(|(_, (fd, _))| landlock::is_dir(*fd))
        .map(|(i, &(fd, ceiling))| landlock::Rule {
            fd,
            access: landlock::dir_access(ceiling),
            what: format!("descriptor {i}"),
        })
        .collect();
    let run = AccessFs::Execute | AccessFs::ReadFile;
    if let Some(fd) = self_exe {
        rules.push(landlock::Rule { fd, access: run, what: "cloudabi-run's executable".into() });
    }
    let mut support: Vec<(std::ffi::CString, BitFlags<AccessFs>)> = landlock::loaded_objects()
        .into_iter()
        .map(|(path, interp)| (path, if interp { run } else { AccessFs::ReadFile.into() }))
        .collect();
    support.push((c"/dev/null".to_owned(), AccessFs::ReadFile | AccessFs::WriteFile));
    // Best effort: a file that is gone only costs a re-exec.
    for (path, access) in support {
        if let Some(fd) = landlock::open_path(&path) {
            rules.push(landlock::Rule {
                fd: fd.as_raw_fd(),
                access,
                what: path.to_string_lossy().into_owned(),
            });
            held.push(fd);
        }
    }
    rules
}

/// Opens cloudabi-run's own executable for `proc_exec`, before the sandbox
/// is applied: an `O_PATH`, close-on-exec descriptor the seccomp filter
/// lets `execveat` run. Its number is the same in every instance of one
/// process: the one an inherited filter allows, or else the highest the
/// descriptor limit allows up to 1023 (if free), so that a re-executed
/// instance can re-execute again. Used by `backend::exec::remember`.
pub fn open_self_exe() -> Result<OwnedFd, String> {
    let fd = landlock::open_path(c"/proc/self/exe")
        .ok_or_else(|| format!("opening cloudabi-run's own executable: {}", io::Error::last_os_error()))?;
    let target = match seccomp::inherited() {
        Some(Some(pinned)) => pinned,
        _ => preferred_self_exe_number(),
    };
    Ok(move_to(fd, target))
}

fn preferred_self_exe_number() -> RawFd {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit fills `lim`.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 { lim.rlim_cur } else { 0 };
    soft.saturating_sub(1).clamp(3, 1023) as RawFd
}

/// `fd` moved to number `target` if that number is free; as it is
/// otherwise (a descriptor someone else holds is never replaced).
fn move_to(fd: OwnedFd, target: RawFd) -> OwnedFd {
    if fd.as_raw_fd() == target {
        return fd;
    }
    // SAFETY: F_GETFD only asks whether `target` is open.
    let busy = unsafe { libc::fcntl(target, libc::F_GETFD) } != -1
        || io::Error::last_os_error().raw_os_error() != Some(libc::EBADF);
    if busy {
        return fd;
    }
    // F_DUPFD_CLOEXEC takes the lowest free number from `target` on, which
    // is `target` itself (free, checked above, one thread). Not dup3: an
    // inherited filter refuses it onto the pinned number (issue 13, D3).
    // SAFETY: fcntl makes a new descriptor, which we then own.
    let moved = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, target) };
    if moved < 0 {
        return fd;
    }
    // SAFETY: `moved` was just created and is owned by no one.
    let moved = unsafe { OwnedFd::from_raw_fd(moved) };
    if moved.as_raw_fd() != target {
        return fd;
    }
    moved
}

// Live tests: they make raw x86-64 system calls (aarch64: the filter is
// checked through the BPF interpreter in seccomp.rs).
#[cfg(all(test, target_arch = "x86_64"))]
mod tests;
