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
//! Each descriptor carries Capsicum limits (rights, fcntls, an ioctl list
//! owned by the entry: filecaps.rs), checked as `fget_cap` and the
//! `kern_*` functions check them (`ENOTCAPABLE`), so the module's mapping
//! of CloudABI rights to Capsicum is exercised. The module reads entries
//! in place under `fd_sx` (`_sx_slock`): the table is then published in
//! FreeBSD's layout (`struct filedesc`, `fdescenttbl`, `filedescent`).
//! A forked child gets a copy of all of it, lists included, with the host
//! fork (what `fdcopy` does with `filecaps_copy`).

use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;
use sys::rights::{CapRights, cap};

use crate::account;
use crate::kernel::{put, td_retval};
use crate::shim::filecaps::Caps;
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
    /// A process descriptor: (the child's pid, the pid of the process
    /// that created it; only there does closing it kill the child).
    procdesc: Option<(libc::pid_t, libc::pid_t)>,
}

/// Descriptors in flight (`SCM_RIGHTS` sent, not yet received), queued on
/// the receiving socket's file: each holds a reference on its file and
/// the Capsicum limits it travels with, as `unp_internalize()` keeps them
/// (sys/kern/uipc_usrreq.c).
pub static INFLIGHT: Mutex<Vec<(usize, InFlight)>> = Mutex::new(Vec::new());

/// One descriptor in flight: a reference on its file and a copy of its
/// limits (`filecaps_copy` in `unp_internalize`, 15.0), list included,
/// owned until `unp_externalize` installs them or `unp_dispose` frees them.
pub struct InFlight {
    pub fp: usize,
    pub caps: Caps,
}

impl InFlight {
    /// `unp_freerights()`: the limits freed, the reference dropped.
    pub fn dispose(self) {
        self.caps.free();
        fdrop(self.fp);
    }
}

/// Which socket file receives what is sent on each socket file
/// (socketpair ends).
pub static PEERS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

// SAFETY: the raw pointers are kernel blocks owned by the file.
unsafe impl Send for FileState {}

static FILES: Mutex<Option<HashMap<usize, FileState>>> = Mutex::new(None);

fn with_files<R>(f: impl FnOnce(&mut HashMap<usize, FileState>) -> R) -> R {
    let mut g = FILES.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(HashMap::new))
}

/// A descriptor table entry: the file and its Capsicum limits (the table
/// owns their ioctl list).
#[derive(Clone, Copy)]
struct FdEnt {
    fp: usize,
    caps: Caps,
}

impl FdEnt {
    /// `fdfree()`: the entry's limits freed, the table's reference dropped.
    fn close(self) {
        self.caps.free();
        fdrop(self.fp);
    }
}

static TABLE: Mutex<Vec<Option<FdEnt>>> = Mutex::new(Vec::new());

/// The table, for a change or a lookup by the shim. A thread that holds
/// `fd_sx` shared (`_sx_slock`) and calls into a KPI that needs the table
/// would deadlock against itself in a real kernel too (`FILEDESC_XLOCK`
/// under `FILEDESC_SLOCK`): fatal here, not a hang.
fn table() -> std::sync::MutexGuard<'static, Vec<Option<FdEnt>>> {
    if SLOCKED.with(|s| s.borrow().is_some()) {
        crate::fatal("the module called a descriptor-table KPI while holding fd_sx shared (lock order)");
    }
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

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
    new_file_of(host, None)
}

