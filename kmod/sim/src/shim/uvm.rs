//! The simulated process's address space (`struct vm_map` as the shim
//! keeps it): page-granular entries inside the user reservation, each with
//! its protection, backed by real host mappings at the same addresses so
//! that the guest program runs on them directly. `copyin`/`copyout` check
//! the entries (an unmapped or too weakly protected page is `EFAULT`, as a
//! fault in copyin/copyout is in the kernel) before copying.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::account;
use crate::kernel::{USER_BASE, USER_SIZE, is_user_range, td_retval};

pub const PAGE: usize = 4096;

/// FreeBSD `mmap(2)` flags (sys/mman.h, 14.x/15.x).
const MAP_SHARED: c_int = 0x0001;
const MAP_PRIVATE: c_int = 0x0002;
const MAP_FIXED: c_int = 0x0010;
const MAP_ANON: c_int = 0x1000;
const MAP_EXCL: c_int = 0x4000;
/// FreeBSD `PROT_*` have the Linux values (READ 1, WRITE 2, EXEC 4).
const PROT_MASK: c_int = 7;

/// Page protection of each mapped page, by page address.
static MAP: Mutex<BTreeMap<usize, c_int>> = Mutex::new(BTreeMap::new());

/// Pages mapped `MAP_SHARED` (shared with forked processes).
static SHARED: Mutex<std::collections::BTreeSet<usize>> = Mutex::new(std::collections::BTreeSet::new());

/// Whether the page of `addr` is mapped shared.
pub fn is_shared(addr: usize) -> bool {
    SHARED.lock().unwrap_or_else(|e| e.into_inner()).contains(&(addr & !(PAGE - 1)))
}

/// Serializes changes of the address space (the map lock a kernel holds
/// across finding space and entering a mapping).
static VM_LOCK: Mutex<()> = Mutex::new(());

/// Where address-space searches start (above the program image).
const SEARCH_BASE: usize = USER_BASE + (16 << 30);

fn host_mmap(addr: usize, len: usize, prot: c_int, flags: c_int, fd: c_int, off: i64) -> Result<(), c_int> {
    // SAFETY: `addr..addr+len` lies in the user reservation (checked by
    // every caller), which belongs to the simulated process.
    let p = unsafe { libc::mmap(addr as *mut c_void, len, prot, flags | libc::MAP_FIXED, fd, off) };
    if p == libc::MAP_FAILED {
        return Err(crate::shim::files::linux_to_freebsd(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
    }
    Ok(())
}

/// Maps anonymous zeroed memory at a fixed user address (exec's segments
/// and stack).
pub fn map_anon_fixed(addr: usize, len: usize, prot: c_int) -> Result<(), c_int> {
    if !is_user_range(addr, len) || addr % PAGE != 0 {
        return Err(EINVAL);
    }
    let len = len.next_multiple_of(PAGE);
    host_mmap(addr, len, prot, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)?;
    record(addr, len, prot);
    Ok(())
}

/// Records pages as mapped with `prot` (for mappings made elsewhere, e.g.
/// the shared page).
pub fn record(addr: usize, len: usize, prot: c_int) {
    let mut m = MAP.lock().unwrap_or_else(|e| e.into_inner());
    for p in (addr..addr + len).step_by(PAGE) {
        m.insert(p, prot);
    }
}

/// Changes the protection of mapped pages in `[addr, addr+len)` (holes
/// are skipped).
pub fn protect(addr: usize, len: usize, prot: c_int) -> Result<(), c_int> {
    let pages: Vec<usize> = {
        let m = MAP.lock().unwrap_or_else(|e| e.into_inner());
        m.range(addr..addr + len).map(|(&p, _)| p).collect()
    };
    for p in pages {
        // SAFETY: a mapped page of the user reservation.
        if unsafe { libc::mprotect(p as *mut c_void, PAGE, prot) } != 0 {
            return Err(ENOMEM);
        }
        MAP.lock().unwrap_or_else(|e| e.into_inner()).insert(p, prot);
    }
    Ok(())
}

/// Unmaps `[addr, addr+len)` (back to the reservation's PROT_NONE).
pub fn unmap(addr: usize, len: usize) {
    let _ = host_mmap(
        addr,
        len,
        libc::PROT_NONE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
        -1,
        0,
    );
    let mut m = MAP.lock().unwrap_or_else(|e| e.into_inner());
    let pages: Vec<usize> = m.range(addr..addr + len).map(|(&p, _)| p).collect();
    let mut sh = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    for p in pages {
        m.remove(&p);
        sh.remove(&p);
    }
}

/// Unmaps the whole user address space (process exit).
pub fn unmap_all() {
    unmap(USER_BASE, USER_SIZE);
}

/// Whether every page of `[addr, addr+len)` is mapped with at least
/// `prot` (`vm_map_check_protection`).
pub fn check(addr: usize, len: usize, prot: c_int) -> bool {
    if len == 0 {
        return true;
    }
    let Some(end) = addr.checked_add(len) else { return false };
    let m = MAP.lock().unwrap_or_else(|e| e.into_inner());
    let first = addr & !(PAGE - 1);
    (first..end).step_by(PAGE).all(|p| m.get(&p).is_some_and(|&q| q & prot == prot))
}

/// A free, page-aligned range of `len` bytes at or above `hint`.
fn find_space(hint: usize, len: usize) -> Option<usize> {
    let m = MAP.lock().unwrap_or_else(|e| e.into_inner());
    let mut at = hint.max(SEARCH_BASE).next_multiple_of(PAGE);
    while at + len <= USER_BASE + USER_SIZE - (1 << 30) {
        match m.range(at..at + len).next() {
            None => return Some(at),
            Some((&p, _)) => at = p + PAGE,
        }
    }
    None
}

/// `copyin(9)`: copies `len` bytes from user address `uaddr`; `EFAULT` if
/// any page is not mapped readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copyin(uaddr: *const c_void, kaddr: *mut c_void, len: usize) -> c_int {
    if !is_user_range(uaddr as usize, len) || !check(uaddr as usize, len, libc::PROT_READ) {
        return EFAULT;
    }
    // SAFETY: the user range is mapped readable (checked); `kaddr` is the
    // caller's kernel buffer of `len` bytes.
    unsafe { std::ptr::copy(uaddr.cast::<u8>(), kaddr.cast::<u8>(), len) };
    0
}

/// `copyout(9)`: copies `len` bytes to user address `uaddr`; `EFAULT` if
/// any page is not mapped writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copyout(kaddr: *const c_void, uaddr: *mut c_void, len: usize) -> c_int {
    if !is_user_range(uaddr as usize, len) || !check(uaddr as usize, len, libc::PROT_WRITE) {
        return EFAULT;
    }
    // SAFETY: the user range is mapped writable (checked).
    unsafe { std::ptr::copy(kaddr.cast::<u8>(), uaddr.cast::<u8>(), len) };
    0
}

