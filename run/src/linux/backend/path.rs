//! Operations on paths, resolved beneath a directory.
//!
//! `file_open` first tries Linux's `openat2` with `RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS` (one system call; an escape gives `EXDEV`, which
//! is CloudABI's `ENOTCAPABLE`). Everything else, and `file_open` where
//! `openat2` is missing or keeps racing with renames (`EAGAIN`), resolves
//! the path with `sys::path::resolve`: one `openat(O_PATH | O_NOFOLLOW)` per
//! directory component, a stack of the directories opened so `..` is never
//! asked of the kernel, and symbolic links read and spliced in by hand. The
//! operation itself then runs on the final directory and name with
//! `AT_SYMLINK_NOFOLLOW`, so it cannot be redirected out by a link created
//! after the resolution.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use abi::*;
use sys::backend::{FdRights, FileStat, PathOps, SetTime};
use sys::path::{DirOps, OpenDirError, Path, Resolved, resolve};

use super::file::{file_stat, timespec};
use super::{Linux, check, owned, process, set_openat2_unavailable};
use crate::linux::fdtable::{HostFile, Slot};

/// Longest single name (Linux's `NAME_MAX`).
const NAME_MAX: usize = 255;

/// A path component as a NUL-terminated C string on the stack.
struct CName([u8; NAME_MAX + 1]);

impl CName {
    fn new(name: &[u8]) -> Result<CName, Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        let mut b = [0u8; NAME_MAX + 1];
        b[..name.len()].copy_from_slice(name);
        Ok(CName(b))
    }

    fn ptr(&self) -> *const libc::c_char {
        self.0.as_ptr().cast()
    }

    /// The resolver's name for a path that ended at a directory itself.
    fn is_dot(&self) -> bool {
        self.0[..2] == *b".\0"
    }
}

/// Directory operations on host descriptors for the manual resolver.
struct HostDirs;

fn is_symlink(dir: RawFd, name: &CName) -> bool {
    // SAFETY: fstatat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::fstatat(dir, name.ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    r == 0 && st.st_mode & libc::S_IFMT == libc::S_IFLNK
}

impl DirOps for HostDirs {
    type Dir = OwnedFd;

    fn open_dir(&mut self, dir: &OwnedFd, name: &[u8]) -> Result<OwnedFd, OpenDirError> {
        let c = CName::new(name).map_err(OpenDirError::Errno)?;
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: openat with a NUL-terminated single component.
        match owned(unsafe { libc::openat(dir.as_raw_fd(), c.ptr(), flags) }) {
            Ok(fd) => Ok(fd),
            Err(Errno::NOTDIR | Errno::LOOP) if is_symlink(dir.as_raw_fd(), &c) => Err(OpenDirError::Symlink),
            Err(e) => Err(OpenDirError::Errno(e)),
        }
    }

    fn read_link(&mut self, dir: &OwnedFd, name: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
        let c = CName::new(name)?;
        // SAFETY: readlinkat writes at most `buf.len()` bytes.
        let n =
            check(unsafe { libc::readlinkat(dir.as_raw_fd(), c.ptr(), buf.as_mut_ptr().cast(), buf.len()) })?;
        if n as usize >= buf.len() {
            return Err(Errno::NAMETOOLONG);
        }
        Ok(n as usize)
    }
}

/// Resolves `path` beneath `dir` and runs `f` on the directory holding the
/// final component, the component (NUL-terminated) and whether it must be
/// a directory.
fn at<T>(
    dir: &HostFile,
    path: &Path<'_>,
    follow: bool,
    f: impl FnOnce(RawFd, &CName, bool) -> Result<T, Errno>,
) -> Result<T, Errno> {
    if dir.filetype() != Filetype::DIRECTORY {
        return Err(Errno::NOTDIR);
    }
    resolve(&mut HostDirs, &dir.fd, path.as_bytes(), follow, |_, d: &OwnedFd, r: Resolved<'_>| {
        f(d.as_raw_fd(), &CName::new(r.name)?, r.must_be_dir)
    })
}

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const SYS_OPENAT2: libc::c_long = 437;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_BENEATH: u64 = 0x08;

