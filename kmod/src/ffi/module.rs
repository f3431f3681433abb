//! Module and linker-set records (sys/module.h, sys/kernel.h). Sizes and
//! offsets: `kmod/layouts.txt`, asserted in [`super::layouts`].

use super::{c_char, c_int, c_void};

/// `modeventhand_t`: `int (*)(module_t, int, void *)`.
pub type ModEventHandler = unsafe extern "C" fn(*mut c_void, c_int, *mut c_void) -> c_int;

/// `moduledata_t` (sys/module.h)
#[repr(C)]
pub struct ModuleData {
    pub name: *const c_char,
    pub evhand: Option<ModEventHandler>,
    pub priv_: *mut c_void,
}

/// `struct mod_metadata` (sys/module.h): one entry of `set_modmetadata_set`.
#[repr(C)]
pub struct ModMetadata {
    pub md_version: c_int,
    pub md_type: c_int,
    pub md_data: *const c_void,
    pub md_cval: *const c_char,
}

/// `struct mod_depend` (sys/module.h)
#[repr(C)]
pub struct ModDepend {
    pub md_ver_minimum: c_int,
    pub md_ver_preferred: c_int,
    pub md_ver_maximum: c_int,
}

/// `struct mod_version` (sys/module.h)
#[repr(C)]
pub struct ModVersion {
    pub mv_version: c_int,
}

/// `struct sysinit` (sys/kernel.h), 14.0+ layout with the `STAILQ_ENTRY`
/// `next` that the kernel writes when it links the entry into its list.
#[repr(C)]
pub struct Sysinit {
    /// `enum sysinit_sub_id`
    pub subsystem: u32,
    /// `enum sysinit_elem_order`
    pub order: u32,
    /// `STAILQ_ENTRY(sysinit) next`: one pointer.
    pub next: *mut Sysinit,
    /// `sysinit_cfunc_t`: `void (*)(const void *)`
    pub func: Option<unsafe extern "C" fn(*const c_void)>,
    pub udata: *const c_void,
}
