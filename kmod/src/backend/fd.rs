//! Descriptor operations: close, dup, replace, flags, rights, new shared
//! memory objects and socket pairs, read/write through `uio`s, seek, sync.

use core::ffi::{c_char, c_int};
use core::ptr;

use abi::*;
use sys::backend::*;

use super::{FileRef, FreeBsd, OwnedCaps, cap_rights_t};
use crate::consts::*;
use crate::convert;
use crate::ffi::kern::{Iovec, Uio};
use crate::ffi::kpi;
use crate::ffi::types::Thread;

/// Iovecs kept on the stack; longer lists are copied in by `copyiniov`.
const STACK_IOVS: usize = 16;

impl FreeBsd {
    /// Runs `f` with the caller's iovec array (`count` entries at `addr`,
    /// at most 1024 by the core) in kernel memory, and the total length:
    /// on the stack for short lists, else copied by `copyiniov` (an
    /// allocation, as the native `readv` makes). The buffers stay the
    /// caller's; the kernel copies them itself (`UIO_USERSPACE`).
    pub(super) fn with_iovecs(
        &mut self,
        addr: u64,
        count: u64,
        f: impl FnOnce(&mut Self, *mut Iovec, c_int, isize) -> c_int,
    ) -> Result<(), Errno> {
        let cnt = u32::try_from(count).map_err(|_| Errno::INVAL)?;
        let n = cnt as usize;
        let mut stack = [Iovec { iov_base: ptr::null_mut(), iov_len: 0 }; STACK_IOVS];
        let heap = n > STACK_IOVS;
        let iov: *mut Iovec = if heap {
            let mut p: *mut Iovec = ptr::null_mut();
            // SAFETY: copyiniov copies `cnt` iovecs from user memory
            // (EFAULT; EINVAL above UIO_MAXIOV) into a new M_IOV
            // allocation, freed below.
            let e = unsafe { kpi::copyiniov(addr as *const Iovec, cnt, &mut p, EINVAL) };
            self.check(e)?;
            p
        } else {
            // SAFETY: `stack` has room for `n` iovecs; copyin checks the
            // user range (EFAULT).
            let e =
                unsafe { kpi::copyin(addr as *const _, stack.as_mut_ptr().cast(), n * size_of::<Iovec>()) };
            self.check(e)?;
            stack.as_mut_ptr()
        };
        // As copyinuio: the total must fit ssize_t.
        let mut resid: Option<usize> = Some(0);
        for i in 0..n {
            // SAFETY: `iov` holds `n` initialized iovecs.
            let len = unsafe { (*iov.add(i)).iov_len };
            resid = resid.and_then(|r| r.checked_add(len)).filter(|&r| r <= isize::MAX as usize);
        }
        let e = match resid {
            Some(total) => f(self, iov, n as c_int, total as isize),
            None => EINVAL,
        };
        if heap {
            // SAFETY: the allocation copyiniov made, no longer used.
            unsafe { kpi::free(iov.cast(), core::ptr::addr_of!(kpi::M_IOV).cast_mut().cast()) };
        }
        self.check(e)
    }

    /// Runs `f` with a `uio` over the caller's iovec array (see
    /// [`Self::with_iovecs`]).
    pub(super) fn with_uio(
        &mut self,
        addr: u64,
        count: u64,
        rw: u32,
        f: impl FnOnce(*mut Thread, *mut Uio) -> c_int,
    ) -> Result<(), Errno> {
        self.with_iovecs(addr, count, |b, iov, n, resid| {
            let mut uio = Uio {
                uio_iov: iov,
                uio_iovcnt: n,
                uio_offset: -1,
                uio_resid: resid,
                uio_segflg: UIO_USERSPACE,
                uio_rw: rw,
                uio_td: b.td,
            };
            f(b.td, &mut uio)
        })
    }
}

