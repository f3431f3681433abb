//! Pure conversions between CloudABI values and FreeBSD's, used by the
//! backend (`backend/`) and unit-tested on the host: file types, rights,
//! open/fcntl/mmap/msync/advice flags, clocks and times, directory
//! entries, control messages, socket flags, kevents and wait statuses.
//!
//! Every native value comes from `layouts.txt` (checked against the 14.2
//! and 15.0 headers); nothing here touches the kernel.

use abi::*;
use sys::backend::{Deadline, FdRights, Ready, SetTime};
use sys::rights::CapRights;

use crate::consts::*;

// ---- file types and rights ---------------------------------------------

/// The CloudABI type of an open file, from `f_type` and, for vnodes, the
/// vnode type, for sockets the socket type (FreeBSD's CloudABI mapping:
/// pipes and FIFOs are stream sockets).
pub fn filetype(f_type: i16, v_type: Option<u8>, so_type: Option<i16>) -> Filetype {
    match f_type {
        DTYPE_VNODE => match v_type {
            Some(VREG) => Filetype::REGULAR_FILE,
            Some(VDIR) => Filetype::DIRECTORY,
            Some(VBLK) => Filetype::BLOCK_DEVICE,
            Some(VCHR) => Filetype::CHARACTER_DEVICE,
            Some(VLNK) => Filetype::SYMBOLIC_LINK,
            Some(VSOCK) | Some(VFIFO) => Filetype::SOCKET_STREAM,
            _ => Filetype::UNKNOWN,
        },
        DTYPE_SOCKET => match so_type {
            Some(SOCK_STREAM) => Filetype::SOCKET_STREAM,
            Some(SOCK_DGRAM) => Filetype::SOCKET_DGRAM,
            _ => Filetype::UNKNOWN,
        },
        DTYPE_PIPE | DTYPE_FIFO => Filetype::SOCKET_STREAM,
        DTYPE_SHM => Filetype::SHARED_MEMORY,
        DTYPE_PROCDESC => Filetype::PROCESS,
        _ => Filetype::UNKNOWN,
    }
}

/// The CloudABI type for a `st_mode` (sockets of unknown kind and FIFOs
/// are stream sockets).
pub fn filetype_of_mode(mode: u16) -> Filetype {
    match mode & S_IFMT {
        S_IFREG => Filetype::REGULAR_FILE,
        S_IFDIR => Filetype::DIRECTORY,
        S_IFLNK => Filetype::SYMBOLIC_LINK,
        S_IFBLK => Filetype::BLOCK_DEVICE,
        S_IFCHR => Filetype::CHARACTER_DEVICE,
        S_IFIFO | S_IFSOCK => Filetype::SOCKET_STREAM,
        _ => Filetype::UNKNOWN,
    }
}

/// The CloudABI type for a directory entry's `d_type`.
pub fn filetype_of_dirent(d_type: u8) -> Filetype {
    match d_type {
        DT_REG => Filetype::REGULAR_FILE,
        DT_DIR => Filetype::DIRECTORY,
        DT_LNK => Filetype::SYMBOLIC_LINK,
        DT_BLK => Filetype::BLOCK_DEVICE,
        DT_CHR => Filetype::CHARACTER_DEVICE,
        DT_FIFO | DT_SOCK => Filetype::SOCKET_STREAM,
        _ => Filetype::UNKNOWN,
    }
}

/// The CloudABI rights of a descriptor: its exact rights if its ioctl
/// list carries them (`exact`, decoded with `sys::caplist::decode`), else what its Capsicum rights allow
/// for its type (`sys::rights::from_capsicum`), never more than the latter;
/// without `fd_read`/`fd_write` when the file is not open for
/// reading/writing (as FreeBSD's `cloudabi_fd_stat_get` reported them).
pub fn rights(caps: CapRights, exact: Option<FdRights>, ft: Filetype, f_flag: u32) -> FdRights {
    let derived = sys::rights::from_capsicum(caps, ft);
    let mut r = match exact {
        Some(e) => FdRights { base: e.base & derived.base, inheriting: e.inheriting & derived.inheriting },
        None => derived,
    };
    if f_flag & FREAD == 0 {
        r.base = r.base.difference(Rights::FD_READ);
    }
    if f_flag & FWRITE == 0 {
        r.base = r.base.difference(Rights::FD_WRITE);
    }
    r
}

/// The Capsicum rights a descriptor with exact rights `r` gets
/// (`sys::caplist::capsicum_for`: one set for both, with `CAP_IOCTL` for
/// the list and `CAP_SEEK` with `mem_map`).
pub fn capsicum(r: FdRights) -> CapRights {
    sys::caplist::capsicum_for(r)
}

/// Capsicum rights for limits without an ioctl list: `c` without
/// `CAP_IOCTL`, so that no ioctl is allowed and `fc_nioctls` is 0, as
/// `filecaps_validate()` (sys/kern/kern_descrip.c) requires without it.
pub fn listless(c: CapRights) -> CapRights {
    c.without(CAP_IOCTL)
}

/// `fc_nioctls` for limits whose list pointer is NULL: -1 (no ioctl
/// limit list) stays -1, any other count becomes 0 (the empty list), never
/// a count over a NULL list (`cap_ioctl_check` would read it).
pub fn listless_nioctls(nioctls: i16) -> i16 {
    if nioctls < 0 { -1 } else { 0 }
}

// ---- descriptor flags ----------------------------------------------------

/// `fs_flags` from the open-file flags (`f_flag`): FreeBSD has one
/// synchronous flag, reported as `sync`.
pub fn fdflags(f_flag: u32) -> Fdflags {
    let mut f = Fdflags::EMPTY;
    if f_flag & FAPPEND != 0 {
        f |= Fdflags::APPEND;
    }
    if f_flag & FNONBLOCK != 0 {
        f |= Fdflags::NONBLOCK;
    }
    if f_flag & FFSYNC != 0 {
        f |= Fdflags::SYNC;
    }
    f
}

/// The `O_*` status flags for `fs_flags` (the `F_SETFL` argument, and the
/// status part of `open` flags): every synchronous flavour is `O_SYNC`.
pub fn status_flags(f: Fdflags) -> i32 {
    let mut o = 0;
    if f.contains(Fdflags::APPEND) {
        o |= O_APPEND;
    }
    if f.contains(Fdflags::NONBLOCK) {
        o |= O_NONBLOCK;
    }
    if f.intersects(Fdflags::DSYNC | Fdflags::RSYNC | Fdflags::SYNC) {
        o |= O_SYNC;
    }
    o
}

