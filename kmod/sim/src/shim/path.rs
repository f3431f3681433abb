//! Path lookups relative to a descriptor, as namei(9) does them for a
//! CloudABI process: the directory descriptor needs `CAP_LOOKUP` plus the
//! operation's rights; in capability mode (and with `O_RESOLVE_BENEATH`/
//! `AT_RESOLVE_BENEATH`) the lookup is strictly relative: absolute paths
//! and `..` above the directory fail with `ENOTCAPABLE`, symbolic links
//! are followed only beneath it. Linux's `openat2(RESOLVE_BENEATH)` does
//! the beneath walk (its `EXDEV` becomes `ENOTCAPABLE`); the other `*at`
//! operations open the parent directory that way and act on the last
//! component. Paths come from kernel memory (`UIO_SYSSPACE`).

use std::ffi::{CStr, CString, c_char, c_int};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;
use sys::rights::{CapRights, cap};

use super::files::{self, linux_to_freebsd};
use crate::kernel::td_retval;

/// FreeBSD open(2) flags the module uses (sys/fcntl.h) and their Linux
/// equivalents; anything else is not reproduced.
const OPEN_FLAGS: [(c_int, c_int); 9] = [
    (O_NONBLOCK, libc::O_NONBLOCK),
    (O_APPEND, libc::O_APPEND),
    (O_SYNC, libc::O_SYNC),
    (O_NOFOLLOW, libc::O_NOFOLLOW),
    (O_CREAT, libc::O_CREAT),
    (O_TRUNC, libc::O_TRUNC),
    (O_EXCL, libc::O_EXCL),
    (O_DIRECTORY, libc::O_DIRECTORY),
    (O_CLOEXEC, libc::O_CLOEXEC),
];

/// `struct open_how` (linux/openat2.h).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}
const RESOLVE_BENEATH: u64 = 0x08;

fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// A Linux errno of a beneath lookup as FreeBSD reports it.
fn beneath_errno(e: c_int) -> c_int {
    if e == libc::EXDEV { ENOTCAPABLE } else { linux_to_freebsd(e) }
}

/// `openat2(dir, path, flags, RESOLVE_BENEATH)`.
fn open_beneath(dir: c_int, path: &CStr, flags: c_int, mode: u32) -> Result<OwnedFd, c_int> {
    // openat2 refuses a mode without O_CREAT.
    let mode = if flags & libc::O_CREAT != 0 { u64::from(mode) } else { 0 };
    let how = OpenHow { flags: (flags | libc::O_CLOEXEC) as u64, mode, resolve: RESOLVE_BENEATH };
    // Linux fails a beneath lookup with EAGAIN when a concurrent rename
    // could have moved a `..` out; FreeBSD's namei has no such error, so
    // the lookup is retried (openat2(2) asks callers to).
    let mut tries = 0;
    let fd = loop {
        // SAFETY: openat2 with a valid path and open_how.
        let fd = unsafe { libc::syscall(libc::SYS_openat2, dir, path.as_ptr(), &how, size_of::<OpenHow>()) };
        if fd >= 0 {
            break fd;
        }
        let e = errno();
        tries += 1;
        if e != libc::EAGAIN || tries > 10_000 {
            return Err(e);
        }
        std::thread::yield_now();
    };
    // SAFETY: a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as c_int) })
}

/// The directory descriptor `fd` with `CAP_LOOKUP` and `rights`: its host
/// descriptor (the reference is dropped again; the host descriptor stays
/// open as long as the table holds the file, which this syscall's own
/// lookup of the same descriptor guarantees).
fn dir(fd: c_int, rights: u64) -> Result<(c_int, CapRights), c_int> {
    let need = CapRights::NONE.with(cap::LOOKUP).with(rights);
    let (fp, have, _) = files::lookup(fd, Some(&need))?;
    let h = files::host_fd(fp);
    files::fdrop(fp);
    Ok((h, have))
}

