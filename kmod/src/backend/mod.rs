//! The FreeBSD backend of the syscall core: `sys::backend`'s traits over
//! the kernel's own `kern_*` functions, so that every CloudABI syscall is
//! the native operation with the native checks (Capsicum rights on every
//! descriptor, capability mode, `O_RESOLVE_BENEATH`).
//!
//! One [`FreeBsd`] exists per syscall, on the stack of
//! `crate::syscall::cloudabi64_syscall`. It holds the current thread and
//! the one native result CloudABI's errno cannot carry: `ERESTART` (a
//! blocking call was interrupted by a signal and is to be restarted) and
//! `EJUSTRETURN` (a successful `proc_exec` replaced the registers). A
//! method that meets one records it and fails with `EINTR` so that the
//! core unwinds; the glue then hands the recorded value to the kernel.
//!
//! Descriptors are [`FileRef`]s: the descriptor number, a reference on
//! the `struct file` and a copy of its Capsicum limits, taken by
//! `fget_cap` in [`Files::fd_get`]. The `kern_*` functions take descriptor
//! numbers and look them up again with the Capsicum rights they need, so
//! the kernel checks every operation against the rights of the file it
//! actually operates on; the held reference keeps the object the core
//! classified alive (for `f_data`, `f_flag`, `proc_exec`).
//!
//! Every kernel call is an `unsafe` FFI call whose contract is stated at
//! the call; user memory is only touched by the kernel's copy routines
//! (`copyin`/`copyout`, `UIO_USERSPACE` uios, `casueword32`), which return
//! `EFAULT` instead of faulting.

use core::ffi::{c_int, c_void};
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr;
use core::sync::atomic::{Ordering, fence};

use abi::{Errno, Fd, Filetype};
use sys::backend::{FdInfo, Files, PathBuffers};
use sys::rights::CapRights;
use sys::user::{Fault, UserMemory};

use crate::consts::{CAP_FCNTL_ALL, EJUSTRETURN, ERESTART, M_WAITOK};
use crate::convert;
use crate::ffi::access;
use crate::ffi::kern::{CapRightsT, Filecaps, UmtxKey};
use crate::ffi::kpi;
use crate::ffi::pcpu::curthread;
use crate::ffi::types::{File, Socket, Thread};

mod clock;
mod fd;
mod file;
mod futex;
mod mem;
mod path;
mod poll;
mod proc;
mod sock;
mod thread;

/// The backend for one syscall of the current thread.
pub struct FreeBsd {
    td: *mut Thread,
    /// `ERESTART` or `EJUSTRETURN`, for the kernel instead of the result.
    native: Option<c_int>,
    /// This syscall has slept on a condition variable (and so released
    /// its lock): it can no longer be restarted (see `futex.rs`).
    condvar_slept: bool,
    /// The key of the wait queue whose lock (`umtxq_busy`) this syscall
    /// holds, if any (`futex.rs`).
    qkey: Option<UmtxKey>,
    /// The thread's `td_umtxq` entry is in a queue (`futex.rs`).
    queued: bool,
}

impl FreeBsd {
    /// The backend for a syscall of `td`.
    ///
    /// # Safety
    /// `td` is the current thread, inside its syscall handler; the backend
    /// must not outlive the syscall.
    pub unsafe fn new(td: *mut Thread) -> FreeBsd {
        FreeBsd { td, native: None, condvar_slept: false, qkey: None, queued: false }
    }

    /// The native value to return to the kernel instead of the dispatch
    /// result (`ERESTART`, `EJUSTRETURN`), if a kernel call produced one.
    pub fn native_result(&self) -> Option<c_int> {
        self.native
    }

