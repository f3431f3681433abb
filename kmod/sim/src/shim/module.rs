//! Module registration and the kernel's tables the module joins: the
//! module list (`module_register_init`), the ELF brand table, the sysctl
//! tree (`kern.features`), and the kernel variables it reads.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Mutex;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::account;

/// `osreldate` (sys/systm.h): the running kernel's `__FreeBSD_version`,
/// 14.2-RELEASE's (1402000).
#[cfg(freebsd14)]
#[unsafe(no_mangle)]
pub static osreldate: c_int = 1_402_000;
/// `osreldate` of 15.0-RELEASE (sys/sys/param.h: 1500068).
#[cfg(freebsd15)]
#[unsafe(no_mangle)]
pub static osreldate: c_int = 1_500_068;
/// `mp_ncpus` (sys/smp.h): CPUs of the simulated machine.
#[unsafe(no_mangle)]
pub static mp_ncpus: c_int = 2;
/// `bootverbose` (sys/systm.h): 0 unless `KMOD_SIM_BOOTVERBOSE` is set
/// at start (main.rs writes it before the module runs).
#[unsafe(no_mangle)]
pub static mut bootverbose: c_int = 0;

/// Loaded modules, by name: the event handler and whether MOD_LOAD
/// succeeded (what `module_register` + `module_register_init` keep).
pub struct Module {
    pub name: String,
    pub data: *const ModuleData,
    pub loaded: bool,
    pub load_error: c_int,
}

// SAFETY: the pointers are to the module's immutable statics.
unsafe impl Send for Module {}

pub static MODULES: Mutex<Vec<Module>> = Mutex::new(Vec::new());

/// Sends `event` to a module (`MOD_EVENT`).
///
/// # Safety
/// `data` is the module's `moduledata_t`.
pub unsafe fn mod_event(data: *const ModuleData, event: c_int) -> c_int {
    // SAFETY: caller contract.
    let d = unsafe { &*data };
    match d.evhand {
        // SAFETY: the module's handler, called as the kernel calls it.
        Some(f) => unsafe { f(std::ptr::null_mut(), event, d.priv_) },
        None => 0,
    }
}

/// `module_register_init` (sys/kern/kern_module.c): the SYSINIT of
/// `DECLARE_MODULE`. Looks the module up by name (panics if the linker did
/// not register it), sends MOD_LOAD; on failure sends MOD_UNLOAD and
/// releases the module, printing the error, as 14.x/15.0 do.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn module_register_init(arg: *const c_void) {
    let data = arg.cast::<ModuleData>();
    // SAFETY: the sysinit's udata is the module's moduledata_t.
    let name = unsafe { CStr::from_ptr((*data).name) }.to_string_lossy().into_owned();
    {
        let mods = MODULES.lock().unwrap_or_else(|e| e.into_inner());
        if !mods.iter().any(|m| m.name == name) {
            crate::fatal(&format!("panic: module_register_init: module named {name} not found"));
        }
    }
    // SAFETY: as the kernel does, with Giant (module events serialized:
    // the sim runs them on one thread).
    let error = unsafe { mod_event(data, MOD_LOAD) };
    if error != 0 {
        // SAFETY: as above.
        unsafe { mod_event(data, MOD_UNLOAD) };
        crate::console_line(&format!(
            "module_register_init: MOD_LOAD ({name}, {:p}, {:p}) error {error}\n",
            // SAFETY: as above.
            unsafe { (*data).evhand }.map_or(std::ptr::null(), |f| f as *const ()),
            // SAFETY: as above.
            unsafe { (*data).priv_ }
        ));
    }
    let mut mods = MODULES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = mods.iter_mut().find(|m| m.name == name) {
        m.loaded = error == 0;
        m.load_error = error;
    }
}

/// The ELF brand table (`elf64_brand_list`, MAX_BRANDS 8 in
/// sys/kern/imgact_elf.c).
pub static BRANDS: Mutex<Vec<usize>> = Mutex::new(Vec::new());
const MAX_BRANDS: usize = 8;

/// `elf64_insert_brand_entry`: adds the brand to a free slot; EINVAL
/// (and the kernel's message) when the table is full. Inserting a brand
/// twice is a module bug: fatal.
#[unsafe(no_mangle)]
pub extern "C" fn elf64_insert_brand_entry(entry: *mut Brandinfo) -> c_int {
    let mut b = BRANDS.lock().unwrap_or_else(|e| e.into_inner());
    if b.contains(&(entry as usize)) {
        crate::fatal("elf64_insert_brand_entry: brand inserted twice");
    }
    if b.len() >= MAX_BRANDS {
        crate::console_line(&format!("WARNING: could not insert elf64 brand entry: {entry:p}\n"));
        return EINVAL;
    }
    b.push(entry as usize);
    account::take("ELF brand entry", entry as usize, "an ELF brand in the kernel's brand table");
    0
}

/// `elf64_remove_brand_entry`: removes the brand; EINVAL if absent.
#[unsafe(no_mangle)]
pub extern "C" fn elf64_remove_brand_entry(entry: *mut Brandinfo) -> c_int {
    let mut b = BRANDS.lock().unwrap_or_else(|e| e.into_inner());
    match b.iter().position(|&e| e == entry as usize) {
        Some(i) => {
            b.remove(i);
            account::give("ELF brand entry", entry as usize);
            0
        }
        None => EINVAL,
    }
}