/// A kernel-space path argument.
///
/// # Safety
/// `p` is a NUL-terminated string in kernel memory.
unsafe fn kpath<'a>(p: *const c_char, seg: u32) -> &'a CStr {
    if seg != UIO_SYSSPACE {
        super::unimplemented_kpi("a path in user space");
    }
    // SAFETY: caller contract.
    unsafe { CStr::from_ptr(p) }
}

/// Splits `path` into the directory part (opened beneath `dir`) and the
/// last component. `..`, `.` and empty last components stay in the
/// directory part (the last component is then ".").
fn parent(dir: c_int, path: &CStr) -> Result<(OwnedFd, CString), c_int> {
    let b = path.to_bytes();
    if b.first() == Some(&b'/') {
        return Err(ENOTCAPABLE);
    }
    let trimmed = {
        let mut t = b;
        while t.len() > 1 && t.ends_with(b"/") {
            t = &t[..t.len() - 1];
        }
        t
    };
    let (head, last) = match trimmed.iter().rposition(|&c| c == b'/') {
        Some(i) => (&trimmed[..i + 1], &trimmed[i + 1..]),
        None => (&b"."[..], trimmed),
    };
    let (head, last): (Vec<u8>, Vec<u8>) = if last == b".." || last == b"." || last.is_empty() {
        (trimmed.to_vec(), b".".to_vec())
    } else {
        (head.to_vec(), last.to_vec())
    };
    let head = CString::new(head).map_err(|_| EINVAL)?;
    let p = open_beneath(dir, &head, libc::O_PATH | libc::O_DIRECTORY, 0).map_err(beneath_errno)?;
    Ok((p, CString::new(last).map_err(|_| EINVAL)?))
}

/// `kern_openat(9)`: opens `path` beneath `fd` with FreeBSD `flags`
/// (`CAP_LOOKUP` plus what `flags_to_rights()` in vfs_syscalls.c asks:
/// `CAP_READ`, `CAP_WRITE` (+`CAP_SEEK` without `O_APPEND`/`O_TRUNC`),
/// `CAP_CREATE`, `CAP_FTRUNCATE`, `CAP_FSYNC`); the new descriptor, at
/// the lowest free number, starts with the directory's rights (namei's
/// strictly relative lookup); an `O_NOFOLLOW` symlink is `EMLINK`, as
/// FreeBSD's open(2) documents.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_openat(
    td: *mut Thread,
    fd: c_int,
    path: *const c_char,
    seg: u32,
    flags: c_int,
    mode: c_int,
) -> c_int {
    // SAFETY: caller contract.
    let path = unsafe { kpath(path, seg) };
    let mut rights = CapRights::NONE;
    match flags & 3 {
        O_RDONLY => rights = rights.with(cap::READ),
        acc => {
            if acc == O_RDWR {
                rights = rights.with(cap::READ);
            }
            rights = rights.with(cap::WRITE);
            if flags & (O_APPEND | O_TRUNC) == 0 {
                rights = rights.with(cap::SEEK);
            }
        }
    }
    if flags & O_CREAT != 0 {
        rights = rights.with(cap::CREATE);
    }
    if flags & O_TRUNC != 0 {
        rights = rights.with(cap::FTRUNCATE);
    }
    if flags & O_SYNC != 0 {
        rights = rights.with(cap::FSYNC);
    }
    let mut lflags = flags & 3;
    let mut rest = flags & !3 & !O_RESOLVE_BENEATH;
    for (f, l) in OPEN_FLAGS {
        if rest & f != 0 {
            lflags |= l;
            rest &= !f;
        }
    }
    if rest != 0 {
        super::unimplemented_kpi(&format!("kern_openat with flags {rest:#x}"));
    }
    // namei() of a strictly relative path keeps a copy of the directory's
    // limits (ni_filecaps, ioctl list included), which kern_openat gives
    // the new descriptor (finstall_refed) or frees (NDFREE_IOCTLCAPS)
    // (sys/kern/vfs_syscalls.c, vfs_lookup.c, 15.0).
    let (dfp, have) = match files::lookup_caps(fd, Some(&CapRights::NONE.with(cap::LOOKUP))) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let hdir = files::host_fd(dfp);
    let opened = if !(0..2).all(|i| have.rights.0[i] & rights.0[i] == rights.0[i])
        || path.to_bytes().first() == Some(&b'/')
    {
        Err(ENOTCAPABLE)
    } else {
        match open_beneath(hdir, path, lflags, mode as u32 & 0o7777) {
            Ok(h) => Ok(h),
            Err(libc::ELOOP) if flags & O_NOFOLLOW != 0 => Err(EMLINK),
            Err(e) => Err(beneath_errno(e)),
        }
    };
    files::fdrop(dfp);
    let host = match opened {
        Ok(h) => h,
        Err(e) => {
            have.free();
            return e;
        }
    };
    let fp = files::new_file(host);
    let new = files::install(fp, have, None);
    // SAFETY: the current thread's results.
    unsafe { (*td_retval(td))[0] = new as u64 };
    0
}