    /// A kernel function's result as a CloudABI result. `ERESTART` and
    /// `EJUSTRETURN` are recorded for the glue (and fail with `EINTR`, so
    /// that the core stops); other errnos are converted with the FreeBSD
    /// table (`sys::errno`).
    fn check(&mut self, error: c_int) -> Result<(), Errno> {
        match error {
            0 => Ok(()),
            ERESTART | EJUSTRETURN => {
                self.native = Some(error);
                Err(Errno::INTR)
            }
            e => Err(sys::errno::from_freebsd(e)),
        }
    }

    /// `td->td_retval[0]`, where `kern_*` functions leave their result.
    fn retval(&self) -> u64 {
        // SAFETY: `td` is the current thread (constructor contract); its
        // result registers are only used by its own syscall.
        unsafe { (*access::td_retval(self.td))[0] }
    }

    /// `td->td_retval[0]` as a descriptor number.
    fn retval_fd(&self) -> c_int {
        self.retval() as c_int
    }

    /// Gives a descriptor this syscall has just made (`kern_openat`,
    /// `kern_accept4`, `kern_socketpair`) its exact rights: its file is
    /// installed again with limits carrying `rights` ([`OwnedCaps::exact`])
    /// and `fd` closed; the new number is returned (usually `fd` again,
    /// the lowest free one). The kernel's own limits of such a descriptor
    /// cannot be turned into these in place: `kern_openat` gives it the
    /// directory's limits, ioctl list included (namei's strictly relative
    /// lookup), and a list may only shrink (`kern_cap_ioctls_limit`). On
    /// failure nothing is left installed.
    fn install_exact(
        &mut self,
        fd: c_int,
        rights: sys::backend::FdRights,
        flags: c_int,
    ) -> Result<Fd, Errno> {
        let (file, _) = match self.fd_get(Fd::new(fd as u32)) {
            Ok(found) => found,
            Err(e) => {
                self.close_quietly(fd);
                return Err(e);
            }
        };
        let mut caps = OwnedCaps::exact(rights);
        // SAFETY: closes `fd` only if it still holds the file (fdclose
        // checks), dropping the table's reference; `file` holds its own.
        unsafe { kpi::fdclose(self.td, file.fp(), fd) };
        let mut new: c_int = -1;
        // SAFETY: installs the referenced file at the lowest free number
        // (finstall takes its own reference); on success it takes the
        // limits over and leaves `caps` zeroed, on failure they stay ours
        // (freed by OwnedCaps).
        let e = unsafe { kpi::finstall(self.td, file.fp(), &mut new, flags, caps.as_mut_ptr()) };
        self.check(e)?;
        Ok(Fd::new(new as u32))
    }

    /// Closes a descriptor the backend made itself, ignoring errors.
    fn close_quietly(&mut self, fd: c_int) {
        // SAFETY: closing a descriptor of the current process.
        unsafe { kpi::kern_close(self.td, fd) };
    }
}

/// `cap_rights_t` for CloudABI's Capsicum rights.
pub(crate) fn cap_rights_t(c: CapRights) -> CapRightsT {
    CapRightsT { cr_rights: c.0 }
}

/// Capsicum limits without an ioctl list: `c` without `CAP_IOCTL` (no
/// ioctl at all), every fcntl if `CAP_FCNTL` is among them, none
/// otherwise: `filecaps_validate` asserts both (sys/kern/kern_descrip.c;
/// INVARIANTS kernels panic otherwise).
pub(crate) fn filecaps(c: CapRights) -> Filecaps {
    let c = convert::listless(c);
    let fcntls = if c.has(sys::rights::cap::FCNTL) { CAP_FCNTL_ALL } else { 0 };
    Filecaps { fc_rights: cap_rights_t(c), fc_ioctls: ptr::null_mut(), fc_nioctls: 0, fc_fcntls: fcntls }
}

/// Capsicum limits the backend holds until the kernel takes them over:
/// `finstall`, `kern_shm_open` and `fork1` move them into the descriptor
/// table on success (`filecaps_move`, which zeroes the source) and leave
/// them to the caller on failure (sys/kern/kern_descrip.c: `_finstall`,
/// `falloc_caps`, 15.0). An ioctl list still held is freed on drop.
pub(crate) struct OwnedCaps(Filecaps);