/// `new_file` with the type forced (`DTYPE_SHM` for `shm_open`).
pub fn new_file_of(host: OwnedFd, forced: Option<i16>) -> usize {
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
    flag |= status_bits(fl);
    // SAFETY: calloc of a file block, freed in _fdrop.
    let fp = unsafe { libc::calloc(1, FILE_SIZE) }.cast::<u8>();
    let (mut vnode, mut socket) = (std::ptr::null_mut(), std::ptr::null_mut());
    let ty = match forced.map_or(mode, |_| 0) {
        _ if forced.is_some() => {
            socket = crate::kernel::kzalloc(256); // the shmfd (f_data)
            forced.unwrap_or(DTYPE_SHM)
        }
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
    with_files(|f| f.insert(fp as usize, FileState { host, vnode, socket, procdesc: None }));
    account::take("struct file", fp as usize, format!("a file (type {ty}, host fd {fd})"));
    fp as usize
}

/// Installs a file at the lowest free descriptor (or at `at`), with the
/// table's reference (the caller's) and `caps`, which the table takes over.
pub fn install(fp: usize, caps: Caps, at: Option<usize>) -> usize {
    let mut t = table();
    let slot = at.unwrap_or_else(|| t.iter().position(Option::is_none).unwrap_or(t.len()));
    if slot >= t.len() {
        t.resize(slot + 1, None);
    }
    if t[slot].is_some() {
        crate::fatal("install over an open descriptor");
    }
    t[slot] = Some(FdEnt { fp, caps });
    slot
}

/// Takes one more reference (`fhold`).
pub fn fhold(fp: usize) {
    count(fp).fetch_add(1, Ordering::Relaxed);
}

/// Drops one reference (`fdrop`); the last one calls `_fdrop`.
pub fn fdrop(fp: usize) {
    if count(fp).fetch_sub(1, Ordering::AcqRel) == 1 {
        _fdrop(fp as *mut File, std::ptr::null_mut());
    }
}

/// Closes every descriptor (process exit: `fdescfree`).
pub fn close_all() {
    let ents: Vec<FdEnt> = table().drain(..).flatten().collect();
    for e in ents {
        e.close();
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
    // unp_dispose(): what is still in flight to this socket is dropped.
    let disposed: Vec<InFlight> = {
        let mut q = INFLIGHT.lock().unwrap_or_else(|e| e.into_inner());
        let (gone, keep): (Vec<_>, Vec<_>) = q.drain(..).partition(|(to, _)| *to == key);
        *q = keep;
        gone.into_iter().map(|(_, f)| f).collect()
    };
    PEERS.lock().unwrap_or_else(|e| e.into_inner()).retain(|&(a, b)| a != key && b != key);
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
    if let Some((child, creator)) = st.procdesc {
        // procdesc_close(): the child is killed (no PD_DAEMON) and reaped.
        // SAFETY: our own pidfd and child; a copy of the descriptor in a
        // forked child is only closed.
        unsafe {
            if libc::getpid() == creator {
                libc::syscall(libc::SYS_pidfd_send_signal, st.host.as_raw_fd(), libc::SIGKILL, 0, 0);
                let mut info: libc::siginfo_t = std::mem::zeroed();
                libc::waitid(libc::P_PIDFD, st.host.as_raw_fd() as libc::id_t, &mut info, libc::WEXITED);
            }
        }
        let _ = child;
    }
    drop(st.host);
    for f in disposed {
        f.dispose();
    }
    0
}

/// Looks `fd` up with `need` rights: a held file, its rights and fcntls.
pub fn lookup(fd: c_int, need: Option<&CapRights>) -> Result<(usize, CapRights, u32), c_int> {
    let t = table();
    let e = usize::try_from(fd).ok().and_then(|i| t.get(i).copied().flatten()).ok_or(EBADF)?;
    if let Some(need) = need {
        let ok = (0..2).all(|i| e.caps.rights.0[i] & need.0[i] == need.0[i]);
        if !ok {
            return Err(ENOTCAPABLE);
        }
    }
    count(e.fp).fetch_add(1, Ordering::Relaxed);
    Ok((e.fp, e.caps.rights, e.caps.fcntls))
}

/// Looks `fd` up with `need` rights: a held file and a copy of its limits
/// (`filecaps_copy` under the table's lock, as `fget_cap` does with
/// `havecapsp`), which the caller owns.
pub fn lookup_caps(fd: c_int, need: Option<&CapRights>) -> Result<(usize, Caps), c_int> {
    let t = table();
    let e = usize::try_from(fd).ok().and_then(|i| t.get(i).copied().flatten()).ok_or(EBADF)?;
    if let Some(need) = need
        && !(0..2).all(|i| e.caps.rights.0[i] & need.0[i] == need.0[i])
    {
        return Err(ENOTCAPABLE);
    }
    count(e.fp).fetch_add(1, Ordering::Relaxed);
    Ok((e.fp, e.caps.copy()))
}

/// Runs `f` on the limits of open descriptor `fd` (`EBADF` otherwise),
/// under the table's (exclusive) lock.
pub fn with_entry<R>(fd: c_int, f: impl FnOnce(&mut Caps) -> Result<R, c_int>) -> Result<R, c_int> {
    let mut t = table();
    let e = usize::try_from(fd).ok().and_then(|i| t.get_mut(i)).and_then(Option::as_mut).ok_or(EBADF)?;
    f(&mut e.caps)
}

/// `fget_cap` (sys/kern/kern_descrip.c, 14.x signature): the file at `fd`
/// with a new reference; `ENOTCAPABLE` unless its rights include
/// `needrightsp`; a copy of its limits in `havecapsp` (`filecaps_copy`:
/// the caller owns and frees the list copy).
#[cfg(freebsd14)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fget_cap(
    _td: *mut Thread,
    fd: c_int,
    needrightsp: *mut CapRightsT,
    fpp: *mut *mut File,
    havecapsp: *mut Filecaps,
) -> c_int {
    // SAFETY: caller contract (the same records).
    unsafe { get_cap(fd, needrightsp, fpp, havecapsp) }
}

/// `fget_cap` (kern_descrip.c, 15.0 signature): as 14.x, and the
/// descriptor's `fde_flags` in `*flagsp` when not NULL (the shim keeps
/// none: close-on-exec and the like are not reproduced, so 0).
#[cfg(freebsd15)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fget_cap(
    _td: *mut Thread,
    fd: c_int,
    needrightsp: *const CapRightsT,
    flagsp: *mut u8,
    fpp: *mut *mut File,
    havecapsp: *mut Filecaps,
) -> c_int {
    // SAFETY: caller contract (the same records, and the flags byte).
    unsafe {
        let e = get_cap(fd, needrightsp, fpp, havecapsp);
        if e == 0 && !flagsp.is_null() {
            *flagsp = 0;
        }
        e
    }
}

