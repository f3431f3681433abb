//! Threads of the simulated process: `thread_create` (sys/kern/kern_thr.c)
//! with amd64's `cpu_copy_thread` and `cpu_set_upcall`
//! (sys/amd64/amd64/vm_machdep.c), and `kern_thr_exit`. Every simulated
//! thread runs on a host thread of its own with its own per-CPU area and
//! kernel (signal) stack.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::kernel::{self, put};

static NEXT_TID: AtomicI32 = AtomicI32::new(100_300);

/// A new thread's kernel objects, handed to its host thread.
struct Start(*mut Thread);
// SAFETY: the new thread's objects are used only by its host thread once
// it starts (the creator no longer touches them).
unsafe impl Send for Start {}

/// `thread_create`: a new thread of the caller's process: its frame and
/// pcb copied from the caller (`cpu_copy_thread`, `PCB_FULL_IRET` set),
/// `td_sa` copied (`td_startcopy`), `initialize_thread(newtd, thunk)`
/// run, which may refuse it; then it runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thread_create(
    td: *mut Thread,
    _rtp: *mut c_void,
    init: Option<unsafe extern "C" fn(*mut Thread, *mut c_void) -> c_int>,
    thunk: *mut c_void,
) -> c_int {
    // SAFETY: the current thread's process.
    let p = unsafe { kernel::td_proc(td) };
    let proc = kernel::SimProc { p };
    let nt = kernel::new_thread(&proc, NEXT_TID.fetch_add(1, Ordering::Relaxed));
    // SAFETY: both threads' objects; the new one is not running.
    unsafe {
        std::ptr::copy_nonoverlapping(kernel::td_frame(td), nt.frame, 1);
        let (from, to) = (&*kernel::td_pcb(td), &mut *kernel::td_pcb(nt.td));
        to.fsbase = from.fsbase;
        to.flags = from.flags | PCB_FULL_IRET;
        std::ptr::copy_nonoverlapping(kernel::td_sa(td), kernel::td_sa(nt.td), 1);
    }
    if let Some(init) = init {
        // SAFETY: the module's callback on the new thread, as the kernel
        // calls it.
        let e = unsafe { init(nt.td, thunk) };
        if e != 0 {
            return e;
        }
    }
    crate::proc::thread_started();
    let start = Start(nt.td);
    let spawned = std::thread::Builder::new().name("kmod-sim thread".into()).spawn(move || {
        let start = start;
        crate::proc::run_thread(start.0);
    });
    if spawned.is_err() {
        crate::fatal("cannot start a host thread");
    }
    0
}

/// `cpu_set_upcall` (amd64): the new thread starts at `entry` with `arg`
/// in `%rdi`, `%rsp` at the 16-aligned top of the stack minus 8, holding
/// a 0 return address (`EFAULT` if it cannot be written), `%rbp` 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cpu_set_upcall(
    td: *mut Thread,
    entry: usize,
    arg: *mut c_void,
    stack: *mut StackT,
) -> c_int {
    // SAFETY: the new thread's frame; the module's stack record.
    unsafe {
        let f = &mut *kernel::td_frame(td);
        let s = &*stack;
        f.tf_rbp = 0;
        f.tf_rsp = ((s.ss_sp as u64).wrapping_add(s.ss_size as u64) & !0xf).wrapping_sub(8);
        f.tf_rip = entry as u64;
        let zero = 0u64;
        if super::uvm::copyout((&raw const zero).cast(), f.tf_rsp as *mut c_void, 8) != 0 {
            return EFAULT;
        }
        f.tf_rdi = arg as u64;
    }
    0
}

/// `kern_thr_exit` (sys/kern/kern_thr.c): returns 0 for the last thread
/// (the caller then exits the process); any other thread ends here.
#[unsafe(no_mangle)]
pub extern "C" fn kern_thr_exit(_td: *mut Thread) -> c_int {
    if crate::proc::live_threads() == 1 {
        return 0;
    }
    crate::proc::leave_thread()
}

/// Keeps `put` in use on every configuration.
#[allow(dead_code)]
unsafe fn _unused(p: *mut u8) {
    // SAFETY: never called.
    unsafe { put(p, 0, 0u8) }
}
