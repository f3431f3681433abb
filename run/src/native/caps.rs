//! Rights ceilings as Capsicum limits. Natively, the cloudabi64 module
//! derives a descriptor's CloudABI rights from its Capsicum rights, so
//! cloudabi-run limits each descriptor with `cap_rights_limit(2)` before
//! `fexecve`. Capsicum keeps one set per descriptor, so the limit is the
//! union of the ceiling's base and inheriting rights (a listening socket
//! keeps the rights its connections will inherit).

use std::io;
use std::os::fd::RawFd;

use sys::backend::FdRights;
use sys::rights::{CapRights, to_capsicum};

use crate::rights::UNLIMITED;

/// The Capsicum rights for `ceiling`; `None` when nothing is limited.
pub fn capsicum_for(ceiling: FdRights) -> Option<CapRights> {
    (ceiling != UNLIMITED).then(|| to_capsicum(ceiling.base.union(ceiling.inheriting)))
}

/// Limits `fd` to `ceiling`.
pub fn limit(fd: RawFd, ceiling: FdRights) -> io::Result<()> {
    match capsicum_for(ceiling) {
        None => Ok(()),
        Some(caps) => cap_rights_limit(fd, caps),
    }
}

#[cfg(target_os = "freebsd")]
fn cap_rights_limit(fd: RawFd, caps: CapRights) -> io::Result<()> {
    const _: () = assert!(size_of::<libc::cap_rights_t>() == size_of::<CapRights>());
    // SAFETY: cap_rights_t is `uint64_t cr_rights[CAP_RIGHTS_VERSION + 2]`
    // (version 0), the same two words CapRights holds (size checked above).
    let rights: libc::cap_rights_t = unsafe { std::mem::transmute(caps) };
    // SAFETY: cap_rights_limit reads the rights structure.
    if unsafe { libc::cap_rights_limit(fd, &rights) } == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(not(target_os = "freebsd"))]
fn cap_rights_limit(_: RawFd, _: CapRights) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "Capsicum is only available on FreeBSD"))
}

#[cfg(test)]
mod tests {
    use abi::Rights;

    use super::*;
    use crate::resolve::{FileMode, SocketKind};
    use crate::rights::{for_file, for_socket};
    use sys::rights::cap;

    #[test]
    fn read_only_files_lose_write_capabilities() {
        let caps = capsicum_for(for_file(FileMode::Read)).expect("limited");
        assert!(caps.has(cap::READ) && caps.has(cap::LOOKUP) && caps.has(cap::FSTAT));
        assert!(!caps.has(cap::WRITE) && !caps.has(cap::CREATE) && !caps.has(cap::UNLINKAT));
    }

    #[test]
    fn unlimited_descriptors_are_left_alone() {
        assert_eq!(capsicum_for(for_file(FileMode::ReadWrite)), None);
        // The listener's connections inherit its Capsicum rights, so the
        // limit keeps what they need.
        assert_eq!(capsicum_for(for_socket(SocketKind::Stream)), Some(to_capsicum(Rights::ALL)));
    }
}