/// The common part of `fget_cap`.
///
/// # Safety
/// `needrightsp` is a rights record or NULL, `fpp` writable, `havecapsp`
/// a limits record or NULL.
unsafe fn get_cap(
    fd: c_int,
    needrightsp: *const CapRightsT,
    fpp: *mut *mut File,
    havecapsp: *mut Filecaps,
) -> c_int {
    // SAFETY: the module passes a rights record or NULL.
    let need = (!needrightsp.is_null()).then(|| CapRights(unsafe { (*needrightsp).cr_rights }));
    if havecapsp.is_null() {
        return match lookup(fd, need.as_ref()) {
            Ok((fp, _, _)) => {
                // SAFETY: the caller's out-parameter.
                unsafe { *fpp = fp as *mut File };
                0
            }
            Err(e) => e,
        };
    }
    match lookup_caps(fd, need.as_ref()) {
        Ok((fp, caps)) => {
            // SAFETY: the caller's out-parameters.
            unsafe {
                *fpp = fp as *mut File;
                *havecapsp = caps.to_filecaps();
            }
            0
        }
        Err(e) => e,
    }
}

/// The host descriptor of a file.
pub fn host_fd(fp: usize) -> c_int {
    with_files(|f| f.get(&fp).map(|s| s.host.as_raw_fd())).unwrap_or(-1)
}

/// `kern_close(9)`: removes the descriptor and drops the table's
/// reference; `EBADF` if it is not open.
#[unsafe(no_mangle)]
pub extern "C" fn kern_close(_td: *mut Thread, fd: c_int) -> c_int {
    let e = {
        let mut t = table();
        match usize::try_from(fd).ok().and_then(|i| t.get_mut(i)).and_then(Option::take) {
            Some(e) => e,
            None => return EBADF,
        }
    };
    e.close();
    0
}

/// For kern_mmap: the host descriptor of a mappable file (`CAP_MMAP`
/// plus what the protection needs, a regular file or shared memory).
///
/// # Safety
/// `td` is the current thread.
pub unsafe fn mmap_file(_td: *mut Thread, fd: c_int, prot: c_int, shared: bool) -> Result<c_int, c_int> {
    // kern_mmap() (sys/vm/vm_mmap.c): CAP_MMAP, plus CAP_MMAP_R for
    // PROT_READ, CAP_MMAP_W for a shared PROT_WRITE, CAP_MMAP_X for
    // PROT_EXEC (each includes CAP_SEEK).
    let mut need = CapRights::NONE.with(cap::MMAP);
    if prot & libc::PROT_READ != 0 {
        need = need.with(cap::MMAP | cap::SEEK | cap::READ);
    }
    if shared && prot & libc::PROT_WRITE != 0 {
        need = need.with(cap::MMAP | cap::SEEK | cap::WRITE);
    }
    if prot & libc::PROT_EXEC != 0 {
        need = need.with(cap::MMAP_X);
    }
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

/// FreeBSD `f_flag` status bits (sys/fcntl.h: `FNONBLOCK` 4, `FAPPEND` 8,
/// `FFSYNC` 0x80, `FDSYNC` 0x1000000) of Linux status flags.
fn status_bits(fl: c_int) -> u32 {
    let mut f = 0;
    if fl & libc::O_NONBLOCK != 0 {
        f |= 4;
    }
    if fl & libc::O_APPEND != 0 {
        f |= 8;
    }
    if fl & libc::O_SYNC == libc::O_SYNC {
        f |= 0x80;
    } else if fl & libc::O_DSYNC != 0 {
        f |= 0x100_0000;
    }
    f
}

/// Runs `op` on the host descriptor of `fd` looked up with `rights`.
fn with_fd<R>(
    fd: c_int,
    rights: CapRights,
    op: impl FnOnce(usize, c_int) -> Result<R, c_int>,
) -> Result<R, c_int> {
    let (fp, _, _) = lookup(fd, Some(&rights))?;
    let r = op(fp, host_fd(fp));
    fdrop(fp);
    r
}

fn last_errno() -> c_int {
    linux_to_freebsd(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
}

fn code(r: Result<(), c_int>) -> c_int {
    r.err().unwrap_or(0)
}

/// `kern_fstat(9)`: `CAP_FSTAT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_fstat(_td: *mut Thread, fd: c_int, sbp: *mut Stat) -> c_int {
    code(with_fd(fd, CapRights::NONE.with(cap::FSTAT), |_, h| {
        // SAFETY: fstat into a local.
        let mut s: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(h, &mut s) } < 0 {
            return Err(last_errno());
        }
        // SAFETY: the caller's stat.
        unsafe { *sbp = super::path::to_stat(&s) };
        Ok(())
    }))
}

/// `kern_ftruncate(9)`: `CAP_FTRUNCATE`; `EINVAL` for a negative length
/// or a file not open for writing.
#[unsafe(no_mangle)]
pub extern "C" fn kern_ftruncate(_td: *mut Thread, fd: c_int, length: i64) -> c_int {
    if length < 0 {
        return EINVAL;
    }
    code(with_fd(fd, CapRights::NONE.with(cap::FTRUNCATE), |fp, h| {
        // SAFETY: a live file.
        if unsafe { crate::kernel::get::<u32>(fp as *const u8, FILE_F_FLAG) } & FWRITE == 0 {
            return Err(EINVAL);
        }
        // SAFETY: host ftruncate.
        if unsafe { libc::ftruncate(h, length) } < 0 { Err(last_errno()) } else { Ok(()) }
    }))
}