impl OwnedCaps {
    /// Limits without a list (see [`filecaps`]).
    pub(crate) fn listless(c: CapRights) -> OwnedCaps {
        OwnedCaps(filecaps(c))
    }

    /// Limits carrying exact CloudABI rights: the Capsicum rights they
    /// need (`convert::capsicum`) and the ioctl list of `sys::caplist`,
    /// copied by `filecaps_copy` into an `M_FILECAPS` allocation (the
    /// type the kernel frees descriptor limits with; malloc `M_WAITOK`,
    /// which does not fail).
    pub(crate) fn exact(rights: sys::backend::FdRights) -> OwnedCaps {
        let c = convert::capsicum(rights);
        let fcntls = if c.has(sys::rights::cap::FCNTL) { CAP_FCNTL_ALL } else { 0 };
        OwnedCaps::with_list(c, fcntls, rights)
    }

    /// Limits with Capsicum rights `c` (which must hold `CAP_IOCTL`),
    /// `fcntls` and the ioctl list of the exact rights `rights`. Not
    /// inlined: the list is built in this frame (504 bytes), not in the
    /// callers' (sock_send's loop).
    #[inline(never)]
    fn with_list(c: CapRights, fcntls: u32, rights: sys::backend::FdRights) -> OwnedCaps {
        let mut list = [0u64; sys::caplist::MAX_ENTRIES];
        let n = sys::caplist::encode_into(rights, &mut list);
        let src = Filecaps {
            fc_rights: cap_rights_t(c),
            fc_ioctls: list.as_mut_ptr(),
            fc_nioctls: n as i16,
            fc_fcntls: fcntls,
        };
        OwnedCaps(copy_caps(&src))
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut Filecaps {
        &mut self.0
    }

    /// Gives up the ioctl list (for `kern_cap_ioctls_limit`, which takes
    /// it over on every path): its address and length.
    fn take_list(&mut self) -> (*mut u64, usize) {
        let p = core::mem::replace(&mut self.0.fc_ioctls, ptr::null_mut());
        let n = if p.is_null() { 0 } else { self.0.fc_nioctls.max(0) as usize };
        self.0.fc_nioctls = 0;
        (p.cast(), n)
    }
}

impl Drop for OwnedCaps {
    fn drop(&mut self) {
        if !self.0.fc_ioctls.is_null() {
            // SAFETY: the list is an M_FILECAPS allocation of ours
            // (filecaps_copy), not taken over by the kernel.
            unsafe { kpi::filecaps_free(&mut self.0) };
        }
    }
}

/// A copy of `src` whose ioctl list (if any) is a new `M_FILECAPS`
/// allocation. A count without a list (`fc_nioctls > 0`, `fc_ioctls`
/// NULL) becomes the empty list, never a count over a NULL pointer.
fn copy_caps(src: &Filecaps) -> Filecaps {
    let mut dst = filecaps(CapRights::NONE);
    // SAFETY: `src` is valid and its list (if not NULL) has `fc_nioctls`
    // entries; filecaps_copy with `locked` true copies the structure and
    // allocates the list copy with M_WAITOK (it cannot fail then and
    // returns true); `src` stays the caller's.
    unsafe { kpi::filecaps_copy(src, &mut dst, true) };
    if dst.fc_ioctls.is_null() {
        dst.fc_nioctls = convert::listless_nioctls(dst.fc_nioctls);
    }
    dst
}

/// A descriptor looked up for one syscall: its number, a reference on its
/// file, its Capsicum limits without the ioctl list (`fc_ioctls` NULL,
/// `fc_nioctls` the descriptor's count) and the exact rights that list
/// carries, if any.
pub struct FileRef {
    fd: c_int,
    fp: *mut File,
    caps: Filecaps,
    exact: Option<sys::backend::FdRights>,
}

impl FileRef {
    /// The descriptor number it was looked up by.
    pub fn fd(&self) -> c_int {
        self.fd
    }