/// `copyiniov(9)`: copies an iovec array in (`EINVAL` above `UIO_MAXIOV`,
/// 1024) into an `M_IOV` allocation the caller frees.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copyiniov(
    iovp: *const Iovec,
    iovcnt: u32,
    iov: *mut *mut Iovec,
    error: c_int,
) -> c_int {
    if iovcnt > 1024 {
        return error;
    }
    let len = iovcnt as usize * size_of::<Iovec>();
    let p = crate::shim::malloc::fbsd_malloc(len, &crate::shim::malloc::M_IOV, crate::shim::malloc::M_WAITOK);
    // SAFETY: copyin into the fresh buffer of `len` bytes.
    let e = unsafe { copyin(iovp.cast(), p, len) };
    if e != 0 {
        crate::shim::malloc::fbsd_free(p, &crate::shim::malloc::M_IOV);
        return e;
    }
    // SAFETY: the caller's out-pointer.
    unsafe { *iov = p.cast() };
    0
}

/// `kern_mmap(9)` (sys/vm/vm_mmap.c): anonymous private/shared mappings
/// and file mappings of regular files; the address is chosen above the
/// hint unless `MAP_FIXED` (with `MAP_EXCL` refusing to replace); the
/// result in `td_retval[0]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_mmap(td: *mut Thread, req: *const MmapReq) -> c_int {
    // SAFETY: the module's request record.
    let r = unsafe { &*req };
    let (flags, prot) = (r.mr_flags, r.mr_prot);
    let _map = VM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if r.mr_len == 0 || prot & !PROT_MASK != 0 || (flags & MAP_SHARED != 0) == (flags & MAP_PRIVATE != 0) {
        return EINVAL;
    }
    let len = r.mr_len.checked_next_multiple_of(PAGE).unwrap_or(usize::MAX);
    let at = if flags & MAP_FIXED != 0 {
        if r.mr_hint % PAGE != 0 || !is_user_range(r.mr_hint, len) {
            return EINVAL;
        }
        let busy =
            MAP.lock().unwrap_or_else(|e| e.into_inner()).range(r.mr_hint..r.mr_hint + len).next().is_some();
        if busy && flags & MAP_EXCL != 0 {
            return ENOMEM;
        }
        r.mr_hint
    } else {
        match find_space(r.mr_hint, len) {
            Some(a) => a,
            None => return ENOMEM,
        }
    };
    let share = if flags & MAP_SHARED != 0 { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
    let result = if flags & MAP_ANON != 0 {
        if r.mr_fd != -1 || r.mr_pos != 0 {
            return EINVAL;
        }
        host_mmap(at, len, prot, share | libc::MAP_ANONYMOUS, -1, 0)
    } else {
        // SAFETY: the current thread.
        match unsafe { crate::shim::files::mmap_file(td, r.mr_fd, prot, flags & MAP_SHARED != 0) } {
            Ok(host_fd) => host_mmap(at, len, prot, share, host_fd, r.mr_pos),
            Err(e) => Err(e),
        }
    };
    if let Err(e) = result {
        return e;
    }
    record(at, len, prot);
    {
        let mut sh = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        for p in (at..at + len).step_by(PAGE) {
            if flags & MAP_SHARED != 0 {
                sh.insert(p);
            } else {
                sh.remove(&p);
            }
        }
    }
    // SAFETY: the current thread's results.
    unsafe { (*td_retval(td))[0] = at as u64 };
    0
}

