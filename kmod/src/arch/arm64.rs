//! arm64: `svc #0` with the number in `x8` and arguments in `x0`..`x5`;
//! results in `x0` and `x1`; errors set PSTATE.C with the CloudABI errno
//! in `x0`.

use core::ffi::c_int;

use super::fill_syscall_args;
use crate::consts::{EJUSTRETURN, EM_AARCH64, ERESTART, PSR_C, VM_MAXUSER_ADDRESS};
use crate::errno;
use crate::ffi::access;
use crate::ffi::types::Thread;
use crate::image::Tls;

/// ELF machine of CloudABI executables on this arch.
pub const ELF_MACHINE: i32 = EM_AARCH64;

/// Top of the CloudABI address space: all of it, as natively.
pub const USER_MAX: usize = VM_MAXUSER_ADDRESS;

/// `tpidr_el0` points at the TCB.
pub const TLS: Tls = Tls::Direct;

/// `sv_fetch_syscall_args`
///
/// # Safety
/// Called by syscallenter() with the current thread.
pub unsafe extern "C" fn fetch_syscall_args(td: *mut Thread) -> c_int {
    // SAFETY: the current thread's frame holds its user registers.
    let f = unsafe { &*access::td_frame(td) };
    let x = &f.tf_x;
    let regs = [x[0], x[1], x[2], x[3], x[4], x[5]];
    // SAFETY: as above.
    unsafe {
        fill_syscall_args(td, x[8], regs);
        // Preset results as the in-tree module did: x1 survives calls that
        // return one value.
        *access::td_retval(td) = [0, x[1]];
    }
    0
}

/// `sv_set_syscall_retval`
///
/// # Safety
/// Called by syscallenter() (or the exec path) with the current thread.
pub unsafe extern "C" fn set_syscall_retval(td: *mut Thread, error: c_int) {
    // SAFETY: the current thread's frame and results are ours to update
    // on the way back to user mode.
    let (f, rv) = unsafe { (&mut *access::td_frame(td), *access::td_retval(td)) };
    match error {
        0 => {
            f.tf_x[0] = rv[0];
            f.tf_x[1] = rv[1];
            f.tf_spsr &= !PSR_C;
        }
        // Back up over the 4-byte `svc` so it runs again; x0..x7 were not
        // modified.
        ERESTART => f.tf_elr = f.tf_elr.wrapping_sub(4),
        EJUSTRETURN => {}
        e => {
            f.tf_x[0] = u64::from(errno::from_native(e).raw());
            f.tf_spsr |= PSR_C;
        }
    }
}

/// Sets the entry point's argument (the auxv address).
///
/// # Safety
/// `td` is the exec'ing thread after exec_setregs().
pub unsafe fn set_first_argument(td: *mut Thread, value: u64) {
    // SAFETY: caller contract.
    unsafe { (*access::td_frame(td)).tf_x[0] = value };
}

/// A new thread's entry arguments (`thread_create`): `entry(tid,
/// argument)` in `x0`, `x1`.
///
/// # Safety
/// `td` is a new thread that is not running yet.
pub unsafe fn set_thread_arguments(td: *mut Thread, tid: u64, argument: u64) {
    // SAFETY: caller contract; nothing else touches the new frame.
    unsafe {
        let f = &mut *access::td_frame(td);
        f.tf_x[0] = tid;
        f.tf_x[1] = argument;
    }
}

/// The values a `proc_fork` child returns with: `(PROCESS_CHILD, tid)`
/// and success.
///
/// # Safety
/// `td` is the new child thread, before it returns to user mode.
pub unsafe fn set_fork_child_retval(td: *mut Thread) {
    // SAFETY: caller contract.
    unsafe {
        let tid = access::td_tid(td);
        let f = &mut *access::td_frame(td);
        f.tf_x[0] = u64::from(abi::Fd::PROCESS_CHILD.raw());
        f.tf_x[1] = u64::from(tid as u32);
        f.tf_spsr &= !PSR_C;
    }
}

/// arm64's cpu_fork() does not call `sv_set_fork_retval` ("only used on
/// x86", sys/sysent.h); the child's values are set in `sv_schedtail`.
pub const SET_FORK_RETVAL: Option<unsafe extern "C" fn(*mut Thread)> = None;
