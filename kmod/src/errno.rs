//! CloudABI errno <-> FreeBSD errno.
//!
//! The syscall core reports CloudABI errnos. The glue hands the kernel the
//! *native* errno (so ktrace, dtrace and `kern.trap_enotcap` see FreeBSD
//! values), and `sv_set_syscall_retval` translates whatever native error
//! reaches it (from us, or from the kernel's own syscall path, e.g.
//! `ECAPMODE`) back to CloudABI. The mapping is one-to-one on the CloudABI
//! side, so the round trip is lossless; that is checked at compile time.

use abi::Errno;

use crate::consts::*;

/// Every CloudABI errno (except `SUCCESS`) and the FreeBSD errno with the
/// same meaning. FreeBSD has them all; `ENOTSUP` is `EOPNOTSUPP` there.
const PAIRS: [(Errno, i32); 76] = [
    (Errno::E2BIG, E2BIG),
    (Errno::ACCES, EACCES),
    (Errno::ADDRINUSE, EADDRINUSE),
    (Errno::ADDRNOTAVAIL, EADDRNOTAVAIL),
    (Errno::AFNOSUPPORT, EAFNOSUPPORT),
    (Errno::AGAIN, EAGAIN),
    (Errno::ALREADY, EALREADY),
    (Errno::BADF, EBADF),
    (Errno::BADMSG, EBADMSG),
    (Errno::BUSY, EBUSY),
    (Errno::CANCELED, ECANCELED),
    (Errno::CHILD, ECHILD),
    (Errno::CONNABORTED, ECONNABORTED),
    (Errno::CONNREFUSED, ECONNREFUSED),
    (Errno::CONNRESET, ECONNRESET),
    (Errno::DEADLK, EDEADLK),
    (Errno::DESTADDRREQ, EDESTADDRREQ),
    (Errno::DOM, EDOM),
    (Errno::DQUOT, EDQUOT),
    (Errno::EXIST, EEXIST),
    (Errno::FAULT, EFAULT),
    (Errno::FBIG, EFBIG),
    (Errno::HOSTUNREACH, EHOSTUNREACH),
    (Errno::IDRM, EIDRM),
    (Errno::ILSEQ, EILSEQ),
    (Errno::INPROGRESS, EINPROGRESS),
    (Errno::INTR, EINTR),
    (Errno::INVAL, EINVAL),
    (Errno::IO, EIO),
    (Errno::ISCONN, EISCONN),
    (Errno::ISDIR, EISDIR),
    (Errno::LOOP, ELOOP),
    (Errno::MFILE, EMFILE),
    (Errno::MLINK, EMLINK),
    (Errno::MSGSIZE, EMSGSIZE),
    (Errno::MULTIHOP, EMULTIHOP),
    (Errno::NAMETOOLONG, ENAMETOOLONG),
    (Errno::NETDOWN, ENETDOWN),
    (Errno::NETRESET, ENETRESET),
    (Errno::NETUNREACH, ENETUNREACH),
    (Errno::NFILE, ENFILE),
    (Errno::NOBUFS, ENOBUFS),
    (Errno::NODEV, ENODEV),
    (Errno::NOENT, ENOENT),
    (Errno::NOEXEC, ENOEXEC),
    (Errno::NOLCK, ENOLCK),
    (Errno::NOLINK, ENOLINK),
    (Errno::NOMEM, ENOMEM),
    (Errno::NOMSG, ENOMSG),
    (Errno::NOPROTOOPT, ENOPROTOOPT),
    (Errno::NOSPC, ENOSPC),
    (Errno::NOSYS, ENOSYS),
    (Errno::NOTCONN, ENOTCONN),
    (Errno::NOTDIR, ENOTDIR),
    (Errno::NOTEMPTY, ENOTEMPTY),
    (Errno::NOTRECOVERABLE, ENOTRECOVERABLE),
    (Errno::NOTSOCK, ENOTSOCK),
    (Errno::NOTSUP, ENOTSUP),
    (Errno::NOTTY, ENOTTY),
    (Errno::NXIO, ENXIO),
    (Errno::OVERFLOW, EOVERFLOW),
    (Errno::OWNERDEAD, EOWNERDEAD),
    (Errno::PERM, EPERM),
    (Errno::PIPE, EPIPE),
    (Errno::PROTO, EPROTO),
    (Errno::PROTONOSUPPORT, EPROTONOSUPPORT),
    (Errno::PROTOTYPE, EPROTOTYPE),
    (Errno::RANGE, ERANGE),
    (Errno::ROFS, EROFS),
    (Errno::SPIPE, ESPIPE),
    (Errno::SRCH, ESRCH),
    (Errno::STALE, ESTALE),
    (Errno::TIMEDOUT, ETIMEDOUT),
    (Errno::TXTBSY, ETXTBSY),
    (Errno::XDEV, EXDEV),
    (Errno::NOTCAPABLE, ENOTCAPABLE),
];

