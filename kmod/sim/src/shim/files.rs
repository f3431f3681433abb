//! Open files and the descriptor table of the simulated process.
//!
//! A `struct file` is a kernel block with the fields the module reads at
//! its `FILE_F_*` offsets (`f_flag`, `f_count`, `f_data`, `f_vnode`,
//! `f_type`), backed by a host descriptor. The table holds one reference
//! per descriptor; `fget_cap` adds one, the module drops it with the
//! `refcount_release` protocol on `f_count` and calls `_fdrop` for the
//! last one, which closes the host descriptor and frees the file. Every
//! file is counted (account.rs) from creation to `_fdrop`, so a reference
//! the module forgets keeps its file alive and shows up as leaked.
//!
//! Each descriptor carries Capsicum rights, checked as `fget_cap` and the
//! `kern_*` functions check them (`ENOTCAPABLE`), so the module's mapping
//! of CloudABI rights to Capsicum is exercised.

use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;
use sys::rights::{CapRights, cap};

use crate::account;
use crate::kernel::{put, td_retval};
use crate::shim::uvm;

/// `CAP_ALL0`/`CAP_ALL1` with the version-0 index markers
/// (sys/capsicum.h, 14.2): an unlimited descriptor.
pub const CAP_ALL: CapRights =
    CapRights([(1 << 57) | 0x0000_07FF_FFFF_FFFF, (1 << 58) | 0x0000_0000_001F_FFFF]);

/// A FreeBSD errno for a Linux one (through the CloudABI errno).
pub fn linux_to_freebsd(e: i32) -> c_int {
    cloudabi64::errno::to_native(sys::errno::from_linux(e))
}

/// The shim's state of a file: its host descriptor and side objects.
struct FileState {
    host: OwnedFd,
    vnode: *mut u8,
    socket: *mut u8,
}

// SAFETY: the raw pointers are kernel blocks owned by the file.
unsafe impl Send for FileState {}

static FILES: Mutex<Option<HashMap<usize, FileState>>> = Mutex::new(None);

fn with_files<R>(f: impl FnOnce(&mut HashMap<usize, FileState>) -> R) -> R {
    let mut g = FILES.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(HashMap::new))
}

/// A descriptor table entry: the file and its Capsicum limits.
#[derive(Clone, Copy)]
struct FdEnt {
    fp: usize,
    rights: CapRights,
    fcntls: u32,
}

static TABLE: Mutex<Vec<Option<FdEnt>>> = Mutex::new(Vec::new());

const FILE_SIZE: usize = 128;

/// `f_count` of a file.
fn count(fp: usize) -> &'static AtomicU32 {
    // SAFETY: a live file block; f_count is an aligned u_int.
    unsafe { &*((fp + FILE_F_COUNT) as *const AtomicU32) }
}