/// Runs `op(parent, last)` for `path` beneath `fd` (with `rights`).
fn at<R>(
    fd: c_int,
    path: &CStr,
    rights: u64,
    op: impl FnOnce(c_int, &CStr) -> Result<R, c_int>,
) -> Result<R, c_int> {
    let (hdir, _) = dir(fd, rights)?;
    let (p, last) = parent(hdir, path)?;
    op(p.as_raw_fd(), &last)
}

fn status(r: Result<(), c_int>) -> c_int {
    r.err().unwrap_or(0)
}

fn host_result(r: c_int) -> Result<(), c_int> {
    if r < 0 { Err(linux_to_freebsd(errno())) } else { Ok(()) }
}

/// `kern_mkdirat(9)`: `CAP_MKDIRAT` on the directory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_mkdirat(
    _td: *mut Thread,
    fd: c_int,
    path: *const c_char,
    seg: u32,
    mode: c_int,
) -> c_int {
    // SAFETY: caller contract.
    let path = unsafe { kpath(path, seg) };
    status(at(fd, path, cap::MKDIRAT, |d, last| {
        if last.to_bytes() == b"." {
            return Err(EEXIST);
        }
        // SAFETY: a host mkdirat.
        host_result(unsafe { libc::mkdirat(d, last.as_ptr(), mode as u32 & 0o7777) })
    }))
}

/// `kern_symlinkat(9)`: `CAP_SYMLINKAT` on the directory; the target is
/// stored as given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_symlinkat(
    _td: *mut Thread,
    target: *const c_char,
    fd: c_int,
    path: *const c_char,
    seg: u32,
) -> c_int {
    // SAFETY: caller contract.
    let (target, path) = unsafe { (kpath(target, seg), kpath(path, seg)) };
    status(at(fd, path, cap::SYMLINKAT, |d, last| {
        if last.to_bytes() == b"." {
            return Err(EEXIST);
        }
        // SAFETY: a host symlinkat.
        host_result(unsafe { libc::symlinkat(target.as_ptr(), d, last.as_ptr()) })
    }))
}

