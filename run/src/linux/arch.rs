//! The machine-dependent pieces of the Linux backend (x86-64): entering
//! the guest, the syscall entry the vDSO calls, leaving a guest thread, and
//! fault-tolerant copies of guest memory.
//!
//! Each host thread that runs guest code has a [`ThreadCtx`] and points its
//! GS base at it (`arch_prctl(ARCH_SET_GS)`). Neither glibc nor Rust uses
//! `%gs` on x86-64 and CloudABI code only uses `%fs`, so the entry code can
//! find host state through `%gs:` without trusting guest memory. The guest
//! owns `%fs` while it runs (its TLS convention: `%fs:0` holds its TCB
//! pointer); the host's `%fs` (glibc and Rust thread-locals) is switched in
//! for the duration of every syscall.

use std::arch::global_asm;
use std::sync::atomic::AtomicU64;

/// Per-host-thread state reached through `%gs`. Field offsets are used by
/// the assembly below; see the `const` assertions.
#[repr(C)]
#[derive(Debug)]
pub struct ThreadCtx {
    /// `%fs` base of the host thread (glibc/Rust TLS).
    pub host_fs: u64,
    /// Stack pointer to run syscalls on (16-byte aligned, below the frame
    /// of [`enter_guest`]).
    pub host_rsp: u64,
    /// Guest stack pointer saved at syscall entry.
    pub guest_rsp: u64,
    /// Guest `%fs` base saved at syscall entry.
    pub guest_fs: u64,
    /// Host stack pointer saved by `cloudabi_linux_enter`;
    /// `cloudabi_linux_leave` returns through it.
    pub resume_rsp: u64,
    /// The address of this structure (for code that needs a pointer to a
    /// field, since `%gs:` only gives loads and stores).
    pub self_addr: u64,
    /// The guest thread's id.
    pub tid: u32,
    pub _pad: u32,
    /// The thread's pin slot and lookup cache (`fastpath::PinSlot`), or 0:
    /// how the TLS-free fast path finds them.
    pub pin_slot: u64,
}

pub const CTX_HOST_FS: usize = 0;
pub const CTX_HOST_RSP: usize = 8;
pub const CTX_GUEST_RSP: usize = 16;
pub const CTX_GUEST_FS: usize = 24;
pub const CTX_RESUME_RSP: usize = 32;
pub const CTX_SELF: usize = 40;
pub const CTX_TID: usize = 48;
pub const CTX_PIN_SLOT: usize = 56;

const _: () = {
    assert!(std::mem::offset_of!(ThreadCtx, host_fs) == CTX_HOST_FS);
    assert!(std::mem::offset_of!(ThreadCtx, host_rsp) == CTX_HOST_RSP);
    assert!(std::mem::offset_of!(ThreadCtx, guest_rsp) == CTX_GUEST_RSP);
    assert!(std::mem::offset_of!(ThreadCtx, guest_fs) == CTX_GUEST_FS);
    assert!(std::mem::offset_of!(ThreadCtx, resume_rsp) == CTX_RESUME_RSP);
    assert!(std::mem::offset_of!(ThreadCtx, self_addr) == CTX_SELF);
    assert!(std::mem::offset_of!(ThreadCtx, tid) == CTX_TID);
    assert!(std::mem::offset_of!(ThreadCtx, pin_slot) == CTX_PIN_SLOT);
};

