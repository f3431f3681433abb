//! Threads: creation with the CloudABI TCB and TLS layout, exit, yield.

use core::ffi::{c_int, c_void};

use abi::*;
use sys::backend::*;

use super::FreeBsd;
use crate::arch;
use crate::ffi::access;
use crate::ffi::kern::{StackT, Upcall};
use crate::ffi::kpi;
use crate::ffi::types::Thread;
use crate::image::{self, ThreadLayout};

/// What `thread_create` hands its init callback, and what it gets back.
struct NewThread {
    attr: ThreadAttr,
    layout: ThreadLayout,
    tid: u32,
}

/// `thread_create`'s callback: runs with the new thread (a copy of the
/// caller's frame, not yet linked into the process) and sets it up to
/// enter `entry_point(tid, argument)` on its stack with its TLS register
/// pointing at its TCB. An error abandons the thread.
///
/// # Safety
/// Called by `thread_create` with the new thread and our `NewThread`.
unsafe extern "C" fn init_thread(td: *mut Thread, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the NewThread on the creator's stack, which waits
    // for thread_create to return.
    let nt = unsafe { &mut *arg.cast::<NewThread>() };
    // SAFETY: the new thread is not running; its id is allocated.
    let tid = unsafe { access::td_tid(td) } as u32;
    nt.tid = tid;
    // SAFETY: as above; the frame is ours to set.
    unsafe { setup(td, nt, tid) }.err().unwrap_or(0)
}

/// # Safety
/// `td` is a new thread that is not running yet.
unsafe fn setup(td: *mut Thread, nt: &NewThread, tid: u32) -> Result<(), c_int> {
    let l = &nt.layout;
    if let Some(slot) = l.tcb_slot {
        // x86-64: %fs:0 must hold the TCB address.
        let tcb = l.tcb.to_ne_bytes();
        // SAFETY: copyout checks the user address (EFAULT).
        match unsafe { kpi::copyout(tcb.as_ptr().cast(), slot as *mut c_void, tcb.len()) } {
            0 => {}
            e => return Err(e),
        }
    }
    let mut stack =
        StackT { ss_sp: nt.attr.stack as *mut c_void, ss_size: l.stack_len as usize, ss_flags: 0 };
    // The entry point is a user address, never called by the kernel.
    // SAFETY: a function pointer is an address; Option<fn> is NULL-safe.
    let entry = unsafe { core::mem::transmute::<usize, Option<Upcall>>(nt.attr.entry_point as usize) };
    // SAFETY: sets the new thread's frame: stack, PC, first argument.
    match unsafe { kpi::cpu_set_upcall(td, entry, nt.attr.argument as *mut c_void, &mut stack) } {
        0 => {}
        e => return Err(e),
    }
    // SAFETY: the new thread's frame; CloudABI passes (tid, argument).
    unsafe { arch::set_thread_arguments(td, u64::from(tid), nt.attr.argument) };
    // SAFETY: the new thread's TLS register; 15.x takes THR flags (none).
    #[cfg(freebsd14)]
    let e = unsafe { kpi::cpu_set_user_tls(td, l.tls_base as *mut c_void) };
    // SAFETY: as above.
    #[cfg(freebsd15)]
    let e = unsafe { kpi::cpu_set_user_tls(td, l.tls_base as *mut c_void, 0) };
    if e != 0 { Err(e) } else { Ok(()) }
}

impl ThreadOps for FreeBsd {
    fn thread_create(&mut self, attr: ThreadAttr) -> Result<Tid, Errno> {
        let layout = image::thread_layout(attr.stack, attr.stack_len, arch::TLS).ok_or(Errno::INVAL)?;
        let mut nt = NewThread { attr, layout, tid: 0 };
        // SAFETY: thread_create allocates a thread in the current process,
        // copies the caller's frame, calls `init_thread` with `nt` before
        // linking it in, and starts it; `nt` outlives the call.
        let e = unsafe {
            kpi::thread_create(
                self.td,
                core::ptr::null_mut(),
                Some(init_thread),
                (&mut nt as *mut NewThread).cast(),
            )
        };
        self.check(e)?;
        if nt.tid == 0 {
            return Err(Errno::INVAL);
        }
        Ok(Tid::new(nt.tid))
    }

    fn thread_exit(&mut self) -> ! {
        // SAFETY: the current thread ends; kern_thr_exit returns only for
        // the last thread of the process, which then exits with 0.
        unsafe {
            kpi::kern_thr_exit(self.td);
            kpi::exit1(self.td, 0, 0)
        }
    }

    fn thread_yield(&mut self) -> Result<(), Errno> {
        // SAFETY: gives up the CPU (sched_yield(2)).
        unsafe { kpi::sched_relinquish(self.td) };
        Ok(())
    }
}
