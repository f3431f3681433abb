//! Native errno values to CloudABI's, for each backend's kernel.
//!
//! One table per native system, listing `(name, native value, CloudABI
//! errno)`. Most names match one to one; the tables also say where they do
//! not (FreeBSD's `ECAPMODE` and `EINTEGRITY`). A native errno missing from
//! a table becomes `ENOSYS`, as in FreeBSD's original CloudABI code. The
//! names are kept so that tests can check every value against the real
//! `errno.h` of each system.

use abi::Errno;

/// FreeBSD 14/15 `sys/errno.h` values.
pub static FREEBSD: &[(&str, i32, Errno)] = &[
    ("EPERM", 1, Errno::PERM),
    ("ENOENT", 2, Errno::NOENT),
    ("ESRCH", 3, Errno::SRCH),
    ("EINTR", 4, Errno::INTR),
    ("EIO", 5, Errno::IO),
    ("ENXIO", 6, Errno::NXIO),
    ("E2BIG", 7, Errno::E2BIG),
    ("ENOEXEC", 8, Errno::NOEXEC),
    ("EBADF", 9, Errno::BADF),
    ("ECHILD", 10, Errno::CHILD),
    ("EDEADLK", 11, Errno::DEADLK),
    ("ENOMEM", 12, Errno::NOMEM),
    ("EACCES", 13, Errno::ACCES),
    ("EFAULT", 14, Errno::FAULT),
    ("EBUSY", 16, Errno::BUSY),
    ("EEXIST", 17, Errno::EXIST),
    ("EXDEV", 18, Errno::XDEV),
    ("ENODEV", 19, Errno::NODEV),
    ("ENOTDIR", 20, Errno::NOTDIR),
    ("EISDIR", 21, Errno::ISDIR),
    ("EINVAL", 22, Errno::INVAL),
    ("ENFILE", 23, Errno::NFILE),
    ("EMFILE", 24, Errno::MFILE),
    ("ENOTTY", 25, Errno::NOTTY),
    ("ETXTBSY", 26, Errno::TXTBSY),
    ("EFBIG", 27, Errno::FBIG),
    ("ENOSPC", 28, Errno::NOSPC),
    ("ESPIPE", 29, Errno::SPIPE),
    ("EROFS", 30, Errno::ROFS),
    ("EMLINK", 31, Errno::MLINK),
    ("EPIPE", 32, Errno::PIPE),
    ("EDOM", 33, Errno::DOM),
    ("ERANGE", 34, Errno::RANGE),
    ("EAGAIN", 35, Errno::AGAIN),
    ("EINPROGRESS", 36, Errno::INPROGRESS),
    ("EALREADY", 37, Errno::ALREADY),
    ("ENOTSOCK", 38, Errno::NOTSOCK),
    ("EDESTADDRREQ", 39, Errno::DESTADDRREQ),
    ("EMSGSIZE", 40, Errno::MSGSIZE),
    ("EPROTOTYPE", 41, Errno::PROTOTYPE),
    ("ENOPROTOOPT", 42, Errno::NOPROTOOPT),
    ("EPROTONOSUPPORT", 43, Errno::PROTONOSUPPORT),
    ("EOPNOTSUPP", 45, Errno::NOTSUP),
    ("EAFNOSUPPORT", 47, Errno::AFNOSUPPORT),
    ("EADDRINUSE", 48, Errno::ADDRINUSE),
    ("EADDRNOTAVAIL", 49, Errno::ADDRNOTAVAIL),
    ("ENETDOWN", 50, Errno::NETDOWN),
    ("ENETUNREACH", 51, Errno::NETUNREACH),
    ("ENETRESET", 52, Errno::NETRESET),
    ("ECONNABORTED", 53, Errno::CONNABORTED),
    ("ECONNRESET", 54, Errno::CONNRESET),
    ("ENOBUFS", 55, Errno::NOBUFS),
    ("EISCONN", 56, Errno::ISCONN),
    ("ENOTCONN", 57, Errno::NOTCONN),
    ("ETIMEDOUT", 60, Errno::TIMEDOUT),
    ("ECONNREFUSED", 61, Errno::CONNREFUSED),
    ("ELOOP", 62, Errno::LOOP),
    ("ENAMETOOLONG", 63, Errno::NAMETOOLONG),
    ("EHOSTUNREACH", 65, Errno::HOSTUNREACH),
    ("ENOTEMPTY", 66, Errno::NOTEMPTY),
    ("EDQUOT", 69, Errno::DQUOT),
    ("ESTALE", 70, Errno::STALE),
    ("ENOLCK", 77, Errno::NOLCK),
    ("ENOSYS", 78, Errno::NOSYS),
    ("EIDRM", 82, Errno::IDRM),
    ("ENOMSG", 83, Errno::NOMSG),
    ("EOVERFLOW", 84, Errno::OVERFLOW),
    ("ECANCELED", 85, Errno::CANCELED),
    ("EILSEQ", 86, Errno::ILSEQ),
    ("EBADMSG", 89, Errno::BADMSG),
    ("EMULTIHOP", 90, Errno::MULTIHOP),
    ("ENOLINK", 91, Errno::NOLINK),
    ("EPROTO", 92, Errno::PROTO),
    ("ENOTCAPABLE", 93, Errno::NOTCAPABLE),
    ("ECAPMODE", 94, Errno::NOTCAPABLE),
    ("ENOTRECOVERABLE", 95, Errno::NOTRECOVERABLE),
    ("EOWNERDEAD", 96, Errno::OWNERDEAD),
    ("EINTEGRITY", 97, Errno::INVAL),
];