/// `kern_openat` flags for a `file_open`: the access mode the requested
/// rights imply (`sys::file_access_mode`; neither reading nor writing
/// opens read-only, as FreeBSD's CloudABI did), the open and status flags,
/// `O_NOFOLLOW` unless following, and always `O_RESOLVE_BENEATH`.
pub fn open_flags(oflags: Oflags, fdflags: Fdflags, requested_base: Rights, follow: bool) -> i32 {
    let mut o = match sys::file_access_mode(requested_base) {
        (true, true) => O_RDWR,
        (false, true) => O_WRONLY,
        _ => O_RDONLY,
    };
    if oflags.contains(Oflags::CREAT) {
        o |= O_CREAT;
    }
    if oflags.contains(Oflags::DIRECTORY) {
        o |= O_DIRECTORY;
    }
    if oflags.contains(Oflags::EXCL) {
        o |= O_EXCL;
    }
    if oflags.contains(Oflags::TRUNC) {
        o |= O_TRUNC;
    }
    if !follow {
        o |= O_NOFOLLOW;
    }
    o | status_flags(fdflags) | O_RESOLVE_BENEATH
}

/// `*at` flags: never leave the directory, follow the last link only when
/// asked. `follow_flag` is `AT_SYMLINK_FOLLOW` for calls that do not
/// follow by default (linkat) and 0 for those that do.
pub fn at_flags(follow: bool, default_follows: bool) -> i32 {
    let f = match (follow, default_follows) {
        (true, false) => AT_SYMLINK_FOLLOW,
        (false, true) => AT_SYMLINK_NOFOLLOW,
        _ => 0,
    };
    f | AT_RESOLVE_BENEATH
}

pub fn whence(w: Whence) -> i32 {
    match w {
        Whence::CUR => SEEK_CUR,
        Whence::END => SEEK_END,
        _ => SEEK_SET,
    }
}

/// `posix_fadvise` advice.
pub fn fadvice(a: Advice) -> i32 {
    match a {
        Advice::DONTNEED => POSIX_FADV_DONTNEED,
        Advice::NOREUSE => POSIX_FADV_NOREUSE,
        Advice::RANDOM => POSIX_FADV_RANDOM,
        Advice::SEQUENTIAL => POSIX_FADV_SEQUENTIAL,
        Advice::WILLNEED => POSIX_FADV_WILLNEED,
        _ => POSIX_FADV_NORMAL,
    }
}

// ---- memory --------------------------------------------------------------

pub fn prot(p: Mprot) -> i32 {
    let mut n = 0;
    if p.contains(Mprot::READ) {
        n |= PROT_READ;
    }
    if p.contains(Mprot::WRITE) {
        n |= PROT_WRITE;
    }
    if p.contains(Mprot::EXEC) {
        n |= PROT_EXEC;
    }
    n
}

pub fn map_flags(f: Mflags) -> i32 {
    let mut n = if f.contains(Mflags::SHARED) { MAP_SHARED } else { MAP_PRIVATE };
    if f.contains(Mflags::ANON) {
        n |= MAP_ANON;
    }
    if f.contains(Mflags::FIXED) {
        n |= MAP_FIXED;
    }
    n
}

/// `msync` flags (FreeBSD's `MS_SYNC` is 0).
pub fn msync_flags(f: Msflags) -> i32 {
    let mut n = if f.contains(Msflags::ASYNC) { MS_ASYNC } else { MS_SYNC };
    if f.contains(Msflags::INVALIDATE) {
        n |= MS_INVALIDATE;
    }
    n
}

/// `madvise` behaviour (the core rejects `noreuse`).
pub fn madvice(a: Advice) -> i32 {
    match a {
        Advice::DONTNEED => MADV_DONTNEED,
        Advice::RANDOM => MADV_RANDOM,
        Advice::SEQUENTIAL => MADV_SEQUENTIAL,
        Advice::WILLNEED => MADV_WILLNEED,
        _ => MADV_NORMAL,
    }
}

// ---- clocks and times ------------------------------------------------------

/// The native clock; `None` for an undefined one (already rejected by the
/// decoder, so unreachable in practice).
pub fn clock_id(c: Clockid) -> Option<i32> {
    match c {
        Clockid::MONOTONIC => Some(CLOCK_MONOTONIC),
        Clockid::PROCESS_CPUTIME_ID => Some(CLOCK_PROCESS_CPUTIME_ID),
        Clockid::REALTIME => Some(CLOCK_REALTIME),
        Clockid::THREAD_CPUTIME_ID => Some(CLOCK_THREAD_CPUTIME_ID),
        _ => None,
    }
}

/// A clock reading in nanoseconds; `EOVERFLOW` before the epoch or beyond
/// 2⁶⁴ − 1 ns (as FreeBSD's `cloudabi_convert_timespec`).
pub fn clock_ns(sec: i64, nsec: i64) -> Result<u64, Errno> {
    let sec = u64::try_from(sec).map_err(|_| Errno::OVERFLOW)?;
    let nsec = u64::try_from(nsec).map_err(|_| Errno::OVERFLOW)?;
    sec.checked_mul(1_000_000_000).and_then(|n| n.checked_add(nsec)).ok_or(Errno::OVERFLOW)
}

/// A file time in nanoseconds, clamped: before the epoch is 0, beyond the
/// range `u64::MAX` (the stat calls never fail on a time).
pub fn stat_ns(sec: i64, nsec: i64) -> u64 {
    if sec < 0 {
        return 0;
    }
    (sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec.max(0) as u64)
}

/// `(tv_sec, tv_nsec)` for nanoseconds.
pub fn timespec(ns: u64) -> (i64, i64) {
    ((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64)
}

/// The `utimensat`/`futimens` time for a timestamp update.
pub fn set_time(t: SetTime) -> (i64, i64) {
    match t {
        SetTime::Keep => (0, UTIME_OMIT),
        SetTime::Now => (0, UTIME_NOW),
        SetTime::To(ns) => timespec(ns),
    }
}

// ---- directory entries -----------------------------------------------------

/// One native directory entry (`struct dirent`) inside a buffer filled by
/// `getdirentries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeDirent<'a> {
    pub fileno: u64,
    /// Directory offset of the entry after this one (the cookie).
    pub off: u64,
    pub d_type: u8,
    pub name: &'a [u8],
    /// Bytes the entry occupies (`d_reclen`).
    pub reclen: usize,
}

