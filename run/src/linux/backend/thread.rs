//! Threads: each guest thread runs on a host thread of its own, with its
//! own context (`%gs`), signal stack and host stack for syscalls.
//!
//! `thread_create` lays out the new thread's stack as FreeBSD's module
//! does on amd64: the TCB's address is carved from the top of the stack
//! the guest provides, with a slot below it holding that address; `%fs`
//! points at the slot, `%rsp` is 16-byte aligned minus 8 below it (as after
//! a call, with a zero "return address"), and the entry point receives the
//! thread id and the argument. The TCB's contents are the guest's business.

use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use abi::*;
use sys::backend::{ThreadAttr, ThreadOps};

use super::{Linux, check};
use crate::linux::{arch, fault, thread};

/// The next thread id. Ids are never reused; the lock protocol needs them
/// in 2 ..= 2³⁰ − 1 (0 and 1 have special meanings).
static NEXT_TID: AtomicU32 = AtomicU32::new(crate::linux::MAIN_TID + 1);
const TID_LIMIT: u32 = 1 << 30;

/// The host threads of this process's guest threads. The process ends
/// when none is left running guest code, however they went: through
/// `thread_exit` (`exited`), or dead by any other means (a raw Linux
/// `exit`), which `pthread_tryjoin_np` sees because the kernel clears a
/// thread's id word when it ends (`CLONE_CHILD_CLEARTID`, which the C
/// library sets for every thread, the initial one included) (issue 13, D5).
pub struct Members(Vec<Member>);

struct Member {
    thread: libc::pthread_t,
    /// Left through `thread_exit` (possibly still lingering, see `linger`).
    exited: bool,
}

// SAFETY: pthread_t is a plain handle; the list is only used under its
// lock.
unsafe impl Send for Members {}

static MEMBERS: Mutex<Members> = Mutex::new(Members(Vec::new()));

/// How often a lingering thread looks for guest threads that died without
/// `thread_exit`.
const LINGER_POLL: Duration = Duration::from_millis(200);

/// The member list, locked (also held across `fork`).
pub fn members() -> MutexGuard<'static, Members> {
    MEMBERS.lock().unwrap_or_else(|e| e.into_inner())
}

impl Members {
    /// Joins members that have ended and counts those still running guest
    /// code. The caller is never joined (it is running).
    fn alive(&mut self) -> usize {
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        self.0.retain(|m| {
            // SAFETY: pthread_equal compares two handles.
            if unsafe { libc::pthread_equal(m.thread, me) } != 0 {
                return true;
            }
            // SAFETY: every member is joinable and joined only here (its
            // JoinHandle was turned into the raw handle, the initial
            // thread is never detached); 0 means it ended and is joined.
            unsafe { libc::pthread_tryjoin_np(m.thread, std::ptr::null_mut()) != 0 }
        });
        self.0.iter().filter(|m| !m.exited).count()
    }

    /// The calling thread runs guest code.
    fn add_self(&mut self) {
        // SAFETY: pthread_self has no preconditions.
        self.0.push(Member { thread: unsafe { libc::pthread_self() }, exited: false });
    }

    /// The calling thread left through `thread_exit`.
    fn mark_self_exited(&mut self) {
        // SAFETY: pthread_self and pthread_equal on handles.
        let me = unsafe { libc::pthread_self() };
        for m in &mut self.0 {
            if unsafe { libc::pthread_equal(m.thread, me) } != 0 {
                m.exited = true;
            }
        }
    }
}

/// Registers the initial thread (before it runs guest code).
pub fn register_initial() {
    members().add_self();
}

/// Keeps a thread that left the guest alive (the initial thread, or one
/// whose forked children must live on) until no guest thread runs, then
/// ends the process with status 0.
pub fn linger() -> ! {
    loop {
        if members().alive() == 0 {
            // SAFETY: ends the process, as the last thread_exit does.
            unsafe { libc::_exit(0) }
        }
        std::thread::park_timeout(LINGER_POLL);
    }
}

/// A host stack for a guest thread's syscalls (its own stack is the
/// guest's).
const HOST_STACK: usize = 256 << 10;

/// A fresh thread id.
pub fn new_tid() -> Result<u32, Errno> {
    let tid = NEXT_TID.fetch_add(1, Ordering::Relaxed);
    if tid >= TID_LIMIT { Err(Errno::AGAIN) } else { Ok(tid) }
}