    /// The referenced file.
    pub fn fp(&self) -> *mut File {
        self.fp
    }

    /// The Capsicum rights the descriptor had at lookup.
    pub fn cap_rights(&self) -> CapRights {
        CapRights(self.caps.fc_rights.cr_rights)
    }

    /// The exact rights the descriptor's ioctl list carried at lookup
    /// (`sys::caplist`), if it had such a list.
    pub fn exact(&self) -> Option<sys::backend::FdRights> {
        self.exact
    }

    /// The descriptor has `CAP_IOCTL` and an ioctl list that is either
    /// absent (-1: any list may be set) or carries exact rights: its
    /// rights can be narrowed exactly with `kern_cap_ioctls_limit`.
    pub fn holds_exact_list(&self) -> bool {
        self.cap_rights().has(crate::consts::CAP_IOCTL)
            && (self.caps.fc_nioctls == -1 || self.exact.is_some())
    }

    /// Limits for another descriptor of this file that allow no more than
    /// this one: its Capsicum rights and fcntls and, if it had exact
    /// rights, a new list of them (the same entries as far as the module
    /// reads them). Any other list becomes the empty one (no ioctl, rights
    /// derived from Capsicum as before); no list (-1) stays none.
    pub fn sendable_caps(&self) -> OwnedCaps {
        match self.exact {
            Some(exact) => OwnedCaps::with_list(self.cap_rights(), self.caps.fc_fcntls, exact),
            None => OwnedCaps(Filecaps {
                fc_rights: self.caps.fc_rights,
                fc_ioctls: ptr::null_mut(),
                fc_nioctls: convert::listless_nioctls(self.caps.fc_nioctls),
                fc_fcntls: self.caps.fc_fcntls,
            }),
        }
    }

    /// `f_flag` of the file (FREAD, FWRITE, FNONBLOCK, ...).
    pub fn f_flag(&self) -> u32 {
        // SAFETY: the file is referenced by `self`.
        unsafe { access::f_flag(self.fp) }
    }

    /// The socket behind the file, if it is one.
    pub fn socket(&self) -> Option<*mut Socket> {
        // SAFETY: the file is referenced by `self`; `f_data` of a
        // DTYPE_SOCKET file is its socket, which lives as long as the file.
        unsafe {
            (access::f_type(self.fp) == crate::consts::DTYPE_SOCKET)
                .then(|| access::f_data(self.fp).cast::<Socket>())
                .filter(|so| !so.is_null())
        }
    }

    /// `f_type` of the file and, for a vnode, its `v_type`.
    pub fn f_type_vtype(&self) -> (i16, Option<u8>) {
        // SAFETY: the file is referenced by `self`: its type is fixed and
        // its vnode (for DTYPE_VNODE) held by it.
        unsafe {
            let ty = access::f_type(self.fp);
            let vnode = (ty == crate::consts::DTYPE_VNODE)
                .then(|| access::f_vnode(self.fp))
                .filter(|vp| !vp.is_null())
                .map(|vp| access::v_type(vp));
            (ty, vnode)
        }
    }

    /// The CloudABI type of the file.
    pub fn filetype(&self) -> Filetype {
        let (ty, vnode) = self.f_type_vtype();
        // SAFETY: the socket (for DTYPE_SOCKET) is held by the file, which
        // `self` references.
        let so_type = self.socket().map(|so| unsafe { access::so_type(so) });
        convert::filetype(ty, vnode, so_type)
    }