/// Makes a file (one reference) for a host descriptor, typed from the
/// host's fstat: regular files, directories and character devices are
/// vnodes (`VREG`, `VDIR`, `VCHR`), pipes `DTYPE_PIPE`, sockets
/// `DTYPE_SOCKET` with their `so_type` and `SO_ACCEPTCONN`.
pub fn new_file(host: OwnedFd) -> usize {
    let fd = host.as_raw_fd();
    // SAFETY: fstat and fcntl on a descriptor we own.
    let (mode, fl) = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut st);
        (st.st_mode & libc::S_IFMT, libc::fcntl(fd, libc::F_GETFL))
    };
    let mut flag = match fl & libc::O_ACCMODE {
        libc::O_RDONLY => FREAD,
        libc::O_WRONLY => FWRITE,
        _ => FREAD | FWRITE,
    };
    if fl & libc::O_PATH != 0 {
        flag = 0;
    }
    // SAFETY: calloc of a file block, freed in _fdrop.
    let fp = unsafe { libc::calloc(1, FILE_SIZE) }.cast::<u8>();
    let (mut vnode, mut socket) = (std::ptr::null_mut(), std::ptr::null_mut());
    let ty = match mode {
        libc::S_IFREG | libc::S_IFDIR | libc::S_IFCHR => {
            vnode = crate::kernel::kzalloc(64);
            let vt = match mode {
                libc::S_IFREG => VREG,
                libc::S_IFDIR => VDIR,
                _ => VCHR,
            };
            // SAFETY: a fresh vnode block.
            unsafe { put(vnode, VNODE_V_TYPE, vt) };
            DTYPE_VNODE
        }
        libc::S_IFSOCK => {
            socket = crate::kernel::kzalloc(256);
            let (mut ty, mut acc): (c_int, c_int) = (0, 0);
            let mut l = size_of::<c_int>() as libc::socklen_t;
            // SAFETY: getsockopt into local ints.
            unsafe {
                libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE, (&raw mut ty).cast(), &mut l);
                l = size_of::<c_int>() as libc::socklen_t;
                libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN, (&raw mut acc).cast(), &mut l);
                put(socket, SOCKET_SO_TYPE, ty as i16);
                put(socket, SOCKET_SO_OPTIONS, if acc != 0 { SO_ACCEPTCONN } else { 0 });
            }
            DTYPE_SOCKET
        }
        _ => DTYPE_PIPE,
    };
    // SAFETY: the fresh block; offsets from layouts.txt.
    unsafe {
        put(fp, FILE_F_FLAG, flag);
        put(fp, FILE_F_COUNT, 1u32);
        put(fp, FILE_F_TYPE, ty);
        put(fp, FILE_F_VNODE, vnode);
        put(fp, FILE_F_DATA, if socket.is_null() { vnode } else { socket });
    }
    with_files(|f| f.insert(fp as usize, FileState { host, vnode, socket }));
    account::take("struct file", fp as usize, format!("a file (type {ty}, host fd {fd})"));
    fp as usize
}

/// Installs a file at the lowest free descriptor (or at `at`), with the
/// table's reference (the caller's) and `rights`.
pub fn install(fp: usize, rights: CapRights, at: Option<usize>) -> usize {
    let mut t = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let slot = at.unwrap_or_else(|| t.iter().position(Option::is_none).unwrap_or(t.len()));
    if slot >= t.len() {
        t.resize(slot + 1, None);
    }
    if t[slot].is_some() {
        crate::fatal("install over an open descriptor");
    }
    let fcntls = if rights.has(cap::FCNTL) { CAP_FCNTL_ALL } else { 0 };
    t[slot] = Some(FdEnt { fp, rights, fcntls });
    slot
}

/// Drops one reference (`fdrop`); the last one calls `_fdrop`.
fn fdrop(fp: usize) {
    if count(fp).fetch_sub(1, Ordering::AcqRel) == 1 {
        _fdrop(fp as *mut File, std::ptr::null_mut());
    }
}

/// Closes every descriptor (process exit: `fdescfree`).
pub fn close_all() {
    let ents: Vec<FdEnt> = TABLE.lock().unwrap_or_else(|e| e.into_inner()).drain(..).flatten().collect();
    for e in ents {
        fdrop(e.fp);
    }
}

/// `_fdrop` (sys/kern/kern_descrip.c): the last reference is gone; closes
/// the file (its host descriptor) and frees it. `f_count` must be 0.
#[unsafe(no_mangle)]
pub extern "C" fn _fdrop(fp: *mut File, _td: *mut Thread) -> c_int {
    let key = fp as usize;
    if count(key).load(Ordering::Acquire) != 0 {
        crate::fatal("panic: _fdrop: f_count is not 0");
    }
    let st = with_files(|f| f.remove(&key)).unwrap_or_else(|| crate::fatal("_fdrop of an unknown file"));
    account::give("struct file", key);
    // SAFETY: blocks made by new_file, freed once.
    unsafe {
        if !st.vnode.is_null() {
            std::alloc::dealloc(st.vnode, std::alloc::Layout::from_size_align_unchecked(64, 64));
        }
        if !st.socket.is_null() {
            std::alloc::dealloc(st.socket, std::alloc::Layout::from_size_align_unchecked(256, 64));
        }
        libc::free(fp.cast());
    }
    drop(st.host);
    0
}

