//! The VM pieces the module uses to build its vDSO object the way
//! kern_sharedpage.c builds the kernel's shared page: a physical-pages VM
//! object, pages grabbed under the object lock, a temporary kernel
//! mapping (`kva_alloc` + `pmap_qenter`).
//!
//! Physical memory is a memfd: a page is an offset in it, so a kernel
//! mapping (`pmap_qenter`) and the user mapping exec makes of the same
//! page really alias, as they do in the kernel.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::account;
use crate::kernel::{kzalloc, pcpu};

const PAGE: usize = 4096;

/// `RW_UNLOCKED` (sys/rwlock.h): `RW_READERS_LOCK(0)`, i.e. `RW_LOCK_READ`.
const RW_UNLOCKED: usize = 0x01;

/// Physical memory: the memfd and its page allocator.
struct Phys {
    fd: c_int,
    pages: usize,
    free: Vec<usize>,
}

static PHYS: Mutex<Option<Phys>> = Mutex::new(None);

/// A physical page: its offset in the memfd.
fn page_alloc() -> usize {
    let mut g = PHYS.lock().unwrap_or_else(|e| e.into_inner());
    let phys = g.get_or_insert_with(|| {
        // SAFETY: a new anonymous memory file.
        let fd = unsafe { libc::memfd_create(c"kmod-sim physical memory".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            crate::fatal("memfd_create failed");
        }
        Phys { fd, pages: 0, free: Vec::new() }
    });
    if let Some(p) = phys.free.pop() {
        return p;
    }
    let off = phys.pages * PAGE;
    phys.pages += 1;
    // SAFETY: grows our own memory file.
    if unsafe { libc::ftruncate(phys.fd, (phys.pages * PAGE) as i64) } != 0 {
        crate::fatal("ftruncate of physical memory failed");
    }
    off
}

fn phys_fd() -> c_int {
    PHYS.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map_or(-1, |p| p.fd)
}

fn page_free(off: usize) {
    let g = PHYS.lock().unwrap_or_else(|e| e.into_inner());
    let fd = g.as_ref().map_or(-1, |p| p.fd);
    drop(g);
    // SAFETY: zero the page for its next user (as the kernel's page
    // allocator hands out zeroed pages only on request, this is stricter).
    unsafe {
        libc::fallocate(fd, libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, off as i64, PAGE as i64)
    };
    if let Some(p) = PHYS.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        p.free.push(off);
    }
}

/// Maps the physical page at `off` at the fixed address `at`.
pub fn map_page(at: usize, off: usize, prot: c_int) {
    // SAFETY: `at` is a page of a reservation the shim owns (KVA or the
    // user reservation); MAP_FIXED replaces only that page.
    let p = unsafe {
        libc::mmap(at as *mut c_void, PAGE, prot, libc::MAP_SHARED | libc::MAP_FIXED, phys_fd(), off as i64)
    };
    if p == libc::MAP_FAILED {
        crate::fatal("mapping a physical page failed");
    }
}

/// Replaces the page at `at` by an inaccessible one.
pub fn unmap_page(at: usize) {
    // SAFETY: as for map_page.
    let p = unsafe {
        libc::mmap(
            at as *mut c_void,
            PAGE,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        crate::fatal("unmapping a page failed");
    }
}

/// A `struct vm_page` of the shim.
pub struct Page {
    pub phys: usize,
    pub pindex: u64,
    pub valid: bool,
    pub xbusy: bool,
}

/// State of a VM object (its `struct vm_object` is a kernel block holding
/// the lock word at the module's `VM_OBJECT_LOCK_COOKIE`).
pub struct Object {
    pub refs: u32,
    pub pages: Vec<usize>,
}

pub static OBJECTS: Mutex<Option<HashMap<usize, Object>>> = Mutex::new(None);

fn with_objects<R>(f: impl FnOnce(&mut HashMap<usize, Object>) -> R) -> R {
    let mut g = OBJECTS.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(HashMap::new))
}

/// `vm_pager_allocate(9)` for `OBJT_PHYS` without a handle: a new object
/// of `size` bytes with one reference (the caller's).
#[unsafe(no_mangle)]
pub extern "C" fn vm_pager_allocate(
    objtype: u8,
    handle: *mut c_void,
    size: i64,
    _prot: u8,
    _off: i64,
    _cred: *mut c_void,
) -> *mut VmObject {
    if objtype != OBJT_PHYS || !handle.is_null() {
        super::unimplemented_kpi("vm_pager_allocate (other than anonymous OBJT_PHYS)");
    }
    let obj = kzalloc(256);
    // SAFETY: a fresh 256-byte block; the lock word is inside it.
    unsafe { obj.add(VM_OBJECT_LOCK_COOKIE).cast::<usize>().write(RW_UNLOCKED) };
    with_objects(|o| o.insert(obj as usize, Object { refs: 1, pages: Vec::new() }));
    account::take("vm_object", obj as usize, format!("an OBJT_PHYS vm_object of {size} bytes"));
    obj.cast()
}

