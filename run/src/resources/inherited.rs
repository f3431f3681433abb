//! `!fd N`: a descriptor cloudabi-run was started with.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

pub fn not_open(fd: RawFd) -> String {
    format!("descriptor {fd} is not open")
}

/// A close-on-exec duplicate of `fd`, which must be open. The program gets
/// the duplicate, so cloudabi-run's own descriptor N (say its standard
/// error) stays usable for messages until the program starts.
pub fn duplicate_inherited(fd: RawFd) -> Result<OwnedFd, String> {
    // SAFETY: F_GETFD only reads the flags of a descriptor number.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(not_open(fd));
    }
    // Above the standard descriptors, so that duplicating can never fill a
    // hole at 0 to 2 that later `!fd 0` to `!fd 2` would take for theirs.
    // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor and nothing else.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        return Err(format!("cannot duplicate descriptor {fd}: {}", io::Error::last_os_error()));
    }
    // SAFETY: `copy` was just created and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_descriptors_are_reported() {
        // Far above anything a test process holds.
        assert_eq!(duplicate_inherited(9999).unwrap_err(), "descriptor 9999 is not open");
        assert_eq!(duplicate_inherited(-1).unwrap_err(), "descriptor -1 is not open");
    }

    #[test]
    fn duplicates_are_close_on_exec() {
        use std::os::fd::AsRawFd;
        let copy = duplicate_inherited(libc::STDERR_FILENO).unwrap();
        // SAFETY: reads the flags of a descriptor we own.
        let flags = unsafe { libc::fcntl(copy.as_raw_fd(), libc::F_GETFD) };
        assert!(copy.as_raw_fd() > 2);
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    }
}