/// `kern_linkat(9)`: `CAP_LINKAT_SOURCE` on the first directory,
/// `CAP_LINKAT_TARGET` on the second; `AT_SYMLINK_FOLLOW` follows a
/// symbolic link source (beneath its directory).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_linkat(
    _td: *mut Thread,
    fd1: c_int,
    fd2: c_int,
    p1: *const c_char,
    p2: *const c_char,
    seg: u32,
    flags: c_int,
) -> c_int {
    // SAFETY: caller contract.
    let (p1, p2) = unsafe { (kpath(p1, seg), kpath(p2, seg)) };
    if flags & !(AT_SYMLINK_FOLLOW | AT_RESOLVE_BENEATH) != 0 {
        return EINVAL;
    }
    status(at(fd1, p1, cap::LINKAT_SOURCE, |d1, l1| {
        at(fd2, p2, cap::LINKAT_TARGET, |d2, l2| {
            if l2.to_bytes() == b"." {
                return Err(EEXIST);
            }
            if flags & AT_SYMLINK_FOLLOW != 0 {
                // Follow beneath: open the source itself, then link it.
                let src = open_beneath(d1, l1, libc::O_PATH, 0).map_err(beneath_errno)?;
                // SAFETY: a host linkat of an O_PATH descriptor.
                host_result(unsafe {
                    libc::linkat(src.as_raw_fd(), c"".as_ptr(), d2, l2.as_ptr(), libc::AT_EMPTY_PATH)
                })
            } else {
                // SAFETY: a host linkat.
                host_result(unsafe { libc::linkat(d1, l1.as_ptr(), d2, l2.as_ptr(), 0) })
            }
        })
    }))
}

/// `kern_renameat(9)`: `CAP_RENAMEAT_SOURCE` on the first directory,
/// `CAP_RENAMEAT_TARGET` on the second.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_renameat(
    _td: *mut Thread,
    fd1: c_int,
    p1: *const c_char,
    fd2: c_int,
    p2: *const c_char,
    seg: u32,
) -> c_int {
    // SAFETY: caller contract.
    let (p1, p2) = unsafe { (kpath(p1, seg), kpath(p2, seg)) };
    status(at(fd1, p1, cap::RENAMEAT_SOURCE, |d1, l1| {
        at(fd2, p2, cap::RENAMEAT_TARGET, |d2, l2| {
            if l1.to_bytes() == b"." || l2.to_bytes() == b"." {
                return Err(EINVAL);
            }
            // SAFETY: a host renameat.
            host_result(unsafe { libc::renameat(d1, l1.as_ptr(), d2, l2.as_ptr()) })
        })
    }))
}

/// `kern_funlinkat(9)` without a file check (`FD_NONE`): `CAP_UNLINKAT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_funlinkat(
    _td: *mut Thread,
    fd: c_int,
    path: *const c_char,
    fd2: c_int,
    seg: u32,
    _flags: c_int,
    _oldinum: u64,
) -> c_int {
    if fd2 != FD_NONE {
        super::unimplemented_kpi("kern_funlinkat with a file check");
    }
    // SAFETY: caller contract.
    let path = unsafe { kpath(path, seg) };
    if path.to_bytes().ends_with(b"/") {
        // A trailing slash names the directory the path resolves to
        // (following a symbolic link): unlink(2) of a directory is EPERM,
        // of anything else ENOTDIR.
        let (hdir, _) = match dir(fd, cap::UNLINKAT) {
            Ok(x) => x,
            Err(e) => return e,
        };
        return match open_beneath(hdir, path, libc::O_PATH | libc::O_DIRECTORY, 0) {
            Ok(_) => EPERM,
            Err(e) => beneath_errno(e),
        };
    }
    status(at(fd, path, cap::UNLINKAT, |d, last| {
        if last.to_bytes() == b"." {
            return Err(EPERM);
        }
        // SAFETY: a host unlinkat.
        match unsafe { libc::unlinkat(d, last.as_ptr(), 0) } {
            // FreeBSD unlink(2) of a directory: EPERM.
            r if r < 0 && errno() == libc::EISDIR => Err(EPERM),
            r => host_result(r),
        }
    }))
}