/// `openat2` beneath `dir`; `None` when the caller should resolve by hand.
pub(super) fn openat2(
    dir: &HostFile,
    path: &Path<'_>,
    flags: i32,
    mode: u32,
) -> Option<Result<OwnedFd, Errno>> {
    if !process().openat2.load(Ordering::Relaxed) {
        return None;
    }
    let how = OpenHow {
        flags: flags as u64,
        mode: u64::from(mode),
        resolve: RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    // A rename anywhere on the system makes openat2 fail with EAGAIN; a
    // few retries, then the manual resolver (which does not need them).
    for _ in 0..4 {
        // SAFETY: openat2 reads a NUL-terminated path and `how`.
        let r = unsafe {
            libc::syscall(
                SYS_OPENAT2,
                dir.raw(),
                path.as_bytes_with_nul().as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        match owned(r as RawFd) {
            Ok(fd) => return Some(Ok(fd)),
            Err(Errno::AGAIN) => continue,
            Err(Errno::NOSYS) => {
                set_openat2_unavailable();
                return None;
            }
            // EXDEV: the path tried to leave the directory.
            Err(Errno::XDEV) => return Some(Err(Errno::NOTCAPABLE)),
            Err(e) => return Some(Err(e)),
        }
    }
    None
}

/// The mode for files `flags` may create (less the umask). `openat2`
/// insists on 0 when nothing is created.
pub(super) fn create_mode(flags: i32) -> u32 {
    if flags & libc::O_CREAT != 0 { 0o666 } else { 0 }
}

/// `openat` of `path` beneath `dir` through the manual resolver.
pub(super) fn manual_open(
    dir: &HostFile,
    path: &Path<'_>,
    follow: bool,
    flags: i32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    let bytes = path.as_bytes();
    let name_len = bytes.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    if flags & libc::O_CREAT != 0 && name_len > 0 && name_len < bytes.len() {
        // `name/` with O_CREAT: Linux resolves everything before `name`
        // and then says EISDIR without looking at `name` itself.
        let mut buf = [0u8; sys::path::PATH_MAX];
        buf[..name_len].copy_from_slice(&bytes[..name_len]);
        let prefix = Path::from_host(&buf[..=name_len])?;
        return at(dir, &prefix, false, |_, _, _| Err(Errno::ISDIR));
    }
    at(dir, path, follow, |d, name, must_dir| {
        // A directory is never created by open: what Linux says for
        // `name/`, `.` or `dir/.` with O_CREAT (the kernel would refuse
        // O_CREAT | O_DIRECTORY with EINVAL instead).
        if must_dir && flags & libc::O_CREAT != 0 {
            return Err(Errno::ISDIR);
        }
        let extra = libc::O_NOFOLLOW | if must_dir { libc::O_DIRECTORY } else { 0 };
        // SAFETY: openat on a resolved directory and single name.
        owned(unsafe { libc::openat(d, name.ptr(), flags | extra, mode) })
    })
}

fn open_flags(oflags: Oflags, fdflags: Fdflags, rights: FdRights, follow: bool) -> i32 {
    let (read, write) = sys::file_access_mode(rights.base);
    let mut fl = match (read, write) {
        (_, false) => libc::O_RDONLY,
        (false, true) => libc::O_WRONLY,
        (true, true) => libc::O_RDWR,
    } | libc::O_CLOEXEC
        | libc::O_NOCTTY;
    for (flag, native) in [
        (Oflags::CREAT, libc::O_CREAT),
        (Oflags::DIRECTORY, libc::O_DIRECTORY),
        (Oflags::EXCL, libc::O_EXCL),
        (Oflags::TRUNC, libc::O_TRUNC),
    ] {
        if oflags.contains(flag) {
            fl |= native;
        }
    }
    for (flag, native) in [
        (Fdflags::APPEND, libc::O_APPEND),
        (Fdflags::DSYNC, libc::O_DSYNC),
        (Fdflags::NONBLOCK, libc::O_NONBLOCK),
        (Fdflags::RSYNC, libc::O_RSYNC),
        (Fdflags::SYNC, libc::O_SYNC),
    ] {
        if fdflags.contains(flag) {
            fl |= native;
        }
    }
    if !follow {
        fl |= libc::O_NOFOLLOW;
    }
    fl
}

impl PathOps for Linux {
    fn path_open(
        &mut self,
        dir: &Arc<HostFile>,
        path: &Path<'_>,
        follow: bool,
        oflags: Oflags,
        fdflags: Fdflags,
        rights: FdRights,
    ) -> Result<Fd, Errno> {
        if dir.filetype() != Filetype::DIRECTORY {
            return Err(Errno::NOTDIR);
        }
        let flags = open_flags(oflags, fdflags, rights, follow);
        let mode = create_mode(flags);
        let fd = match openat2(dir, path, flags, mode) {
            Some(r) => r?,
            None => manual_open(dir, path, follow, flags, mode)?,
        };
        // The type (and so the rights the new descriptor really gets) is
        // found out on first use; O_DIRECTORY already says it. The open
        // created a description no other process holds.
        let file = if oflags.contains(Oflags::DIRECTORY) {
            HostFile::new(fd, Filetype::DIRECTORY)
        } else {
            HostFile::unclassified(fd)
        }
        .private();
        self.table_mut().insert(Slot { file: Arc::new(file), rights })
    }

    fn path_mkdir(&mut self, dir: &Arc<HostFile>, path: &Path<'_>) -> Result<(), Errno> {
        at(dir, path, false, |d, name, _| {
            // SAFETY: mkdirat on a resolved directory and name.
            check(unsafe { libc::mkdirat(d, name.ptr(), 0o777) }).map(|_| ())
        })
    }

    fn path_link(
        &mut self,
        d1: &Arc<HostFile>,
        p1: &Path<'_>,
        follow: bool,
        d2: &Arc<HostFile>,
        p2: &Path<'_>,
    ) -> Result<(), Errno> {
        at(d1, p1, follow, |a, n1, _| {
            at(d2, p2, false, |b, n2, _| {
                // SAFETY: linkat between resolved directories; the source
                // was resolved (following links if asked), so no flag.
                check(unsafe { libc::linkat(a, n1.ptr(), b, n2.ptr(), 0) }).map(|_| ())
            })
        })
    }

    fn path_readlink(
        &mut self,
        dir: &Arc<HostFile>,
        path: &Path<'_>,
        buf: UserRange<u8>,
    ) -> Result<u64, Errno> {
        at(dir, path, false, |d, name, _| {
            if buf.len == 0 {
                // Linux refuses a 0-byte buffer before it looks the name
                // up (EINVAL); FreeBSD resolves the path first
                // (kern_readlinkat): ENOENT for a missing name, EINVAL for
                // anything but a link, else 0 bytes.
                // SAFETY: fstatat fills a zeroed buffer.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                check(unsafe { libc::fstatat(d, name.ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
                return if st.st_mode & libc::S_IFMT == libc::S_IFLNK { Ok(0) } else { Err(Errno::INVAL) };
            }
            // SAFETY: readlinkat writes at most `buf.len` bytes into guest
            // memory; the kernel reports EFAULT for a bad buffer.
            let n = unsafe {
                libc::readlinkat(d, name.ptr(), buf.ptr.addr() as *mut libc::c_char, buf.len as usize)
            };
            check(n).map(|n| n as u64)
        })
    }

    fn path_rename(
        &mut self,
        d1: &Arc<HostFile>,
        p1: &Path<'_>,
        d2: &Arc<HostFile>,
        p2: &Path<'_>,
    ) -> Result<(), Errno> {
        at(d1, p1, false, |a, n1, _| {
            if n1.is_dot() {
                // The source is a directory named by itself (".", "d/.",
                // ".."): FreeBSD's kern_renameat says EINVAL (the source
                // is the target's directory or its parent); Linux EBUSY.
                return Err(Errno::INVAL);
            }
            at(d2, p2, false, |b, n2, _| {
                // SAFETY: renameat between resolved directories.
                check(unsafe { libc::renameat(a, n1.ptr(), b, n2.ptr()) }).map(|_| ())
            })
        })
    }

    fn path_stat(&mut self, dir: &Arc<HostFile>, path: &Path<'_>, follow: bool) -> Result<FileStat, Errno> {
        at(dir, path, follow, |d, name, must_dir| {
            // SAFETY: fstatat fills a zeroed buffer.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            check(unsafe { libc::fstatat(d, name.ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
            if must_dir && st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(Errno::NOTDIR);
            }
            let mut s = file_stat(&st, None);
            if st.st_mode & libc::S_IFMT == libc::S_IFSOCK {
                s.filetype = Filetype::SOCKET_STREAM;
            }
            Ok(s)
        })
    }

    fn path_set_times(
        &mut self,
        dir: &Arc<HostFile>,
        path: &Path<'_>,
        follow: bool,
        atim: SetTime,
        mtim: SetTime,
    ) -> Result<(), Errno> {
        at(dir, path, follow, |d, name, _| {
            if atim == SetTime::Keep && mtim == SetTime::Keep {
                // Linux's utimensat returns before the lookup when both
                // times are omitted; the core promises a plain lookup.
                // SAFETY: fstatat fills a zeroed buffer.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                return check(unsafe { libc::fstatat(d, name.ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })
                    .map(|_| ());
            }
            let ts = [timespec(atim), timespec(mtim)];
            // SAFETY: utimensat reads two timespecs.
            check(unsafe { libc::utimensat(d, name.ptr(), ts.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
                .map(|_| ())
        })
    }

    fn path_symlink(&mut self, target: &Path<'_>, dir: &Arc<HostFile>, path: &Path<'_>) -> Result<(), Errno> {
        at(dir, path, false, |d, name, _| {
            // SAFETY: symlinkat with a NUL-terminated target.
            let r = unsafe { libc::symlinkat(target.as_bytes_with_nul().as_ptr().cast(), d, name.ptr()) };
            check(r).map(|_| ())
        })
    }

    fn path_unlink(&mut self, dir: &Arc<HostFile>, path: &Path<'_>, removedir: bool) -> Result<(), Errno> {
        let slash = ends_in_named_dir(path.as_bytes());
        at(dir, path, false, |d, name, must_dir| {
            if slash && must_dir && name.is_dot() {
                // `name/` (or `link/`): the resolver followed the name to
                // the directory itself, as FreeBSD's namei does for a
                // trailing slash. That directory is what is removed.
                return if removedir { remove_dir_itself(dir.raw(), d) } else { Err(Errno::PERM) };
            }
            let flag = if removedir { libc::AT_REMOVEDIR } else { 0 };
            // SAFETY: unlinkat on a resolved directory and name.
            match check(unsafe { libc::unlinkat(d, name.ptr(), flag) }) {
                Ok(_) => Ok(()),
                // POSIX and FreeBSD say EPERM for unlinking a directory.
                Err(Errno::ISDIR) if !removedir => Err(Errno::PERM),
                Err(e) => Err(e),
            }
        })
    }
}

/// Whether `path` ends in a name followed by slashes (`d/`, `a/link//`),
/// not in `.` or `..`.
fn ends_in_named_dir(path: &[u8]) -> bool {
    let trimmed = path.iter().rposition(|&b| b != b'/').map_or(&path[..0], |i| &path[..=i]);
    let last = trimmed.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    trimmed.len() < path.len() && !last.is_empty() && last != b"." && last != b".."
}

/// `(st_dev, st_ino)` of a descriptor.
fn identity(fd: RawFd) -> Result<(u64, u64), Errno> {
    // SAFETY: fstat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    check(unsafe { libc::fstat(fd, &mut st) })?;
    Ok((st.st_dev, st.st_ino))
}

/// Removes the directory `d` (reached beneath `start`) through its parent:
/// finds its name there by identity and `unlinkat(AT_REMOVEDIR)`s it. The
/// start directory itself cannot be removed this way (`EINVAL`, as
/// `rmdir(".")`); any other directory the resolver reached lies strictly
/// beneath it, so its parent is beneath or equal to it.
fn remove_dir_itself(start: RawFd, d: RawFd) -> Result<(), Errno> {
    let me = identity(d)?;
    if me == identity(start)? {
        return Err(Errno::INVAL);
    }
    // SAFETY: opens the parent of a directory we hold, for reading.
    let parent = owned(unsafe {
        libc::openat(d, c"..".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC)
    })?;
    // SAFETY: a duplicate for fdopendir, which takes it over (closedir).
    let dup = owned(unsafe { libc::fcntl(parent.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) })?;
    // SAFETY: fdopendir on our own duplicate; on success the stream owns it.
    let stream = unsafe { libc::fdopendir(dup.as_raw_fd()) };
    if stream.is_null() {
        return Err(super::last_errno());
    }
    std::mem::forget(dup);
    let mut found: Option<CName> = None;
    loop {
        // SAFETY: readdir on our open stream; the entry is valid until the
        // next call.
        let e = unsafe { libc::readdir(stream) };
        if e.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated within the entry.
        let name = unsafe { std::ffi::CStr::from_ptr((*e).d_name.as_ptr()) }.to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let Ok(c) = CName::new(name) else { continue };
        // SAFETY: fstatat fills a zeroed buffer.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::fstatat(parent.as_raw_fd(), c.ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
        if r == 0 && (st.st_dev, st.st_ino) == me {
            found = Some(c);
            break;
        }
    }
    // SAFETY: closes the stream (and its descriptor) once.
    unsafe { libc::closedir(stream) };
    let name = found.ok_or(Errno::NOENT)?;
    // SAFETY: unlinkat on the parent we opened and a name found in it.
    check(unsafe { libc::unlinkat(parent.as_raw_fd(), name.ptr(), libc::AT_REMOVEDIR) }).map(|_| ())
}

#[cfg(test)]
mod slash_tests {
    use super::ends_in_named_dir;

    #[test]
    fn trailing_slashes_after_a_name() {
        for p in ["d/", "a/link//", "x/"] {
            assert!(ends_in_named_dir(p.as_bytes()), "{p}");
        }
        for p in ["d", ".", "./", "..", "../", "a/.", "a/./", "a/../", "/", ""] {
            assert!(!ends_in_named_dir(p.as_bytes()), "{p}");
        }
    }
}
