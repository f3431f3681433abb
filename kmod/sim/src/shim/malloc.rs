//! Kernel memory: `malloc(9)`/`free(9)` with malloc types, and the UMA
//! zone of path buffers (`namei_zone`). Every allocation is counted by
//! type (account.rs) until it is freed with the same type.

use std::ffi::{c_int, c_void};

use crate::account;

/// A `struct malloc_type`: only its address and name matter to the shim.
#[repr(C)]
pub struct MallocType {
    pub name: &'static str,
}

/// `M_TEMP` (sys/malloc.h): miscellaneous temporary data buffers.
#[unsafe(no_mangle)]
pub static M_TEMP: MallocType = MallocType { name: "M_TEMP" };
/// `M_IOV` (sys/malloc.h): large iovec arrays (copyiniov).
#[unsafe(no_mangle)]
pub static M_IOV: MallocType = MallocType { name: "M_IOV" };

/// `M_NOWAIT`, `M_WAITOK`, `M_ZERO` (sys/malloc.h, 14.x and 15.x).
pub const M_NOWAIT: c_int = 0x0001;
pub const M_WAITOK: c_int = 0x0002;
pub const M_ZERO: c_int = 0x0100;

/// The name of a malloc type the module passed; unknown types are fatal.
fn type_name(mtp: *const MallocType) -> &'static str {
    if std::ptr::eq(mtp, &M_TEMP) {
        "M_TEMP"
    } else if std::ptr::eq(mtp, &M_IOV) {
        "M_IOV"
    } else {
        crate::fatal(&format!("malloc type {mtp:p} is not one the kernel exports"))
    }
}

/// Allocates `size` bytes counted under `kind`.
pub fn alloc_counted(kind: &str, size: usize, zero: bool, what: String) -> *mut c_void {
    // SAFETY: plain C allocation of at least one byte.
    let p = unsafe { if zero { libc::calloc(1, size.max(1)) } else { libc::malloc(size.max(1)) } };
    if p.is_null() {
        crate::fatal("host out of memory");
    }
    account::take(kind, p as usize, what);
    p
}

/// `malloc(9)`: `size` bytes of `type`; `M_ZERO` zeroes; `M_WAITOK` never
/// fails (the shim has no memory pressure, so `M_NOWAIT` does not fail
/// either). Exactly one of `M_WAITOK`/`M_NOWAIT` must be given, as
/// malloc(9) asserts under INVARIANTS.
#[unsafe(no_mangle)]
pub extern "C" fn fbsd_malloc(size: usize, mtp: *const MallocType, flags: c_int) -> *mut c_void {
    let name = type_name(mtp);
    if (flags & (M_WAITOK | M_NOWAIT) == 0) || (flags & M_WAITOK != 0 && flags & M_NOWAIT != 0) {
        crate::fatal(&format!("malloc({size}, {name}, {flags:#x}): exactly one of M_WAITOK and M_NOWAIT"));
    }
    alloc_counted(&format!("malloc({name})"), size, flags & M_ZERO != 0, format!("{size} bytes of {name}"))
}

/// `free(9)`: NULL is ignored; freeing with another type than it was
/// allocated with, or freeing twice, is fatal.
#[unsafe(no_mangle)]
pub extern "C" fn fbsd_free(addr: *mut c_void, mtp: *const MallocType) {
    if addr.is_null() {
        return;
    }
    let name = type_name(mtp);
    account::give(&format!("malloc({name})"), addr as usize);
    // SAFETY: allocated by alloc_counted with the C allocator, freed once
    // (account::give is fatal for anything else).
    unsafe { libc::free(addr) };
}

/// A UMA zone: a name and an item size.
#[repr(C)]
pub struct UmaZone {
    pub name: &'static str,
    pub size: usize,
}

/// The zone namei() takes its `MAXPATHLEN` (1024) path buffers from.
pub static NAMEI_ZONE: UmaZone = UmaZone { name: "namei", size: 1024 };

/// `namei_zone` (sys/vnode.h): the pointer the module reads.
#[unsafe(no_mangle)]
pub static namei_zone: &UmaZone = &NAMEI_ZONE;

/// `uma_zalloc_arg(9)`: one item of the zone; counted per zone.
#[unsafe(no_mangle)]
pub extern "C" fn uma_zalloc_arg(zone: *const UmaZone, _arg: *mut c_void, flags: c_int) -> *mut c_void {
    if !std::ptr::eq(zone, &NAMEI_ZONE) {
        crate::fatal("uma_zalloc_arg: unknown zone");
    }
    alloc_counted("uma(namei)", NAMEI_ZONE.size, flags & M_ZERO != 0, "a namei_zone path buffer".into())
}

/// `uma_zfree_arg(9)`: gives an item back to its zone (NULL ignored).
#[unsafe(no_mangle)]
pub extern "C" fn uma_zfree_arg(zone: *const UmaZone, item: *mut c_void, _arg: *mut c_void) {
    if !std::ptr::eq(zone, &NAMEI_ZONE) {
        crate::fatal("uma_zfree_arg: unknown zone");
    }
    if item.is_null() {
        return;
    }
    account::give("uma(namei)", item as usize);
    // SAFETY: allocated by uma_zalloc_arg with the C allocator.
    unsafe { libc::free(item) };
}
