//! Host threads that run guest code: their [`ThreadCtx`], reached through
//! the GS base, and the switch into the guest.

use std::sync::OnceLock;

use super::arch::{self, ThreadCtx};

const ARCH_SET_GS: i32 = 0x1001;
const ARCH_GET_FS: i32 = 0x1003;
const HWCAP2_FSGSBASE: u64 = 1 << 1;

/// Whether the CPU and kernel let user code read and write the FS/GS base
/// directly (`rdfsbase`/`wrfsbase`); otherwise `arch_prctl` is used.
/// `CLOUDABI_RUN_NO_FSGSBASE` forces the fallback (tests and benchmarks).
pub fn has_fsgsbase() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        // SAFETY: getauxval only reads the process's auxiliary vector.
        let hw = unsafe { libc::getauxval(libc::AT_HWCAP2) };
        hw & HWCAP2_FSGSBASE != 0 && std::env::var_os("CLOUDABI_RUN_NO_FSGSBASE").is_none()
    })
}

/// Creates the calling thread's context and points its GS base at it. The
/// context lives as long as the process (threads are few and contexts
/// small; keeping them avoids a use-after-free from a late signal).
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
        pin_slot: 0,
    }));
    // Without a free slot the thread uses the normal path for every call.
    ctx.pin_slot = super::fastpath::claim().map_or(0, |s| s as *const _ as u64);
    ctx.self_addr = ctx as *mut ThreadCtx as u64;
    let mut fs: u64 = 0;
    // SAFETY: ARCH_GET_FS writes the FS base into `fs`; ARCH_SET_GS
    // points GS at the context, which is never freed.
    unsafe {
        if libc::syscall(libc::SYS_arch_prctl, ARCH_GET_FS, &mut fs as *mut u64) != 0
            || libc::syscall(libc::SYS_arch_prctl, ARCH_SET_GS, ctx.self_addr) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    ctx.host_fs = fs;
    Ok(ctx)
}

/// The CloudABI thread id of the calling thread (which must be attached).
pub fn current_tid() -> u32 {
    let tid: u32;
    // SAFETY: %gs points at this thread's context (`attach`); `tid` is at
    // offset 48.
    unsafe {
        std::arch::asm!("mov {0:e}, gs:[48]", out(reg) tid, options(nostack, readonly, preserves_flags))
    };
    tid
}

/// The calling thread's pin slot (`ThreadCtx::pin_slot`), read through
/// `%gs` without TLS. The thread must be attached.
pub fn pin_slot() -> u64 {
    let slot: u64;
    // SAFETY: %gs points at this thread's context (`attach`); `pin_slot`
    // is at offset 56 (asserted in arch.rs).
    unsafe {
        std::arch::asm!("mov {0}, gs:[56]", out(reg) slot, options(nostack, readonly, preserves_flags))
    };
    slot
}

/// Changes the calling thread's id (a `fork` child's only thread).
pub fn set_current_tid(tid: u32) {
    // SAFETY: %gs points at this thread's context; `tid` is at offset 48.
    unsafe { std::arch::asm!("mov gs:[48], {0:e}", in(reg) tid, options(nostack, preserves_flags)) };
}

/// The entry address the vDSO's trap slot must hold on this machine.
pub fn syscall_entry() -> u64 {
    if has_fsgsbase() {
        arch::cloudabi_linux_entry as *const () as u64
    } else {
        arch::cloudabi_linux_entry_slow as *const () as u64
    }
}

/// Runs guest code on this thread (which must be attached) until it
/// leaves with `cloudabi_linux_leave(value)`.
///
/// # Safety
///
/// `entry`, `rsp` and `fs` must describe a guest ready to run: code mapped
/// executable, a stack, and a TLS slot per the CloudABI convention.
pub unsafe fn run_guest(entry: u64, rsp: u64, arg0: u64, arg1: u64, fs: u64) -> u64 {
    // SAFETY: per the caller's contract; the assembly saves the host's
    // callee-saved registers and stack, and restores them on leave.
    unsafe {
        if has_fsgsbase() {
            arch::cloudabi_linux_enter(entry, rsp, arg0, arg1, fs)
        } else {
            arch::cloudabi_linux_enter_slow(entry, rsp, arg0, arg1, fs)
        }
    }
}
