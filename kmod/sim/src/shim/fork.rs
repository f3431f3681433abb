//! `fork1(9)` with `RFFDG | RFPROC | RFPROCDESC` (pdfork): the simulated
//! process is a host process, so a fork is a host fork: the child is a
//! copy of the whole simulated machine (its address space, descriptor
//! table and kernel objects), only the forking thread continues in it (as
//! in FreeBSD), with a new pid and tid; amd64's `cpu_fork()` calls the
//! module's `sv_set_fork_retval`, `fork_return()` its `sv_schedtail`, and
//! the child returns to user mode with the copied frame (`PCB_FULL_IRET`).
//! The parent gets a process descriptor (`DTYPE_PROCDESC`, a host pidfd)
//! with the limits the caller gave.
//!
//! Not reproduced: shared scope umtx waits between the processes (each
//! has its own chains), descriptors passed between them; a child exits
//! the host process with its status (killed by a signal: the host
//! signal), which the parent's process descriptor reports.

use std::ffi::c_int;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use super::files;
use crate::kernel::{self, put};

static NEXT_TID: AtomicI32 = AtomicI32::new(200_000);

/// `fork1(9)` (pdfork only).
///
/// # Safety
/// `td` is the current thread; `fr` the module's request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fork1(td: *mut Thread, fr: *mut ForkReq) -> c_int {
    // SAFETY: the module's request.
    let r = unsafe { &*fr };
    if r.fr_flags != RFFDG | RFPROC | RFPROCDESC || r.fr_pd_fd.is_null() {
        super::unimplemented_kpi("fork1 other than pdfork");
    }
    // procdesc_falloc() comes before the fork (kern_fork.c, 15.0); its
    // EMFILE leaves `fr_pd_fcaps` to the caller.
    if let Err(e) = files::fdalloc_check() {
        return e;
    }
    // Words shared with the child meet in chains both processes see.
    super::umtx::shared_area();
    let tid = NEXT_TID.fetch_add(1, Ordering::Relaxed);
    // SAFETY: glibc's fork (its atfork handlers keep malloc usable in the
    // child).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return EAGAIN;
    }
    if pid == 0 {
        // SAFETY: the child: this thread is the only one left.
        unsafe { child(td, tid) }
    }
    // SAFETY: pidfd_open of our child.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        crate::fatal("pidfd_open of a forked child failed");
    }
    // SAFETY: a new descriptor we own.
    let fp = files::new_procdesc(unsafe { OwnedFd::from_raw_fd(pidfd as c_int) }, pid);
    // SAFETY: the module's limits record and out-parameters.
    unsafe {
        // procdesc_falloc() → falloc_caps() → _finstall(): the limits are
        // moved into the table (filecaps_move), or filled when NULL.
        let caps = if r.fr_pd_fcaps.is_null() {
            super::filecaps::Caps::unlimited()
        } else {
            super::filecaps::Caps::take(r.fr_pd_fcaps)
        };
        *r.fr_pd_fd = files::install_caps(fp, caps) as c_int;
        if !r.fr_pidp.is_null() {
            *r.fr_pidp = pid;
        }
    }
    0
}

/// The child's side: new identity, the module's fork hooks, user mode;
/// when the child process exits, the host process exits with its status.
///
/// # Safety
/// Called in the child right after the fork, on the forking thread.
unsafe fn child(td: *mut Thread, tid: c_int) -> ! {
    // SAFETY: this process's objects (copies of the parent's).
    unsafe {
        let p = kernel::td_proc(td);
        put(p.cast(), PROC_P_PID, libc::getpid());
        put(td.cast(), THREAD_TD_TID, tid);
        crate::proc::forked_child();
        let sv = &*kernel::p_sysent(p);
        if let Some(f) = sv.sv_set_fork_retval {
            f(td);
        }
        (*kernel::td_pcb(td)).flags |= PCB_FULL_IRET;
        if let Some(f) = sv.sv_schedtail {
            f(td);
        }
    }
    // Continue on a fresh host stack: this one is the signal stack, which
    // the next trap reuses from its top once user mode is entered.
    let stack = crate::kernel::kzalloc(1 << 20) as usize + (1 << 20);
    // SAFETY: the new stack is ours; child_main never returns.
    unsafe { crate::trap::kmodsim_on_stack(stack, child_main, td) }
}

/// The child on its fresh stack: user mode, then the host exit.
extern "C" fn child_main(td: *mut Thread) -> ! {
    // SAFETY: the child's only thread returns to user mode.
    let status =
        unsafe { crate::trap::kmodsim_enter_user(kernel::td_frame(td), (*kernel::td_pcb(td)).fsbase) };
    let (code, sig) = (((status >> 8) & 0xff) as c_int, (status & 0x7f) as c_int);
    if sig != 0 {
        let (_, host) = crate::signal::host(sig);
        // SAFETY: default disposition, then the signal to ourselves.
        unsafe {
            libc::signal(host, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, host);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(host);
        }
    }
    // SAFETY: ends the child process without running the parent's exit
    // path (kldunload, leak report) a second time.
    unsafe { libc::_exit(code) }
}
