//! Descriptor operations: the table (close, dup, replace, rights), flags,
//! reading and writing, seeking, syncing, and new objects.

use std::sync::Arc;

use abi::*;
use sys::backend::{FdInfo, FdOps, FdRights};

use super::{Linux, check, owned, raw_check};
use crate::linux::fault::raw_syscall;
use crate::linux::fdtable::{HostFile, Slot};

/// The length of a single buffer as `read`/`write` take it; `EINVAL` above
/// `SSIZE_MAX`, as `readv`/`writev` say for the whole vector.
fn single_len(len: u64) -> Result<usize, Errno> {
    usize::try_from(len).ok().filter(|&l| l <= isize::MAX as usize).ok_or(Errno::INVAL)
}

impl FdOps for Linux {
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        // The host descriptor closes when the last reference drops, after
        // the table lock is released.
        let slot = self.table_mut().remove(fd)?;
        drop(slot);
        Ok(())
    }

    fn fd_dup(&mut self, file: &Arc<HostFile>, info: FdInfo) -> Result<Fd, Errno> {
        self.table_mut().insert(Slot { file: file.clone(), rights: info.rights })
    }

    fn fd_replace(&mut self, file: &Arc<HostFile>, info: FdInfo, to: Fd) -> Result<(), Errno> {
        let old = self.table_mut().replace(to, Slot { file: file.clone(), rights: info.rights })?;
        drop(old);
        Ok(())
    }

    fn fd_flags(&mut self, file: &Arc<HostFile>) -> Result<Fdflags, Errno> {
        // cloudlibc's openat asks for the directory's flags before every
        // open: a private description's flags are answered from memory
        // (an fcntl is ~280 ns with the sandbox on; fdtable.rs says why
        // that is exact).
        if let Some(f) = file.cached_flags() {
            return Ok(f);
        }
        // A raw system call: this runs on the TLS-free fast path too.
        // SAFETY: F_GETFL takes no argument.
        let fl = raw_check(unsafe {
            raw_syscall(libc::SYS_fcntl, [file.raw() as u64, libc::F_GETFL as u64, 0, 0, 0, 0])
        })? as i32;
        let mut f = Fdflags::EMPTY;
        if fl & libc::O_APPEND != 0 {
            f |= Fdflags::APPEND;
        }
        if fl & libc::O_NONBLOCK != 0 {
            f |= Fdflags::NONBLOCK;
        }
        // Linux's O_SYNC includes the O_DSYNC bit.
        if fl & libc::O_SYNC == libc::O_SYNC {
            f |= Fdflags::SYNC;
        } else if fl & libc::O_DSYNC != 0 {
            f |= Fdflags::DSYNC;
        }
        file.remember_flags(f);
        Ok(f)
    }

    fn fd_set_flags(&mut self, file: &Arc<HostFile>, flags: Fdflags) -> Result<(), Errno> {
        // Linux lets F_SETFL change O_APPEND and O_NONBLOCK only; the sync
        // flags can only be chosen at open time.
        let mut fl = 0;
        if flags.contains(Fdflags::APPEND) {
            fl |= libc::O_APPEND;
        }
        if flags.contains(Fdflags::NONBLOCK) {
            fl |= libc::O_NONBLOCK;
        }
        // Never remembered again: a concurrent fd_flags that read the old
        // value cannot store it after this.
        file.share();
        // SAFETY: F_SETFL with an int argument.
        check(unsafe { libc::fcntl(file.raw(), libc::F_SETFL, fl) }).map(|_| ())
    }

    fn fd_set_rights(&mut self, fd: Fd, _file: &Arc<HostFile>, rights: FdRights) -> Result<(), Errno> {
        self.table_mut().set_rights(fd, rights)
    }

    fn fd_create_shm(&mut self, rights: FdRights) -> Result<Fd, Errno> {
        // SAFETY: memfd_create with a static NUL-terminated name.
        let fd = owned(unsafe {
            libc::memfd_create(c"cloudabi-shm".as_ptr(), libc::MFD_CLOEXEC | super::memfd_noexec())
        })?;
        self.install_private(fd, Filetype::SHARED_MEMORY, rights)
    }

    fn fd_create_socketpair(&mut self, ty: Filetype, rights: FdRights) -> Result<(Fd, Fd), Errno> {
        let kind = if ty == Filetype::SOCKET_DGRAM { libc::SOCK_DGRAM } else { libc::SOCK_STREAM };
        let mut pair = [0; 2];
        // SAFETY: socketpair writes two descriptors into `pair`.
        check(unsafe { libc::socketpair(libc::AF_UNIX, kind | libc::SOCK_CLOEXEC, 0, pair.as_mut_ptr()) })?;
        let (a, b) = (owned(pair[0])?, owned(pair[1])?);
        let fa = self.install_private(a, ty, rights)?;
        match self.install_private(b, ty, rights) {
            Ok(fb) => Ok((fa, fb)),
            Err(e) => {
                let _ = self.table_mut().remove(fa);
                Err(e)
            }
        }
    }

    fn fd_read(
        &mut self,
        file: &Arc<HostFile>,
        iovs: UserRange<Iovec>,
        offset: Option<u64>,
    ) -> Result<u64, Errno> {
        // Raw system calls: this runs on the TLS-free fast path too.
        let fd = file.raw() as u64;
        if iovs.len == 1 {
            // One buffer (the common case): read/pread, which are cheaper
            // than their vector forms.
            let iov: Iovec = sys::user::read(self, iovs.ptr)?;
            let (buf, len) = (iov.buf.addr(), single_len(iov.buf_len)? as u64);
            // SAFETY: the kernel checks the guest's buffer (EFAULT).
            let r = unsafe {
                match offset {
                    None => raw_syscall(libc::SYS_read, [fd, buf, len, 0, 0, 0]),
                    Some(off) => raw_syscall(libc::SYS_pread64, [fd, buf, len, off, 0, 0]),
                }
            };
            return raw_check(r);
        }
        // CloudABI iovecs have the same layout as Linux's `struct iovec`, so
        // the guest's array goes to the kernel as it is.
        let (ptr, n) = (iovs.ptr.addr(), iovs.len);
        // SAFETY: the kernel validates the guest's iovec array and buffers
        // (EFAULT); `n` is at most 1024 (checked by the core). preadv's
        // offset is two words, low then high; on x86-64 the low word holds
        // all 64 bits and the high one is ignored (fs/read_write.c,
        // pos_from_hilo).
        let r = unsafe {
            match offset {
                None => raw_syscall(libc::SYS_readv, [fd, ptr, n, 0, 0, 0]),
                Some(off) => raw_syscall(libc::SYS_preadv, [fd, ptr, n, off, 0, 0]),
            }
        };
        raw_check(r)
    }

    fn fd_write(
        &mut self,
        file: &Arc<HostFile>,
        iovs: UserRange<Ciovec>,
        offset: Option<u64>,
    ) -> Result<u64, Errno> {
        let fd = file.raw() as u64;
        if iovs.len == 1 {
            let iov: Ciovec = sys::user::read(self, iovs.ptr)?;
            let (buf, len) = (iov.buf.addr(), single_len(iov.buf_len)? as u64);
            // SAFETY: the kernel checks the guest's buffer (EFAULT).
            let r = unsafe {
                match offset {
                    None => raw_syscall(libc::SYS_write, [fd, buf, len, 0, 0, 0]),
                    Some(off) => raw_syscall(libc::SYS_pwrite64, [fd, buf, len, off, 0, 0]),
                }
            };
            return raw_check(r);
        }
        let (ptr, n) = (iovs.ptr.addr(), iovs.len);
        // SAFETY: as for fd_read.
        let r = unsafe {
            match offset {
                None => raw_syscall(libc::SYS_writev, [fd, ptr, n, 0, 0, 0]),
                Some(off) => raw_syscall(libc::SYS_pwritev, [fd, ptr, n, off, 0, 0]),
            }
        };
        raw_check(r)
    }

    fn fd_seek(&mut self, file: &Arc<HostFile>, offset: i64, whence: Whence) -> Result<u64, Errno> {
        let w = match whence {
            Whence::CUR => libc::SEEK_CUR,
            Whence::END => libc::SEEK_END,
            _ => libc::SEEK_SET,
        };
        // SAFETY: lseek on an owned descriptor.
        check(unsafe { libc::lseek(file.raw(), offset, w) }).map(|o| o as u64)
    }

    fn fd_sync(&mut self, file: &Arc<HostFile>, data_only: bool) -> Result<(), Errno> {
        // SAFETY: fsync/fdatasync on an owned descriptor.
        let r = unsafe { if data_only { libc::fdatasync(file.raw()) } else { libc::fsync(file.raw()) } };
        check(r).map(|_| ())
    }
}