fn le_or_ne<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The entry at the start of `buf`; `None` when `buf` does not hold a
/// complete, consistent entry (which ends the walk; the kernel never
/// produces one).
pub fn dirent(buf: &[u8]) -> Option<NativeDirent<'_>> {
    let reclen = usize::from(u16::from_ne_bytes(le_or_ne(buf, DIRENT_D_RECLEN)?));
    let namlen = usize::from(u16::from_ne_bytes(le_or_ne(buf, DIRENT_D_NAMLEN)?));
    if reclen == 0 || reclen > buf.len() || DIRENT_D_NAME.checked_add(namlen)? > reclen {
        return None;
    }
    Some(NativeDirent {
        fileno: u64::from_ne_bytes(le_or_ne(buf, DIRENT_D_FILENO)?),
        off: u64::from_ne_bytes(le_or_ne(buf, DIRENT_D_OFF)?),
        d_type: *buf.get(DIRENT_D_TYPE)?,
        name: buf.get(DIRENT_D_NAME..DIRENT_D_NAME + namlen)?,
        reclen,
    })
}

/// The complete entries at the start of `buf`, in order (the walk ends at
/// the first incomplete or inconsistent one).
pub fn dirents(buf: &[u8]) -> impl Iterator<Item = NativeDirent<'_>> {
    let mut at = 0;
    core::iter::from_fn(move || {
        let d = dirent(buf.get(at..)?)?;
        at += d.reclen;
        Some(d)
    })
}

// ---- sockets ---------------------------------------------------------------

/// `recvmsg` flags for `ri_flags`.
pub fn recv_flags(f: Riflags) -> i32 {
    let mut n = 0;
    if f.contains(Riflags::PEEK) {
        n |= MSG_PEEK;
    }
    if f.contains(Riflags::WAITALL) {
        n |= MSG_WAITALL;
    }
    n
}

/// `ro_flags` for the returned `msg_flags` (`MSG_CTRUNC` cannot happen:
/// control data comes back as mbufs without a size limit).
pub fn ro_flags(msg_flags: i32) -> Roflags {
    if msg_flags & MSG_TRUNC != 0 { Roflags::DATA_TRUNCATED } else { Roflags::EMPTY }
}

/// `shutdown` direction (the core rejects an empty set).
pub fn shutdown_how(how: Sdflags) -> i32 {
    match (how.contains(Sdflags::RD), how.contains(Sdflags::WR)) {
        (true, true) => SHUT_RDWR,
        (true, false) => SHUT_RD,
        _ => SHUT_WR,
    }
}

/// `_ALIGN`: control messages are padded to this.
pub fn cmsg_align(n: usize) -> Option<usize> {
    Some(n.checked_add(ALIGNBYTES)? & !ALIGNBYTES)
}

/// One control message inside a control buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmsg<'a> {
    pub level: i32,
    pub ty: i32,
    pub data: &'a [u8],
}

/// The control messages in `buf` (one mbuf's data), in order; stops at
/// the first malformed header.
pub fn cmsgs(buf: &[u8]) -> impl Iterator<Item = Cmsg<'_>> {
    let mut at = 0usize;
    core::iter::from_fn(move || {
        let rest = buf.get(at..)?;
        let len = u32::from_ne_bytes(le_or_ne(rest, 0)?) as usize;
        let level = i32::from_ne_bytes(le_or_ne(rest, CMSG_LEVEL_OFF)?);
        let ty = i32::from_ne_bytes(le_or_ne(rest, CMSG_TYPE_OFF)?);
        let data = rest.get(CMSG_HDR_LEN..len)?;
        at = at.checked_add(cmsg_align(len)?)?;
        Some(Cmsg { level, ty, data })
    })
}

/// The descriptor numbers of an `SCM_RIGHTS` payload.
pub fn rights_fds(data: &[u8]) -> impl Iterator<Item = i32> + '_ {
    data.chunks_exact(4).map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
}

// ---- poll: kevents ---------------------------------------------------------

/// The fields of a `struct kevent` (the backend copies them to and from
/// the kernel's record).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeventFields {
    pub ident: u64,
    pub filter: i16,
    pub flags: u16,
    pub fflags: u32,
    pub data: i64,
    pub udata: u64,
    pub ext: [u64; 4],
}

/// `ext[2]` of a change that stands for a subscription already known to
/// fail: kqueue rejects it (an invalid filter) and echoes it back with
/// `EV_ERROR`; `ext[3]` then carries the CloudABI type and errno.
pub const FAILED_MARK: u64 = 0x6361_6269_6661_696c; // "cabifail"

/// A filter number no kqueue accepts (below every `EVFILT_*`), so a
/// failed subscription comes back as an `EV_ERROR` event in order.
pub const INVALID_FILTER: i16 = i16::MIN;

/// A kqueue change for a subscription that cannot be waited on.
pub fn failed_change(userdata: Userdata, ty: u8, error: Errno) -> KeventFields {
    KeventFields {
        filter: INVALID_FILTER,
        flags: EV_ADD | EV_ONESHOT,
        udata: userdata.raw(),
        ext: [0, 0, FAILED_MARK, (u64::from(ty) << 16) | u64::from(error.raw())],
        ..KeventFields::default()
    }
}

/// The timer change for a clock subscription: `ident` unique per
/// subscription, a one-shot relative timer of `ns` nanoseconds (clamped to
/// the native `intptr_t`).
pub fn timer_change(ident: u64, userdata: Userdata, ns: u64) -> KeventFields {
    KeventFields {
        ident,
        filter: EVFILT_TIMER,
        flags: EV_ADD | EV_ONESHOT,
        fflags: NOTE_NSECONDS,
        data: i64::try_from(ns).unwrap_or(i64::MAX),
        udata: userdata.raw(),
        ..KeventFields::default()
    }
}

/// The pages `[start, end)` of a non-empty range of user memory, as
/// `kern_mprotect` rounds it (4 KiB pages on amd64 and arm64); `None` for
/// an empty range or one that wraps.
pub fn page_range(addr: u64, len: u64) -> Option<(usize, usize)> {
    const PAGE: u64 = 4096;
    if len == 0 {
        return None;
    }
    let end = addr.checked_add(len)?.checked_add(PAGE - 1)? & !(PAGE - 1);
    Some((usize::try_from(addr & !(PAGE - 1)).ok()?, usize::try_from(end).ok()?))
}

/// The longest `EVFILT_TIMER` the module arms: 2³⁰ s (34 years), as good
/// as forever. FreeBSD 15.0's `filt_timerstart()` (sys/kern/kern_event.c)
/// adds the timer to `sbinuptime()` without an overflow check, and
/// `timer2sbintime()` turns anything from 2³¹ s up into `SBT_MAX`: a
/// longer timer would wrap to a time in the past and fire at once.
pub const MAX_TIMER_NS: u64 = (1 << 30) * 1_000_000_000;

