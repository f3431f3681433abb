//! Faults: copying guest memory safely, and what happens when the guest (or
//! the runner) really crashes.
//!
//! Guest pointers are plain addresses in this process. Copies go through
//! `cloudabi_linux_copy`, a `rep movsb` whose faults the `SIGSEGV`/`SIGBUS`
//! handler turns into a return value, so a bad guest pointer gives `EFAULT`
//! instead of killing the runner. Any other fault is real: the handler
//! notes its address for the supervisor (`supervise.rs`), restores the
//! default action and lets the fault repeat, so the process dies by that
//! signal and the supervisor reports it.
//!
//! The handler may run while the guest's `%fs` is active, so it must not
//! touch thread-local storage: it uses raw system calls only.

use std::arch::asm;
use std::sync::Once;

use super::arch::{
    cloudabi_linux_cas32, cloudabi_linux_copy, cloudabi_linux_copy_begin, cloudabi_linux_copy_end,
    cloudabi_linux_copy_fixup,
};

/// A raw system call (no errno, no TLS). Returns the kernel's result:
/// negative errno on failure.
///
/// # Safety
///
/// The caller must pass arguments valid for system call `nr`.
#[cfg(target_arch = "x86_64")]
pub unsafe fn raw_syscall(nr: i64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the `syscall` instruction with the Linux x86-64 convention;
    // it clobbers rcx and r11 only. Argument validity is the caller's
    // contract.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// A raw system call (no errno, no TLS), aarch64: `svc #0` with the number
/// in `x8`. Returns the kernel's result: negative errno on failure.
///
/// # Safety
///
/// The caller must pass arguments valid for system call `nr`.
#[cfg(target_arch = "aarch64")]
pub unsafe fn raw_syscall(nr: i64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the `svc` instruction with the Linux aarch64 convention; it
    // changes x0 only. Argument validity is the caller's contract.
    unsafe {
        asm!(
            "svc #0",
            inlateout("x0") a[0] as i64 => ret,
            in("x1") a[1],
            in("x2") a[2],
            in("x3") a[3],
            in("x4") a[4],
            in("x5") a[5],
            in("x8") nr,
            options(nostack)
        );
    }
    ret
}

/// The interrupted program counter in a signal's context.
#[cfg(target_arch = "x86_64")]
fn pc(ctx: &mut libc::ucontext_t) -> &mut i64 {
    &mut ctx.uc_mcontext.gregs[libc::REG_RIP as usize]
}

#[cfg(target_arch = "aarch64")]
fn pc(ctx: &mut libc::ucontext_t) -> &mut i64 {
    // SAFETY: `pc` is a u64; viewing it as i64 changes no bits.
    unsafe { &mut *(&raw mut ctx.uc_mcontext.pc).cast::<i64>() }
}

/// Copies guest memory into `dst`. `Err(())` if any byte is unmapped or
/// unreadable.
pub fn copy_in(src: u64, dst: &mut [u8]) -> Result<(), ()> {
    // SAFETY: `dst` is valid for writes of its length; `src` may be any
    // address: a fault inside the copy is caught by the handler installed
    // in `install` and reported as a non-zero return.
    let r = unsafe { cloudabi_linux_copy(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if r == 0 { Ok(()) } else { Err(()) }
}

/// Copies `src` into guest memory. `Err(())` on a fault.
pub fn copy_out(dst: u64, src: &[u8]) -> Result<(), ()> {
    // SAFETY: as in `copy_in`, with the roles swapped; writes through a
    // guest address either land in guest-owned memory or fault safely.
    let r = unsafe { cloudabi_linux_copy(dst as *mut u8, src.as_ptr(), src.len()) };
    if r == 0 { Ok(()) } else { Err(()) }
}

/// Atomic compare-and-swap of the guest word at `addr`: the value it held.
/// `Err(())` on a fault.
pub fn cas32(addr: u64, old: u32, new: u32) -> Result<u32, ()> {
    let mut seen = 0u32;
    // SAFETY: as in `copy_in`: a fault on the guest address is caught and
    // reported; `seen` is a valid host location.
    let r = unsafe { cloudabi_linux_cas32(addr as *mut u32, old, new, &mut seen) };
    if r == 0 { Ok(seen) } else { Err(()) }
}

const SIGBUS: i32 = 7;
const SIGSEGV: i32 = 11;

/// Installs the fault handler (once per process). Every thread that runs
/// guest code also needs [`alt_stack`].
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for sig in [SIGSEGV, SIGBUS] {
            // SAFETY: a zeroed sigaction is a valid starting point; the
            // handler has the SA_SIGINFO signature.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_fault as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}

/// Gives the calling thread an alternate signal stack, so a guest that
/// overflows its stack still gets a handler (which then lets it die).
pub fn alt_stack() -> std::io::Result<()> {
    const SIZE: usize = 64 * 1024;
    // SAFETY: a fresh anonymous mapping, never unmapped (it lives as long
    // as the thread may take signals).
    let mem = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if mem == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let ss = libc::stack_t { ss_sp: mem, ss_flags: 0, ss_size: SIZE };
    // SAFETY: `ss` describes the mapping made above.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The `SIGSEGV`/`SIGBUS` handler. No TLS, no allocation, no locks.
extern "C" fn on_fault(sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let ctx = unsafe { &mut *(uc as *mut libc::ucontext_t) };
    let rip = pc(ctx);
    let (begin, end) =
        (&raw const cloudabi_linux_copy_begin as i64, &raw const cloudabi_linux_copy_end as i64);
    if (begin..end).contains(rip) {
        *rip = &raw const cloudabi_linux_copy_fixup as i64;
        return;
    }
    // A real fault, or the signal was sent (si_code <= 0): die by it.
    // SAFETY: `info` is valid for SA_SIGINFO handlers.
    let sent = unsafe { (*info).si_code } <= 0;
    if !sent {
        // SAFETY: as above; si_addr is the faulting address of a real
        // SIGSEGV/SIGBUS. getpid is a raw system call (no TLS).
        let (addr, pid) = unsafe { ((*info).si_addr() as u64, raw_syscall(libc::SYS_getpid, [0; 6]) as i32) };
        super::supervise::note_fault(pid, sig, addr);
    }
    reset_default(sig);
    if sent {
        // SAFETY: re-raise the signal at this thread now that the default
        // action is back (a sent signal is not re-raised by returning).
        unsafe {
            let pid = raw_syscall(libc::SYS_getpid, [0; 6]);
            let tid = raw_syscall(libc::SYS_gettid, [0; 6]);
            raw_syscall(libc::SYS_tgkill, [pid as u64, tid as u64, sig as u64, 0, 0, 0]);
        }
    }
}

/// Restores the default action of `sig` with a raw `rt_sigaction`.
fn reset_default(sig: i32) {
    // struct kernel_sigaction { handler, flags, restorer, mask }
    let act: [u64; 4] = [0, 0, 0, 0];
    // SAFETY: SIG_DFL (0) with no flags; the kernel reads 32 bytes, the
    // mask size argument is 8 (one 64-bit signal set).
    unsafe {
        raw_syscall(libc::SYS_rt_sigaction, [sig as u64, act.as_ptr() as u64, 0, 8, 0, 0]);
    }
}

/// Sets up the dispositions a CloudABI process starts with: everything
/// default, `SIGPIPE` ignored (writes to a closed pipe fail with `EPIPE`).
/// The fault handler stays (it behaves like the default for the guest).
pub fn reset_signals() {
    for sig in 1..32 {
        if sig == SIGSEGV || sig == SIGBUS || sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        let action = if sig == libc::SIGPIPE { libc::SIG_IGN } else { libc::SIG_DFL };
        // SAFETY: setting a standard disposition.
        unsafe {
            libc::signal(sig, action);
        }
    }
    // SAFETY: an empty set unblocks every signal for this thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}