/// Looks `fd` up with `need` rights: a held file, its rights and fcntls.
fn lookup(fd: c_int, need: Option<&CapRights>) -> Result<(usize, CapRights, u32), c_int> {
    let t = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let e = usize::try_from(fd).ok().and_then(|i| t.get(i).copied().flatten()).ok_or(EBADF)?;
    if let Some(need) = need {
        let ok = (0..2).all(|i| e.rights.0[i] & need.0[i] == need.0[i]);
        if !ok {
            return Err(ENOTCAPABLE);
        }
    }
    count(e.fp).fetch_add(1, Ordering::Relaxed);
    Ok((e.fp, e.rights, e.fcntls))
}

/// `fget_cap` (sys/kern/kern_descrip.c, 14.x signature): the file at `fd`
/// with a new reference; `ENOTCAPABLE` unless its rights include
/// `needrightsp`; a copy of its limits in `havecapsp` (no ioctl list).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fget_cap(
    _td: *mut Thread,
    fd: c_int,
    needrightsp: *mut CapRightsT,
    fpp: *mut *mut File,
    havecapsp: *mut Filecaps,
) -> c_int {
    // SAFETY: the module passes a rights record or NULL.
    let need = (!needrightsp.is_null()).then(|| CapRights(unsafe { (*needrightsp).cr_rights }));
    match lookup(fd, need.as_ref()) {
        Ok((fp, rights, fcntls)) => {
            // SAFETY: the caller's out-parameters.
            unsafe {
                *fpp = fp as *mut File;
                if !havecapsp.is_null() {
                    (*havecapsp).fc_rights = CapRightsT { cr_rights: rights.0 };
                    (*havecapsp).fc_ioctls = std::ptr::null_mut();
                    (*havecapsp).fc_nioctls = -1;
                    (*havecapsp).fc_fcntls = fcntls;
                }
            }
            0
        }
        Err(e) => e,
    }
}

/// The host descriptor of a file.
fn host_fd(fp: usize) -> c_int {
    with_files(|f| f.get(&fp).map(|s| s.host.as_raw_fd())).unwrap_or(-1)
}

/// `kern_close(9)`: removes the descriptor and drops the table's
/// reference; `EBADF` if it is not open.
#[unsafe(no_mangle)]
pub extern "C" fn kern_close(_td: *mut Thread, fd: c_int) -> c_int {
    let e = {
        let mut t = TABLE.lock().unwrap_or_else(|e| e.into_inner());
        match usize::try_from(fd).ok().and_then(|i| t.get_mut(i)).and_then(Option::take) {
            Some(e) => e,
            None => return EBADF,
        }
    };
    fdrop(e.fp);
    0
}

/// For kern_mmap: the host descriptor of a mappable file (`CAP_MMAP`
/// plus what the protection needs, a regular file or shared memory).
///
/// # Safety
/// `td` is the current thread.
pub unsafe fn mmap_file(_td: *mut Thread, fd: c_int, _prot: c_int, _shared: bool) -> Result<c_int, c_int> {
    let need = CapRights::NONE.with(cap::MMAP);
    let (fp, _, _) = lookup(fd, Some(&need))?;
    let h = host_fd(fp);
    fdrop(fp);
    Ok(h)
}

/// Gathers a UIO_USERSPACE uio's iovecs as host iovecs, checking every
/// user range for `prot` (`EFAULT` otherwise, as uiomove faults).
///
/// # Safety
/// `uio` is the module's uio.
unsafe fn host_iovecs(uio: *mut Uio, prot: c_int) -> Result<Vec<libc::iovec>, c_int> {
    // SAFETY: caller contract.
    let u = unsafe { &*uio };
    if u.uio_segflg != UIO_USERSPACE {
        super::unimplemented_kpi("a kernel-space uio");
    }
    let mut v = Vec::new();
    for i in 0..u.uio_iovcnt.max(0) as usize {
        // SAFETY: the uio's iovec array has uio_iovcnt entries.
        let iov = unsafe { *u.uio_iov.add(i) };
        if iov.iov_len > 0
            && (!crate::kernel::is_user_range(iov.iov_base as usize, iov.iov_len)
                || !uvm::check(iov.iov_base as usize, iov.iov_len, prot))
        {
            return Err(EFAULT);
        }
        v.push(libc::iovec { iov_base: iov.iov_base, iov_len: iov.iov_len });
    }
    Ok(v)
}