/// Linux `asm-generic/errno-base.h` and `errno.h` values (x86-64, arm64).
pub static LINUX: &[(&str, i32, Errno)] = &[
    ("EPERM", 1, Errno::PERM),
    ("ENOENT", 2, Errno::NOENT),
    ("ESRCH", 3, Errno::SRCH),
    ("EINTR", 4, Errno::INTR),
    ("EIO", 5, Errno::IO),
    ("ENXIO", 6, Errno::NXIO),
    ("E2BIG", 7, Errno::E2BIG),
    ("ENOEXEC", 8, Errno::NOEXEC),
    ("EBADF", 9, Errno::BADF),
    ("ECHILD", 10, Errno::CHILD),
    ("EAGAIN", 11, Errno::AGAIN),
    ("ENOMEM", 12, Errno::NOMEM),
    ("EACCES", 13, Errno::ACCES),
    ("EFAULT", 14, Errno::FAULT),
    ("EBUSY", 16, Errno::BUSY),
    ("EEXIST", 17, Errno::EXIST),
    ("EXDEV", 18, Errno::XDEV),
    ("ENODEV", 19, Errno::NODEV),
    ("ENOTDIR", 20, Errno::NOTDIR),
    ("EISDIR", 21, Errno::ISDIR),
    ("EINVAL", 22, Errno::INVAL),
    ("ENFILE", 23, Errno::NFILE),
    ("EMFILE", 24, Errno::MFILE),
    ("ENOTTY", 25, Errno::NOTTY),
    ("ETXTBSY", 26, Errno::TXTBSY),
    ("EFBIG", 27, Errno::FBIG),
    ("ENOSPC", 28, Errno::NOSPC),
    ("ESPIPE", 29, Errno::SPIPE),
    ("EROFS", 30, Errno::ROFS),
    ("EMLINK", 31, Errno::MLINK),
    ("EPIPE", 32, Errno::PIPE),
    ("EDOM", 33, Errno::DOM),
    ("ERANGE", 34, Errno::RANGE),
    ("EDEADLK", 35, Errno::DEADLK),
    ("ENAMETOOLONG", 36, Errno::NAMETOOLONG),
    ("ENOLCK", 37, Errno::NOLCK),
    ("ENOSYS", 38, Errno::NOSYS),
    ("ENOTEMPTY", 39, Errno::NOTEMPTY),
    ("ELOOP", 40, Errno::LOOP),
    ("ENOMSG", 42, Errno::NOMSG),
    ("EIDRM", 43, Errno::IDRM),
    ("ENOLINK", 67, Errno::NOLINK),
    ("EPROTO", 71, Errno::PROTO),
    ("EMULTIHOP", 72, Errno::MULTIHOP),
    ("EBADMSG", 74, Errno::BADMSG),
    ("EOVERFLOW", 75, Errno::OVERFLOW),
    ("EILSEQ", 84, Errno::ILSEQ),
    ("ENOTSOCK", 88, Errno::NOTSOCK),
    ("EDESTADDRREQ", 89, Errno::DESTADDRREQ),
    ("EMSGSIZE", 90, Errno::MSGSIZE),
    ("EPROTOTYPE", 91, Errno::PROTOTYPE),
    ("ENOPROTOOPT", 92, Errno::NOPROTOOPT),
    ("EPROTONOSUPPORT", 93, Errno::PROTONOSUPPORT),
    ("EOPNOTSUPP", 95, Errno::NOTSUP),
    ("EAFNOSUPPORT", 97, Errno::AFNOSUPPORT),
    ("EADDRINUSE", 98, Errno::ADDRINUSE),
    ("EADDRNOTAVAIL", 99, Errno::ADDRNOTAVAIL),
    ("ENETDOWN", 100, Errno::NETDOWN),
    ("ENETUNREACH", 101, Errno::NETUNREACH),
    ("ENETRESET", 102, Errno::NETRESET),
    ("ECONNABORTED", 103, Errno::CONNABORTED),
    ("ECONNRESET", 104, Errno::CONNRESET),
    ("ENOBUFS", 105, Errno::NOBUFS),
    ("EISCONN", 106, Errno::ISCONN),
    ("ENOTCONN", 107, Errno::NOTCONN),
    ("ETIMEDOUT", 110, Errno::TIMEDOUT),
    ("ECONNREFUSED", 111, Errno::CONNREFUSED),
    ("EHOSTUNREACH", 113, Errno::HOSTUNREACH),
    ("EALREADY", 114, Errno::ALREADY),
    ("EINPROGRESS", 115, Errno::INPROGRESS),
    ("ESTALE", 116, Errno::STALE),
    ("EDQUOT", 122, Errno::DQUOT),
    ("ECANCELED", 125, Errno::CANCELED),
    ("EOWNERDEAD", 130, Errno::OWNERDEAD),
    ("ENOTRECOVERABLE", 131, Errno::NOTRECOVERABLE),
];

