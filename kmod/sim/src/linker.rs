//! The kernel linker's part: kldload(2) and kldunload(2) of the module,
//! the way FreeBSD runs them (sys/kern/kern_linker.c, 14.2 and 15.0):
//!
//! - the syscall is entered as amd64 `cpu_fetch_syscall_args()` leaves it
//!   (sys/amd64/amd64/trap.c): `td_sa` from the frame, `callp =
//!   &sv_table[code]`, `td_retval = { 0, frame->tf_rdx }`;
//! - `sys_kldload()` then sets `td->td_retval[0] = -1` and calls
//!   `kern_kldload()`, which reads the module's `set_modmetadata_set`
//!   (`linker_load_dependencies()`: the `MDT_DEPEND` on `kernel` must
//!   admit the running `osreldate`), registers its `MDT_MODULE` modules
//!   (`linker_file_register_modules()`), and runs the `set_sysinit_set`
//!   entries sorted by subsystem and order (`linker_file_sysinit()`); if
//!   every module of the file failed MOD_LOAD the file is unloaded and
//!   kldload fails with `ENOEXEC`;
//! - `kern_kldunload()` → `linker_file_unload()`: `MOD_QUIESCE` to every
//!   module (EOPNOTSUPP and EINVAL count as 0, `module_quiesce()` in
//!   sys/kern/kern_module.c), a refusal ends the unload; then
//!   `MOD_UNLOAD`, whose refusal ends it too.
//!
//! The linker sets are found as the arm64 kernel finds them in an ET_DYN
//! kld: through `__start_set_*`/`__stop_set_*`, which the host linker
//! defines for the module's sections.

use std::ffi::{CStr, c_int};

use cloudabi64::consts::*;

/// `SYS_kldunload` (sys/sys/syscall.h, 14.x and 15.x).
const SYS_KLDUNLOAD: u32 = 305;
/// `EOPNOTSUPP` (FreeBSD: the same value as `ENOTSUP`).
const EOPNOTSUPP: c_int = ENOTSUP;
use cloudabi64::sim_api::*;

use crate::kernel::{self, SimThread};
use crate::shim::module::osreldate;
use crate::shim::module::{MODULES, Module, mod_event};

unsafe extern "C" {
    static __start_set_modmetadata_set: *const ModMetadata;
    static __stop_set_modmetadata_set: *const ModMetadata;
    static __start_set_sysinit_set: *mut Sysinit;
    static __stop_set_sysinit_set: *mut Sysinit;
}

/// The entries of a linker set.
///
/// # Safety
/// `start..stop` bound an array of `T` (a linker set).
unsafe fn set<T: Copy>(start: *const T, stop: *const T) -> Vec<T> {
    // SAFETY: caller contract.
    let n = unsafe { stop.offset_from(start) };
    (0..n.max(0) as usize).map(|i| unsafe { *start.add(i) }).collect()
}

/// Enters the kldload syscall on `td`: the frame as user space left it,
/// then amd64's `cpu_fetch_syscall_args()` for the native ABI.
///
/// # Safety
/// `td` is the current simulated thread of a native process.
unsafe fn enter_syscall(td: &SimThread, code: u32, rdx: u64) {
    // SAFETY: caller contract; the thread's frame, td_sa, td_retval.
    unsafe {
        let f = &mut *td.frame;
        f.tf_rax = u64::from(code);
        f.tf_rdi = kernel::USER_BASE as u64; // the path argument (not read)
        f.tf_rdx = rdx;
        f.tf_err = 2; // length of `syscall`, as fast_syscall records it
        let sv = &*kernel::p_sysent(kernel::td_proc(td.td));
        let sa = &mut *kernel::td_sa(td.td);
        sa.code = code;
        sa.original_code = code;
        sa.callp = sv.sv_table.add(code as usize);
        sa.args = [f.tf_rdi, f.tf_rsi, f.tf_rdx, f.tf_r10, f.tf_r8, f.tf_r9, 0, 0];
        *kernel::td_retval(td.td) = [0, f.tf_rdx];
    }
}