/// `kern_mprotect(9)`: page-aligned `addr`; the protection of the mapped
/// pages in the range changes, holes are skipped (as 15.0's
/// vm_map_protect does; the module checks for holes itself).
#[unsafe(no_mangle)]
pub extern "C" fn kern_mprotect(
    _td: *mut Thread,
    addr: usize,
    len: usize,
    prot: c_int,
    _flags: c_int,
) -> c_int {
    if prot & !PROT_MASK != 0 {
        return EINVAL;
    }
    let start = addr & !(PAGE - 1);
    let Some(end) = addr.checked_add(len).and_then(|e| e.checked_next_multiple_of(PAGE)) else {
        return EINVAL;
    };
    if !is_user_range(start, end - start) {
        return EINVAL;
    }
    let _map = VM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    match protect(start, end - start, prot) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// `kern_munmap(9)`: page-aligned `addr`, nonzero length inside the user
/// space; unmapped parts are fine.
#[unsafe(no_mangle)]
pub extern "C" fn kern_munmap(_td: *mut Thread, addr: usize, len: usize) -> c_int {
    if addr % PAGE != 0 || len == 0 {
        return EINVAL;
    }
    let Some(end) = addr.checked_add(len).and_then(|e| e.checked_next_multiple_of(PAGE)) else {
        return EINVAL;
    };
    if !is_user_range(addr, end - addr) {
        return EINVAL;
    }
    let _map = VM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    unmap(addr, end - addr);
    0
}

/// `_vm_map_lock_read` (`vm_map_lock_read`): counted until unlocked.
#[unsafe(no_mangle)]
pub extern "C" fn _vm_map_lock_read(map: *mut VmMap, _file: *const c_char, _line: c_int) {
    account::take(
        "vm_map read lock",
        crate::kernel::current_thread_id() ^ map as usize,
        "a vm_map read lock",
    );
}

/// `_vm_map_unlock_read` (`vm_map_unlock_read`).
#[unsafe(no_mangle)]
pub extern "C" fn _vm_map_unlock_read(map: *mut VmMap, _file: *const c_char, _line: c_int) {
    account::give("vm_map read lock", crate::kernel::current_thread_id() ^ map as usize);
}

/// `vm_map_check_protection(9)`: whether `[start, end)` is entirely
/// mapped with at least `prot`; the map must be locked by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn vm_map_check_protection(map: *mut VmMap, start: usize, end: usize, prot: u8) -> c_int {
    if !account::holds("vm_map read lock", crate::kernel::current_thread_id() ^ map as usize) {
        crate::fatal("panic: vm_map_check_protection: map not locked");
    }
    (end >= start && check(start, end - start, c_int::from(prot))) as c_int
}

/// `kern_madvise(9)`: advice is accepted for user ranges (EINVAL outside
/// them or for unknown advice), with no effect in the sim.
#[unsafe(no_mangle)]
pub extern "C" fn kern_madvise(_td: *mut Thread, addr: usize, len: usize, behav: c_int) -> c_int {
    if !(0..=6).contains(&behav) || !is_user_range(addr, len) {
        return EINVAL;
    }
    0
}

/// `kern_msync(9)`: `ENOMEM` for unmapped pages, `EINVAL` for bad flags;
/// the host msync does the work.
#[unsafe(no_mangle)]
pub extern "C" fn kern_msync(_td: *mut Thread, addr: usize, len: usize, flags: c_int) -> c_int {
    // MS_ASYNC 1, MS_INVALIDATE 2, MS_SYNC 0 (FreeBSD sys/mman.h).
    if flags & !3 != 0 || (flags & 1 != 0 && flags & 2 != 0) || addr % PAGE != 0 {
        return EINVAL;
    }
    if !is_user_range(addr, len) || !check(addr, len, 0) {
        return ENOMEM;
    }
    let lflags = if flags & 1 != 0 { libc::MS_ASYNC } else { libc::MS_SYNC }
        | if flags & 2 != 0 { libc::MS_INVALIDATE } else { 0 };
    // SAFETY: a mapped user range.
    unsafe { libc::msync(addr as *mut c_void, len, lflags) };
    0
}
