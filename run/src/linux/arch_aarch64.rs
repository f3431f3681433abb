//! The machine-dependent pieces of the Linux backend on aarch64 (the
//! counterpart of `arch.rs`, selected in `mod.rs`): entering the guest, the
//! syscall entry the vDSO calls, leaving a guest thread, and fault-tolerant
//! copies of guest memory.
//!
//! The guest owns `tpidr_el0` (its TCB) and every general register, and
//! aarch64 has no spare segment register like x86-64's `%gs`, so the entry
//! finds the calling thread's [`ThreadCtx`] through something the guest
//! cannot forge: its Linux thread id. The entry asks the kernel (`gettid`,
//! one `svc`, which changes only `x0`) and looks the id up in a table in
//! host memory, `CTX_TABLE[tid]`, filled in by `thread::attach` (and again
//! in a `proc_fork` child, whose thread has a new id). Nothing on the way
//! is read from guest memory or from a guest register: a guest that calls
//! the entry with any registers, any stack pointer and any memory contents
//! still gets its own thread's context, its own host stack and the host's
//! `tpidr_el0` back. (The guest shares the process, so it could overwrite
//! the table itself with raw stores: what confines it is the sandbox, as on
//! x86-64, where `wrgsbase` could repoint `%gs`; the entry only has to be
//! right for every guest that does not attack the runner's memory.) See
//! docs/ARCHITECTURE.md, "The aarch64 entry", for the options weighed.
//!
//! The host's `tpidr_el0` (glibc's thread pointer, Rust's thread-locals)
//! is switched in for the duration of every syscall, as `%fs` is on
//! x86-64; writing it is an unprivileged `msr`.

use std::arch::global_asm;
use std::sync::atomic::AtomicU64;

/// Per-host-thread state, found through `CTX_TABLE`. Field offsets are
/// used by the assembly below; see the `const` assertions.
#[repr(C)]
#[derive(Debug)]
pub struct ThreadCtx {
    /// `tpidr_el0` of the host thread (glibc/Rust TLS).
    pub host_fs: u64,
    /// Stack pointer to run syscalls on (16-byte aligned, below the frame
    /// of [`cloudabi_linux_enter`]).
    pub host_rsp: u64,
    /// Guest stack pointer saved at syscall entry.
    pub guest_rsp: u64,
    /// Guest `tpidr_el0` saved at syscall entry.
    pub guest_fs: u64,
    /// Host stack pointer saved by `cloudabi_linux_enter`;
    /// `cloudabi_linux_leave` returns through it.
    pub resume_rsp: u64,
    /// The address of this structure.
    pub self_addr: u64,
    /// The guest thread's id.
    pub tid: u32,
    pub _pad: u32,
}

pub const CTX_HOST_TP: usize = 0;
pub const CTX_HOST_SP: usize = 8;
pub const CTX_GUEST_SP: usize = 16;
pub const CTX_GUEST_TP: usize = 24;
pub const CTX_RESUME_SP: usize = 32;

const _: () = {
    assert!(std::mem::offset_of!(ThreadCtx, host_fs) == CTX_HOST_TP);
    assert!(std::mem::offset_of!(ThreadCtx, host_rsp) == CTX_HOST_SP);
    assert!(std::mem::offset_of!(ThreadCtx, guest_rsp) == CTX_GUEST_SP);
    assert!(std::mem::offset_of!(ThreadCtx, guest_fs) == CTX_GUEST_TP);
    assert!(std::mem::offset_of!(ThreadCtx, resume_rsp) == CTX_RESUME_SP);
};

/// Linux thread ids are below `PID_MAX_LIMIT` (include/linux/threads.h:
/// 4 Mi on 64-bit kernels), whatever `kernel.pid_max` says.
pub const CTX_TABLE_LEN: u64 = 4 << 20;