/// `vm_object_reference(9)`: one more reference (exec's mapping).
pub fn object_reference(obj: usize) {
    with_objects(|o| match o.get_mut(&obj) {
        Some(s) => s.refs += 1,
        None => crate::fatal("vm_object_reference of a dead object"),
    });
}

/// The physical pages of an object, in index order.
pub fn object_pages(obj: usize) -> Vec<(u64, usize)> {
    with_objects(|o| {
        let s = o.get(&obj).unwrap_or_else(|| crate::fatal("pages of a dead object"));
        // SAFETY: the object's pages are live Page boxes.
        let mut v: Vec<_> = s
            .pages
            .iter()
            .map(|&p| unsafe { ((*(p as *const Page)).pindex, (*(p as *const Page)).phys) })
            .collect();
        v.sort();
        v
    })
}

/// `vm_object_deallocate(9)`: drops a reference; the last one frees the
/// pages (none may be busy) and the object.
#[unsafe(no_mangle)]
pub extern "C" fn vm_object_deallocate(obj: *mut VmObject) {
    let key = obj as usize;
    let gone = with_objects(|o| {
        let s = o.get_mut(&key).unwrap_or_else(|| crate::fatal("vm_object_deallocate of a dead object"));
        s.refs -= 1;
        if s.refs > 0 {
            return None;
        }
        o.remove(&key)
    });
    if let Some(s) = gone {
        for p in s.pages {
            // SAFETY: made by Box::into_raw in vm_page_grab, freed once.
            let page = unsafe { Box::from_raw(p as *mut Page) };
            if page.xbusy {
                crate::fatal("vm_object_deallocate: a page is still busy");
            }
            page_free(page.phys);
        }
        account::give("vm_object", key);
    }
}

fn curthread_word() -> usize {
    // SAFETY: %gs is this thread's per-CPU area.
    unsafe { (*pcpu()).curthread as usize }
}

/// `_rw_wlock_cookie` (sys/rwlock.h, `rw_wlock`): takes the write lock,
/// waiting for other owners; recursion on a non-recursive lock panics, as
/// with INVARIANTS.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _rw_wlock_cookie(c: *mut usize, _file: *const c_char, _line: c_int) {
    let me = curthread_word();
    // SAFETY: `c` is the lock word of a live object (module contract).
    let word = unsafe { &*(c as *const std::sync::atomic::AtomicUsize) };
    loop {
        match word.compare_exchange(
            RW_UNLOCKED,
            me,
            std::sync::atomic::Ordering::Acquire,
            std::sync::atomic::Ordering::Relaxed,
        ) {
            Ok(_) => break,
            Err(owner) if owner == me => {
                crate::fatal("panic: _rw_wlock_cookie: recursing on a non-recursive rwlock")
            }
            Err(_) => std::thread::yield_now(),
        }
    }
    account::take("rwlock held", c as usize, "a write-locked rwlock (vm_object lock)");
}

/// `_rw_wunlock_cookie` (`rw_wunlock`): the owner releases the lock;
/// anyone else unlocking it panics, as with INVARIANTS.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _rw_wunlock_cookie(c: *mut usize, _file: *const c_char, _line: c_int) {
    let me = curthread_word();
    // SAFETY: as above.
    let word = unsafe { &*(c as *const std::sync::atomic::AtomicUsize) };
    if word
        .compare_exchange(
            me,
            RW_UNLOCKED,
            std::sync::atomic::Ordering::Release,
            std::sync::atomic::Ordering::Relaxed,
        )
        .is_err()
    {
        crate::fatal("panic: _rw_wunlock_cookie: not owned by curthread");
    }
    account::give("rwlock held", c as usize);
}

/// Whether the object's write lock is held by the current thread.
fn object_wlocked(obj: usize) -> bool {
    // SAFETY: `obj` is a live object block.
    unsafe { *((obj + VM_OBJECT_LOCK_COOKIE) as *const usize) == curthread_word() }
}