unsafe extern "C" {
    /// Switches to the guest and jumps to `entry` with `%rdi` = `arg0`,
    /// `%rsi` = `arg1`, `%rsp` = `rsp` and `%fs` base = `fs`. Returns only
    /// when `leave_guest(value)` is called on this thread, with `value`.
    pub fn cloudabi_linux_enter(entry: u64, rsp: u64, arg0: u64, arg1: u64, fs: u64) -> u64;
    /// Same, for CPUs without FSGSBASE (the `%fs` base is set with
    /// `arch_prctl`).
    pub fn cloudabi_linux_enter_slow(entry: u64, rsp: u64, arg0: u64, arg1: u64, fs: u64) -> u64;
    /// Abandons the guest code running on this thread: unwinds to the
    /// `enter` call that started it, which returns `value`. Must be called on
    /// the host stack (from a syscall handler) with nothing left to drop.
    /// (How a thread ends: `thread_exit`.)
    pub fn cloudabi_linux_leave(value: u64) -> !;
    /// The syscall entry the vDSO calls (with FSGSBASE / without).
    pub fn cloudabi_linux_entry();
    pub fn cloudabi_linux_entry_slow();
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

// The dispatcher called by the entry code: `nr` the syscall number,
// `args` the six argument registers, `out` the two result registers;
// returns 0 or a CloudABI errno.
// extern "C" fn cloudabi_linux_dispatch(nr: u64, args: *const [u64; 6], out: *mut [u64; 2]) -> u64

global_asm!(
    // --- syscall entry (FSGSBASE) ------------------------------------
    //
    // Called by the vDSO with the syscall number in %eax and the
    // arguments in %rdi %rsi %rdx %r10 %r8 %r9, on the guest stack with
    // the guest %fs. Returns the results in %rax/%rdx with CF clear, or
    // the errno in %rax with CF set, like the kernel's `syscall`.
    ".text",
    //
    // clock_time_get without leaving the guest's %fs: Linux's vDSO
    // clock_gettime, called on the host stack, touches no TLS. Anything
    // unusual (no vDSO, a clock id out of range, an error, a time that
    // does not fit) takes the normal path, which has the same semantics
    // and gives the errors.
    // The six argument registers into a 64-byte frame on the host stack
    // (48..64 receives the results).
    ".macro SAVE_ARGS",
    "    sub $64, %rsp",
    "    mov %rdi, 0(%rsp)",
    "    mov %rsi, 8(%rsp)",
    "    mov %rdx, 16(%rsp)",
    "    mov %r10, 24(%rsp)",
    "    mov %r8, 32(%rsp)",
    "    mov %r9, 40(%rsp)",
    ".endm",
    // Saves the host's callee-saved registers and stack for `leave`, and
    // sets the host stack syscalls run on: below this frame, 16-byte
    // aligned, with a gap.
    ".macro ENTER_FRAME",
    "    push %rbp",
    "    push %rbx",
    "    push %r12",
    "    push %r13",
    "    push %r14",
    "    push %r15",
    "    mov %rsp, %gs:32",
    "    lea -256(%rsp), %rax",
    "    and $-16, %rax",
    "    mov %rax, %gs:8",
    ".endm",
    ".macro CLOCK_FAST fallback",
    "    mov cloudabi_linux_vdso_clock_gettime(%rip), %r11",
    "    test %r11, %r11",
    "    jz \\fallback",
    "    lea -1(%rdi), %ecx",
    "    cmp $3, %ecx",
    "    ja \\fallback",
    "    mov %rsp, %gs:16",
    "    mov %gs:8, %rsp",
    "    push %rdi",
    "    push %rsi",
    "    sub $16, %rsp",
    "    lea 40f(%rip), %rax",
    "    movzbl (%rax,%rcx), %edi",
    "    mov %rsp, %rsi",
    "    call *%r11",
    "    test %eax, %eax",
    "    jnz 30f",
    "    mov 0(%rsp), %rax",
    "    test %rax, %rax",
    "    js 30f",
    "    mov $1000000000, %ecx",
    "    mul %rcx",
    "    jc 30f",
    "    add 8(%rsp), %rax",
    "    jc 30f",
    "    mov %gs:16, %rsp",
    "    clc",
    "    ret",
    "30: mov 16(%rsp), %rsi",
    "    mov 24(%rsp), %rdi",
    "    mov %gs:16, %rsp",
    "    mov ${clock_time_get}, %eax",
    "    jmp \\fallback",
    // Linux clock ids for CloudABI's 1..4 (checked in `CLOCK_IDS`).
    "40: .byte {monotonic}, {process}, {realtime}, {thread}",
    ".endm",
    // The TLS-free fast path (fastpath.rs): the calls in FAST_CALLS go to
    // cloudabi_linux_fast on the host stack with the guest's %fs left in
    // place. It returns 0 (results stored) or an errno, both finished
    // through cloudabi_linux_return, or FALLBACK having done nothing:
    // then the argument registers and the number are reloaded from the
    // frame and the call takes the normal path.
    ".macro FAST_PATH fallback",
    "    cmp $64, %eax",
    "    jae \\fallback",
    "    movabs ${fast_calls}, %r11",
    "    bt %rax, %r11",
    "    jnc \\fallback",
    "    cmpb $0, cloudabi_linux_fast_on(%rip)",
    "    je \\fallback",
    "    mov %rsp, %gs:16",
    "    mov %gs:8, %rsp",
    "    SAVE_ARGS",
    "    mov %rax, 48(%rsp)",
    "    mov %eax, %edi",
    "    mov %rsp, %rsi",
    "    lea 48(%rsp), %rdx",
    "    call cloudabi_linux_fast",
    "    cmp ${fast_fallback}, %eax",
    "    jne cloudabi_linux_return",
    "    mov 48(%rsp), %rax",
    "    mov 0(%rsp), %rdi",
    "    mov 8(%rsp), %rsi",
    "    mov 16(%rsp), %rdx",
    "    mov 24(%rsp), %r10",
    "    mov 32(%rsp), %r8",
    "    mov 40(%rsp), %r9",
    "    mov %gs:16, %rsp",
    "    jmp \\fallback",
    ".endm",
    //
    ".globl cloudabi_linux_entry",
    ".type cloudabi_linux_entry, @function",
    ".balign 16",
    "cloudabi_linux_entry:",
    "    cmp ${clock_time_get}, %eax",
    "    jne .Lentry_normal",
    "    CLOCK_FAST .Lentry_normal",
    ".Lentry_normal:",
    "    FAST_PATH .Lentry_switch",
    ".Lentry_switch:",
    "    mov %rsp, %gs:16",
    "    mov %gs:8, %rsp",
    "    rdfsbase %r11",
    "    mov %r11, %gs:24",
    "    mov %gs:0, %r11",
    "    wrfsbase %r11",
    "    SAVE_ARGS",
    "    mov %eax, %edi",
    "    mov %rsp, %rsi",
    "    lea 48(%rsp), %rdx",
    "    call cloudabi_linux_dispatch",
    "    mov %gs:24, %r11",
    "    wrfsbase %r11",
    "    jmp cloudabi_linux_return",
    ".size cloudabi_linux_entry, . - cloudabi_linux_entry",
    //
    // Common return: %eax holds 0 or the errno, the results are at
    // 48(%rsp)/56(%rsp), the guest %fs is back in place.
    ".balign 16",
    "cloudabi_linux_return:",
    "    test %eax, %eax",
    "    jnz 1f",
    "    mov 48(%rsp), %rax",
    "    mov 56(%rsp), %rdx",
    "    mov %gs:16, %rsp",
    "    clc",
    "    ret",
    "1:",
    "    movzwl %ax, %eax",
    "    mov %gs:16, %rsp",
    "    stc",
    "    ret",
    //
    // --- syscall entry without FSGSBASE -------------------------------
    // Same, switching %fs with arch_prctl(ARCH_GET_FS=0x1003,
    // ARCH_SET_FS=0x1002); the arguments are saved first because the
    // `syscall` instruction clobbers %rcx and %r11.
    ".globl cloudabi_linux_entry_slow",
    ".type cloudabi_linux_entry_slow, @function",
    ".balign 16",
    "cloudabi_linux_entry_slow:",
    "    cmp ${clock_time_get}, %eax",
    "    jne .Lentry_slow_normal",
    "    CLOCK_FAST .Lentry_slow_normal",
    ".Lentry_slow_normal:",
    "    FAST_PATH .Lentry_slow_switch",
    ".Lentry_slow_switch:",
    "    mov %rsp, %gs:16",
    "    mov %gs:8, %rsp",
    "    SAVE_ARGS",
    "    mov %eax, 48(%rsp)",
    // arch_prctl(ARCH_GET_FS, &ctx->guest_fs)
    "    mov $158, %eax",
    "    mov $0x1003, %edi",
    "    mov %gs:40, %rsi",
    "    add $24, %rsi",
    "    syscall",
    // arch_prctl(ARCH_SET_FS, ctx->host_fs)
    "    mov $158, %eax",
    "    mov $0x1002, %edi",
    "    mov %gs:0, %rsi",
    "    syscall",
    "    mov 48(%rsp), %edi",
    "    mov %rsp, %rsi",
    "    lea 48(%rsp), %rdx",
    "    call cloudabi_linux_dispatch",
    // Keep the result in the (now unused) argument area: every register
    // the guest expects preserved must stay untouched.
    "    mov %rax, 0(%rsp)",
    "    mov $158, %eax",
    "    mov $0x1002, %edi",
    "    mov %gs:24, %rsi",
    "    syscall",
    "    mov 0(%rsp), %rax",
    "    jmp cloudabi_linux_return",
    ".size cloudabi_linux_entry_slow, . - cloudabi_linux_entry_slow",
    //
    // --- entering and leaving the guest -------------------------------
    ".globl cloudabi_linux_enter",
    ".type cloudabi_linux_enter, @function",
    ".balign 16",
    "cloudabi_linux_enter:",
    "    ENTER_FRAME",
    "    wrfsbase %r8",
    "    jmp 3f",
    ".globl cloudabi_linux_enter_slow",
    ".type cloudabi_linux_enter_slow, @function",
    "cloudabi_linux_enter_slow:",
    "    ENTER_FRAME",
    "    mov %rdi, %r12",
    "    mov %rsi, %r13",
    "    mov %rdx, %r14",
    "    mov %rcx, %r15",
    "    mov $158, %eax",
    "    mov $0x1002, %edi",
    "    mov %r8, %rsi",
    "    syscall",
    "    mov %r12, %rdi",
    "    mov %r13, %rsi",
    "    mov %r14, %rdx",
    "    mov %r15, %rcx",
    "3:",
    "    mov %rdi, %r11",
    "    mov %rsi, %rsp",
    "    mov %rdx, %rdi",
    "    mov %rcx, %rsi",
    "    xor %eax, %eax",
    "    xor %ebx, %ebx",
    "    xor %ecx, %ecx",
    "    xor %edx, %edx",
    "    xor %ebp, %ebp",
    "    xor %r8d, %r8d",
    "    xor %r9d, %r9d",
    "    xor %r10d, %r10d",
    "    xor %r12d, %r12d",
    "    xor %r13d, %r13d",
    "    xor %r14d, %r14d",
    "    xor %r15d, %r15d",
    "    jmp *%r11",
    ".size cloudabi_linux_enter, . - cloudabi_linux_enter",
    //
    ".globl cloudabi_linux_leave",
    ".type cloudabi_linux_leave, @function",
    ".balign 16",
    "cloudabi_linux_leave:",
    "    mov %rdi, %rax",
    "    mov %gs:32, %rsp",
    "    pop %r15",
    "    pop %r14",
    "    pop %r13",
    "    pop %r12",
    "    pop %rbx",
    "    pop %rbp",
    "    ret",
    ".size cloudabi_linux_leave, . - cloudabi_linux_leave",
    //
    // --- fault-tolerant access to guest memory --------------------------
    //
    // Every instruction between cloudabi_linux_copy_begin and _end that
    // touches memory may fault (the copy and the CAS below); the fault
    // handler resumes at _fixup, which returns 1. Small
    // copies (structures, iovecs) move 8 bytes at a time: `rep movsb` has
    // a large start-up cost on many CPUs, and more still under a
    // hypervisor.
    ".globl cloudabi_linux_copy",
    ".globl cloudabi_linux_copy_begin",
    ".globl cloudabi_linux_copy_end",
    ".globl cloudabi_linux_copy_fixup",
    ".type cloudabi_linux_copy, @function",
    ".balign 16",
    "cloudabi_linux_copy:",
    "    mov %rdx, %rcx",
    "cloudabi_linux_copy_begin:",
    "    cmp $256, %rcx",
    "    jae 4f",
    "2:  cmp $8, %rcx",
    "    jb 3f",
    "    mov (%rsi), %rax",
    "    mov %rax, (%rdi)",
    "    add $8, %rsi",
    "    add $8, %rdi",
    "    sub $8, %rcx",
    "    jmp 2b",
    "3:  test %rcx, %rcx",
    "    jz 5f",
    "    movb (%rsi), %al",
    "    movb %al, (%rdi)",
    "    inc %rsi",
    "    inc %rdi",
    "    dec %rcx",
    "    jmp 3b",
    "4:  rep movsb",
    "5:  xor %eax, %eax",
    "    ret",
    ".size cloudabi_linux_copy, . - cloudabi_linux_copy",
    //
    // cloudabi_linux_cas32(addr, old, new, *seen) -> 0, or 1 on a fault:
    // an atomic compare-and-swap of a guest word (futex protocol).
    ".globl cloudabi_linux_cas32",
    ".type cloudabi_linux_cas32, @function",
    "cloudabi_linux_cas32:",
    "    mov %esi, %eax",
    "    lock cmpxchg %edx, (%rdi)",
    "    mov %eax, (%rcx)",
    "    xor %eax, %eax",
    "    ret",
    ".size cloudabi_linux_cas32, . - cloudabi_linux_cas32",
    "cloudabi_linux_copy_end:",
    // Where a fault between _begin and _end resumes: nothing is pushed at
    // any faulting instruction, so returning 1 is all it takes.
    "cloudabi_linux_copy_fixup:",
    "    mov $1, %eax",
    "    ret",
    clock_time_get = const abi::nr::CLOCK_TIME_GET,
    fast_calls = const super::fastpath::FAST_CALLS,
    fast_fallback = const super::fastpath::FALLBACK,
    monotonic = const CLOCK_IDS[0],
    process = const CLOCK_IDS[1],
    realtime = const CLOCK_IDS[2],
    thread = const CLOCK_IDS[3],
    options(att_syntax)
);

/// The Linux clock for each CloudABI clock id 1..4, in that order (the
/// backend's own mapping).
const CLOCK_IDS: [i32; 4] = {
    use super::backend::clock;
    use abi::Clockid;
    assert!(Clockid::MONOTONIC.raw() == 1 && Clockid::PROCESS_CPUTIME_ID.raw() == 2);
    assert!(Clockid::REALTIME.raw() == 3 && Clockid::THREAD_CPUTIME_ID.raw() == 4);
    [
        clock(Clockid::MONOTONIC),
        clock(Clockid::PROCESS_CPUTIME_ID),
        clock(Clockid::REALTIME),
        clock(Clockid::THREAD_CPUTIME_ID),
    ]
};

/// Linux's vDSO `clock_gettime` for the entry's fast path; 0 turns the
/// fast path off (no vDSO, or `--trace`, which must see every call).
#[unsafe(no_mangle)]
pub static cloudabi_linux_vdso_clock_gettime: AtomicU64 = AtomicU64::new(0);
