//! User mode and the way back into the kernel, for the simulated process.
//!
//! The guest program runs directly on the host CPU, in the simulated user
//! address space. Its syscalls are real `syscall` instructions (in the
//! module's vDSO, which the module built into its shared-page object): a
//! seccomp filter turns every syscall made from the user address space
//! into SIGSYS, and the handler plays the kernel's trap path as
//! FreeBSD 14.x/15.0 amd64 runs it (sys/amd64/amd64/exception.S
//! `fast_syscall`, sys/kern/subr_syscall.c `syscallenter`/`syscallret`):
//!
//! 1. the frame as `fast_syscall` fills it: `tf_rip` from `%rcx` (the
//!    return address), `tf_rflags` from `%r11`, the fourth argument
//!    `%r10` in `tf_rcx`, `tf_err` 2 (the length of `syscall`);
//!    `tf_r10`/`tf_r11` are not saved; `PCB_FULL_IRET` is cleared;
//! 2. `sv_fetch_syscall_args(td)`; unless it failed, `ECAPMODE` for an
//!    entry without `SYF_CAPENABLED` in capability mode, else
//!    `sy_call(td, td_sa.args)`; then `sv_set_syscall_retval(td, error)`;
//! 3. back to user mode like the `sysretq` path (`%rdi %rsi %rdx %rax`,
//!    `%rcx` = `tf_rip`, `%r11` = `tf_rflags`, `%rsp`; `%r8-%r10`
//!    zeroed), or, when `PCB_FULL_IRET` was set during the call, like
//!    `doreti` (every register from the frame), with the `%fs` base from
//!    the pcb.
//!
//! Host code needs its own `%fs` (glibc and Rust thread-locals): the
//! handler's first instructions save the guest's `%fs` base in the
//! per-CPU area and load the host's; the guest's (the pcb's) is put back
//! on the way out. Handlers run on an alternate signal stack (the kernel
//! stack of the simulated thread).

use std::arch::global_asm;
use std::ffi::c_int;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::kernel::{self, PCPU_GUEST_FS, PCPU_HOST_FS, PCPU_RESUME_RSP, pcpu};

unsafe extern "C" {
    /// Enters user mode with the registers of `tf` and `%fs` base `fs`;
    /// returns only through [`kmodsim_leave`], with its value.
    pub fn kmodsim_enter_user(tf: *const Trapframe, fs: u64) -> u64;
    /// Abandons user mode on this thread for good (process or thread
    /// exit): returns `value` from the `kmodsim_enter_user` call.
    pub fn kmodsim_leave(value: u64) -> !;
    /// Switches to the stack ending at `top` and calls `f(arg)`, which
    /// must not return.
    pub fn kmodsim_on_stack(top: usize, f: extern "C" fn(*mut Thread) -> !, arg: *mut Thread) -> !;
    /// The signal handler entry (fs switch, then `kmodsim_trap`).
    fn kmodsim_signal_entry();
}