/// `kern_frmdirat(9)` without a file check: `CAP_UNLINKAT`; `.` as the
/// last component is `EINVAL`, `..` `ENOTEMPTY` (rmdir(2)).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_frmdirat(
    _td: *mut Thread,
    fd: c_int,
    path: *const c_char,
    fd2: c_int,
    seg: u32,
    _flags: c_int,
) -> c_int {
    if fd2 != FD_NONE {
        super::unimplemented_kpi("kern_frmdirat with a file check");
    }
    // SAFETY: caller contract.
    let path = unsafe { kpath(path, seg) };
    let b = path.to_bytes();
    let lastc = b.rsplit(|&c| c == b'/').find(|s| !s.is_empty()).unwrap_or(b"");
    if lastc == b"." {
        return EINVAL;
    }
    if lastc == b".." {
        return ENOTEMPTY;
    }
    if b.ends_with(b"/") {
        // A trailing slash names the directory the path resolves to
        // (following a symbolic link); it is found beneath, then removed
        // by its host path.
        let (hdir, _) = match dir(fd, cap::UNLINKAT) {
            Ok(x) => x,
            Err(e) => return e,
        };
        let target = match open_beneath(hdir, path, libc::O_PATH | libc::O_DIRECTORY, 0) {
            Ok(t) => t,
            Err(e) => return beneath_errno(e),
        };
        let Ok(real) = std::fs::read_link(format!("/proc/self/fd/{}", target.as_raw_fd())) else {
            return EIO;
        };
        let real = CString::new(real.into_os_string().into_encoded_bytes()).unwrap_or_default();
        // SAFETY: a host rmdir.
        return status(host_result(unsafe { libc::rmdir(real.as_ptr()) }));
    }
    status(at(fd, path, cap::UNLINKAT, |d, last| {
        // SAFETY: a host unlinkat.
        host_result(unsafe { libc::unlinkat(d, last.as_ptr(), libc::AT_REMOVEDIR) })
    }))
}

/// A host stat as FreeBSD's `struct stat` (sys/stat.h; the `S_IF*` bits
/// are the same on both).
pub fn to_stat(s: &libc::stat) -> Stat {
    // SAFETY: Stat is plain data; all-zero is valid.
    let mut st: Stat = unsafe { std::mem::zeroed() };
    st.st_dev = s.st_dev;
    st.st_ino = s.st_ino;
    st.st_nlink = s.st_nlink;
    st.st_mode = s.st_mode as u16;
    st.st_uid = s.st_uid;
    st.st_gid = s.st_gid;
    st.st_rdev = s.st_rdev;
    st.st_atim = Timespec { tv_sec: s.st_atime, tv_nsec: s.st_atime_nsec };
    st.st_mtim = Timespec { tv_sec: s.st_mtime, tv_nsec: s.st_mtime_nsec };
    st.st_ctim = Timespec { tv_sec: s.st_ctime, tv_nsec: s.st_ctime_nsec };
    st.st_birthtim = Timespec { tv_sec: -1, tv_nsec: 0 };
    st.st_size = s.st_size;
    st.st_blocks = s.st_blocks;
    st.st_blksize = s.st_blksize as i32;
    st
}

/// `kern_statat(9)`: `CAP_FSTATAT`; follows a final symbolic link unless
/// `AT_SYMLINK_NOFOLLOW`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_statat(
    _td: *mut Thread,
    flags: c_int,
    fd: c_int,
    path: *const c_char,
    seg: u32,
    sbp: *mut Stat,
) -> c_int {
    // SAFETY: caller contract.
    let path = unsafe { kpath(path, seg) };
    let (hdir, _) = match dir(fd, cap::FSTAT) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if path.to_bytes().first() == Some(&b'/') {
        return ENOTCAPABLE;
    }
    let nofollow = if flags & AT_SYMLINK_NOFOLLOW != 0 { libc::O_NOFOLLOW } else { 0 };
    let f = match open_beneath(hdir, path, libc::O_PATH | nofollow, 0) {
        Ok(f) => f,
        Err(e) => return beneath_errno(e),
    };
    // SAFETY: fstatat of an O_PATH descriptor into a local stat.
    let mut s: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatat(f.as_raw_fd(), c"".as_ptr(), &mut s, libc::AT_EMPTY_PATH) } < 0 {
        return linux_to_freebsd(errno());
    }
    // SAFETY: the caller's stat.
    unsafe { *sbp = to_stat(&s) };
    0
}