/// `kern_futimens(9)`: `CAP_FUTIMES`; times in kernel memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_futimens(
    _td: *mut Thread,
    fd: c_int,
    tptr: *const Timespec,
    seg: u32,
) -> c_int {
    if seg != UIO_SYSSPACE {
        super::unimplemented_kpi("kern_futimens with user-space times");
    }
    code(with_fd(fd, CapRights::NONE.with(cap::FUTIMES), |_, h| {
        let t = super::path::host_times(tptr);
        // SAFETY: host futimens.
        let r = unsafe { libc::futimens(h, t.as_ref().map_or(std::ptr::null(), |t| t.as_ptr())) };
        if r < 0 { Err(last_errno()) } else { Ok(()) }
    }))
}

/// `kern_lseek(9)`: `CAP_SEEK`; the new offset in `td_retval[0]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_lseek(td: *mut Thread, fd: c_int, offset: i64, whence: c_int) -> c_int {
    code(with_fd(fd, CapRights::NONE.with(cap::SEEK), |_, h| {
        // SAFETY: host lseek (the whence values are the same).
        let r = unsafe { libc::lseek(h, offset, whence) };
        if r < 0 {
            return Err(last_errno());
        }
        // SAFETY: the current thread's results.
        unsafe { (*td_retval(td))[0] = r as u64 };
        Ok(())
    }))
}

/// `kern_fsync(9)`: `CAP_FSYNC`; `fsync` or `fdatasync`.
#[unsafe(no_mangle)]
pub extern "C" fn kern_fsync(_td: *mut Thread, fd: c_int, fullsync: bool) -> c_int {
    code(with_fd(fd, CapRights::NONE.with(cap::FSYNC), |_, h| {
        // SAFETY: host sync.
        let r = unsafe { if fullsync { libc::fsync(h) } else { libc::fdatasync(h) } };
        if r < 0 { Err(last_errno()) } else { Ok(()) }
    }))
}

/// `kern_posix_fadvise(9)`: no rights needed; `EINVAL` for bad advice or
/// negative ranges, `ESPIPE` for pipes and sockets.
#[unsafe(no_mangle)]
pub extern "C" fn kern_posix_fadvise(
    _td: *mut Thread,
    fd: c_int,
    offset: i64,
    len: i64,
    advice: c_int,
) -> c_int {
    if !(0..=5).contains(&advice) || offset < 0 || len < 0 {
        return EINVAL;
    }
    code(with_fd(fd, CapRights::NONE, |fp, h| {
        // SAFETY: a live file.
        let ty = unsafe { crate::kernel::get::<i16>(fp as *const u8, FILE_F_TYPE) };
        if ty != DTYPE_VNODE {
            return Err(ESPIPE);
        }
        // SAFETY: host posix_fadvise (same advice values).
        match unsafe { libc::posix_fadvise(h, offset, len, advice) } {
            0 => Ok(()),
            e => Err(linux_to_freebsd(e)),
        }
    }))
}

/// `kern_posix_fallocate(9)`: `CAP_PWRITE`; `EINVAL` for a negative
/// offset or a length <= 0, `EBADF` when not writable, `ENODEV` for
/// non-regular files.
#[unsafe(no_mangle)]
pub extern "C" fn kern_posix_fallocate(_td: *mut Thread, fd: c_int, offset: i64, len: i64) -> c_int {
    if offset < 0 || len <= 0 {
        return EINVAL;
    }
    code(with_fd(fd, CapRights::NONE.with(cap::WRITE).with(cap::SEEK), |fp, h| {
        // SAFETY: a live file.
        let flag = unsafe { crate::kernel::get::<u32>(fp as *const u8, FILE_F_FLAG) };
        if flag & FWRITE == 0 {
            return Err(EBADF);
        }
        // SAFETY: host posix_fallocate.
        match unsafe { libc::posix_fallocate(h, offset, len) } {
            0 => Ok(()),
            e => Err(linux_to_freebsd(e)),
        }
    }))
}

/// `kern_cap_rights_limit(9)`: narrows the descriptor's rights;
/// `ENOTCAPABLE` if the new set is not contained in the current one. A set
/// without `CAP_FCNTL` also clears the fcntl limits.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_cap_rights_limit(
    _td: *mut Thread,
    fd: c_int,
    rights: *mut CapRightsT,
) -> c_int {
    // SAFETY: the module's rights record.
    let new = CapRights(unsafe { (*rights).cr_rights });
    let mut t = table();
    let Some(e) = usize::try_from(fd).ok().and_then(|i| t.get_mut(i)).and_then(Option::as_mut) else {
        return EBADF;
    };
    if !(0..2).all(|i| e.caps.rights.0[i] & new.0[i] == new.0[i]) {
        return ENOTCAPABLE;
    }
    e.caps.rights = new;
    // Without CAP_IOCTL the list goes (fc_ioctls NULL, fc_nioctls 0) and
    // is freed after the table is unlocked (sys_capability.c, 15.0).
    let mut dropped = None;
    if !new.has(cap::IOCTL) {
        dropped = Some(Caps { ioctls: std::mem::take(&mut e.caps.ioctls), ..e.caps });
        e.caps.nioctls = 0;
    }
    if !new.has(cap::FCNTL) {
        e.caps.fcntls = 0;
    }
    drop(t);
    if let Some(d) = dropped {
        d.free();
    }
    0
}