global_asm!(
    ".text",
    ".globl kmodsim_enter_user",
    ".type kmodsim_enter_user, @function",
    "kmodsim_enter_user:",
    "    push %rbp",
    "    push %rbx",
    "    push %r12",
    "    push %r13",
    "    push %r14",
    "    push %r15",
    "    mov %rsp, %gs:{resume}",
    "    wrfsbase %rsi",
    // An iretq frame (same privilege level): ss, rsp, rflags, cs, rip.
    "    mov %ss, %eax",
    "    push %rax",
    "    push {rsp}(%rdi)",
    "    push {rflags}(%rdi)",
    "    mov %cs, %eax",
    "    push %rax",
    "    push {rip}(%rdi)",
    "    mov {rsi}(%rdi), %rsi",
    "    mov {rdx}(%rdi), %rdx",
    "    mov {rcx}(%rdi), %rcx",
    "    mov {r8}(%rdi), %r8",
    "    mov {r9}(%rdi), %r9",
    "    mov {rax}(%rdi), %rax",
    "    mov {rbx}(%rdi), %rbx",
    "    mov {rbp}(%rdi), %rbp",
    "    mov {r10}(%rdi), %r10",
    "    mov {r11}(%rdi), %r11",
    "    mov {r12}(%rdi), %r12",
    "    mov {r13}(%rdi), %r13",
    "    mov {r14}(%rdi), %r14",
    "    mov {r15}(%rdi), %r15",
    "    mov {rdi}(%rdi), %rdi",
    "    iretq",
    ".size kmodsim_enter_user, . - kmodsim_enter_user",
    //
    ".globl kmodsim_leave",
    ".type kmodsim_leave, @function",
    "kmodsim_leave:",
    "    mov %rdi, %rax",
    "    mov %gs:{resume}, %rsp",
    "    pop %r15",
    "    pop %r14",
    "    pop %r13",
    "    pop %r12",
    "    pop %rbx",
    "    pop %rbp",
    "    ret",
    ".size kmodsim_leave, . - kmodsim_leave",
    //
    ".globl kmodsim_on_stack",
    ".type kmodsim_on_stack, @function",
    "kmodsim_on_stack:",
    "    and $-16, %rdi",
    "    mov %rdi, %rsp",
    "    mov %rdx, %rdi",
    "    call *%rsi",
    "    ud2",
    ".size kmodsim_on_stack, . - kmodsim_on_stack",
    //
    ".globl kmodsim_signal_entry",
    ".type kmodsim_signal_entry, @function",
    "kmodsim_signal_entry:",
    "    rdfsbase %r11",
    "    mov %r11, %gs:{guest_fs}",
    "    mov %gs:{host_fs}, %r11",
    "    wrfsbase %r11",
    "    sub $8, %rsp",
    "    call kmodsim_trap",
    "    add $8, %rsp",
    "    mov %gs:{guest_fs}, %r11",
    "    wrfsbase %r11",
    "    ret",
    ".size kmodsim_signal_entry, . - kmodsim_signal_entry",
    resume = const PCPU_RESUME_RSP,
    guest_fs = const PCPU_GUEST_FS,
    host_fs = const PCPU_HOST_FS,
    rdi = const std::mem::offset_of!(Trapframe, tf_rdi),
    rsi = const std::mem::offset_of!(Trapframe, tf_rsi),
    rdx = const std::mem::offset_of!(Trapframe, tf_rdx),
    rcx = const std::mem::offset_of!(Trapframe, tf_rcx),
    r8 = const std::mem::offset_of!(Trapframe, tf_r8),
    r9 = const std::mem::offset_of!(Trapframe, tf_r9),
    rax = const std::mem::offset_of!(Trapframe, tf_rax),
    rbx = const std::mem::offset_of!(Trapframe, tf_rbx),
    rbp = const std::mem::offset_of!(Trapframe, tf_rbp),
    r10 = const std::mem::offset_of!(Trapframe, tf_r10),
    r11 = const std::mem::offset_of!(Trapframe, tf_r11),
    r12 = const std::mem::offset_of!(Trapframe, tf_r12),
    r13 = const std::mem::offset_of!(Trapframe, tf_r13),
    r14 = const std::mem::offset_of!(Trapframe, tf_r14),
    r15 = const std::mem::offset_of!(Trapframe, tf_r15),
    rip = const std::mem::offset_of!(Trapframe, tf_rip),
    rflags = const std::mem::offset_of!(Trapframe, tf_rflags),
    rsp = const std::mem::offset_of!(Trapframe, tf_rsp),
    options(att_syntax)
);

/// Signals that mean the guest trapped (its own faults) or entered the
/// kernel (SIGSYS).
const TRAP_SIGNALS: [c_int; 6] =
    [libc::SIGSYS, libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGUSR2];

/// Installs the signal handlers (process-wide) and the seccomp filter
/// that traps syscalls made from the user address space.
pub fn install() -> Result<(), String> {
    for sig in TRAP_SIGNALS {
        // SAFETY: a handler for a synchronous trap signal, on the
        // alternate stack, not blocked while it runs (it may leave user
        // mode for good with kmodsim_leave).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = kmodsim_signal_entry as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                return Err(format!("sigaction({sig}) failed"));
            }
        }
    }
    seccomp_filter()
}

