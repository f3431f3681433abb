//! The ELF brand: executables with OSABI 17 (`ELFOSABI_CLOUDABI`) and our
//! machine get the CloudABI sysentvec. CloudABI executables are static
//! PIEs without an ABI note, so the brand matches on the OSABI byte alone
//! (`BI_BRAND_ONLY_STATIC`: never for images with an interpreter,
//! `BI_CAN_EXEC_DYN`: ET_DYN is allowed).

use core::ffi::c_int;
use core::ptr;

use crate::arch;
use crate::console;
use crate::consts::{BI_BRAND_ONLY_STATIC, BI_CAN_EXEC_DYN, EBUSY, EINVAL, ELFOSABI_CLOUDABI};
use crate::ffi::cell::KernelCell;
use crate::ffi::elf::Brandinfo;
use crate::ffi::kpi;
use crate::sysvec::SYSVEC;

static BRAND: KernelCell<Brandinfo> = KernelCell::new(Brandinfo {
    brand: ELFOSABI_CLOUDABI,
    machine: arch::ELF_MACHINE,
    compat_3_brand: ptr::null(),
    interp_path: ptr::null(),
    sysvec: SYSVEC.get(),
    interp_newpath: ptr::null(),
    flags: BI_CAN_EXEC_DYN | BI_BRAND_ONLY_STATIC,
    brand_note: ptr::null(),
    header_supported: ptr::null(),
});

/// Whether the brand is in the kernel's brand table.
static REGISTERED: KernelCell<bool> = KernelCell::new(false);

fn set_registered(v: bool) {
    // SAFETY: module events are serialized.
    unsafe { *REGISTERED.get() = v };
}

/// Adds the brand; from now on CloudABI executables can run.
pub fn register() -> Result<(), c_int> {
    // SAFETY: BRAND is a static that outlives its registration.
    if unsafe { kpi::elf64_insert_brand_entry(BRAND.get()) } != 0 {
        console::log(c"the kernel's ELF brand table is full");
        return Err(EINVAL);
    }
    set_registered(true);
    Ok(())
}

/// Whether any process (zombies included) still uses our sysentvec.
pub fn in_use() -> bool {
    // SAFETY: brand_inuse only compares p_sysent with BRAND.sysvec.
    unsafe { kpi::elf64_brand_inuse(BRAND.get()) }
}

/// Removes the brand unless a process still uses the sysentvec. The brand
/// is removed first and the check made after, so that no new exec can
/// pick it up between the two; if a process is found, it goes back.
pub fn unregister() -> Result<(), c_int> {
    // SAFETY: module events are serialized.
    let registered = unsafe { *REGISTERED.get() };
    // SAFETY: removes our own entry (or nothing).
    if registered && unsafe { kpi::elf64_remove_brand_entry(BRAND.get()) } == 0 {
        set_registered(false);
    }
    if in_use() {
        if registered {
            // SAFETY: re-adds the entry just removed.
            if unsafe { kpi::elf64_insert_brand_entry(BRAND.get()) } == 0 {
                set_registered(true);
            } else {
                console::log(
                    c"busy, and the brand could not be re-registered: new CloudABI execs fail until reload",
                );
            }
        }
        return Err(EBUSY);
    }
    Ok(())
}
