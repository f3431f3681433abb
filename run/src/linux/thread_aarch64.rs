//! Host threads that run guest code on aarch64 (the counterpart of
//! `thread.rs`, selected in `mod.rs`): their [`ThreadCtx`], registered
//! under the thread's Linux id in the table the entry code reads (see
//! `arch_aarch64.rs`), and the switch into the guest.

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use super::arch::{self, CTX_TABLE_LEN, ThreadCtx, cloudabi_linux_ctx_table};

thread_local! {
    /// The calling thread's context (host code runs with the host's
    /// `tpidr_el0`, so thread-locals are the host's own).
    static CTX: Cell<*mut ThreadCtx> = const { Cell::new(std::ptr::null_mut()) };
}

/// The table of contexts by Linux thread id, reserved on first use.
fn table() -> std::io::Result<*mut u64> {
    // Without the lock once it exists: a `proc_fork` child (which always
    // finds it, the parent's initial thread made it) must not wait for a
    // lock another thread of the parent held at the fork.
    let t = cloudabi_linux_ctx_table.load(Ordering::Acquire);
    if t != 0 {
        return Ok(t as *mut u64);
    }
    static LOCK: Mutex<()> = Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let t = cloudabi_linux_ctx_table.load(Ordering::Acquire);
    if t != 0 {
        return Ok(t as *mut u64);
    }
    // SAFETY: a fresh private anonymous mapping, never unmapped (entries
    // are read by the entry code of any thread at any time); NORESERVE:
    // only the pages of ids in use are ever touched.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            (CTX_TABLE_LEN * 8) as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    cloudabi_linux_ctx_table.store(p as u64, Ordering::Release);
    Ok(p.cast())
}

/// Registers `ctx` under the calling thread's Linux id.
fn bind(ctx: *mut ThreadCtx) -> std::io::Result<()> {
    let table = table()?;
    // SAFETY: gettid has no arguments.
    let id = unsafe { libc::gettid() } as u64;
    if id >= CTX_TABLE_LEN {
        return Err(std::io::Error::other(format!("thread id {id} beyond Linux's PID_MAX_LIMIT")));
    }
    // SAFETY: `id` is inside the table; the entry code of this thread is
    // the only reader of this entry, and it runs after this store on the
    // same thread.
    unsafe { table.add(id as usize).write_volatile(ctx as u64) };
    CTX.with(|c| c.set(ctx));
    Ok(())
}

/// Creates the calling thread's context and registers it. The context
/// lives as long as the process (threads are few and contexts small;
/// keeping them avoids a use-after-free from a late signal).
pub fn attach(tid: u32) -> std::io::Result<&'static mut ThreadCtx> {
    let ctx: &'static mut ThreadCtx = Box::leak(Box::new(ThreadCtx {
        host_fs: 0,
        host_rsp: 0,
        guest_rsp: 0,
        guest_fs: 0,
        resume_rsp: 0,
        self_addr: 0,
        tid,
        _pad: 0,
    }));
    ctx.self_addr = ctx as *mut ThreadCtx as u64;
    // The normal path's lookup cache (no fast path on aarch64).
    let _ = super::fastpath::claim();
    let tp: u64;
    // SAFETY: reads this thread's own thread pointer (the host's: this is
    // host code).
    unsafe { std::arch::asm!("mrs {0}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags)) };
    ctx.host_fs = tp;
    bind(ctx)?;
    Ok(ctx)
}

/// The CloudABI thread id of the calling thread (which must be attached).
pub fn current_tid() -> u32 {
    let ctx = CTX.with(|c| c.get());
    // SAFETY: a non-null context is a leaked, never freed allocation.
    if ctx.is_null() { 0 } else { unsafe { (*ctx).tid } }
}

/// Changes the calling thread's id (a `fork` child's only thread), and
/// registers its context under the child's Linux thread id, which differs
/// from the parent's.
pub fn set_current_tid(tid: u32) {
    let ctx = CTX.with(|c| c.get());
    if ctx.is_null() {
        return;
    }
    // SAFETY: as in `current_tid`; this thread is the context's only user.
    unsafe { (*ctx).tid = tid };
    if bind(ctx).is_err() {
        // The child's next syscall would find no context: end it now with
        // a reason instead (a plain write: after a fork, another thread of
        // the parent may have held the lock of standard error).
        let msg = b"cloudabi-run: fork child: cannot register its thread\n";
        // SAFETY: writes a static buffer to descriptor 2, then ends the
        // (child) process.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(71);
        }
    }
}

/// The entry address the vDSO's trap slot must hold.
pub fn syscall_entry() -> u64 {
    arch::cloudabi_linux_entry as *const () as u64
}

/// Runs guest code on this thread (which must be attached) until it
/// leaves with `cloudabi_linux_leave(value)`: `x0` = `arg0`, `x1` =
/// `arg1`, `sp` = `sp`, `tpidr_el0` = `tp`.
///
/// # Safety
///
/// `entry`, `sp` and `tp` must describe a guest ready to run: code mapped
/// executable, a stack, and a TCB per the CloudABI convention.
pub unsafe fn run_guest(entry: u64, sp: u64, arg0: u64, arg1: u64, tp: u64) -> u64 {
    let ctx = CTX.with(|c| c.get());
    assert!(!ctx.is_null(), "run_guest on a thread without a context");
    // SAFETY: per the caller's contract; the assembly saves the host's
    // callee-saved registers, stack and thread pointer, and restores them
    // on leave.
    unsafe { arch::cloudabi_linux_enter(entry, sp, arg0, arg1, tp, ctx as u64) }
}