/// `kern_fcntl(9)` for `F_SETFL` (the only command the module uses):
/// `CAP_FCNTL` and `CAP_FCNTL_SETFL` in the fcntl limits; sets
/// `FNONBLOCK`, `FAPPEND`, `FFSYNC`/`FDSYNC` from the new flags.
#[unsafe(no_mangle)]
pub extern "C" fn kern_fcntl(_td: *mut Thread, fd: c_int, cmd: c_int, arg: isize) -> c_int {
    if cmd != F_SETFL {
        super::unimplemented_kpi("kern_fcntl other than F_SETFL");
    }
    let (fp, _, fcntls) = match lookup(fd, Some(&CapRights::NONE.with(cap::FCNTL))) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let r = (|| {
        if fcntls & (1 << F_SETFL) == 0 {
            return Err(ENOTCAPABLE);
        }
        let a = arg as c_int;
        let mut l = 0;
        if a & O_NONBLOCK_FBSD != 0 {
            l |= libc::O_NONBLOCK;
        }
        if a & O_APPEND_FBSD != 0 {
            l |= libc::O_APPEND;
        }
        let h = host_fd(fp);
        // SAFETY: host fcntl on our descriptor.
        if unsafe { libc::fcntl(h, libc::F_SETFL, l) } < 0 {
            return Err(last_errno());
        }
        // FFSYNC/FDSYNC are kept in f_flag only (Linux cannot change them).
        let keep_sync = a & (0x80 | 0x100_0000);
        // SAFETY: a live file: f_flag updated atomically.
        unsafe {
            let f = &*((fp + FILE_F_FLAG) as *const AtomicU32);
            let old = f.load(Ordering::Relaxed);
            f.store((old & 3) | status_bits(l) | keep_sync as u32, Ordering::Relaxed);
        }
        Ok(())
    })();
    fdrop(fp);
    code(r)
}

const O_NONBLOCK_FBSD: c_int = 4;
const O_APPEND_FBSD: c_int = 8;

/// `kern_dup(9)`: `FDDUP_NORMAL` (the lowest free descriptor) or
/// `FDDUP_FIXED` (`dup2`: replaces `new`, whose limits are freed); the
/// copy shares the file and has a copy of the limits, ioctl list included
/// (`filecaps_copy_prep`/`_finish`, kern_descrip.c 15.0); the number in
/// `td_retval[0]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_dup(
    td: *mut Thread,
    mode: u32,
    _flags: c_int,
    old: c_int,
    new: c_int,
) -> c_int {
    let (fp, caps) = match lookup_caps(old, None) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let at = match mode {
        FDDUP_NORMAL => None,
        FDDUP_FIXED => {
            if !(0..65536).contains(&new) {
                caps.free();
                fdrop(fp);
                return EBADF;
            }
            if new == old {
                caps.free();
                fdrop(fp);
                // SAFETY: the current thread's results.
                unsafe { (*td_retval(td))[0] = new as u64 };
                return 0;
            }
            let replaced = {
                let mut t = table();
                t.get_mut(new as usize).and_then(Option::take)
            };
            if let Some(r) = replaced {
                r.close();
            }
            Some(new as usize)
        }
        _ => super::unimplemented_kpi("kern_dup mode"),
    };
    let slot = install(fp, caps, at);
    // SAFETY: the current thread's results.
    unsafe { (*td_retval(td))[0] = slot as u64 };
    0
}

/// `foffset_lock(9)`: the file's offset, with the offset lock held.
#[unsafe(no_mangle)]
pub extern "C" fn foffset_lock(fp: *mut File, _flags: c_int) -> i64 {
    account::take("foffset lock", fp as usize, "a file offset lock");
    // SAFETY: host lseek on the file's descriptor.
    unsafe { libc::lseek(host_fd(fp as usize), 0, libc::SEEK_CUR) }.max(0)
}

/// `foffset_unlock(9)` with flags 0: stores the offset, releases the lock.
#[unsafe(no_mangle)]
pub extern "C" fn foffset_unlock(fp: *mut File, val: i64, flags: c_int) {
    if flags != 0 {
        super::unimplemented_kpi("foffset_unlock with flags");
    }
    account::give("foffset lock", fp as usize);
    // SAFETY: host lseek.
    unsafe { libc::lseek(host_fd(fp as usize), val, libc::SEEK_SET) };
}

/// Installs at the lowest free descriptor with `caps` (taken over).
pub fn install_caps(fp: usize, caps: Caps) -> usize {
    install(fp, caps, None)
}

/// The descriptor limit (`--fd-limit`, as `ulimit -n`): `fdalloc()`'s
/// `EMFILE` once the lowest free number reaches it (`getmaxfd()`:
/// `RLIMIT_NOFILE`, kern_descrip.c 15.0). Unlimited by default. Applied
/// where the module hands the kernel limits of its own to install
/// (`finstall`, `finstall_refed`, `kern_shm_open`, `fork1`'s process
/// descriptor); the shim's other installs ignore it.
pub static FD_LIMIT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);
/// `EMFILE`s returned because of `FD_LIMIT` (for the stats line).
pub static FD_LIMIT_HITS: AtomicU32 = AtomicU32::new(0);