/// Native errnos are below this (FreeBSD's ELAST is 97 in 14.2 and 15.0).
const NATIVE_LIMIT: usize = 128;

/// CloudABI errno (raw value as index) -> native errno; 0 for `SUCCESS`.
const TO_NATIVE: [i32; 77] = {
    let mut t = [0; 77];
    let mut i = 0;
    while i < PAIRS.len() {
        t[PAIRS[i].0.raw() as usize] = PAIRS[i].1;
        i += 1;
    }
    t
};

/// Native errno (as index) -> CloudABI errno; `NOSYS` for the native
/// errnos CloudABI has no name for, as in the original FreeBSD
/// implementation, except `ECAPMODE`, which is CloudABI's `NOTCAPABLE`.
const FROM_NATIVE: [Errno; NATIVE_LIMIT] = {
    let mut t = [Errno::NOSYS; NATIVE_LIMIT];
    let mut i = 0;
    while i < PAIRS.len() {
        t[PAIRS[i].1 as usize] = PAIRS[i].0;
        i += 1;
    }
    t[ECAPMODE as usize] = Errno::NOTCAPABLE;
    t
};

/// Compile-time proof of the round trip: every CloudABI errno appears once,
/// maps to a distinct native errno below `NATIVE_LIMIT`, and comes back.
const _: () = {
    let mut seen = [false; 77];
    let mut i = 0;
    while i < PAIRS.len() {
        let (e, n) = PAIRS[i];
        assert!(e.raw() != 0 && (e.raw() as usize) < 77, "not a CloudABI error");
        assert!(!seen[e.raw() as usize], "CloudABI errno listed twice");
        seen[e.raw() as usize] = true;
        assert!(n > 0 && (n as usize) < NATIVE_LIMIT, "native errno out of range");
        assert!(FROM_NATIVE[n as usize].raw() == e.raw(), "native errno used twice");
        assert!(TO_NATIVE[e.raw() as usize] == n, "table mismatch");
        i += 1;
    }
    assert!(Errno::VALUES.len() == PAIRS.len() + 1, "a CloudABI errno is missing");
    assert!(ECAPMODE != ENOTCAPABLE && FROM_NATIVE[ECAPMODE as usize].raw() == Errno::NOTCAPABLE.raw());
};

/// The native errno for a CloudABI error. `SUCCESS` is not an error; a
/// handler that returns it as one gets `ENOSYS`, which shows up in ktrace.
pub fn to_native(e: Errno) -> i32 {
    match TO_NATIVE.get(usize::from(e.raw())) {
        Some(&n) if n != 0 => n,
        _ => ENOSYS,
    }
}

/// The CloudABI errno for a positive native errno (unknown ones are
/// `NOSYS`). Callers handle `ERESTART`/`EJUSTRETURN` before this.
pub fn from_native(n: i32) -> Errno {
    usize::try_from(n).ok().and_then(|i| FROM_NATIVE.get(i)).copied().unwrap_or(Errno::NOSYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_for_every_cloudabi_errno() {
        for e in Errno::VALUES {
            if e == Errno::SUCCESS {
                continue;
            }
            let n = to_native(e);
            assert!(n > 0, "{e:?}");
            assert_eq!(from_native(n), e, "{e:?} -> {n}");
        }
    }

    #[test]
    fn known_values_match_freebsd() {
        // sys/errno.h: EPERM 1, ENOSYS 78, EAGAIN 35, ENOTSUP 45, ENOTCAPABLE 93.
        assert_eq!(to_native(Errno::PERM), 1);
        assert_eq!(to_native(Errno::NOSYS), 78);
        assert_eq!(to_native(Errno::AGAIN), 35);
        assert_eq!(to_native(Errno::NOTSUP), 45);
        assert_eq!(to_native(Errno::NOTCAPABLE), 93);
    }

    #[test]
    fn capmode_and_unknown_native_errors() {
        assert_eq!(from_native(ECAPMODE), Errno::NOTCAPABLE);
        // EDOOFUS (88) and EINTEGRITY (97) have no CloudABI name.
        assert_eq!(from_native(88), Errno::NOSYS);
        assert_eq!(from_native(97), Errno::NOSYS);
        assert_eq!(from_native(-1), Errno::NOSYS);
        assert_eq!(from_native(100_000), Errno::NOSYS);
        assert_eq!(to_native(Errno::SUCCESS), ENOSYS);
    }
}
