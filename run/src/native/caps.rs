//! Rights ceilings as Capsicum limits. Natively, the cloudabi64 module
//! keeps a descriptor's exact CloudABI rights in its Capsicum ioctl list
//! (`sys::caplist`; docs/kmod.md, "Exact rights") and derives them from its
//! Capsicum rights when it has none. So cloudabi-run limits each descriptor
//! whose ceiling limits anything before `fexecve`: `cap_rights_limit(2)`
//! with the Capsicum rights the ceiling needs (one set for base and
//! inheriting: a listening socket keeps the rights its connections will
//! inherit), then `cap_ioctls_limit(2)` with the list of the ceiling's
//! exact rights, which the module reads (a listening socket then has no
//! `sock_shutdown` of its own). The list's entries match no ioctl.

use std::io;
use std::os::fd::RawFd;

use sys::backend::FdRights;
use sys::caplist;
use sys::rights::CapRights;

use crate::rights::UNLIMITED;

/// The Capsicum rights for `ceiling`; `None` when nothing is limited.
pub fn capsicum_for(ceiling: FdRights) -> Option<CapRights> {
    (ceiling != UNLIMITED).then(|| caplist::capsicum_for(ceiling))
}

/// What `--dump-limits` prints for a descriptor with `ceiling`: the
/// Capsicum rights words and the exact base and inheriting rights of the
/// ioctl list (hexadecimal), or `None` when nothing is limited.
pub fn describe(ceiling: FdRights) -> Option<String> {
    capsicum_for(ceiling).map(|c| {
        format!(
            "capsicum {:#018x} {:#018x} rights {:#018x} {:#018x}",
            c.0[0],
            c.0[1],
            ceiling.base.bits(),
            ceiling.inheriting.bits()
        )
    })
}

/// Limits `fd` to `ceiling`.
pub fn limit(fd: RawFd, ceiling: FdRights) -> io::Result<()> {
    match capsicum_for(ceiling) {
        None => Ok(()),
        Some(caps) => {
            cap_rights_limit(fd, caps)?;
            let (list, n) = caplist::encode(ceiling);
            cap_ioctls_limit(fd, &list[..n])
        }
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

#[cfg(target_os = "freebsd")]
fn cap_ioctls_limit(fd: RawFd, list: &[u64]) -> io::Result<()> {
    // SAFETY: cap_ioctls_limit reads `list.len()` u_longs (u64 on the
    // 64-bit targets cloudabi-run is built for).
    if unsafe { libc::cap_ioctls_limit(fd, list.as_ptr().cast(), list.len()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "freebsd"))]
fn cap_rights_limit(_: RawFd, _: CapRights) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "Capsicum is only available on FreeBSD"))
}

#[cfg(not(target_os = "freebsd"))]
fn cap_ioctls_limit(_: RawFd, _: &[u64]) -> io::Result<()> {
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
        let listening = for_socket(SocketKind::Stream);
        assert_eq!(
            capsicum_for(listening),
            Some(caplist::capsicum_for(FdRights { base: Rights::ALL, inheriting: Rights::ALL }))
        );
        // ... and the list tells the module what the listener itself may do.
        let (list, n) = caplist::encode(listening);
        let exact = caplist::decode(&list[..n]).expect("exact rights");
        assert!(!exact.base.contains(Rights::SOCK_SHUTDOWN) && !exact.base.contains(Rights::FD_WRITE));
        assert!(exact.inheriting.contains(Rights::SOCK_SHUTDOWN));
    }

    #[test]
    fn dump_lines() {
        assert_eq!(describe(for_file(FileMode::ReadWrite)), None);
        let line = describe(for_socket(SocketKind::Stream)).expect("limited");
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0], "capsicum");
        assert_eq!(words[3], "rights");
        assert_eq!(words[4], format!("{:#018x}", for_socket(SocketKind::Stream).base.bits()));
        assert_eq!(words.len(), 6);
    }
}