/// The context of each Linux thread id that runs guest code: a
/// `CTX_TABLE_LEN`-entry array of `*mut ThreadCtx` (32 MiB reserved, pages
/// touched only where ids are used), or 0 before the first `attach`.
#[unsafe(no_mangle)]
pub static cloudabi_linux_ctx_table: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    /// Switches to the guest and jumps to `entry` with `x0` = `arg0`, `x1` =
    /// `arg1`, `sp` = `sp` and `tpidr_el0` = `tp`; `ctx` is the calling
    /// thread's context. Returns only when `leave_guest(value)` is called
    /// on this thread, with `value`.
    pub fn cloudabi_linux_enter(entry: u64, sp: u64, arg0: u64, arg1: u64, tp: u64, ctx: u64) -> u64;
    /// Abandons the guest code running on this thread: unwinds to the
    /// `enter` call that started it, which returns `value`. Must be called on
    /// the host stack (from a syscall handler) with nothing left to drop.
    pub fn cloudabi_linux_leave(value: u64) -> !;
    /// The syscall entry the vDSO calls.
    pub fn cloudabi_linux_entry();
    /// Copies `len` bytes; returns 0, or 1 if a fault interrupted the copy.
    pub fn cloudabi_linux_copy(dst: *mut u8, src: *const u8, len: usize) -> u64;
    /// Atomically replaces the guest word at `addr` with `new` if it holds
    /// `old`, storing the value found in `*seen`; 0, or 1 on a fault.
    pub fn cloudabi_linux_cas32(addr: *mut u32, old: u32, new: u32, seen: *mut u32) -> u64;
    /// The instructions of `cloudabi_linux_copy` that may fault
    /// (`[begin, end)`), and where the fault handler resumes them.
    pub static cloudabi_linux_copy_begin: u8;
    pub static cloudabi_linux_copy_end: u8;
    pub static cloudabi_linux_copy_fixup: u8;
}

// The dispatcher called by the entry code (see mod.rs):
// extern "C" fn cloudabi_linux_dispatch(nr: u64, args: *const [u64; 6], out: *mut [u64; 2]) -> u64

