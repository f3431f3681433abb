//! The one entry point of all 49 CloudABI syscalls, and the tables the
//! kernel uses to reach it.
//!
//! Every sysent entry points at [`cloudabi64_syscall`], which hands the
//! number and the six argument registers to `sys::dispatch` with the
//! module's FreeBSD backend ([`crate::backend`]): the syscall core decodes,
//! validates and rights-checks, the backend performs the `kern_*` calls.

use core::ffi::{c_char, c_int, c_void};

use crate::backend::FreeBsd;
use crate::consts::{AUE_NULL, SY_THR_STATIC, SYF_CAPENABLED};
use crate::errno;
use crate::ffi::access;
use crate::ffi::cell::{KernelCell, Shared};
use crate::ffi::sysent::Sysent;
use crate::ffi::types::Thread;
use crate::syscalls::{COUNT, NAMES, NARGS, TABLE_LEN};

/// The sysent table: one entry per syscall plus the out-of-range entry.
/// Every entry is `SYF_CAPENABLED` (CloudABI processes run in capability
/// mode, where the kernel rejects syscalls without it) and
/// `SY_THR_STATIC`: the table lives exactly as long as the module, and the
/// module cannot be unloaded while any process uses the CloudABI
/// sysentvec, so the per-call reference counting of module syscalls is not
/// needed.
pub static SYSENT: KernelCell<[Sysent; TABLE_LEN]> = KernelCell::new(sysent_table());

const fn sysent_table() -> [Sysent; TABLE_LEN] {
    let mut table = [const { entry(0) }; TABLE_LEN];
    let mut i = 0;
    while i < COUNT {
        table[i] = entry(NARGS[i]);
        i += 1;
    }
    table
}

const fn entry(narg: u8) -> Sysent {
    Sysent {
        sy_call: Some(cloudabi64_syscall),
        sy_systrace_args_func: core::ptr::null(),
        sy_narg: narg,
        sy_flags: SYF_CAPENABLED,
        sy_auevent: AUE_NULL,
        sy_entry: 0,
        sy_return: 0,
        sy_thrcnt: SY_THR_STATIC,
    }
}

/// `sv_syscallnames`: names for ktrace and the kernel's `syscallname()`.
pub static NAMES_TABLE: Shared<[*const c_char; COUNT]> = Shared(name_table());

const fn name_table() -> [*const c_char; COUNT] {
    let mut t = [core::ptr::null(); COUNT];
    let mut i = 0;
    while i < COUNT {
        t[i] = NAMES[i].as_ptr();
        i += 1;
    }
    t
}

/// The `sy_call` of every entry: `td->td_sa` was filled by our
/// `sv_fetch_syscall_args`, `uap` points at its argument registers.
///
/// Returns 0 with the results in `td_retval`, or a native errno (which
/// `sv_set_syscall_retval` turns back into the CloudABI errno), or the
/// `ERESTART`/`EJUSTRETURN` a kernel function produced (an interrupted
/// call to restart; a successful `proc_exec`, whose registers are the new
/// image's and must be left alone).
///
/// # Safety
/// Called by the kernel's `syscallenter()` with the current thread.
pub unsafe extern "C" fn cloudabi64_syscall(td: *mut Thread, _uap: *mut c_void) -> c_int {
    // SAFETY: `td` is the current thread (kernel contract); its `td_sa`
    // was just filled by our fetch, which only stores valid codes or
    // u32::MAX.
    let (number, regs) = unsafe {
        let sa = &*access::td_sa(td);
        let a = &sa.args;
        (u64::from(sa.code), [a[0], a[1], a[2], a[3], a[4], a[5]])
    };
    // SAFETY: `td` is the current thread, in its syscall; the backend
    // lives on this stack frame only.
    let mut backend = unsafe { FreeBsd::new(td) };
    let result = sys::dispatch(&mut backend, number, &regs);
    if let Some(native) = backend.native_result() {
        return native;
    }
    match result {
        Ok(results) => {
            // SAFETY: `td_retval` of the current thread is ours to set.
            unsafe { *access::td_retval(td) = results };
            0
        }
        Err(e) => errno::to_native(e),
    }
}