/// Processes of the simulated machine that use a sysentvec (zombies
/// included), for `elf64_brand_inuse`; maintained by the process code.
pub static SYSVEC_USERS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// `elf64_brand_inuse`: whether any process's `p_sysent` is the brand's
/// sysentvec (the kernel walks `allproc` under its lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn elf64_brand_inuse(entry: *mut Brandinfo) -> bool {
    // SAFETY: a brand the module owns.
    let sv = unsafe { (*entry).sysvec } as usize;
    SYSVEC_USERS.lock().unwrap_or_else(|e| e.into_inner()).contains(&sv)
}

/// `sysctl___kern_features`: the `kern.features` node; the module adds
/// children to the list at `SYSCTL_OID_CHILDREN`.
#[unsafe(no_mangle)]
pub static mut sysctl___kern_features: [u64; 16] = [0; 16];

/// A dynamic sysctl node made by `sysctl_add_oid`.
#[repr(C)]
pub struct Oid {
    pub parent: usize,
    pub name: String,
    pub kind: c_int,
    pub arg2: i64,
    pub handler: usize,
    pub label: String,
}

/// Dynamic nodes under `kern.features`, by address.
pub static OIDS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

unsafe fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: caller passes NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// `sysctl_add_oid(9)`: adds a node under `parent`; only `kern.features`
/// is a parent here (anything else is fatal). A second node of the same
/// name fails (NULL), as the kernel refuses duplicates.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sysctl_add_oid(
    ctx: *mut c_void,
    parent: *mut c_void,
    _number: c_int,
    name: *const c_char,
    kind: c_int,
    _arg1: *mut c_void,
    arg2: i64,
    handler: usize,
    _fmt: *const c_char,
    _descr: *const c_char,
    label: *const c_char,
) -> *mut c_void {
    let features = (&raw mut sysctl___kern_features).cast::<u8>().wrapping_add(SYSCTL_OID_CHILDREN);
    if parent.cast::<u8>() != features {
        crate::fatal("sysctl_add_oid: parent is not SYSCTL_CHILDREN(&sysctl___kern_features)");
    }
    if !ctx.is_null() {
        crate::fatal("sysctl_add_oid: contexts are not reproduced");
    }
    // SAFETY: NUL-terminated strings (sysctl_add_oid's contract).
    let (name, label) = unsafe { (cstr(name), cstr(label)) };
    let mut oids = OIDS.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: every entry is a live Oid made below.
    if oids.iter().any(|&o| unsafe { &*(o as *const Oid) }.name == name) {
        return std::ptr::null_mut();
    }
    let oid = Box::into_raw(Box::new(Oid {
        parent: parent as usize,
        name: name.clone(),
        kind,
        arg2,
        handler,
        label,
    }));
    oids.push(oid as usize);
    account::take("sysctl node", oid as usize, format!("sysctl kern.features.{name}"));
    oid.cast()
}

/// `sysctl_remove_oid(9)`: removes (and with `del`, frees) a node made by
/// `sysctl_add_oid`; ENOENT for an unknown node.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sysctl_remove_oid(oid: *mut c_void, del: c_int, _recurse: c_int) -> c_int {
    let mut oids = OIDS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(i) = oids.iter().position(|&o| o == oid as usize) else { return ENOENT };
    oids.remove(i);
    account::give("sysctl node", oid as usize);
    if del != 0 {
        // SAFETY: made by Box::into_raw in sysctl_add_oid, removed once.
        drop(unsafe { Box::from_raw(oid.cast::<Oid>()) });
    }
    0
}

/// `sysctl_handle_int(9)`: the handler of integer nodes; the sim never
/// reads sysctls through handlers (stored as a pointer only).
#[unsafe(no_mangle)]
pub extern "C" fn sysctl_handle_int() -> c_int {
    super::unimplemented_kpi("sysctl_handle_int")
}

/// The value of `kern.features.<name>` in the simulated kernel.
pub fn feature(name: &str) -> Option<i64> {
    if name == "security_capability_mode" {
        return Some(1); // GENERIC has options CAPABILITY_MODE
    }
    let oids = OIDS.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: live Oids.
    oids.iter().map(|&o| unsafe { &*(o as *const Oid) }).find(|o| o.name == name).map(|o| o.arg2)
}

/// `kernel_sysctlbyname(9)`: reads an integer `kern.features.*` node into
/// `old` (ENOENT for other names; writes are not reproduced).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kernel_sysctlbyname(
    _td: *mut Thread,
    name: *const c_char,
    old: *mut c_void,
    oldlenp: *mut usize,
    new: *mut c_void,
    newlen: usize,
    retval: *mut usize,
    _flags: c_int,
) -> c_int {
    if !new.is_null() || newlen != 0 {
        super::unimplemented_kpi("kernel_sysctlbyname (writing)");
    }
    // SAFETY: a NUL-terminated name.
    let name = unsafe { cstr(name) };
    let Some(value) = name.strip_prefix("kern.features.").and_then(feature) else { return ENOENT };
    let v = value as c_int;
    // SAFETY: `oldlenp` and `old` are the caller's int and its length.
    unsafe {
        if *oldlenp < size_of::<c_int>() {
            return ENOMEM;
        }
        old.cast::<c_int>().write_unaligned(v);
        *oldlenp = size_of::<c_int>();
        if !retval.is_null() {
            *retval = size_of::<c_int>();
        }
    }
    0
}