/// `fdalloc()`: `EMFILE` if the lowest free number is at the limit.
pub fn fdalloc_check() -> Result<(), c_int> {
    let t = table();
    let slot = t.iter().position(Option::is_none).unwrap_or(t.len());
    if slot >= FD_LIMIT.load(Ordering::Relaxed) {
        FD_LIMIT_HITS.fetch_add(1, Ordering::Relaxed);
        return Err(EMFILE);
    }
    Ok(())
}

/// `finstall(9)`: a new reference on `fp` at the lowest free descriptor,
/// with the limits in `fcaps`, moved into the table (`filecaps_move`:
/// `*fcaps` zeroed, its list the table's); the number in `*fd`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn finstall(
    _td: *mut Thread,
    fp: *mut File,
    fd: *mut c_int,
    _flags: c_int,
    fcaps: *mut Filecaps,
) -> c_int {
    fhold(fp as usize);
    // SAFETY: finstall_refed takes over the reference just taken, or
    // leaves it to us on failure.
    let e = unsafe { finstall_refed(_td, fp, fd, _flags, fcaps) };
    if e != 0 {
        fdrop(fp as usize);
    }
    e
}

/// `finstall_refed(9)`: as `finstall`, taking over the caller's reference
/// on success; on failure (`EMFILE`) the reference and `*fcaps` stay the
/// caller's, untouched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn finstall_refed(
    _td: *mut Thread,
    fp: *mut File,
    fd: *mut c_int,
    _flags: c_int,
    fcaps: *mut Filecaps,
) -> c_int {
    if let Err(e) = fdalloc_check() {
        return e;
    }
    // SAFETY: the module's limits record (NULL: filecaps_fill) and
    // out-parameter.
    unsafe {
        let caps = if fcaps.is_null() { Caps::unlimited() } else { Caps::take(fcaps) };
        *fd = install_caps(fp as usize, caps) as c_int;
    }
    0
}

/// `fdclose(9)`: closes descriptor `idx` if it still refers to `fp`
/// (dropping the table's reference); otherwise nothing.
#[unsafe(no_mangle)]
pub extern "C" fn fdclose(_td: *mut Thread, fp: *mut File, idx: c_int) {
    let e = {
        let mut t = table();
        match usize::try_from(idx).ok().and_then(|i| t.get_mut(i)) {
            Some(slot) if slot.is_some_and(|e| e.fp == fp as usize) => slot.take(),
            _ => None,
        }
    };
    if let Some(e) = e {
        e.close();
    }
}

/// `kern_close_range(9)`: closes every open descriptor from `low` to
/// `high` (flags 0 only); `EINVAL` if `low > high`.
#[unsafe(no_mangle)]
pub extern "C" fn kern_close_range(_td: *mut Thread, flags: c_int, low: u32, high: u32) -> c_int {
    if flags != 0 {
        super::unimplemented_kpi("kern_close_range with flags");
    }
    if low > high {
        return EINVAL;
    }
    let ents: Vec<FdEnt> = {
        let mut t = table();
        let hi = (high as usize).min(t.len().saturating_sub(1));
        if (low as usize) > hi || t.is_empty() {
            Vec::new()
        } else {
            t[low as usize..=hi].iter_mut().filter_map(Option::take).collect()
        }
    };
    for e in ents {
        e.close();
    }
    0
}

/// A process descriptor for a forked child (its host pidfd).
pub fn new_procdesc(pidfd: OwnedFd, child: libc::pid_t) -> usize {
    let fp = new_file_of(pidfd, Some(DTYPE_PROCDESC));
    // SAFETY: our own pid.
    let me = unsafe { libc::getpid() };
    with_files(|f| f.get_mut(&fp).map(|s| s.procdesc = Some((child, me))));
    fp
}

/// `SHM_ANON` (sys/mman.h): `(char *)1`.
const SHM_ANON: usize = 1;

