//! The vDSO as the sysentvec's shared-page object.
//!
//! The generated vDSO (abi/vdso, built by scripts/build-vdso and embedded
//! here by scripts/build-kmod) is copied into a physical-pages VM object at
//! load. exec maps that object into every CloudABI process, read+execute,
//! at the sysentvec's `sv_shared_page_base` or, with shared-page ASLR, at a
//! random address recorded in `vm_shp_base`, which `AT_SYSINFO_EHDR`
//! reports. The object is built the way the kernel builds its own shared
//! page (sys/kern/kern_sharedpage.c): `vm_pager_allocate(OBJT_PHYS)`, each
//! page grabbed zeroed under the object lock, marked valid and unbusied,
//! then filled through a temporary kernel mapping.

use core::ffi::c_int;
use core::ptr;

use crate::console;
use crate::consts::{ENOMEM, OBJT_PHYS, PAGE_SIZE, VM_ALLOC_ZERO, VM_PROT_DEFAULT};
use crate::ffi::access;
use crate::ffi::kpi;
use crate::ffi::types::{VmObject, VmPage};

/// The vDSO image (a shared object linked at address 0).
static IMAGE: &[u8] = include_bytes!(env!("CLOUDABI64_VDSO"));

/// Bound on the vDSO size, so the page list lives on the stack.
const MAX_PAGES: usize = 16;

/// Pages the vDSO occupies.
pub const PAGES: usize = IMAGE.len().div_ceil(PAGE_SIZE);

/// Bytes of the mapping (`sv_shared_page_len`).
pub const LEN: usize = PAGES * PAGE_SIZE;

const _: () = {
    assert!(PAGES >= 1 && PAGES <= MAX_PAGES, "vDSO size out of range");
    // An ELF shared object: the loader in crt0 walks its headers.
    assert!(IMAGE.len() > 18 && IMAGE[0] == 0x7f && IMAGE[1] == b'E' && IMAGE[2] == b'L' && IMAGE[3] == b'F');
    assert!(IMAGE[4] == 2 && IMAGE[16] == 3, "ELFCLASS64 ET_DYN");
};

/// `VM_OBJECT_WLOCK`/`VM_OBJECT_WUNLOCK` as a module must spell them.
fn with_object_locked<R>(obj: *mut VmObject, f: impl FnOnce() -> R) -> R {
    // SAFETY: `obj` is a live VM object; the cookie is its rwlock word.
    let cookie = unsafe { access::vm_object_lock_cookie(obj) };
    let file = c"cloudabi64/vdso.rs".as_ptr();
    // SAFETY: lock and unlock the object's own lock, same thread.
    unsafe { kpi::_rw_wlock_cookie(cookie, file, line!() as c_int) };
    let r = f();
    // SAFETY: as above.
    unsafe { kpi::_rw_wunlock_cookie(cookie, file, line!() as c_int) };
    r
}

/// Allocates the object and copies the vDSO in. Sleeps; MOD_LOAD only.
pub fn create() -> Result<*mut VmObject, c_int> {
    // SAFETY: a fresh anonymous physical-pages object, no handle, no cred.
    let obj = unsafe {
        kpi::vm_pager_allocate(OBJT_PHYS, ptr::null_mut(), LEN as i64, VM_PROT_DEFAULT, 0, ptr::null_mut())
    };
    if obj.is_null() {
        console::log(c"cannot allocate the vDSO object");
        return Err(ENOMEM);
    }
    let mut pages = [ptr::null_mut::<VmPage>(); MAX_PAGES];
    for (index, slot) in pages.iter_mut().take(PAGES).enumerate() {
        // Without VM_ALLOC_NOWAIT vm_page_grab sleeps until it has a page,
        // so NULL is not expected; handle it anyway.
        // SAFETY: the object is locked around the grab, as required.
        let m = with_object_locked(obj, || unsafe { kpi::vm_page_grab(obj, index as u64, VM_ALLOC_ZERO) });
        if m.is_null() {
            destroy(obj);
            return Err(ENOMEM);
        }
        // SAFETY: `m` is exclusively busied by us (grab without NOBUSY).
        unsafe {
            kpi::vm_page_valid(m);
            kpi::vm_page_xunbusy_hard(m);
        }
        *slot = m;
    }
    if let Err(e) = fill(&mut pages) {
        destroy(obj);
        return Err(e);
    }
    Ok(obj)
}

/// Copies the image into the pages through a temporary kernel mapping.
fn fill(pages: &mut [*mut VmPage; MAX_PAGES]) -> Result<(), c_int> {
    // SAFETY: plain KVA allocation.
    let kva = unsafe { kpi::kva_alloc(LEN) };
    if kva == 0 {
        console::log(c"cannot map the vDSO object");
        return Err(ENOMEM);
    }
    // SAFETY: `kva` spans PAGES pages; `pages` holds PAGES valid pages, so
    // after pmap_qenter the range is writable kernel memory of LEN >=
    // IMAGE.len() bytes; the mapping is removed before the KVA is freed.
    unsafe {
        kpi::pmap_qenter(kva, pages.as_mut_ptr(), PAGES as c_int);
        ptr::copy_nonoverlapping(IMAGE.as_ptr(), kva as *mut u8, IMAGE.len());
        kpi::pmap_qremove(kva, PAGES as c_int);
        kpi::kva_free(kva, LEN);
    }
    Ok(())
}

/// Drops the module's reference; the pages go when the last process that
/// maps them has exited (unload waits for that anyway).
pub fn destroy(obj: *mut VmObject) {
    // SAFETY: `obj` came from create() and this is its reference.
    unsafe { kpi::vm_object_deallocate(obj) };
}