thread_local! {
    /// Whether this thread has forked a child: the child is killed when
    /// its parent thread ends (`PR_SET_PDEATHSIG`), so such a thread must
    /// outlive `thread_exit` until the process ends.
    static FORKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Notes that the calling thread has forked a child.
pub fn forked() {
    FORKED.with(|f| f.set(true));
}

/// After `fork`, in the child, with the member list held across it: the
/// child's only thread is the caller, which has not forked (yet).
pub fn reset_after_fork(members: &mut Members) {
    members.0.clear();
    members.add_self();
    FORKED.with(|f| f.set(false));
}

/// Where a new thread starts: its registers.
struct Start {
    entry: u64,
    rsp: u64,
    fs: u64,
    tid: u32,
    argument: u64,
}

/// Carves the TCB slot and the initial frame from the top of the guest's
/// stack.
#[cfg(not(target_arch = "aarch64"))]
fn layout(b: &mut Linux, attr: &ThreadAttr, tid: u32) -> Result<Start, Errno> {
    let top = attr.stack.checked_add(attr.stack_len).ok_or(Errno::INVAL)?;
    let tcb = top.checked_sub(8).ok_or(Errno::INVAL)? & !7;
    let slot = tcb.checked_sub(8).ok_or(Errno::INVAL)?;
    let rsp = (slot & !15).checked_sub(8).ok_or(Errno::INVAL)?;
    if rsp < attr.stack {
        // Not even room for the slot and one frame.
        return Err(Errno::INVAL);
    }
    sys::user::write(b, UserPtr::<u64>::new(slot), &tcb)?;
    sys::user::write(b, UserPtr::<u64>::new(rsp), &0u64)?;
    Ok(Start { entry: attr.entry_point, rsp, fs: slot, tid, argument: attr.argument })
}

/// aarch64, as FreeBSD's arm64 module does (`cloudabi64_thread_setregs`
/// with `cpu_set_upcall`, sys/arm64/arm64/vm_machdep.c): the 8-byte TCB at
/// the top of the guest's stack (8-aligned), `tpidr_el0` pointing at it,
/// `sp` = the TCB's address rounded down to 16 (`STACKALIGN`); nothing is
/// written (the TCB's contents are the guest's business).
#[cfg(target_arch = "aarch64")]
fn layout(_: &mut Linux, attr: &ThreadAttr, tid: u32) -> Result<Start, Errno> {
    let top = attr.stack.checked_add(attr.stack_len).ok_or(Errno::INVAL)?;
    let tcb = top.checked_sub(8).ok_or(Errno::INVAL)? & !7;
    let sp = tcb & !15;
    if tcb < attr.stack || sp < attr.stack {
        return Err(Errno::INVAL);
    }
    Ok(Start { entry: attr.entry_point, rsp: sp, fs: tcb, tid, argument: attr.argument })
}

fn run(start: Start) {
    let started = thread::attach(start.tid).and_then(|_| fault::alt_stack());
    if let Err(e) = started {
        // The guest already has the id; nothing can tell it the thread
        // never ran, so the process must not carry on half-broken.
        eprintln!("cloudabi-run: cannot set up thread {}: {e}", start.tid);
        // SAFETY: ends the process.
        unsafe { libc::_exit(71) };
    }
    // SAFETY: the stack and TLS slot were laid out by `layout`; this
    // thread's context is attached.
    unsafe { thread::run_guest(start.entry, start.rsp, u64::from(start.tid), start.argument, start.fs) };
    // thread_exit left the guest: the host thread ends here.
}

impl ThreadOps for Linux {
    fn thread_create(&mut self, attr: ThreadAttr) -> Result<Tid, Errno> {
        let tid = new_tid()?;
        let start = layout(self, &attr, tid)?;
        // Held until the new thread is a member, so that a thread_exit
        // elsewhere meanwhile counts the caller, at least, as running.
        let mut members = members();
        // From now on more than one thread may call into the backend.
        crate::linux::fastpath::going_multithreaded();
        let spawned = std::thread::Builder::new()
            .name(format!("guest-{tid}"))
            .stack_size(HOST_STACK)
            .spawn(move || run(start))
            .map_err(|_| Errno::AGAIN)?;
        members.0.push(Member { thread: spawned.into_pthread_t(), exited: false });
        Ok(Tid::new(tid))
    }

    fn thread_exit(&mut self) -> ! {
        // This thread runs no more guest code: its pin slot is free (the
        // stale address left in its context is never read again).
        crate::linux::fastpath::release();
        let last = {
            let mut members = members();
            members.mark_self_exited();
            members.alive() == 0
        };
        if last {
            // The last thread: the process exits with status 0, as on
            // FreeBSD.
            // SAFETY: ends the process.
            unsafe { libc::_exit(0) }
        }
        if FORKED.with(|f| f.get()) {
            // Keep the host thread (and so its children) alive until the
            // last guest thread has gone.
            linger();
        }
        // SAFETY: called from the syscall handler on the host stack; the
        // frames between here and the `enter` call hold nothing that needs
        // dropping (the core released everything before calling this).
        unsafe { arch::cloudabi_linux_leave(THREAD_EXITED) }
    }

    fn thread_yield(&mut self) -> Result<(), Errno> {
        // SAFETY: sched_yield has no arguments.
        check(unsafe { libc::sched_yield() }).map(|_| ())
    }
}

/// What `run_guest` returns when the thread called `thread_exit`.
pub const THREAD_EXITED: u64 = 0x7468_7265_6164; // "thread"