/// `vm_page_grab(9)`: the page at `pindex` of the object, allocated (and
/// zeroed with `VM_ALLOC_ZERO`; fresh physical pages are zero) if absent,
/// returned exclusively busied. The object must be write-locked
/// (`VM_OBJECT_ASSERT_WLOCKED`).
#[unsafe(no_mangle)]
pub extern "C" fn vm_page_grab(obj: *mut VmObject, pindex: u64, _flags: c_int) -> *mut VmPage {
    let key = obj as usize;
    if !object_wlocked(key) {
        crate::fatal("panic: vm_page_grab: object not write-locked (VM_OBJECT_ASSERT_WLOCKED)");
    }
    let existing = with_objects(|o| {
        let s = o.get(&key).unwrap_or_else(|| crate::fatal("vm_page_grab on a dead object"));
        // SAFETY: live Page boxes.
        s.pages.iter().copied().find(|&p| unsafe { (*(p as *const Page)).pindex } == pindex)
    });
    if existing.is_some() {
        super::unimplemented_kpi("vm_page_grab (of a resident page)");
    }
    let page = Box::into_raw(Box::new(Page { phys: page_alloc(), pindex, valid: false, xbusy: true }));
    with_objects(|o| o.get_mut(&key).map(|s| s.pages.push(page as usize)));
    account::take("vm_page xbusy", page as usize, format!("an exclusively busied page {pindex}"));
    page.cast()
}

fn page(m: *mut VmPage) -> &'static mut Page {
    // SAFETY: the module passes pages it got from vm_page_grab, which
    // live as long as their object.
    unsafe { &mut *m.cast::<Page>() }
}

/// `vm_page_valid(9)`: marks the whole page valid; the page must be busy.
#[unsafe(no_mangle)]
pub extern "C" fn vm_page_valid(m: *mut VmPage) {
    let p = page(m);
    if !p.xbusy {
        crate::fatal("panic: vm_page_valid: page not busied");
    }
    p.valid = true;
}

/// `vm_page_xunbusy_hard(9)`: releases the exclusive busy.
#[unsafe(no_mangle)]
pub extern "C" fn vm_page_xunbusy_hard(m: *mut VmPage) {
    let p = page(m);
    if !p.xbusy {
        crate::fatal("panic: vm_page_xunbusy_hard: page not exclusively busied");
    }
    p.xbusy = false;
    account::give("vm_page xbusy", m as usize);
}

/// Live KVA ranges: start → pages.
static KVA: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// `kva_alloc(9)`: a range of kernel virtual addresses (no memory behind
/// it until `pmap_qenter`); 0 on failure.
#[unsafe(no_mangle)]
pub extern "C" fn kva_alloc(size: usize) -> usize {
    let len = size.next_multiple_of(PAGE);
    // SAFETY: a fresh inaccessible reservation.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return 0;
    }
    KVA.lock().unwrap_or_else(|e| e.into_inner()).push((p as usize, len / PAGE));
    account::take("kva", p as usize, format!("{len} bytes of KVA"));
    p as usize
}

/// `kva_free(9)`: gives the range back; its size must match and nothing
/// may still be mapped in it (pmap_qremove first).
#[unsafe(no_mangle)]
pub extern "C" fn kva_free(addr: usize, size: usize) {
    let mut k = KVA.lock().unwrap_or_else(|e| e.into_inner());
    let Some(i) = k.iter().position(|&(a, _)| a == addr) else {
        crate::fatal("kva_free of an unknown range")
    };
    if k[i].1 != size.div_ceil(PAGE) {
        crate::fatal("kva_free: size differs from kva_alloc");
    }
    for n in 0..k[i].1 {
        if account::holds("pmap_qenter mapping", addr + n * PAGE) {
            crate::fatal("kva_free: pages still entered (pmap_qremove missing)");
        }
    }
    k.remove(i);
    drop(k);
    account::give("kva", addr);
    // SAFETY: our own reservation.
    unsafe { libc::munmap(addr as *mut c_void, size.next_multiple_of(PAGE)) };
}

fn kva_contains(addr: usize, pages: usize) -> bool {
    KVA.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|&(a, n)| addr >= a && addr + pages * PAGE <= a + n * PAGE)
}

/// `pmap_qenter(9)`: maps `count` pages at `va` (inside a KVA range),
/// read+write, aliasing the pages themselves.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pmap_qenter(va: usize, pages: *mut *mut VmPage, count: c_int) {
    if count < 0 || !kva_contains(va, count as usize) {
        crate::fatal("pmap_qenter outside a kva_alloc range");
    }
    for i in 0..count as usize {
        // SAFETY: the module passes `count` pages.
        let m = unsafe { *pages.add(i) };
        map_page(va + i * PAGE, page(m).phys, libc::PROT_READ | libc::PROT_WRITE);
        account::take("pmap_qenter mapping", va + i * PAGE, "a page entered with pmap_qenter");
    }
}

/// `pmap_qremove(9)`: removes `count` page mappings at `va`.
#[unsafe(no_mangle)]
pub extern "C" fn pmap_qremove(va: usize, count: c_int) {
    for i in 0..count.max(0) as usize {
        account::give("pmap_qenter mapping", va + i * PAGE);
        unmap_page(va + i * PAGE);
    }
}