/// `kern_shm_open(9)` (14.x) for `SHM_ANON`: a new anonymous shared
/// memory object (a host memfd), `DTYPE_SHM`, open read/write as asked,
/// at the lowest free number with the limits in `fcaps`; the number in
/// `td_retval[0]`. Named objects are not reproduced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_shm_open(
    td: *mut Thread,
    path: *const std::ffi::c_char,
    flags: c_int,
    _mode: u16,
    fcaps: *mut Filecaps,
) -> c_int {
    if path as usize != SHM_ANON {
        super::unimplemented_kpi("kern_shm_open of a named object");
    }
    // falloc_caps() fails before anything is made; `*fcaps` untouched.
    if let Err(e) = fdalloc_check() {
        return e;
    }
    let acc = match flags & 3 {
        0 => libc::O_RDONLY,
        1 => return EINVAL, // shm_open(2): O_WRONLY is EINVAL
        _ => libc::O_RDWR,
    };
    // SAFETY: a new memfd.
    let fd = unsafe { libc::memfd_create(c"kmod-sim shm".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return last_errno();
    }
    // A read-only object is a read-only reopen of the memfd.
    let host = if acc == libc::O_RDONLY {
        let p = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).unwrap_or_default();
        // SAFETY: reopening our own memfd read-only, then closing it.
        let ro = unsafe { libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        unsafe { libc::close(fd) };
        if ro < 0 {
            return last_errno();
        }
        ro
    } else {
        fd
    };
    // SAFETY: a new descriptor we own.
    let fp = new_file_of(unsafe { OwnedFd::from_raw_fd(host) }, Some(DTYPE_SHM));
    // falloc_caps() → _finstall(): the limits moved into the table.
    // SAFETY: the module's limits record, or NULL (filecaps_fill).
    let caps = if fcaps.is_null() { Caps::unlimited() } else { unsafe { Caps::take(fcaps) } };
    let slot = install_caps(fp, caps);
    // SAFETY: the current thread's results.
    unsafe { (*td_retval(td))[0] = slot as u64 };
    0
}

/// FreeBSD `struct dirent` (sys/dirent.h): `d_fileno` 0, `d_off` 8,
/// `d_reclen` 16, `d_type` 18, `d_namlen` 20, `d_name` 24; records are
/// `_GENERIC_DIRSIZ` = (24 + namlen + 1) rounded up to 8.
const DIRENT_NAME: usize = 24;

/// `kern_getdirentries(9)`: entries from the directory's current offset
/// into a kernel buffer of `count` bytes as FreeBSD `struct dirent`s
/// (`CAP_READ`; `EINVAL` when not even one entry fits); the offset
/// before in `*basep`, the bytes in `td_retval[0]`, the offset after
/// the last entry returned left in the file.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_getdirentries(
    td: *mut Thread,
    fd: c_int,
    buf: *mut std::ffi::c_char,
    count: usize,
    basep: *mut i64,
    residp: *mut isize,
    seg: u32,
) -> c_int {
    if seg != UIO_SYSSPACE {
        super::unimplemented_kpi("kern_getdirentries into user memory");
    }
    let r = with_fd(fd, CapRights::NONE.with(cap::READ), |_, h| {
        // SAFETY: host lseek/getdents64 into a local buffer; the output
        // stays within the caller's `count` bytes.
        unsafe {
            let base = libc::lseek(h, 0, libc::SEEK_CUR);
            let mut tmp = vec![0u8; count.max(512)];
            let n = libc::syscall(libc::SYS_getdents64, h, tmp.as_mut_ptr(), tmp.len());
            if n < 0 {
                return Err(last_errno());
            }
            let (mut i, mut out, mut last_off) = (0usize, 0usize, base);
            let mut any = false;
            while i < n as usize {
                let ino = u64::from_ne_bytes(tmp[i..i + 8].try_into().unwrap_or_default());
                let off = i64::from_ne_bytes(tmp[i + 8..i + 16].try_into().unwrap_or_default());
                let reclen = u16::from_ne_bytes(tmp[i + 16..i + 18].try_into().unwrap_or_default()) as usize;
                let dtype = tmp[i + 18];
                let name = &tmp[i + 19..i + reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                let rec = (DIRENT_NAME + name.len() + 1).next_multiple_of(8);
                if out + rec > count {
                    if !any {
                        return Err(EINVAL);
                    }
                    // Not returned: read again from after the last one.
                    libc::lseek(h, last_off, libc::SEEK_SET);
                    break;
                }
                let d = buf.cast::<u8>().add(out);
                std::ptr::write_bytes(d, 0, rec);
                crate::kernel::put(d, 0, ino);
                crate::kernel::put(d, 8, off);
                crate::kernel::put(d, 16, rec as u16);
                crate::kernel::put(d, 18, dtype);
                crate::kernel::put(d, 20, name.len() as u16);
                std::ptr::copy_nonoverlapping(name.as_ptr(), d.add(DIRENT_NAME), name.len());
                out += rec;
                last_off = off;
                any = true;
                i += reclen;
            }
            *basep = base;
            if !residp.is_null() {
                *residp = (count - out) as isize;
            }
            (*td_retval(td))[0] = out as u64;
            Ok(())
        }
    });
    code(r)
}

/// Keeps `c_void` in use for the signatures above on every cfg.
#[allow(dead_code)]
fn _unused(_: *mut c_void) {}

/// The process's `struct filedesc` (`p_fd`): a kernel block with `fd_sx`
/// at `FILEDESC_FD_SX` and `fd_files` at `FILEDESC_FD_FILES`, the
/// latter a `struct fdescenttbl` (`fdt_nfiles`, then `fdt_ofiles[]` of
/// `FILEDESCENT_SIZE`-byte entries, `fde_file` and `fde_caps` at their
/// offsets) that mirrors `TABLE` while the shared lock is held.
static FILEDESC: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// `fd_files` and the number of entries it has room for.
static FDT: Mutex<(usize, usize)> = Mutex::new((0, 0));
const FILEDESC_SIZE: usize = 256;

/// The process's `struct filedesc`, for `p_fd` (one per sim process: a
/// forked child has its own copy of it, as `fdcopy` gives it).
pub fn filedesc() -> *mut u8 {
    let mut p = FILEDESC.load(Ordering::Acquire);
    if p == 0 {
        p = crate::kernel::kzalloc(FILEDESC_SIZE) as usize;
        FILEDESC.store(p, Ordering::Release);
    }
    p as *mut u8
}

std::thread_local! {
    /// The table, held by this thread from `_sx_slock` to `_sx_sunlock`.
    static SLOCKED: std::cell::RefCell<Option<std::sync::MutexGuard<'static, Vec<Option<FdEnt>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// `fd_sx` shared acquisitions and releases (for the end-of-run report).
pub static SX_SLOCKS: AtomicU32 = AtomicU32::new(0);
pub static SX_SUNLOCKS: AtomicU32 = AtomicU32::new(0);

/// The accounting kind of a held `fd_sx`.
pub const SX_KIND: &str = "fd_sx shared lock";

/// Writes the table into `fd_files` (entries past it zeroed).
fn publish(t: &[Option<FdEnt>]) {
    let mut fdt = FDT.lock().unwrap_or_else(|e| e.into_inner());
    let room = t.len().max(64);
    if fdt.1 < room {
        if fdt.0 != 0 {
            // SAFETY: the previous fd_files, unreachable now (only read
            // under the lock, which is not held).
            unsafe { libc::free(fdt.0 as *mut libc::c_void) };
        }
        let cap = room.next_power_of_two();
        // SAFETY: a zeroed block for the header and `cap` entries.
        let p = unsafe { libc::calloc(1, FDESCENTTBL_FDT_OFILES + cap * FILEDESCENT_SIZE) };
        if p.is_null() {
            crate::fatal("host out of memory");
        }
        *fdt = (p as usize, cap);
        // SAFETY: the filedesc block; fd_files is a pointer.
        unsafe { put(filedesc(), FILEDESC_FD_FILES, p as *mut u8) };
    }
    let base = fdt.0 as *mut u8;
    // SAFETY: the block has room for the header and `fdt.1` entries.
    unsafe {
        std::ptr::write_bytes(base.add(FDESCENTTBL_FDT_OFILES), 0, fdt.1 * FILEDESCENT_SIZE);
        put(base, FDESCENTTBL_FDT_NFILES, t.len() as i32);
        for (i, e) in t.iter().enumerate() {
            if let Some(e) = e {
                let fde = base.add(FDESCENTTBL_FDT_OFILES + i * FILEDESCENT_SIZE);
                put(fde, FILEDESCENT_FDE_FILE, e.fp as *mut u8);
                put(fde, FILEDESCENT_FDE_CAPS, e.caps.to_filecaps());
            }
        }
    }
}

/// Scribbles over `fd_files` (no entries, `fdt_nfiles` 0) so that a read
/// of it without the lock finds nothing rather than a stale entry.
fn unpublish() {
    let fdt = FDT.lock().unwrap_or_else(|e| e.into_inner());
    if fdt.0 != 0 {
        // SAFETY: the block published above.
        unsafe {
            put(fdt.0 as *mut u8, FDESCENTTBL_FDT_NFILES, 0i32);
            std::ptr::write_bytes(
                (fdt.0 as *mut u8).add(FDESCENTTBL_FDT_OFILES),
                0xa5,
                fdt.1 * FILEDESCENT_SIZE,
            );
        }
    }
}

/// Whether `sx` is the process's `fd_sx`; any other lock is not reproduced.
fn check_fd_sx(sx: *mut Sx, what: &str) {
    if sx as usize != filedesc() as usize + FILEDESC_FD_SX {
        super::unimplemented_kpi(&format!("{what} of a lock other than the descriptor table's fd_sx"));
    }
}

/// `_sx_slock(9)` (`sx_slock`; sys/kern/kern_sx.c, 15.0) of `fd_sx`
/// (`FILEDESC_SLOCK`): while held, the descriptor table does not change
/// (entries and lists are replaced under the exclusive lock only), so its
/// entries are readable in place. Reproduced by holding the table's
/// mutex (stronger than shared: no other reader either) and publishing
/// it into `fd_files`. Recursion is fatal (a shared sx must not be
/// recursed into by a thread that may then block a writer); each
/// acquisition is counted and must be released within the syscall.
#[unsafe(no_mangle)]
pub extern "C" fn _sx_slock(sx: *mut Sx, _opts: c_int, file: *const std::ffi::c_char, line: c_int) -> c_int {
    check_fd_sx(sx, "_sx_slock");
    if SLOCKED.with(|s| s.borrow().is_some()) {
        crate::fatal("panic: _sx_slock: fd_sx recursed by its holder");
    }
    let guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    publish(&guard);
    SLOCKED.with(|s| *s.borrow_mut() = Some(guard));
    // SAFETY: the module passes its __FILE__ string.
    let at = unsafe { std::ffi::CStr::from_ptr(file) }.to_string_lossy();
    account::take(SX_KIND, sx as usize, format!("fd_sx held shared (taken at {at}:{line})"));
    SX_SLOCKS.fetch_add(1, Ordering::Relaxed);
    0
}

/// `_sx_sunlock(9)` (`sx_sunlock`; kern_sx.c, 15.0) of `fd_sx`: releases
/// the shared lock this thread holds; releasing one it does not hold is
/// fatal (`sx_assert(SA_SLOCKED)`).
#[unsafe(no_mangle)]
pub extern "C" fn _sx_sunlock(sx: *mut Sx, _file: *const std::ffi::c_char, _line: c_int) {
    check_fd_sx(sx, "_sx_sunlock");
    let Some(guard) = SLOCKED.with(|s| s.borrow_mut().take()) else {
        crate::fatal("panic: _sx_sunlock: fd_sx not held shared by this thread");
    };
    unpublish();
    account::give(SX_KIND, sx as usize);
    SX_SUNLOCKS.fetch_add(1, Ordering::Relaxed);
    drop(guard);
}