/// How long a clock subscription waits, given the current value of its
/// clock (only read for absolute timeouts): relative timeouts are measured
/// from now whatever clock they name, absolute ones are turned into
/// relative ones once, as FreeBSD's CloudABI did; a deadline already past
/// (or now) waits 0 ns, which kqueue reports at once; at most
/// [`MAX_TIMER_NS`].
pub fn timer_ns(d: &Deadline, now: u64) -> u64 {
    let ns = if d.absolute { d.timeout.saturating_sub(now) } else { d.timeout };
    ns.min(MAX_TIMER_NS)
}

/// Whether an absolute futex deadline has passed, given its clock's
/// current value: such a wait times out without sleeping. FreeBSD 15.0's
/// `umtx_abs_timeout_getsbt()` (sys/kern/kern_umtx.c) turns a
/// `CLOCK_MONOTONIC` deadline of 0 (or a `CLOCK_REALTIME` one equal to the
/// boot time) into an `sbt` of 0, which `msleep_sbt()` takes for "no
/// timeout": without this check such a wait never ends (issue 21).
pub fn deadline_passed(at: u64, now: u64) -> bool {
    at <= now
}

/// The `timespec` of an absolute futex deadline for
/// `umtx_abs_timeout_init()`: never the all-zero time, which the kernel
/// would wait on forever (see [`deadline_passed`]).
pub fn umtx_deadline(at: u64) -> (i64, i64) {
    match timespec(at) {
        (0, 0) => (0, 1),
        t => t,
    }
}

/// The change for a descriptor subscription. Reads use `NOTE_FILE_POLL`,
/// so regular files are readable as `poll(2)` says they are.
pub fn fd_change(fd: i32, userdata: Userdata, ty: Eventtype) -> KeventFields {
    let (filter, fflags) = match ty {
        Eventtype::FD_READ => (EVFILT_READ, NOTE_FILE_POLL),
        Eventtype::FD_WRITE => (EVFILT_WRITE, 0),
        _ => (EVFILT_PROCDESC, NOTE_EXIT),
    };
    KeventFields {
        ident: fd as u32 as u64,
        filter,
        flags: EV_ADD | EV_ONESHOT,
        fflags,
        udata: userdata.raw(),
        ..KeventFields::default()
    }
}

/// The CloudABI event type a filter reports.
fn event_type(filter: i16) -> u8 {
    match filter {
        EVFILT_TIMER => Eventtype::CLOCK.raw(),
        EVFILT_READ => Eventtype::FD_READ.raw(),
        EVFILT_WRITE => Eventtype::FD_WRITE.raw(),
        _ => Eventtype::PROC_TERMINATE.raw(),
    }
}

/// `(signal, exit code)` from a wait status (`WIFSIGNALED`/`WTERMSIG`/
/// `WEXITSTATUS`); unknown signals are `SIGABRT`.
pub fn termination(status: i64) -> (Option<Signal>, u32) {
    let sig = (status & 0x7f) as i32;
    if sig != 0 && sig != 0x7f {
        (Some(sys::signal::from_native(&sys::signal::FREEBSD, sig)), 0)
    } else {
        (None, ((status >> 8) & 0xff) as u32)
    }
}

/// The CloudABI event for a kevent kqueue returned.
pub fn ready(k: &KeventFields) -> Ready {
    let userdata = Userdata::new(k.udata);
    if k.flags & EV_ERROR != 0 {
        if k.ext[2] == FAILED_MARK {
            let error = Errno::new((k.ext[3] & 0xffff) as u16).unwrap_or(Errno::INVAL);
            return Ready::Error { userdata, ty: (k.ext[3] >> 16) as u8, error };
        }
        let error = sys::errno::from_freebsd(i32::try_from(k.data).unwrap_or(EINVAL));
        return Ready::Error { userdata, ty: event_type(k.filter), error };
    }
    let nbytes = u64::try_from(k.data).unwrap_or(0);
    let hangup = k.flags & EV_EOF != 0;
    match k.filter {
        EVFILT_TIMER => Ready::Clock { userdata },
        EVFILT_READ => Ready::FdRead { userdata, nbytes, hangup },
        EVFILT_WRITE => Ready::FdWrite { userdata, nbytes, hangup },
        _ => {
            let (signal, exitcode) = termination(k.data);
            Ready::ProcTerminate { userdata, signal, exitcode }
        }
    }
}

// ---- exec --------------------------------------------------------------------

/// The argument count exec sees for CloudABI argument data: the bytes are
/// copied followed by one NUL, and each NUL ends a "string" (at least
/// one, so exec's `argc == 0` check never rejects CloudABI data).
pub fn exec_argc(data: &[u8]) -> usize {
    1 + data.iter().filter(|&&b| b == 0).count()
}

// ---- signals ---------------------------------------------------------------

/// `fd_seek(0, CUR)` ("tell") from a file's type and current offset,
/// without `kern_lseek`, which demands `CAP_SEEK` (`cap_seek_rights`) even
/// for a tell, where CloudABI's `fd_tell` suffices. The result is what
/// lseek(2) gives: files without a seek operation (`invfo_seek`: pipes,
/// FIFOs, sockets, kqueues, process descriptors) fail with `ESPIPE`;
/// vnodes (`vn_seek`) and shared memory (`shm_seek`) report the offset,
/// and a negative one is `EOVERFLOW` except on character devices (as
/// `vn_seek`'s `noneg`). Returns the offset or a native errno.
pub fn tell(f_type: i16, v_type: Option<u8>, offset: i64) -> Result<u64, i32> {
    match f_type {
        DTYPE_VNODE | DTYPE_SHM => {}
        _ => return Err(ESPIPE),
    }
    if offset < 0 && !(f_type == DTYPE_VNODE && v_type == Some(VCHR)) {
        return Err(EOVERFLOW);
    }
    Ok(offset as u64)
}