    /// Gives up the reference, with limits like the descriptor's
    /// ([`Self::sendable_caps`]), to install the file in a descriptor
    /// table, which takes both over.
    pub fn into_raw(self) -> (*mut File, OwnedCaps) {
        let caps = self.sendable_caps();
        let me = ManuallyDrop::new(self);
        // `me.caps` holds no allocation (no list), so forgetting it leaks
        // nothing; the reference goes to the caller.
        (me.fp, caps)
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        // SAFETY: `caps` holds no list (peek_limits never copies one; the
        // check is defensive), `fp` holds the reference fget_cap took.
        unsafe {
            if !self.caps.fc_ioctls.is_null() {
                kpi::filecaps_free(&mut self.caps);
            }
            fdrop(self.fp);
        }
    }
}

/// A fixed-capacity list in a kernel allocation (`M_TEMP`), for what a
/// syscall must hold across kernel calls but cannot keep on its 2 KiB
/// frame: the descriptors `proc_exec` passes on (up to 65536), the files
/// `sock_send` attaches (up to 508). Entries left in it are dropped with it.
pub(crate) struct KernList<T> {
    ptr: *mut MaybeUninit<T>,
    cap: usize,
    len: usize,
}

impl<T> KernList<T> {
    pub(crate) fn new(cap: usize) -> Result<KernList<T>, Errno> {
        let bytes = cap.checked_mul(size_of::<T>()).ok_or(Errno::E2BIG)?;
        if cap == 0 || bytes == 0 {
            return Ok(KernList { ptr: ptr::null_mut(), cap: 0, len: 0 });
        }
        // SAFETY: malloc(9) with M_WAITOK sleeps until it can allocate and
        // never returns NULL; malloc's alignment (at least 16) suits every
        // `T` used here; the memory is freed in Drop.
        let p = unsafe { kpi::malloc(bytes, ptr::addr_of!(kpi::M_TEMP).cast_mut().cast(), M_WAITOK) };
        if p.is_null() {
            return Err(Errno::NOMEM);
        }
        Ok(KernList { ptr: p.cast(), cap, len: 0 })
    }

    /// Appends `v`, or gives it back if the list is full.
    pub(crate) fn push(&mut self, v: T) -> Result<(), T> {
        if self.len >= self.cap {
            return Err(v);
        }
        // SAFETY: `len < cap`: an unused slot of the allocation.
        unsafe { (*self.ptr.add(self.len)).write(v) };
        self.len += 1;
        Ok(())
    }

    /// The entries, in order.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: the first `len` slots were initialized by push.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.cast::<T>(), self.len) }
    }

    /// Takes the entries out, in order.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        let len = core::mem::replace(&mut self.len, 0);
        // SAFETY: the first `len` slots were written by push and are read
        // exactly once (len is reset first).
        (0..len).map(move |i| unsafe { (*self.ptr.add(i)).assume_init_read() })
    }
}

impl<T> Drop for KernList<T> {
    fn drop(&mut self) {
        for v in self.drain() {
            drop(v);
        }
        if !self.ptr.is_null() {
            // SAFETY: the allocation made in `new`.
            unsafe { kpi::free(self.ptr.cast(), ptr::addr_of!(kpi::M_TEMP).cast_mut().cast()) };
        }
    }
}

/// A zeroed byte buffer in a kernel allocation (`M_TEMP`), for buffers
/// too large for the 2 KiB frame (`file_readdir`'s getdirentries buffer).
pub(crate) struct KernBuf {
    ptr: *mut u8,
    len: usize,
}

