//! amd64: `syscall` with the number in `%rax` and arguments in `%rdi %rsi
//! %rdx %r10 %r8 %r9` (FreeBSD saves `%r10` in `tf_rcx`); results in `%rax`
//! and `%rdx`; errors set the carry flag with the CloudABI errno in `%rax`.

use core::ffi::c_int;

use super::fill_syscall_args;
use crate::consts::{
    EJUSTRETURN, EM_X86_64, ERESTART, PAGE_SIZE, PCB_FULL_IRET, PSL_C, PSL_T, VM_MAXUSER_ADDRESS_LA48,
};
use crate::errno;
use crate::ffi::access;
use crate::ffi::kpi;
use crate::ffi::types::Thread;
use crate::image::Tls;

/// ELF machine of CloudABI executables on this arch.
pub const ELF_MACHINE: i32 = EM_X86_64;

/// Top of the CloudABI address space: the LA48 user space minus its top
/// page, which the in-tree CloudABI module also left unmapped (the AMD
/// erratum that made FreeBSD lower the shared page).
pub const USER_MAX: usize = VM_MAXUSER_ADDRESS_LA48 - PAGE_SIZE;

/// `%fs` points at a slot holding the TCB address.
pub const TLS: Tls = Tls::SlotHoldingTcbAddress;

/// `sv_fetch_syscall_args`
///
/// # Safety
/// Called by syscallenter() with the current thread.
pub unsafe extern "C" fn fetch_syscall_args(td: *mut Thread) -> c_int {
    // SAFETY: the current thread's frame holds its user registers.
    let f = unsafe { &*access::td_frame(td) };
    let regs = [f.tf_rdi, f.tf_rsi, f.tf_rdx, f.tf_rcx, f.tf_r8, f.tf_r9];
    // SAFETY: as above.
    unsafe {
        fill_syscall_args(td, f.tf_rax, regs);
        // Preset results as the in-tree module did: rdx survives calls
        // that return one value.
        *access::td_retval(td) = [0, f.tf_rdx];
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
            f.tf_rax = rv[0];
            f.tf_rdx = rv[1];
            f.tf_rflags &= !PSL_C;
        }
        ERESTART => {
            // Back up over the `syscall` instruction (its length is in
            // tf_err) and restore %r10, which `syscall` entry saved in
            // tf_rcx; the full iret reloads every argument register.
            f.tf_rip = f.tf_rip.wrapping_sub(f.tf_err);
            f.tf_r10 = f.tf_rcx;
            // SAFETY: the current thread's pcb.
            unsafe { kpi::set_pcb_flags(access::td_pcb(td), PCB_FULL_IRET) };
        }
        EJUSTRETURN => {}
        e => {
            f.tf_rax = u64::from(errno::from_native(e).raw());
            f.tf_rflags |= PSL_C;
        }
    }
}

/// Sets the entry point's argument (the auxv address).
///
/// # Safety
/// `td` is the exec'ing thread after exec_setregs().
pub unsafe fn set_first_argument(td: *mut Thread, value: u64) {
    // SAFETY: caller contract.
    unsafe { (*access::td_frame(td)).tf_rdi = value };
}

/// A new thread's entry arguments (`thread_create`): `entry(tid,
/// argument)` in `%rdi`, `%rsi`.
///
/// # Safety
/// `td` is a new thread that is not running yet.
pub unsafe fn set_thread_arguments(td: *mut Thread, tid: u64, argument: u64) {
    // SAFETY: caller contract; nothing else touches the new frame.
    unsafe {
        let f = &mut *access::td_frame(td);
        f.tf_rdi = tid;
        f.tf_rsi = argument;
    }
}

/// The values a `proc_fork` child returns with: `(PROCESS_CHILD, tid)`
/// and success.
///
/// # Safety
/// `td` is the new child thread, not yet running.
pub unsafe fn set_fork_child_retval(td: *mut Thread) {
    // SAFETY: caller contract; nothing else touches the child's frame.
    unsafe {
        let tid = access::td_tid(td);
        let f = &mut *access::td_frame(td);
        f.tf_rax = u64::from(abi::Fd::PROCESS_CHILD.raw());
        f.tf_rdx = u64::from(tid as u32);
        // Success, and no trace trap: a parent single-stepped into the
        // fork would otherwise leave the child a SIGTRAP after its first
        // instruction (native x86_set_fork_retval() clears PSL_T too).
        f.tf_rflags &= !(PSL_C | PSL_T);
    }
}

/// `sv_set_fork_retval`: amd64's cpu_fork() calls it unconditionally for
/// every fork of a process with our sysentvec, so it must exist.
///
/// # Safety
/// Called by cpu_fork() with the child thread.
pub unsafe extern "C" fn set_fork_retval(td: *mut Thread) {
    // SAFETY: kernel contract (the child of a fork).
    unsafe { set_fork_child_retval(td) }
}

/// The `sv_set_fork_retval` hook for this arch.
pub const SET_FORK_RETVAL: Option<unsafe extern "C" fn(*mut Thread)> = Some(set_fork_retval);
