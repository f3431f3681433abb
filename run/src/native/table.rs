//! [`FdTable`] on the real descriptor table.

use std::io;
use std::os::fd::RawFd;

use super::plan::FdTable;

/// This process's descriptors.
pub struct System;

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 { Err(io::Error::last_os_error()) } else { Ok(result) }
}

impl FdTable for System {
    fn dup_above(&mut self, fd: RawFd, min: RawFd) -> io::Result<RawFd> {
        // SAFETY: creates a descriptor; touches no memory.
        check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })
    }

    fn dup2(&mut self, from: RawFd, to: RawFd) -> io::Result<()> {
        // SAFETY: replaces descriptor `to`, which the plan owns.
        check(unsafe { libc::dup2(from, to) }).map(drop)
    }

    fn set_cloexec(&mut self, fd: RawFd, cloexec: bool) -> io::Result<()> {
        // SAFETY: reads and writes descriptor flags only.
        let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
        let flags = if cloexec { flags | libc::FD_CLOEXEC } else { flags & !libc::FD_CLOEXEC };
        // SAFETY: as above.
        check(unsafe { libc::fcntl(fd, libc::F_SETFD, flags) }).map(drop)
    }

    fn close_from(&mut self, fd: RawFd) -> io::Result<()> {
        close_from(fd)
    }
}

#[cfg(target_os = "freebsd")]
fn close_from(fd: RawFd) -> io::Result<()> {
    // SAFETY: closes descriptors that the plan has made unused.
    unsafe { libc::closefrom(fd) };
    Ok(())
}

#[cfg(target_os = "linux")]
fn close_from(fd: RawFd) -> io::Result<()> {
    let first = libc::c_uint::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: closes descriptors that the plan has made unused. Called
    // through syscall(2) because glibc before 2.34 lacks a wrapper.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) };
    if r == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::ENOSYS) { close_each_from(fd) } else { Err(error) }
}

/// For kernels without a call that closes a range.
#[cfg(not(target_os = "freebsd"))]
fn close_each_from(fd: RawFd) -> io::Result<()> {
    // SAFETY: sysconf reads a limit.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    let max = RawFd::try_from(max).unwrap_or(RawFd::MAX);
    for n in fd..max {
        // SAFETY: closes descriptors that the plan has made unused.
        unsafe { libc::close(n) };
    }
    Ok(())
}

#[cfg(not(any(target_os = "freebsd", target_os = "linux")))]
fn close_from(fd: RawFd) -> io::Result<()> {
    close_each_from(fd)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::fs::File;
    use std::os::fd::AsRawFd;

    use super::super::plan::{Plan, apply, plan};
    use super::*;

    type Identity = (libc::dev_t, libc::ino_t);

    fn identity(fd: RawFd) -> Option<Identity> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat writes a `struct stat` to the buffer.
        if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: fstat succeeded, so the buffer is initialised.
        let st = unsafe { st.assume_init() };
        Some((st.st_dev, st.st_ino))
    }

    fn cloexec(fd: RawFd) -> bool {
        // SAFETY: reads descriptor flags.
        unsafe { libc::fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC != 0 }
    }

    /// In the forked child: 0 if descriptor `i` is `expected[i]` with the
    /// right close-on-exec flag and nothing from `close_from` on is open.
    /// Allocates nothing and cannot panic.
    fn verify(plan: &Plan, expected: &[Identity]) -> i32 {
        for (m, want) in plan.moves.iter().zip(expected) {
            if identity(m.to) != Some(*want) {
                return 10 + m.to;
            }
            if cloexec(m.to) != m.cloexec {
                return 40 + m.to;
            }
        }
        for fd in plan.close_from..plan.close_from + 256 {
            if identity(fd).is_some() {
                return 70;
            }
        }
        0
    }

    /// Applies a plan to this process's real descriptors in a forked child
    /// (which then exits, so the test process keeps its own table).
    #[test]
    fn a_plan_rearranges_real_descriptors() {
        let files: Vec<File> = (0..5).map(|_| tempfile::tempfile().unwrap()).collect();
        let exe = tempfile::tempfile().unwrap();
        let fds: Vec<RawFd> = files.iter().rev().map(File::as_raw_fd).collect();
        let plan = plan(&fds, exe.as_raw_fd(), Some(libc::STDERR_FILENO));
        let expected: Vec<Identity> = plan.moves.iter().map(|m| identity(m.from).unwrap()).collect();
        let mut stash = vec![-1; plan.moves.len()];

        // SAFETY: the child only makes async-signal-safe calls (fcntl,
        // dup2, close_range, fstat, _exit) and allocates nothing.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
        if pid == 0 {
            let code = match apply(&plan, &mut System, &mut stash) {
                Ok(()) => verify(&plan, &expected),
                Err(_) => 99,
            };
            // SAFETY: ends the child without running the parent's
            // destructors or atexit handlers.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "child died: {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "see verify() for the meaning");
    }

    #[test]
    fn close_each_from_closes_what_close_range_would() {
        let file = tempfile::tempfile().unwrap();
        // A high duplicate that only the fallback will close.
        let high = System.dup_above(file.as_raw_fd(), 900).unwrap();
        close_each_from(900).unwrap();
        assert!(identity(high).is_none());
    }
}