/// kldload(2) of the module on the thread `td` (a native process).
/// Returns the errno kldload would return.
///
/// # Safety
/// `td` is the current simulated thread.
pub unsafe fn kldload(td: &SimThread, preset_retval: bool) -> c_int {
    // SAFETY: caller contract.
    unsafe { enter_syscall(td, SYS_KLDLOAD, 0x5eed_f00d) };
    if preset_retval {
        // sys_kldload(): td->td_retval[0] = -1 before kern_kldload().
        // SAFETY: as above.
        unsafe { (*kernel::td_retval(td.td))[0] = u64::MAX };
    }
    // SAFETY: the sets of this executable (the module is linked in).
    let (metadata, sysinits) = unsafe {
        (
            set(&raw const __start_set_modmetadata_set, &raw const __stop_set_modmetadata_set),
            set(&raw const __start_set_sysinit_set, &raw const __stop_set_sysinit_set),
        )
    };
    // linker_load_dependencies() and linker_file_register_modules().
    let mut modules = Vec::new();
    for &md in &metadata {
        // SAFETY: entries of set_modmetadata_set point at mod_metadata.
        let md = unsafe { &*md };
        if md.md_version != MDT_STRUCT_VERSION {
            crate::fatal("set_modmetadata_set: md_version is not MDT_STRUCT_VERSION");
        }
        // SAFETY: md_cval is a NUL-terminated name.
        let name = unsafe { CStr::from_ptr(md.md_cval) }.to_string_lossy().into_owned();
        match md.md_type {
            MDT_DEPEND => {
                // SAFETY: md_data of MDT_DEPEND is a mod_depend.
                let d = unsafe { &*md.md_data.cast::<ModDepend>() };
                if name == "kernel" && !(d.md_ver_minimum..=d.md_ver_maximum).contains(&osreldate) {
                    crate::console_line(
                        "KLD cloudabi64.ko: depends on kernel - not available or version mismatch\n",
                    );
                    return ENOEXEC;
                }
            }
            MDT_VERSION => {}
            MDT_MODULE => {
                modules.push(name.clone());
                MODULES.lock().unwrap_or_else(|e| e.into_inner()).push(Module {
                    name,
                    data: md.md_data.cast(),
                    loaded: false,
                    load_error: 0,
                });
            }
            t => crate::fatal(&format!("set_modmetadata_set: unknown md_type {t}")),
        }
    }
    // linker_file_sysinit(): sorted by subsystem, then order.
    let mut sorted: Vec<*mut Sysinit> = sysinits;
    // SAFETY: set_sysinit_set entries point at sysinits.
    sorted.sort_by_key(|&s| unsafe { ((*s).subsystem, (*s).order) });
    for s in sorted {
        // SAFETY: as above; the func is called with its udata.
        unsafe {
            if let Some(f) = (*s).func {
                f((*s).udata);
            }
        }
    }
    let all_failed = {
        let mods = MODULES.lock().unwrap_or_else(|e| e.into_inner());
        !modules.is_empty() && mods.iter().filter(|m| modules.contains(&m.name)).all(|m| !m.loaded)
    };
    if all_failed {
        MODULES.lock().unwrap_or_else(|e| e.into_inner()).clear();
        return ENOEXEC;
    }
    0
}

/// kldunload(2) of every loaded module (`LINKER_UNLOAD_NORMAL`).
///
/// # Safety
/// On the loading thread, after [`kldload`] succeeded.
pub unsafe fn kldunload(td: &SimThread) -> c_int {
    // SAFETY: caller contract.
    unsafe { enter_syscall(td, SYS_KLDUNLOAD, 0) };
    let mods: Vec<*const ModuleData> = MODULES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|m| m.loaded)
        .map(|m| m.data)
        .collect();
    for &m in &mods {
        // SAFETY: the module's moduledata.
        let e = unsafe { mod_event(m, MOD_QUIESCE) };
        if e != 0 && e != EOPNOTSUPP && e != EINVAL {
            return e;
        }
    }
    for &m in &mods {
        // SAFETY: as above.
        let e = unsafe { mod_event(m, MOD_UNLOAD) };
        if e != 0 {
            return e;
        }
        MODULES.lock().unwrap_or_else(|e| e.into_inner()).retain(|x| !std::ptr::eq(x.data, m));
    }
    0
}