impl FdOps for FreeBsd {
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        // SAFETY: closes a descriptor of the current process (EBADF if not
        // open).
        let e = unsafe { kpi::kern_close(self.td, fd.raw() as c_int) };
        self.check(e)
    }

    fn fd_dup(&mut self, file: &FileRef, _: FdInfo) -> Result<Fd, Errno> {
        // SAFETY: dup(2) of a descriptor of the current process; the new
        // descriptor gets the same Capsicum limits.
        let e = unsafe { kpi::kern_dup(self.td, FDDUP_NORMAL, 0, file.fd(), 0) };
        self.check(e)?;
        Ok(Fd::new(self.retval() as u32))
    }

    fn fd_replace(&mut self, file: &FileRef, _: FdInfo, to: Fd) -> Result<(), Errno> {
        // FreeBSD 14 has no "must replace" dup mode (it went with the
        // in-tree CloudABI): `to` must be open, checked here, then it is
        // replaced like dup2(2) does (with the source's limits).
        let (_target, _) = self.fd_get(to)?;
        // SAFETY: dup2(2) within the current process.
        let e = unsafe { kpi::kern_dup(self.td, FDDUP_FIXED, 0, file.fd(), to.raw() as c_int) };
        self.check(e)
    }

    fn fd_flags(&mut self, file: &FileRef) -> Result<Fdflags, Errno> {
        // Read from the file itself: F_GETFL would need CAP_FCNTL, and
        // fd_stat_get needs no right.
        Ok(convert::fdflags(file.f_flag()))
    }

    fn fd_set_flags(&mut self, file: &FileRef, flags: Fdflags) -> Result<(), Errno> {
        // SAFETY: fcntl(F_SETFL) on a descriptor of the current process.
        let e =
            unsafe { kpi::kern_fcntl(self.td, file.fd(), F_SETFL, convert::status_flags(flags) as isize) };
        self.check(e)
    }

    fn fd_set_rights(&mut self, fd: Fd, file: &FileRef, rights: FdRights) -> Result<(), Errno> {
        let n = fd.raw() as c_int;
        // Never ask for a Capsicum right the descriptor lacks (its limits
        // may have been set by someone else): only narrow.
        let had = file.cap_rights();
        if !file.holds_exact_list() {
            // Limited natively without CAP_IOCTL (or with a foreign ioctl
            // list): no list can be added (kern_cap_rights_limit cannot
            // add CAP_IOCTL), so only the Capsicum rights narrow, and the
            // rights stay derived from them (docs/kmod.md, "Exact rights").
            let mut caps = cap_rights_t(convert::listless(convert::capsicum(rights)).intersection(had));
            // SAFETY: cap_rights_limit(2); the kernel only narrows
            // (ENOTCAPABLE otherwise).
            let e = unsafe { kpi::kern_cap_rights_limit(self.td, n, &mut caps) };
            return self.check(e);
        }
        let mut caps = cap_rights_t(convert::capsicum(rights).intersection(had));
        // SAFETY: as above; CAP_IOCTL stays, so the list stays.
        let e = unsafe { kpi::kern_cap_rights_limit(self.td, n, &mut caps) };
        self.check(e)?;
        // The narrower list is a subset of the entries the descriptor has
        // (one entry per right, sys::caplist), which is all
        // cap_ioctls_limit(2) allows.
        let (list, len) = OwnedCaps::exact(rights).take_list();
        // SAFETY: kern_cap_ioctls_limit takes the M_FILECAPS list over
        // and frees it (or the one it replaces) on every path.
        let e = unsafe { kpi::kern_cap_ioctls_limit(self.td, n, list, len) };
        self.check(e)
    }

    fn fd_create_shm(&mut self, rights: FdRights) -> Result<Fd, Errno> {
        let mut caps = OwnedCaps::exact(rights);
        // SAFETY: shm_open(SHM_ANON, O_RDWR) (allowed in capability mode);
        // the descriptor is installed with `caps`, which the kernel takes
        // over on success (freed by OwnedCaps otherwise).
        let e =
            unsafe { kpi::kern_shm_open(self.td, SHM_ANON as *const c_char, O_RDWR, 0, caps.as_mut_ptr()) };
        self.check(e)?;
        Ok(Fd::new(self.retval() as u32))
    }

    fn fd_create_socketpair(&mut self, ty: Filetype, rights: FdRights) -> Result<(Fd, Fd), Errno> {
        let kind = if ty == Filetype::SOCKET_DGRAM { SOCK_DGRAM } else { SOCK_STREAM };
        let mut sv: [c_int; 2] = [-1, -1];
        // SAFETY: socketpair(2) of UNIX sockets; the two descriptors are
        // stored in `sv`.
        let e = unsafe { kpi::kern_socketpair(self.td, AF_UNIX, i32::from(kind), 0, sv.as_mut_ptr()) };
        self.check(e)?;
        let a = match self.install_exact(sv[0], rights, 0) {
            Ok(a) => a,
            Err(e) => {
                self.close_quietly(sv[1]);
                return Err(e);
            }
        };
        match self.install_exact(sv[1], rights, 0) {
            Ok(b) => Ok((a, b)),
            Err(e) => {
                self.close_quietly(a.raw() as c_int);
                Err(e)
            }
        }
    }

    fn fd_read(
        &mut self,
        file: &FileRef,
        iovs: UserRange<Iovec_>,
        offset: Option<u64>,
    ) -> Result<u64, Errno> {
        let fd = file.fd();
        self.with_uio(iovs.ptr.addr(), iovs.len, UIO_READ, |td, uio| match offset {
            // SAFETY: readv/preadv on a descriptor of the current process
            // with a uio over user buffers.
            None => unsafe { kpi::kern_readv(td, fd, uio) },
            // SAFETY: as above.
            Some(off) => unsafe { kpi::kern_preadv(td, fd, uio, off as i64) },
        })?;
        Ok(self.retval())
    }

    fn fd_write(
        &mut self,
        file: &FileRef,
        iovs: UserRange<Ciovec>,
        offset: Option<u64>,
    ) -> Result<u64, Errno> {
        let fd = file.fd();
        self.with_uio(iovs.ptr.addr(), iovs.len, UIO_WRITE, |td, uio| match offset {
            // SAFETY: writev/pwritev on a descriptor of the current
            // process with a uio over user buffers.
            None => unsafe { kpi::kern_writev(td, fd, uio) },
            // SAFETY: as above.
            Some(off) => unsafe { kpi::kern_pwritev(td, fd, uio, off as i64) },
        })?;
        Ok(self.retval())
    }

    fn fd_seek(&mut self, file: &FileRef, offset: i64, whence: Whence) -> Result<u64, Errno> {
        if whence == Whence::CUR && offset == 0 {
            // A tell, which the core allows with `fd_tell` alone; the
            // offset is read as lseek would, under the offset lock.
            let (ty, vtype) = file.f_type_vtype();
            // SAFETY: `file` holds a reference; foffset_lock/unlock
            // serialize with every other user of the offset (the value
            // written back is the one read).
            let at = unsafe {
                let at = kpi::foffset_lock(file.fp(), 0);
                kpi::foffset_unlock(file.fp(), at, 0);
                at
            };
            return convert::tell(ty, vtype, at).map_err(sys::errno::from_freebsd);
        }
        // SAFETY: lseek(2) on a descriptor of the current process.
        let e = unsafe { kpi::kern_lseek(self.td, file.fd(), offset, convert::whence(whence)) };
        self.check(e)?;
        Ok(self.retval())
    }

    fn fd_sync(&mut self, file: &FileRef, data_only: bool) -> Result<(), Errno> {
        // SAFETY: fsync(2)/fdatasync(2) on a descriptor of the current
        // process.
        let e = unsafe { kpi::kern_fsync(self.td, file.fd(), !data_only) };
        self.check(e)
    }
}

/// CloudABI's `iovec` (the ABI type); named apart from the native mirror.
use abi::Iovec as Iovec_;