/// The native number of a CloudABI signal.
pub fn native_signal(s: Signal) -> i32 {
    sys::signal::to_native(&sys::signal::FREEBSD, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sys::rights::cap;

    #[test]
    fn tell_without_seeking() {
        assert_eq!(tell(DTYPE_VNODE, Some(VREG), 4096), Ok(4096));
        assert_eq!(tell(DTYPE_VNODE, Some(VDIR), 0), Ok(0));
        assert_eq!(tell(DTYPE_SHM, None, 7), Ok(7));
        // As lseek(2): no offset on pipes, FIFOs, sockets, process descriptors.
        for t in [DTYPE_PIPE, DTYPE_FIFO, DTYPE_SOCKET, DTYPE_PROCDESC] {
            assert_eq!(tell(t, None, 0), Err(ESPIPE), "{t}");
        }
        // Negative offsets only on character devices.
        assert_eq!(tell(DTYPE_VNODE, Some(VREG), -1), Err(EOVERFLOW));
        assert_eq!(tell(DTYPE_VNODE, Some(VCHR), -1), Ok(u64::MAX));
    }

    #[test]
    fn limits_without_a_list_have_no_cap_ioctl() {
        // filecaps_validate: fc_nioctls == 0 || CAP_IOCTL is set.
        let all = capsicum(FdRights { base: Rights::ALL, inheriting: Rights::ALL });
        assert!(all.has(CAP_IOCTL), "exact rights need the list, so CAP_IOCTL");
        let l = listless(all);
        assert!(!l.has(CAP_IOCTL));
        assert_eq!(listless(l), l);
        // Only CAP_IOCTL's own bit goes: the index marker and CAP_EVENT stay.
        assert!(l.has(cap::EVENT));
        assert_eq!(l.0[0], all.0[0]);
        assert_eq!(listless(CapRights::NONE), CapRights::NONE);
        assert_eq!(listless_nioctls(-1), -1);
        for n in [0i16, 1, 63, 256, i16::MAX] {
            assert_eq!(listless_nioctls(n), 0, "{n}");
        }
    }

    fn dec(list: &[u64]) -> Option<FdRights> {
        sys::caplist::decode(list)
    }

    #[test]
    fn exact_rights_come_from_the_list() {
        let exact = FdRights { base: Rights::FD_SEEK | Rights::FD_READ, inheriting: Rights::EMPTY };
        let caps = capsicum(exact);
        let (list, n) = sys::caplist::encode(exact);
        let r = rights(caps, dec(&list[..n]), Filetype::REGULAR_FILE, FREAD | FWRITE);
        assert_eq!(r, exact, "CAP_SEEK includes CAP_SEEK_TELL, but fd_tell is not granted");
        // Without the list: the Capsicum derivation (both).
        let r = rights(caps, None, Filetype::REGULAR_FILE, FREAD | FWRITE);
        assert!(r.base.contains(Rights::FD_SEEK | Rights::FD_TELL));
        // A list never widens what Capsicum and the access mode allow.
        let (list, n) = sys::caplist::encode(FdRights { base: Rights::ALL, inheriting: Rights::ALL });
        let r = rights(caps, dec(&list[..n]), Filetype::REGULAR_FILE, FWRITE);
        // (file_advise needs no Capsicum right; fd_read goes with FREAD.)
        assert_eq!(r.base, Rights::FD_TELL | Rights::FD_SEEK | Rights::FILE_ADVISE);
        assert_eq!(r.inheriting, Rights::EMPTY);
        // A directory: base and inheriting apart (Capsicum has one set).
        let dir = FdRights { base: Rights::FILE_READLINK, inheriting: Rights::FD_READ };
        let (list, n) = sys::caplist::encode(dir);
        assert_eq!(rights(capsicum(dir), dec(&list[..n]), Filetype::DIRECTORY, FREAD), dir);
        // mem_map with fd_read and no fd_seek: Capsicum gets CAP_MMAP_R
        // (kern_mmap's check), the CloudABI rights stay without fd_seek.
        let m = FdRights { base: Rights::MEM_MAP | Rights::FD_READ, inheriting: Rights::EMPTY };
        let (list, n) = sys::caplist::encode(m);
        assert!(capsicum(m).has(cap::MMAP | cap::SEEK | cap::READ));
        assert_eq!(rights(capsicum(m), dec(&list[..n]), Filetype::REGULAR_FILE, FREAD), m);
    }

    #[test]
    fn file_types() {
        assert_eq!(filetype(DTYPE_VNODE, Some(VREG), None), Filetype::REGULAR_FILE);
        assert_eq!(filetype(DTYPE_VNODE, Some(VDIR), None), Filetype::DIRECTORY);
        assert_eq!(filetype(DTYPE_VNODE, Some(VCHR), None), Filetype::CHARACTER_DEVICE);
        assert_eq!(filetype(DTYPE_VNODE, Some(VBLK), None), Filetype::BLOCK_DEVICE);
        assert_eq!(filetype(DTYPE_VNODE, Some(VLNK), None), Filetype::SYMBOLIC_LINK);
        assert_eq!(filetype(DTYPE_VNODE, Some(VFIFO), None), Filetype::SOCKET_STREAM);
        assert_eq!(filetype(DTYPE_VNODE, Some(8), None), Filetype::UNKNOWN, "VBAD");
        assert_eq!(filetype(DTYPE_VNODE, None, None), Filetype::UNKNOWN);
        assert_eq!(filetype(DTYPE_SOCKET, None, Some(SOCK_STREAM)), Filetype::SOCKET_STREAM);
        assert_eq!(filetype(DTYPE_SOCKET, None, Some(SOCK_DGRAM)), Filetype::SOCKET_DGRAM);
        assert_eq!(filetype(DTYPE_SOCKET, None, Some(5)), Filetype::UNKNOWN, "SOCK_SEQPACKET");
        assert_eq!(filetype(DTYPE_PIPE, None, None), Filetype::SOCKET_STREAM);
        assert_eq!(filetype(DTYPE_FIFO, None, None), Filetype::SOCKET_STREAM);
        assert_eq!(filetype(DTYPE_SHM, None, None), Filetype::SHARED_MEMORY);
        assert_eq!(filetype(DTYPE_PROCDESC, None, None), Filetype::PROCESS);
        assert_eq!(filetype(5, None, None), Filetype::UNKNOWN, "kqueue");
        assert_eq!(filetype_of_mode(S_IFREG | 0o644), Filetype::REGULAR_FILE);
        assert_eq!(filetype_of_mode(S_IFSOCK), Filetype::SOCKET_STREAM);
        assert_eq!(filetype_of_mode(S_IFIFO), Filetype::SOCKET_STREAM);
        assert_eq!(filetype_of_mode(0), Filetype::UNKNOWN);
        assert_eq!(filetype_of_dirent(DT_DIR), Filetype::DIRECTORY);
        assert_eq!(filetype_of_dirent(DT_SOCK), Filetype::SOCKET_STREAM);
        assert_eq!(filetype_of_dirent(0), Filetype::UNKNOWN);
        assert_eq!(filetype_of_dirent(14), Filetype::UNKNOWN, "DT_WHT");
    }

    #[test]
    fn rights_follow_capsicum_type_and_access_mode() {
        let all = capsicum(FdRights { base: Rights::ALL, inheriting: Rights::ALL });
        let r = rights(all, None, Filetype::REGULAR_FILE, FREAD | FWRITE);
        assert_eq!(r, sys::rights::max_for(Filetype::REGULAR_FILE));
        let r = rights(all, None, Filetype::REGULAR_FILE, FREAD);
        assert!(r.base.contains(Rights::FD_READ) && !r.base.contains(Rights::FD_WRITE));
        let r = rights(all, None, Filetype::REGULAR_FILE, FWRITE);
        assert!(!r.base.contains(Rights::FD_READ) && r.base.contains(Rights::FD_WRITE));
        // A read-only directory still passes write rights on.
        let r = rights(all, None, Filetype::DIRECTORY, FREAD);
        assert!(r.inheriting.contains(Rights::FD_WRITE));
        // Process descriptors: CAP_FSTAT | CAP_EVENT.
        let pd = CapRights::NONE.with(cap::FSTAT).with(cap::EVENT);
        let r = rights(pd, None, Filetype::PROCESS, FREAD | FWRITE);
        assert_eq!(r.base, Rights::FILE_STAT_FGET | Rights::POLL_PROC_TERMINATE);
        assert_eq!(r.inheriting, Rights::EMPTY);
        // Narrowing never needs a Capsicum right the descriptor lacks.
        for ft in Filetype::VALUES {
            let had = capsicum(FdRights { base: Rights::ALL, inheriting: Rights::EMPTY });
            let got = rights(had, None, ft, FREAD | FWRITE);
            let again = capsicum(got);
            for w in 0..2 {
                assert_eq!(again.0[w] & !had.0[w], 0, "{ft:?}");
            }
        }
    }

    #[test]
    fn descriptor_flags() {
        assert_eq!(fdflags(FAPPEND | FNONBLOCK | FREAD), Fdflags::APPEND | Fdflags::NONBLOCK);
        assert_eq!(fdflags(FFSYNC), Fdflags::SYNC);
        assert_eq!(status_flags(Fdflags::DSYNC), O_SYNC);
        assert_eq!(status_flags(Fdflags::RSYNC | Fdflags::APPEND), O_SYNC | O_APPEND);
        assert_eq!(status_flags(Fdflags::NONBLOCK), O_NONBLOCK);
        assert_eq!(status_flags(Fdflags::EMPTY), 0);
        for f in [Fdflags::APPEND, Fdflags::NONBLOCK, Fdflags::SYNC] {
            assert_eq!(fdflags(status_flags(f) as u32), f, "round trip {f:?}");
        }
    }

    #[test]
    fn open_flag_translation() {
        let o = open_flags(Oflags::EMPTY, Fdflags::EMPTY, Rights::FD_READ, true);
        assert_eq!(o, O_RDONLY | O_RESOLVE_BENEATH);
        let o = open_flags(Oflags::CREAT | Oflags::TRUNC, Fdflags::APPEND, Rights::FD_WRITE, false);
        assert_eq!(o, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_RESOLVE_BENEATH);
        let o = open_flags(
            Oflags::DIRECTORY | Oflags::EXCL,
            Fdflags::DSYNC,
            Rights::FD_READ | Rights::FD_DATASYNC,
            true,
        );
        assert_eq!(o, O_RDWR | O_DIRECTORY | O_EXCL | O_SYNC | O_RESOLVE_BENEATH);
        // Neither reading nor writing: read-only.
        assert_eq!(open_flags(Oflags::EMPTY, Fdflags::EMPTY, Rights::FILE_OPEN, true) & 3, O_RDONLY);
        assert_eq!(at_flags(true, false), AT_SYMLINK_FOLLOW | AT_RESOLVE_BENEATH);
        assert_eq!(at_flags(false, false), AT_RESOLVE_BENEATH);
        assert_eq!(at_flags(false, true), AT_SYMLINK_NOFOLLOW | AT_RESOLVE_BENEATH);
        assert_eq!(at_flags(true, true), AT_RESOLVE_BENEATH);
    }

    #[test]
    fn small_enums() {
        assert_eq!(whence(Whence::SET), SEEK_SET);
        assert_eq!(whence(Whence::CUR), SEEK_CUR);
        assert_eq!(whence(Whence::END), SEEK_END);
        assert_eq!(fadvice(Advice::NOREUSE), POSIX_FADV_NOREUSE);
        assert_eq!(fadvice(Advice::NORMAL), POSIX_FADV_NORMAL);
        assert_eq!(fadvice(Advice::WILLNEED), POSIX_FADV_WILLNEED);
        assert_eq!(madvice(Advice::DONTNEED), MADV_DONTNEED);
        assert_eq!(madvice(Advice::SEQUENTIAL), MADV_SEQUENTIAL);
        assert_eq!(prot(Mprot::READ | Mprot::EXEC), PROT_READ | PROT_EXEC);
        assert_eq!(prot(Mprot::EMPTY), 0);
        assert_eq!(map_flags(Mflags::ANON | Mflags::PRIVATE), MAP_ANON | MAP_PRIVATE);
        assert_eq!(map_flags(Mflags::SHARED | Mflags::FIXED), MAP_SHARED | MAP_FIXED);
        assert_eq!(msync_flags(Msflags::SYNC | Msflags::INVALIDATE), MS_SYNC | MS_INVALIDATE);
        assert_eq!(msync_flags(Msflags::ASYNC), MS_ASYNC);
        assert_eq!(clock_id(Clockid::MONOTONIC), Some(CLOCK_MONOTONIC));
        assert_eq!(clock_id(Clockid::REALTIME), Some(CLOCK_REALTIME));
        assert_eq!(clock_id(Clockid::PROCESS_CPUTIME_ID), Some(CLOCK_PROCESS_CPUTIME_ID));
        assert_eq!(clock_id(Clockid::THREAD_CPUTIME_ID), Some(CLOCK_THREAD_CPUTIME_ID));
        assert_eq!(recv_flags(Riflags::PEEK | Riflags::WAITALL), MSG_PEEK | MSG_WAITALL);
        assert_eq!(ro_flags(MSG_TRUNC | MSG_CTRUNC), Roflags::DATA_TRUNCATED);
        assert_eq!(ro_flags(0), Roflags::EMPTY);
        assert_eq!(shutdown_how(Sdflags::RD), SHUT_RD);
        assert_eq!(shutdown_how(Sdflags::WR), SHUT_WR);
        assert_eq!(shutdown_how(Sdflags::ALL), SHUT_RDWR);
        assert_eq!(native_signal(Signal::USR1), 30);
        assert_eq!(native_signal(Signal::ABRT), 6);
    }

    #[test]
    fn exec_argument_count() {
        assert_eq!(exec_argc(b""), 1);
        assert_eq!(exec_argc(b"abc"), 1);
        assert_eq!(exec_argc(b"a\0b"), 2);
        assert_eq!(exec_argc(b"a\0"), 2);
        assert_eq!(exec_argc(&[0; 5]), 6);
    }

    #[test]
    fn times() {
        assert_eq!(clock_ns(1, 5), Ok(1_000_000_005));
        assert_eq!(clock_ns(-1, 0), Err(Errno::OVERFLOW));
        assert_eq!(clock_ns(i64::MAX, 0), Err(Errno::OVERFLOW));
        assert_eq!(clock_ns(18_446_744_073, 709_551_615), Ok(u64::MAX));
        assert_eq!(clock_ns(18_446_744_073, 709_551_616), Err(Errno::OVERFLOW));
        assert_eq!(stat_ns(-5, 3), 0);
        assert_eq!(stat_ns(i64::MAX, 0), u64::MAX);
        assert_eq!(stat_ns(2, 1), 2_000_000_001);
        assert_eq!(timespec(3_000_000_004), (3, 4));
        assert_eq!(timespec(u64::MAX), (18_446_744_073, 709_551_615));
        assert_eq!(set_time(SetTime::Keep).1, UTIME_OMIT);
        assert_eq!(set_time(SetTime::Now).1, UTIME_NOW);
        assert_eq!(set_time(SetTime::To(1_500_000_000)), (1, 500_000_000));
    }

    fn native_dirent(fileno: u64, off: u64, d_type: u8, name: &[u8]) -> Vec<u8> {
        let reclen = (DIRENT_D_NAME + name.len() + 1).next_multiple_of(8);
        let mut v = vec![0u8; reclen];
        v[DIRENT_D_FILENO..DIRENT_D_FILENO + 8].copy_from_slice(&fileno.to_ne_bytes());
        v[DIRENT_D_OFF..DIRENT_D_OFF + 8].copy_from_slice(&off.to_ne_bytes());
        v[DIRENT_D_RECLEN..DIRENT_D_RECLEN + 2].copy_from_slice(&(reclen as u16).to_ne_bytes());
        v[DIRENT_D_TYPE] = d_type;
        v[DIRENT_D_NAMLEN..DIRENT_D_NAMLEN + 2].copy_from_slice(&(name.len() as u16).to_ne_bytes());
        v[DIRENT_D_NAME..DIRENT_D_NAME + name.len()].copy_from_slice(name);
        v
    }

    #[test]
    fn directory_entries() {
        let mut buf = native_dirent(7, 100, DT_REG, b"hello");
        buf.extend(native_dirent(8, 200, DT_DIR, b"sub"));
        let a = dirent(&buf).unwrap();
        assert_eq!((a.fileno, a.off, a.d_type, a.name), (7, 100, DT_REG, &b"hello"[..]));
        let b = dirent(&buf[a.reclen..]).unwrap();
        assert_eq!((b.fileno, b.off, b.name), (8, 200, &b"sub"[..]));
        assert_eq!(dirent(&buf[a.reclen + b.reclen..]), None);
        let all: Vec<u64> = dirents(&buf).map(|d| d.fileno).collect();
        assert_eq!(all, [7, 8]);
        assert_eq!(dirents(&buf[..buf.len() - 1]).count(), 1, "a cut entry ends the walk");
        // Cut short, or inconsistent lengths: no entry (and no panic).
        for cut in 0..a.reclen {
            assert_eq!(dirent(&buf[..cut]), None, "cut at {cut}");
        }
        let mut bad = native_dirent(1, 2, DT_REG, b"x");
        bad[DIRENT_D_NAMLEN] = 200;
        assert_eq!(dirent(&bad), None);
        let mut bad = native_dirent(1, 2, DT_REG, b"x");
        bad[DIRENT_D_RECLEN] = 0;
        bad[DIRENT_D_RECLEN + 1] = 0;
        assert_eq!(dirent(&bad), None);
    }

    fn cmsg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
        let len = CMSG_HDR_LEN + data.len();
        let mut v = vec![0u8; cmsg_align(len).unwrap()];
        v[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
        v[CMSG_LEVEL_OFF..CMSG_LEVEL_OFF + 4].copy_from_slice(&level.to_ne_bytes());
        v[CMSG_TYPE_OFF..CMSG_TYPE_OFF + 4].copy_from_slice(&ty.to_ne_bytes());
        v[CMSG_HDR_LEN..len].copy_from_slice(data);
        v
    }

    #[test]
    fn control_messages() {
        let fds: Vec<u8> = [3i32, 4, 5].iter().flat_map(|f| f.to_ne_bytes()).collect();
        let mut buf = cmsg(SOL_SOCKET, SCM_RIGHTS, &fds);
        buf.extend(cmsg(SOL_SOCKET, 2, b"abcd1234"));
        let all: Vec<_> = cmsgs(&buf).collect();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].level, all[0].ty), (SOL_SOCKET, SCM_RIGHTS));
        assert_eq!(rights_fds(all[0].data).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(all[1].data, b"abcd1234");
        // Truncated buffers end the walk without a panic.
        for cut in 0..buf.len() {
            let _ = cmsgs(&buf[..cut]).count();
        }
        let mut bad = cmsg(SOL_SOCKET, SCM_RIGHTS, &fds);
        bad[0] = 2; // cmsg_len below the header
        assert_eq!(cmsgs(&bad).count(), 0);
        assert_eq!(cmsg_align(13), Some(16));
        assert_eq!(cmsg_align(usize::MAX), None);
    }

    #[test]
    fn kevent_changes() {
        let t = timer_change(3, Userdata::new(0xabc), u64::MAX);
        assert_eq!(
            (t.ident, t.filter, t.fflags, t.data, t.udata),
            (3, EVFILT_TIMER, NOTE_NSECONDS, i64::MAX, 0xabc)
        );
        assert_eq!(t.flags, EV_ADD | EV_ONESHOT);
        let r = fd_change(7, Userdata::new(1), Eventtype::FD_READ);
        assert_eq!((r.ident, r.filter, r.fflags), (7, EVFILT_READ, NOTE_FILE_POLL));
        let w = fd_change(7, Userdata::new(1), Eventtype::FD_WRITE);
        assert_eq!((w.filter, w.fflags), (EVFILT_WRITE, 0));
        let p = fd_change(9, Userdata::new(1), Eventtype::PROC_TERMINATE);
        assert_eq!((p.filter, p.fflags), (EVFILT_PROCDESC, NOTE_EXIT));
        let d = Deadline { clock: Clockid::REALTIME, timeout: 500, precision: 0, absolute: true };
        assert_eq!(timer_ns(&d, 200), 300);
        assert_eq!(timer_ns(&d, 900), 0);
        let d = Deadline { absolute: false, ..d };
        assert_eq!(timer_ns(&d, 900), 500);
    }

    /// Every deadline form of a clock subscription: absolute and relative,
    /// each clock, past, zero, now and huge.
    #[test]
    fn clock_subscription_deadlines() {
        let now = 5_000_000_000u64;
        for clock in
            [Clockid::MONOTONIC, Clockid::REALTIME, Clockid::PROCESS_CPUTIME_ID, Clockid::THREAD_CPUTIME_ID]
        {
            let abs = |timeout| Deadline { clock, timeout, precision: 0, absolute: true };
            let rel = |timeout| Deadline { clock, timeout, precision: 0, absolute: false };
            assert_eq!(timer_ns(&abs(0), now), 0, "absolute 0 fires at once");
            assert_eq!(timer_ns(&abs(1), now), 0, "absolute past");
            assert_eq!(timer_ns(&abs(now), now), 0, "absolute now");
            assert_eq!(timer_ns(&abs(now + 7), now), 7, "absolute future");
            assert_eq!(timer_ns(&abs(u64::MAX), now), MAX_TIMER_NS, "absolute huge");
            assert_eq!(timer_ns(&abs(u64::MAX), 0), MAX_TIMER_NS);
            assert_eq!(timer_ns(&rel(0), now), 0, "relative 0");
            assert_eq!(timer_ns(&rel(7), now), 7, "relative small");
            assert_eq!(timer_ns(&rel(u64::MAX), now), MAX_TIMER_NS, "relative huge");
            assert_eq!(timer_ns(&rel(u64::MAX - 1), now), MAX_TIMER_NS);
            assert_eq!(timer_ns(&rel(MAX_TIMER_NS), now), MAX_TIMER_NS);
        }
        // The timer's nanoseconds stay below what timer2sbintime()
        // saturates (2^31 s) and fit the kevent's intptr_t.
        const { assert!(MAX_TIMER_NS / 1_000_000_000 < (1 << 31)) };
        assert_eq!(timer_change(1, Userdata::new(0), MAX_TIMER_NS).data, MAX_TIMER_NS as i64);
    }

    #[test]
    fn page_ranges() {
        assert_eq!(page_range(0x1000, 0), None);
        assert_eq!(page_range(0x1000, 1), Some((0x1000, 0x2000)));
        assert_eq!(page_range(0x1fff, 2), Some((0x1000, 0x3000)));
        assert_eq!(page_range(0x2000, 0x2000), Some((0x2000, 0x4000)));
        assert_eq!(page_range(u64::MAX - 10, 100), None);
        assert_eq!(page_range(u64::MAX - 4094, 1), None);
    }

    /// Absolute futex deadlines (what sys::sync::until makes of every
    /// lock and condvar timeout, on MONOTONIC or REALTIME): past, zero,
    /// now and huge.
    #[test]
    fn futex_deadlines() {
        assert!(deadline_passed(0, 0), "monotonic 0 at boot");
        assert!(deadline_passed(0, 5), "0: the C library's already-expired condvar wait");
        assert!(deadline_passed(4, 5));
        assert!(deadline_passed(5, 5), "now");
        assert!(!deadline_passed(6, 5));
        assert!(!deadline_passed(u64::MAX, 5), "huge");
        assert_eq!(umtx_deadline(0), (0, 1), "never the zero time the kernel waits on forever");
        assert_eq!(umtx_deadline(1), (0, 1));
        assert_eq!(umtx_deadline(1_500_000_000), (1, 500_000_000));
        assert_eq!(umtx_deadline(u64::MAX), (18_446_744_073, 709_551_615));
    }

    #[test]
    fn kevents_become_events() {
        let mut k = timer_change(1, Userdata::new(42), 10);
        assert_eq!(ready(&k), Ready::Clock { userdata: Userdata::new(42) });
        k = fd_change(5, Userdata::new(43), Eventtype::FD_READ);
        k.data = 17;
        k.flags |= EV_EOF;
        assert_eq!(ready(&k), Ready::FdRead { userdata: Userdata::new(43), nbytes: 17, hangup: true });
        k = fd_change(5, Userdata::new(44), Eventtype::FD_WRITE);
        k.data = -1;
        assert_eq!(ready(&k), Ready::FdWrite { userdata: Userdata::new(44), nbytes: 0, hangup: false });
        // A registration error: errno in `data`.
        k = fd_change(5, Userdata::new(45), Eventtype::FD_WRITE);
        k.flags |= EV_ERROR;
        k.data = EBADF as i64;
        assert_eq!(
            ready(&k),
            Ready::Error { userdata: Userdata::new(45), ty: Eventtype::FD_WRITE.raw(), error: Errno::BADF }
        );
        k.data = ENOTCAPABLE as i64;
        assert_eq!(
            ready(&k),
            Ready::Error {
                userdata: Userdata::new(45),
                ty: Eventtype::FD_WRITE.raw(),
                error: Errno::NOTCAPABLE
            }
        );
        // A subscription that failed before kqueue saw it keeps its errno.
        let mut f = failed_change(Userdata::new(46), 99, Errno::NOTCAPABLE);
        f.flags |= EV_ERROR;
        f.data = EINVAL as i64;
        assert_eq!(ready(&f), Ready::Error { userdata: Userdata::new(46), ty: 99, error: Errno::NOTCAPABLE });
        // Process termination: exit status and signals.
        k = fd_change(9, Userdata::new(47), Eventtype::PROC_TERMINATE);
        k.data = 3 << 8;
        assert_eq!(
            ready(&k),
            Ready::ProcTerminate { userdata: Userdata::new(47), signal: None, exitcode: 3 }
        );
        k.data = 15; // SIGTERM
        assert_eq!(
            ready(&k),
            Ready::ProcTerminate { userdata: Userdata::new(47), signal: Some(Signal::TERM), exitcode: 0 }
        );
        k.data = 0x80 | 11; // SIGSEGV with a core dump
        assert_eq!(
            ready(&k),
            Ready::ProcTerminate { userdata: Userdata::new(47), signal: Some(Signal::SEGV), exitcode: 0 }
        );
        k.data = 33; // a signal CloudABI has no name for
        assert_eq!(
            ready(&k),
            Ready::ProcTerminate { userdata: Userdata::new(47), signal: Some(Signal::ABRT), exitcode: 0 }
        );
    }
}
