//! Replacing cloudabi-run with the program (native launch).

use std::ffi::c_char;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::ptr;

use sys::backend::FdRights;

use super::plan::{apply, plan};
use super::table::System;
use super::{argv, caps};
use crate::exit::{Failure, Status};

/// Executes `exe` with `argdata` and `fds[i]` as descriptor `i`, limited to
/// its rights ceiling with Capsicum. Returns
/// only on failure, with standard error restored for the message.
pub fn exec(exe: File, argdata: &[u8], fds: Vec<(OwnedFd, FdRights)>) -> Failure {
    for (i, (fd, ceiling)) in fds.iter().enumerate() {
        if let Err(e) = caps::limit(fd.as_raw_fd(), *ceiling) {
            return Failure::new(Status::OsError, format!("cannot limit the rights of descriptor {i}: {e}"));
        }
    }
    let buffer = argv::buffer(argdata);
    let mut args: Vec<*const c_char> =
        argv::offsets(argdata).iter().map(|&o| buffer[o..].as_ptr().cast()).collect();
    args.push(ptr::null());
    // CloudABI programs have no environment.
    let env: [*const c_char; 1] = [ptr::null()];

    // From here on the plan owns the descriptor numbers: nothing may close
    // them behind its back.
    let fds: Vec<RawFd> = fds.into_iter().map(|(fd, _)| fd.into_raw_fd()).collect();
    let stderr = is_open(libc::STDERR_FILENO).then_some(libc::STDERR_FILENO);
    let plan = plan(&fds, exe.into_raw_fd(), stderr);
    let mut stash = vec![-1; plan.moves.len()];
    if let Err(e) = apply(&plan, &mut System, &mut stash) {
        restore_stderr(plan.stderr_copy(Some(&e), &stash));
        return Failure::new(Status::OsError, format!("cannot set up the program's descriptors: {e}"));
    }
    // SAFETY: `args` and `env` are NULL-terminated arrays of pointers to
    // NUL-terminated strings in `buffer`, all alive across the call.
    unsafe { libc::fexecve(plan.exe, args.as_ptr(), env.as_ptr()) };
    let error = io::Error::last_os_error();
    restore_stderr(plan.stderr_copy(None, &stash));
    exec_failure(&error)
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: reads descriptor flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Puts cloudabi-run's standard error back on descriptor 2 (where the
/// program's descriptor 2 may now be) from the copy at `saved`.
fn restore_stderr(saved: Option<RawFd>) {
    if let Some(saved) = saved.filter(|&fd| fd != libc::STDERR_FILENO) {
        // SAFETY: replaces descriptor 2; the program will not run.
        unsafe { libc::dup2(saved, libc::STDERR_FILENO) };
    }
}

/// What a failed `fexecve` means. The executable passed the ELF check, so
/// ENOEXEC says the kernel has no CloudABI image activator.
pub fn exec_failure(error: &io::Error) -> Failure {
    match error.raw_os_error() {
        Some(libc::ENOEXEC) => Failure::new(
            Status::Unavailable,
            "exec format error: is the cloudabi64 kernel module loaded? (kldload cloudabi64)",
        ),
        _ => Failure::new(Status::OsError, format!("cannot execute: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enoexec_points_at_the_kernel_module() {
        let f = exec_failure(&io::Error::from_raw_os_error(libc::ENOEXEC));
        assert_eq!(f.status, Status::Unavailable);
        assert!(f.message.contains("kldload cloudabi64"), "{}", f.message);
        let f = exec_failure(&io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(
            (f.status, f.message.as_str()),
            (Status::OsError, "cannot execute: Permission denied (os error 13)")
        );
    }
}