global_asm!(
    // The calling thread's context into \reg (x0, x8 and \tmp are
    // clobbered), or a jump to .Lno_ctx: gettid (asm-generic number 178,
    // which leaves every other register alone), then CTX_TABLE[tid].
    ".macro FIND_CTX reg, tmp",
    "    mov x8, #178",
    "    svc #0",
    "    adrp \\tmp, cloudabi_linux_ctx_table",
    "    ldr \\tmp, [\\tmp, :lo12:cloudabi_linux_ctx_table]",
    "    cbz \\tmp, .Lno_ctx",
    "    mov \\reg, #{table_len}",
    "    cmp x0, \\reg",
    "    b.hs .Lno_ctx",
    "    ldr \\reg, [\\tmp, x0, lsl #3]",
    "    cbz \\reg, .Lno_ctx",
    ".endm",
    //
    // --- syscall entry --------------------------------------------------
    //
    // Called by the emulated vDSO (`blr`, with its own x29/x30 saved on the
    // guest stack) with the syscall number in w8 and the arguments in
    // x0..x5, on the guest stack with the guest's tpidr_el0. Returns the
    // results in x0/x1 with PSTATE.C clear, or the errno in x0 with C set,
    // like FreeBSD's `svc`. Preserved for the guest: x18 (the platform
    // register, saved here), x19..x29 and d8..d15 (callee-saved in the
    // host's code too), sp and tpidr_el0. x2..x17 are the caller's to lose
    // across a call.
    ".text",
    ".globl cloudabi_linux_entry",
    ".type cloudabi_linux_entry, %function",
    ".balign 16",
    "cloudabi_linux_entry:",
    "    hint #34",
    "    mov x9, x0",
    "    mov w10, w8",
    "    FIND_CTX x11, x12",
    "    mov x12, sp",
    "    str x12, [x11, #{guest_sp}]",
    "    mrs x12, tpidr_el0",
    "    str x12, [x11, #{guest_tp}]",
    "    ldr x12, [x11, #{host_tp}]",
    "    msr tpidr_el0, x12",
    "    ldr x12, [x11, #{host_sp}]",
    "    mov sp, x12",
    // Frame: the six arguments at 0..48, the results at 48..64, then the
    // guest's x18 and return address, and the context.
    "    sub sp, sp, #96",
    "    stp x9, x1, [sp, #0]",
    "    stp x2, x3, [sp, #16]",
    "    stp x4, x5, [sp, #32]",
    "    stp x18, x30, [sp, #64]",
    "    str x11, [sp, #80]",
    "    mov w0, w10",
    "    mov x1, sp",
    "    add x2, sp, #48",
    "    bl cloudabi_linux_dispatch",
    "    ldr x11, [sp, #80]",
    "    ldp x18, x30, [sp, #64]",
    "    ldr x12, [x11, #{guest_tp}]",
    "    msr tpidr_el0, x12",
    "    cbnz w0, 1f",
    "    ldp x0, x1, [sp, #48]",
    "    ldr x12, [x11, #{guest_sp}]",
    "    mov sp, x12",
    // C clear: 0 + 0 carries nothing.
    "    cmn xzr, xzr",
    "    ret",
    "1:",
    "    and x0, x0, #0xffff",
    "    ldr x12, [x11, #{guest_sp}]",
    "    mov sp, x12",
    // C set: 0 - 0 borrows nothing.
    "    cmp xzr, xzr",
    "    ret",
    //
    // A thread without a context runs guest code: it cannot have been
    // started by this backend. Nothing host-side can run (no host stack,
    // no host TLS), so the process ends with EX_OSERR after one line.
    ".Lno_ctx:",
    "    mov x0, #2",
    "    adr x1, 2f",
    "    mov x2, #(3f - 2f)",
    "    mov x8, #64",
    "    svc #0",
    "    mov x0, #71",
    "    mov x8, #94",
    "    svc #0",
    "    brk #0x3e8",
    "2: .ascii \"cloudabi-run: guest code on a thread without a context (aarch64 entry)\\n\"",
    "3:",
    "    .balign 4",
    ".size cloudabi_linux_entry, . - cloudabi_linux_entry",
    //
    // --- entering and leaving the guest ---------------------------------
    //
    // cloudabi_linux_enter(entry, sp, arg0, arg1, tp, ctx): saves the
    // host's callee-saved registers for `leave`, sets the host stack
    // syscalls run on (below this frame, 16-byte aligned, with a gap),
    // installs the guest's tpidr_el0 and jumps with every other register
    // cleared (x30 = 0: returning from the entry point faults).
    ".globl cloudabi_linux_enter",
    ".type cloudabi_linux_enter, %function",
    ".balign 16",
    "cloudabi_linux_enter:",
    "    stp x29, x30, [sp, #-160]!",
    "    stp x19, x20, [sp, #16]",
    "    stp x21, x22, [sp, #32]",
    "    stp x23, x24, [sp, #48]",
    "    stp x25, x26, [sp, #64]",
    "    stp x27, x28, [sp, #80]",
    "    stp d8, d9, [sp, #96]",
    "    stp d10, d11, [sp, #112]",
    "    stp d12, d13, [sp, #128]",
    "    stp d14, d15, [sp, #144]",
    "    str x18, [sp, #-16]!",
    "    mov x9, sp",
    "    str x9, [x5, #{resume_sp}]",
    "    sub x9, x9, #256",
    "    and x9, x9, #-16",
    "    str x9, [x5, #{host_sp}]",
    "    mrs x9, tpidr_el0",
    "    str x9, [x5, #{host_tp}]",
    "    msr tpidr_el0, x4",
    "    mov sp, x1",
    "    mov x16, x0",
    "    mov x0, x2",
    "    mov x1, x3",
    "    mov x2, xzr",
    "    mov x3, xzr",
    "    mov x4, xzr",
    "    mov x5, xzr",
    "    mov x6, xzr",
    "    mov x7, xzr",
    "    mov x8, xzr",
    "    mov x9, xzr",
    "    mov x10, xzr",
    "    mov x11, xzr",
    "    mov x12, xzr",
    "    mov x13, xzr",
    "    mov x14, xzr",
    "    mov x15, xzr",
    "    mov x17, xzr",
    "    mov x18, xzr",
    "    mov x19, xzr",
    "    mov x20, xzr",
    "    mov x21, xzr",
    "    mov x22, xzr",
    "    mov x23, xzr",
    "    mov x24, xzr",
    "    mov x25, xzr",
    "    mov x26, xzr",
    "    mov x27, xzr",
    "    mov x28, xzr",
    "    mov x29, xzr",
    "    mov x30, xzr",
    "    msr nzcv, xzr",
    "    br x16",
    ".size cloudabi_linux_enter, . - cloudabi_linux_enter",
    //
    // cloudabi_linux_leave(value): called on the host stack with the
    // host's tpidr_el0, from a syscall handler.
    ".globl cloudabi_linux_leave",
    ".type cloudabi_linux_leave, %function",
    ".balign 16",
    "cloudabi_linux_leave:",
    "    mov x13, x0",
    "    FIND_CTX x11, x12",
    "    ldr x9, [x11, #{resume_sp}]",
    "    mov sp, x9",
    "    ldr x18, [sp], #16",
    "    ldp x19, x20, [sp, #16]",
    "    ldp x21, x22, [sp, #32]",
    "    ldp x23, x24, [sp, #48]",
    "    ldp x25, x26, [sp, #64]",
    "    ldp x27, x28, [sp, #80]",
    "    ldp d8, d9, [sp, #96]",
    "    ldp d10, d11, [sp, #112]",
    "    ldp d12, d13, [sp, #128]",
    "    ldp d14, d15, [sp, #144]",
    "    ldp x29, x30, [sp], #160",
    "    mov x0, x13",
    "    ret",
    ".size cloudabi_linux_leave, . - cloudabi_linux_leave",
    //
    // --- fault-tolerant access to guest memory ----------------------------
    //
    // Every instruction between cloudabi_linux_copy_begin and _end that
    // touches memory may fault (the copy and the CAS below); the fault
    // handler resumes at _fixup, which returns 1. Nothing is pushed and x30
    // is untouched at any faulting instruction, so returning is all it
    // takes.
    ".globl cloudabi_linux_copy",
    ".globl cloudabi_linux_copy_begin",
    ".globl cloudabi_linux_copy_end",
    ".globl cloudabi_linux_copy_fixup",
    ".type cloudabi_linux_copy, %function",
    ".balign 16",
    "cloudabi_linux_copy:",
    "cloudabi_linux_copy_begin:",
    "    cmp x2, #8",
    "    b.lo 3f",
    "2:  ldr x3, [x1], #8",
    "    str x3, [x0], #8",
    "    sub x2, x2, #8",
    "    cmp x2, #8",
    "    b.hs 2b",
    "3:  cbz x2, 5f",
    "4:  ldrb w3, [x1], #1",
    "    strb w3, [x0], #1",
    "    subs x2, x2, #1",
    "    b.ne 4b",
    "5:  mov x0, #0",
    "    ret",
    ".size cloudabi_linux_copy, . - cloudabi_linux_copy",
    //
    // cloudabi_linux_cas32(addr, old, new, *seen) -> 0, or 1 on a fault:
    // a sequentially consistent compare-and-swap of a guest word (the
    // futex protocol), as a load-acquire/store-release exclusive pair.
    ".globl cloudabi_linux_cas32",
    ".type cloudabi_linux_cas32, %function",
    "cloudabi_linux_cas32:",
    "1:  ldaxr w4, [x0]",
    "    cmp w4, w1",
    "    b.ne 2f",
    "    stlxr w5, w2, [x0]",
    "    cbnz w5, 1b",
    "    b 3f",
    "2:  clrex",
    "3:  str w4, [x3]",
    "    mov x0, #0",
    "    ret",
    ".size cloudabi_linux_cas32, . - cloudabi_linux_cas32",
    "cloudabi_linux_copy_end:",
    "cloudabi_linux_copy_fixup:",
    "    mov x0, #1",
    "    ret",
    table_len = const CTX_TABLE_LEN,
    guest_sp = const CTX_GUEST_SP,
    guest_tp = const CTX_GUEST_TP,
    host_tp = const CTX_HOST_TP,
    host_sp = const CTX_HOST_SP,
    resume_sp = const CTX_RESUME_SP,
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Guest code on a thread the backend never attached finds no context:
    /// the entry ends the process (status 71) instead of running host code
    /// without a host stack.
    #[test]
    fn a_thread_without_a_context_ends_the_process_with_71() {
        // The table exists and holds this thread; the child's thread has
        // another id, which nobody registered.
        crate::linux::thread::attach(7).unwrap();
        // SAFETY: fork; the child only makes raw system calls (the entry's)
        // and _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: in the child, whose thread has no context; the entry
            // must end the process, never return.
            unsafe {
                cloudabi_linux_entry();
                libc::_exit(0);
            }
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "status {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 71);
    }

    #[test]
    fn the_table_covers_every_linux_thread_id() {
        // include/linux/threads.h: PID_MAX_LIMIT is 4 * 1024 * 1024 on
        // 64-bit kernels; /proc/sys/kernel/pid_max cannot exceed it.
        let max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(CTX_TABLE_LEN);
        assert!(max <= CTX_TABLE_LEN, "pid_max {max}");
    }
}