/// What an errno missing from a table becomes.
pub const UNMAPPED: Errno = Errno::NOSYS;

fn lookup(table: &[(&str, i32, Errno)], native: i32) -> Errno {
    // Both tables are sorted by native value (checked by a test).
    match table.binary_search_by_key(&native, |&(_, v, _)| v) {
        Ok(i) => table[i].2,
        Err(_) => UNMAPPED,
    }
}

/// Converts a FreeBSD errno.
pub fn from_freebsd(native: i32) -> Errno {
    lookup(FREEBSD, native)
}

/// Converts a Linux errno.
pub fn from_linux(native: i32) -> Errno {
    lookup(LINUX, native)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for t in [FREEBSD, LINUX] {
            assert!(t.windows(2).all(|w| w[0].1 < w[1].1));
        }
    }

    #[test]
    fn every_cloudabi_errno_has_a_native_source() {
        // Every CloudABI errno except SUCCESS is produced by some FreeBSD
        // errno; Linux has no ENOTCAPABLE (the Linux backend produces it
        // itself, from its own rights checks).
        for e in Errno::VALUES.iter().copied().filter(|&e| e != Errno::SUCCESS) {
            assert!(FREEBSD.iter().any(|r| r.2 == e), "FreeBSD: {e:?}");
            if e != Errno::NOTCAPABLE {
                assert!(LINUX.iter().any(|r| r.2 == e), "Linux: {e:?}");
            }
        }
    }

    #[test]
    fn conversions() {
        assert_eq!(from_freebsd(93), Errno::NOTCAPABLE);
        assert_eq!(from_freebsd(45), Errno::NOTSUP);
        assert_eq!(from_freebsd(35), Errno::AGAIN);
        assert_eq!(from_freebsd(-1), UNMAPPED);
        assert_eq!(from_freebsd(1000), UNMAPPED);
        assert_eq!(from_linux(11), Errno::AGAIN);
        assert_eq!(from_linux(95), Errno::NOTSUP);
        assert_eq!(from_linux(40), Errno::LOOP);
        assert_eq!(from_linux(0), UNMAPPED);
    }
}