impl KernBuf {
    pub(crate) fn new(len: usize) -> Result<KernBuf, Errno> {
        // SAFETY: malloc(9) with M_WAITOK sleeps until it can allocate and
        // never returns NULL; M_ZERO zeroes it; freed in Drop.
        let p = unsafe {
            kpi::malloc(
                len,
                ptr::addr_of!(kpi::M_TEMP).cast_mut().cast(),
                crate::consts::M_WAITOK | crate::consts::M_ZERO,
            )
        };
        if p.is_null() { Err(Errno::NOMEM) } else { Ok(KernBuf { ptr: p.cast(), len }) }
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` initialized (zeroed, then written) bytes owned by
        // `self`.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for KernBuf {
    fn drop(&mut self) {
        // SAFETY: the allocation made in `new`.
        unsafe { kpi::free(self.ptr.cast(), ptr::addr_of!(kpi::M_TEMP).cast_mut().cast()) };
    }
}

/// `fdrop(fp, td)`: releases a file reference as `refcount_release(9)`
/// does (release fence, decrement, saturation kept, acquire fence before
/// the destructor), calling `_fdrop` for the last one.
///
/// # Safety
/// The caller owns one reference on `fp`.
pub(crate) unsafe fn fdrop(fp: *mut File) {
    const SATURATED: u32 = 1 << 31;
    const SATURATION_VALUE: u32 = 3 << 30;
    // SAFETY: caller contract: `fp` is live while we hold a reference.
    let count = unsafe { &*access::f_count(fp) };
    let old = count.fetch_sub(1, Ordering::Release);
    if old == 0 || old & SATURATED != 0 {
        count.store(SATURATION_VALUE, Ordering::Relaxed);
        return;
    }
    if old > 1 {
        return;
    }
    fence(Ordering::Acquire);
    // SAFETY: that was the last reference; `_fdrop` closes the file.
    unsafe { kpi::_fdrop(fp, curthread()) };
}

impl UserMemory for FreeBsd {
    fn copy_in(&mut self, src: u64, dst: &mut [u8]) -> Result<(), Fault> {
        // SAFETY: `dst` is writable kernel memory of its length; copyin
        // checks the user range and returns EFAULT instead of faulting.
        match unsafe { kpi::copyin(src as *const c_void, dst.as_mut_ptr().cast(), dst.len()) } {
            0 => Ok(()),
            _ => Err(Fault),
        }
    }

    fn copy_out(&mut self, dst: u64, src: &[u8]) -> Result<(), Fault> {
        // SAFETY: `src` is readable kernel memory of its length; copyout
        // checks the user range and returns EFAULT instead of faulting.
        match unsafe { kpi::copyout(src.as_ptr().cast(), dst as *mut c_void, src.len()) } {
            0 => Ok(()),
            _ => Err(Fault),
        }
    }
}

impl Files for FreeBsd {
    type File = FileRef;

    fn fd_get(&mut self, fd: Fd) -> Result<(FileRef, FdInfo), Errno> {
        // CloudABI descriptors are unsigned; numbers above INT_MAX become
        // negative and are EBADF, like every other unused number.
        let n = fd.raw() as c_int;
        #[cfg(freebsd14)]
        let mut none = cap_rights_t(CapRights::NONE);
        #[cfg(freebsd15)]
        let none = cap_rights_t(CapRights::NONE);
        let mut fp: *mut File = ptr::null_mut();
        // SAFETY: `none` asks for no rights (only an open descriptor is
        // needed); fget_cap stores a referenced file in `fp` on success.
        // No copy of the limits is asked for: one with an ioctl list would
        // be copied under the table's lock into a new allocation
        // (filecaps_copy), on every lookup; peek_limits reads them in
        // place instead.
        #[cfg(freebsd14)]
        let e = unsafe { kpi::fget_cap(self.td, n, &mut none, &mut fp, ptr::null_mut()) };
        // SAFETY: as above; 15.x also stores the descriptor's flags in
        // `flags` (unused).
        #[cfg(freebsd15)]
        let e = unsafe {
            let mut flags = 0u8;
            kpi::fget_cap(self.td, n, &none, &mut flags, &mut fp, ptr::null_mut())
        };
        self.check(e)?;
        if fp.is_null() {
            return Err(Errno::BADF);
        }
        let Some((caps, exact)) = self.peek_limits(n, fp) else {
            // Closed or replaced since the lookup: as if that came first.
            // SAFETY: the reference fget_cap took.
            unsafe { fdrop(fp) };
            return Err(Errno::BADF);
        };
        let file = FileRef { fd: n, fp, caps, exact };
        let filetype = file.filetype();
        let rights = convert::rights(file.cap_rights(), file.exact(), filetype, file.f_flag());
        Ok((file, FdInfo { filetype, rights }))
    }
}

impl FreeBsd {
    /// The limits of descriptor `fd`, read in place under the descriptor
    /// table's shared lock (`FILEDESC_SLOCK`), if it still holds `fp`:
    /// its Capsicum rights, fcntls and ioctl count (`fc_ioctls` left
    /// NULL), and the exact rights its ioctl list carries. The list is
    /// decoded where it is, never copied: no allocation on the lookup
    /// path. Entries are replaced (and lists freed) only under the
    /// exclusive lock (sys/kern/kern_descrip.c, sys_capability.c, 15.0).
    fn peek_limits(&self, fd: c_int, fp: *mut File) -> Option<(Filecaps, Option<sys::backend::FdRights>)> {
        const FILE: &core::ffi::CStr = c"cloudabi64/backend";
        // SAFETY: the current thread's process and its descriptor table
        // (p_fd changes only by this thread's own exec or rfork); the
        // table's sx lock is taken shared and released below; under it
        // `fd_files` and the entry of `fd` (checked against `fdt_nfiles`)
        // stay as they are, and the list (`fc_nioctls` entries when not
        // NULL) is read in place.
        unsafe {
            let fdp = access::p_fd(access::td_proc(self.td));
            let sx = access::fd_sx(fdp);
            kpi::_sx_slock(sx, 0, FILE.as_ptr(), line!() as c_int);
            let fdt = access::fd_files(fdp);
            let found = if fd >= 0 && fd < access::fdt_nfiles(fdt) {
                let fde = access::fdt_entry(fdt, fd);
                (access::fde_file(fde) == fp).then(|| {
                    let c = &*access::fde_caps(fde);
                    let list: &[u64] = if c.fc_ioctls.is_null() || c.fc_nioctls <= 0 {
                        &[]
                    } else {
                        core::slice::from_raw_parts(c.fc_ioctls.cast::<u64>(), c.fc_nioctls as usize)
                    };
                    let caps = Filecaps {
                        fc_rights: c.fc_rights,
                        fc_ioctls: ptr::null_mut(),
                        fc_nioctls: c.fc_nioctls,
                        fc_fcntls: c.fc_fcntls,
                    };
                    (caps, sys::caplist::decode(list))
                })
            } else {
                None
            };
            kpi::_sx_sunlock(sx, FILE.as_ptr(), line!() as c_int);
            found
        }
    }
}

/// A `MAXPATHLEN` buffer from `namei_zone`, the zone `namei()` itself
/// takes a buffer from for every path it looks up (per-CPU cached): two
/// path arguments on the kernel stack would not fit the module's 2 KiB
/// frame limit.
pub struct PathBuf(*mut u8);

const _: () = assert!(sys::path::PATH_MAX == crate::consts::MAXPATHLEN);

impl AsMut<[u8]> for PathBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: a MAXPATHLEN-byte zone item, owned by `self`.
        unsafe { core::slice::from_raw_parts_mut(self.0, sys::path::PATH_MAX) }
    }
}

impl Drop for PathBuf {
    fn drop(&mut self) {
        // SAFETY: the item came from namei_zone and is returned once.
        unsafe { kpi::uma_zfree_arg(kpi::namei_zone, self.0.cast(), ptr::null_mut()) };
    }
}

impl PathBuffers for FreeBsd {
    type PathBuf = PathBuf;

    fn path_buf(&mut self) -> Result<PathBuf, Errno> {
        // SAFETY: allocates one item of the namei zone (MAXPATHLEN bytes);
        // M_WAITOK sleeps rather than fail.
        let p = unsafe { kpi::uma_zalloc_arg(kpi::namei_zone, ptr::null_mut(), crate::consts::M_WAITOK) };
        if p.is_null() { Err(Errno::NOMEM) } else { Ok(PathBuf(p.cast())) }
    }
}
