//! Path operations, each relative to a directory descriptor. Paths are
//! NUL-terminated copies in kernel memory (`UIO_SYSSPACE`). Escaping the
//! directory is refused twice over: the process is in capability mode
//! (lookups relative to a descriptor, no absolute paths, no `..` above
//! it), and every call that takes lookup flags gets `O_RESOLVE_BENEATH`
//! or `AT_RESOLVE_BENEATH`. The directory needs the Capsicum rights of the
//! operation plus `CAP_LOOKUP`, checked by `namei`.

use core::ffi::{c_char, c_int};

use abi::*;
use sys::backend::*;
use sys::path::Path;

use super::file::{file_stat, times, zeroed_stat};
use super::{FileRef, FreeBsd};
use crate::consts::*;
use crate::convert;
use crate::ffi::kpi;

/// Mode of new files and directories (the umask inherited at exec
/// applies), as FreeBSD's CloudABI used.
const NEW_MODE: c_int = 0o777;

fn c(p: &Path<'_>) -> *const c_char {
    p.as_bytes_with_nul().as_ptr().cast()
}

impl PathOps for FreeBsd {
    fn path_open(
        &mut self,
        dir: &FileRef,
        path: &Path<'_>,
        follow: bool,
        oflags: Oflags,
        fdflags: Fdflags,
        rights: FdRights,
    ) -> Result<Fd, Errno> {
        let flags = convert::open_flags(oflags, fdflags, rights.base, follow);
        // SAFETY: openat(2) with a NUL-terminated kernel path. The new
        // descriptor starts with the directory's Capsicum limits (namei's
        // strictly relative lookup) and is installed again with its own
        // exact rights below.
        let e = unsafe { kpi::kern_openat(self.td, dir.fd(), c(path), UIO_SYSSPACE, flags, NEW_MODE) };
        self.check(e)?;
        let fd = self.retval_fd();
        // The rights depend on what was opened.
        let filetype = match self.fd_get(Fd::new(fd as u32)) {
            Ok((_, info)) => info.filetype,
            Err(e) => {
                self.close_quietly(fd);
                return Err(e);
            }
        };
        // Lookups through the new descriptor stay beneath it, as
        // kern_openat's own O_RESOLVE_BENEATH installation had it.
        self.install_exact(fd, sys::rights::for_new_fd(filetype, rights), O_RESOLVE_BENEATH)
    }

    fn path_mkdir(&mut self, dir: &FileRef, path: &Path<'_>) -> Result<(), Errno> {
        // SAFETY: mkdirat(2) with a kernel path.
        let e = unsafe { kpi::kern_mkdirat(self.td, dir.fd(), c(path), UIO_SYSSPACE, NEW_MODE) };
        self.check(e)
    }

    fn path_link(
        &mut self,
        dir1: &FileRef,
        path1: &Path<'_>,
        follow: bool,
        dir2: &FileRef,
        path2: &Path<'_>,
    ) -> Result<(), Errno> {
        // SAFETY: linkat(2) with kernel paths.
        let e = unsafe {
            kpi::kern_linkat(
                self.td,
                dir1.fd(),
                dir2.fd(),
                c(path1),
                c(path2),
                UIO_SYSSPACE,
                convert::at_flags(follow, false),
            )
        };
        self.check(e)
    }

    fn path_readlink(&mut self, dir: &FileRef, path: &Path<'_>, buf: UserRange<u8>) -> Result<u64, Errno> {
        // Link targets are shorter than PATH_MAX; the count only has to
        // stay within what the kernel accepts.
        let count = buf.len.min(i32::MAX as u64) as usize;
        // SAFETY: readlinkat(2) with a kernel path into the caller's
        // buffer (UIO_USERSPACE: EFAULT for a bad one).
        let e = unsafe {
            kpi::kern_readlinkat(
                self.td,
                dir.fd(),
                c(path),
                UIO_SYSSPACE,
                buf.ptr.addr() as *mut c_char,
                UIO_USERSPACE,
                count,
            )
        };
        self.check(e)?;
        Ok(self.retval())
    }

    fn path_rename(
        &mut self,
        dir1: &FileRef,
        path1: &Path<'_>,
        dir2: &FileRef,
        path2: &Path<'_>,
    ) -> Result<(), Errno> {
        // SAFETY: renameat(2) with kernel paths.
        let e =
            unsafe { kpi::kern_renameat(self.td, dir1.fd(), c(path1), dir2.fd(), c(path2), UIO_SYSSPACE) };
        self.check(e)
    }

    fn path_stat(&mut self, dir: &FileRef, path: &Path<'_>, follow: bool) -> Result<FileStat, Errno> {
        let mut st = zeroed_stat();
        // SAFETY: fstatat(2) with a kernel path into a kernel stat.
        let e = unsafe {
            kpi::kern_statat(
                self.td,
                convert::at_flags(follow, true),
                dir.fd(),
                c(path),
                UIO_SYSSPACE,
                &mut st,
            )
        };
        self.check(e)?;
        Ok(file_stat(&st, convert::filetype_of_mode(st.st_mode)))
    }

    fn path_set_times(
        &mut self,
        dir: &FileRef,
        path: &Path<'_>,
        follow: bool,
        atim: SetTime,
        mtim: SetTime,
    ) -> Result<(), Errno> {
        let ts = times(atim, mtim);
        // SAFETY: utimensat(2) with a kernel path and kernel timespecs.
        let e = unsafe {
            kpi::kern_utimensat(
                self.td,
                dir.fd(),
                c(path),
                UIO_SYSSPACE,
                ts.as_ptr(),
                UIO_SYSSPACE,
                convert::at_flags(follow, true),
            )
        };
        self.check(e)
    }

    fn path_symlink(&mut self, target: &Path<'_>, dir: &FileRef, path: &Path<'_>) -> Result<(), Errno> {
        // SAFETY: symlinkat(2) with kernel strings.
        let e = unsafe { kpi::kern_symlinkat(self.td, c(target), dir.fd(), c(path), UIO_SYSSPACE) };
        self.check(e)
    }

    fn path_unlink(&mut self, dir: &FileRef, path: &Path<'_>, removedir: bool) -> Result<(), Errno> {
        // FreeBSD 14 and 15 have no kern_unlinkat: funlinkat/frmdirat
        // without a descriptor check (FD_NONE).
        // SAFETY: rmdir/unlink relative to a directory with a kernel path.
        let e = unsafe {
            if removedir {
                kpi::kern_frmdirat(self.td, dir.fd(), c(path), FD_NONE, UIO_SYSSPACE, AT_RESOLVE_BENEATH)
            } else {
                kpi::kern_funlinkat(self.td, dir.fd(), c(path), FD_NONE, UIO_SYSSPACE, AT_RESOLVE_BENEATH, 0)
            }
        };
        self.check(e)
    }
}