/// FreeBSD `UTIME_NOW`/`UTIME_OMIT` (-1, -2) as Linux's.
pub fn host_times(ts: *const Timespec) -> Option<[libc::timespec; 2]> {
    if ts.is_null() {
        return None;
    }
    // SAFETY: two timespecs in kernel memory.
    let t = unsafe { [*ts, *ts.add(1)] };
    Some(t.map(|t| libc::timespec {
        tv_sec: t.tv_sec,
        tv_nsec: match t.tv_nsec {
            -1 => libc::UTIME_NOW,
            -2 => libc::UTIME_OMIT,
            n => n,
        },
    }))
}

/// `kern_utimensat(9)`: `CAP_FUTIMESAT`; times from kernel memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_utimensat(
    _td: *mut Thread,
    fd: c_int,
    path: *const c_char,
    seg: u32,
    tptr: *const Timespec,
    tseg: u32,
    flags: c_int,
) -> c_int {
    if tseg != UIO_SYSSPACE {
        super::unimplemented_kpi("kern_utimensat with user-space times");
    }
    // SAFETY: caller contract.
    let path = unsafe { kpath(path, seg) };
    let times = host_times(tptr);
    let tp = times.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
    if flags & AT_SYMLINK_NOFOLLOW != 0 {
        // The last component itself, in its directory opened beneath.
        return status(at(fd, path, cap::FUTIMES, |d, last| {
            // The file must exist even when both times are UTIME_OMIT
            // (Linux then succeeds without looking).
            // SAFETY: fstatat into a local.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            host_result(unsafe { libc::fstatat(d, last.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
            // SAFETY: a host utimensat.
            host_result(unsafe { libc::utimensat(d, last.as_ptr(), tp, libc::AT_SYMLINK_NOFOLLOW) })
        }));
    }
    let (hdir, _) = match dir(fd, cap::FUTIMES) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if path.to_bytes().first() == Some(&b'/') {
        return ENOTCAPABLE;
    }
    let f = match open_beneath(hdir, path, libc::O_PATH, 0) {
        Ok(f) => f,
        Err(e) => return beneath_errno(e),
    };
    // Through /proc: utimensat takes no O_PATH descriptor with
    // AT_EMPTY_PATH, but follows the magic link to the file.
    let proc_path = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd())).unwrap_or_default();
    // SAFETY: a host utimensat.
    let r = unsafe { libc::utimensat(libc::AT_FDCWD, proc_path.as_ptr(), tp, 0) };
    status(host_result(r))
}

/// `kern_readlinkat(9)`: the link's contents into a user buffer (at most
/// `count` bytes, no NUL); the length in `td_retval[0]`; `EINVAL` when it
/// is not a symbolic link.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_readlinkat(
    td: *mut Thread,
    fd: c_int,
    path: *const c_char,
    seg: u32,
    buf: *mut c_char,
    bufseg: u32,
    count: usize,
) -> c_int {
    if bufseg != UIO_USERSPACE {
        super::unimplemented_kpi("kern_readlinkat into kernel memory");
    }
    // SAFETY: caller contract.
    let path = unsafe { kpath(path, seg) };
    let r = at(fd, path, 0, |d, last| {
        let mut tmp = vec![0u8; 4096];
        // SAFETY: a host readlinkat into a local buffer.
        let n = unsafe { libc::readlinkat(d, last.as_ptr(), tmp.as_mut_ptr().cast(), tmp.len()) };
        if n < 0 {
            return Err(linux_to_freebsd(errno()));
        }
        let n = (n as usize).min(count);
        // SAFETY: copyout checks the user range.
        match unsafe { super::uvm::copyout(tmp.as_ptr().cast(), buf.cast(), n) } {
            0 => Ok(n),
            e => Err(e),
        }
    });
    match r {
        Ok(n) => {
            // SAFETY: the current thread's results.
            unsafe { (*td_retval(td))[0] = n as u64 };
            0
        }
        Err(e) => e,
    }
}