/// The common part of `kern_readv`/`kern_writev`/`kern_preadv`/
/// `kern_pwritev` (`dofileread`/`dofilewrite`): the file must be open
/// for the direction (`EBADF`) and have `CAP_READ`/`CAP_WRITE`
/// (`CAP_PREAD`/`CAP_PWRITE` add `CAP_SEEK`); the byte count goes to
/// `td_retval[0]` and is taken off `uio_resid`.
unsafe fn rw(td: *mut Thread, fd: c_int, uio: *mut Uio, write: bool, offset: Option<i64>) -> c_int {
    let mut need = CapRights::NONE.with(if write { cap::WRITE } else { cap::READ });
    if offset.is_some() {
        need = need.with(cap::SEEK);
    }
    let (fp, _, _) = match lookup(fd, Some(&need)) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let result = (|| {
        // SAFETY: a live file.
        let flag = unsafe { crate::kernel::get::<u32>(fp as *const u8, FILE_F_FLAG) };
        if flag & if write { FWRITE } else { FREAD } == 0 {
            return Err(EBADF);
        }
        if offset.is_some_and(|o| o < 0) {
            return Err(EINVAL);
        }
        // SAFETY: caller contract.
        let iovs = unsafe { host_iovecs(uio, if write { libc::PROT_READ } else { libc::PROT_WRITE }) }?;
        let h = host_fd(fp);
        // SAFETY: host I/O on checked user ranges.
        let n = unsafe {
            match (write, offset) {
                (true, None) => libc::writev(h, iovs.as_ptr(), iovs.len() as c_int),
                (false, None) => libc::readv(h, iovs.as_ptr(), iovs.len() as c_int),
                (true, Some(o)) => libc::pwritev(h, iovs.as_ptr(), iovs.len() as c_int, o),
                (false, Some(o)) => libc::preadv(h, iovs.as_ptr(), iovs.len() as c_int, o),
            }
        };
        if n < 0 {
            return Err(linux_to_freebsd(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)));
        }
        Ok(n as usize)
    })();
    fdrop(fp);
    match result {
        Ok(n) => {
            // SAFETY: caller contract.
            unsafe {
                (*uio).uio_resid -= n as isize;
                (*td_retval(td))[0] = n as u64;
            }
            0
        }
        Err(e) => e,
    }
}

/// `kern_writev(9)`: `writev(2)` on a descriptor with `CAP_WRITE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_writev(td: *mut Thread, fd: c_int, uio: *mut Uio) -> c_int {
    // SAFETY: caller contract.
    unsafe { rw(td, fd, uio, true, None) }
}

/// `kern_readv(9)`: `readv(2)` on a descriptor with `CAP_READ`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_readv(td: *mut Thread, fd: c_int, uio: *mut Uio) -> c_int {
    // SAFETY: caller contract.
    unsafe { rw(td, fd, uio, false, None) }
}

/// `kern_pwritev(9)`: `pwritev(2)` (`CAP_PWRITE`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_pwritev(td: *mut Thread, fd: c_int, uio: *mut Uio, offset: i64) -> c_int {
    // SAFETY: caller contract.
    unsafe { rw(td, fd, uio, true, Some(offset)) }
}

/// `kern_preadv(9)`: `preadv(2)` (`CAP_PREAD`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_preadv(td: *mut Thread, fd: c_int, uio: *mut Uio, offset: i64) -> c_int {
    // SAFETY: caller contract.
    unsafe { rw(td, fd, uio, false, Some(offset)) }
}

/// Keeps `c_void` in use for the signatures above on every cfg.
#[allow(dead_code)]
fn _unused(_: *mut c_void) {}