/// The filter: syscalls whose instruction pointer lies in the user
/// reservation trap (SECCOMP_RET_TRAP → SIGSYS); all others are allowed.
fn seccomp_filter() -> Result<(), String> {
    const LD_W_ABS: u16 = 0x20;
    const JGE_K: u16 = 0x35;
    const RET_K: u16 = 0x06;
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_TRAP: u32 = 0x0003_0000;
    // The reservation starts and ends on 4 GiB boundaries, so the high
    // word of the instruction pointer decides.
    const _: () = assert!(kernel::USER_BASE % (1 << 32) == 0 && kernel::USER_SIZE % (1 << 32) == 0);
    let lo = (kernel::USER_BASE >> 32) as u32;
    let hi = ((kernel::USER_BASE + kernel::USER_SIZE) >> 32) as u32;
    let f = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    // seccomp_data: nr (0), arch (4), instruction_pointer (8: low, 12: high).
    let prog = [
        f(LD_W_ABS, 0, 0, 12), // A = ip >> 32
        f(JGE_K, 0, 2, lo),    // below the range: allow
        f(JGE_K, 1, 0, hi),    // above: allow
        f(RET_K, 0, 0, RET_TRAP),
        f(RET_K, 0, 0, RET_ALLOW),
    ];
    let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_ptr().cast_mut() };
    // SAFETY: installs a filter for this process; PR_SET_NO_NEW_PRIVS is
    // required for unprivileged seccomp.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err("prctl(PR_SET_NO_NEW_PRIVS) failed".into());
        }
        if libc::syscall(libc::SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 1 /* TSYNC */, &fprog) != 0 {
            return Err(format!("seccomp filter: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Gives the calling host thread an alternate signal stack (its
/// simulated kernel stack).
pub fn alt_stack() {
    const SIZE: usize = 1 << 20;
    let stack = crate::kernel::kzalloc(SIZE);
    let ss = libc::stack_t { ss_sp: stack.cast(), ss_flags: 0, ss_size: SIZE };
    // SAFETY: a fresh stack that lives as long as the process.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
        crate::fatal("sigaltstack failed");
    }
}

/// The Rust side of every trap signal.
#[unsafe(no_mangle)]
extern "C" fn kmodsim_trap(sig: c_int, info: *mut libc::siginfo_t, uc: *mut libc::ucontext_t) {
    // SAFETY: the kernel's ucontext for this signal.
    let g = unsafe { &mut (*uc).uc_mcontext.gregs };
    let rip = g[libc::REG_RIP as usize] as usize;
    let user = (kernel::USER_BASE..kernel::USER_BASE + kernel::USER_SIZE).contains(&rip);
    if sig == libc::SIGUSR2 {
        // Another thread's exit1 single-threads the process: a thread in
        // user mode leaves now; one in the kernel when its call returns.
        if user && crate::proc::exiting() {
            crate::proc::leave_thread();
        }
        return;
    }
    if !user {
        // SAFETY: siginfo of a fault.
        let addr = unsafe { (*info).si_addr() } as usize;
        crate::fatal(&format!("signal {sig} in the simulated kernel at {rip:#x} (address {addr:#x})"));
    }
    // SAFETY: %gs is this thread's per-CPU area; curthread is the thread
    // that was running in user mode.
    let td = unsafe { (*pcpu()).curthread };
    if sig != libc::SIGSYS {
        // A fault of the program: the kernel's trap() → trapsignal(); the
        // default action of these signals terminates the process.
        let fbsd = match sig {
            libc::SIGSEGV => 11,
            libc::SIGBUS => 10,
            libc::SIGILL => 4,
            _ => 8,
        };
        crate::proc::exit(td, 0, fbsd);
    }
    // SAFETY: the trapped thread's kernel objects.
    unsafe { syscall(td, g) };
}

/// `fast_syscall` + `amd64_syscall` + the return path, on the registers
/// of the trapped `syscall` instruction.
///
/// # Safety
/// `td` is the current thread; `g` its user registers.
unsafe fn syscall(td: *mut Thread, g: &mut [i64; 23]) {
    use libc::*;
    let r = |i: c_int| g[i as usize] as u64;
    // SAFETY: caller contract: the thread's frame and pcb.
    let (f, pcb) = unsafe { (&mut *kernel::td_frame(td), &mut *kernel::td_pcb(td)) };
    // fast_syscall: with SIGSYS the trapped syscall's registers are as at
    // the instruction's completion: %rcx = return rip, %r11 = rflags.
    f.tf_rflags = r(REG_R11);
    f.tf_rip = r(REG_RIP);
    f.tf_rsp = r(REG_RSP);
    f.tf_rax = r(REG_RAX);
    f.tf_rdx = r(REG_RDX);
    f.tf_rcx = r(REG_R10);
    f.tf_err = 2;
    f.tf_rdi = r(REG_RDI);
    f.tf_rsi = r(REG_RSI);
    f.tf_r8 = r(REG_R8);
    f.tf_r9 = r(REG_R9);
    f.tf_rbx = r(REG_RBX);
    f.tf_rbp = r(REG_RBP);
    f.tf_r12 = r(REG_R12);
    f.tf_r13 = r(REG_R13);
    f.tf_r14 = r(REG_R14);
    f.tf_r15 = r(REG_R15);
    pcb.flags &= !PCB_FULL_IRET;
    // SAFETY: %gs per-CPU area: the guest %fs saved at entry is the
    // thread's user %fs base.
    pcb.fsbase = unsafe { (*pcpu()).guest_fs };

    // SAFETY: the current thread.
    unsafe { crate::proc::syscallenter(td) };
    if crate::proc::exiting() {
        crate::proc::leave_thread();
    }

    if pcb.flags & PCB_FULL_IRET != 0 {
        // doreti: every register from the frame.
        for (reg, v) in [
            (REG_RDI, f.tf_rdi),
            (REG_RSI, f.tf_rsi),
            (REG_RDX, f.tf_rdx),
            (REG_RCX, f.tf_rcx),
            (REG_R8, f.tf_r8),
            (REG_R9, f.tf_r9),
            (REG_RAX, f.tf_rax),
            (REG_RBX, f.tf_rbx),
            (REG_RBP, f.tf_rbp),
            (REG_R10, f.tf_r10),
            (REG_R11, f.tf_r11),
            (REG_R12, f.tf_r12),
            (REG_R13, f.tf_r13),
            (REG_R14, f.tf_r14),
            (REG_R15, f.tf_r15),
            (REG_RIP, f.tf_rip),
            (REG_EFL, f.tf_rflags),
            (REG_RSP, f.tf_rsp),
        ] {
            g[reg as usize] = v as i64;
        }
    } else {
        // sysretq: rdi rsi rdx rax, rcx = rip, r11 = rflags, rsp; r8-r10 0.
        for (reg, v) in [
            (REG_RDI, f.tf_rdi),
            (REG_RSI, f.tf_rsi),
            (REG_RDX, f.tf_rdx),
            (REG_RAX, f.tf_rax),
            (REG_RCX, f.tf_rip),
            (REG_R11, f.tf_rflags),
            (REG_RIP, f.tf_rip),
            (REG_EFL, f.tf_rflags),
            (REG_RSP, f.tf_rsp),
            (REG_R8, 0),
            (REG_R9, 0),
            (REG_R10, 0),
        ] {
            g[reg as usize] = v as i64;
        }
    }
    // SAFETY: as above; the exit path of the entry code loads it.
    unsafe { (*pcpu()).guest_fs = pcb.fsbase };
}

/// Keeps the import used on every configuration.
#[allow(dead_code)]
const _PCB: u32 = PCB_FULL_IRET;
