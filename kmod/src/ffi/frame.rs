//! The user register frame and the syscall arguments record. Sizes and
//! offsets: `kmod/layouts.txt`, asserted in [`super::layouts`].

use super::sysent::Sysent;

/// `struct syscall_args` (sys/proc.h), `td->td_sa`.
#[repr(C)]
pub struct SyscallArgs {
    pub code: u32,
    pub original_code: u32,
    pub callp: *mut Sysent,
    /// `register_t args[MAXARGS]`, MAXARGS 8.
    pub args: [u64; 8],
}

/// `struct trapframe` (x86/include/frame.h, installed as machine/frame.h):
/// the user registers saved at kernel entry. On `syscall` entry FreeBSD
/// saves the fourth argument (`%r10`) in `tf_rcx`.
#[cfg(target_arch = "x86_64")]
#[repr(C)]
pub struct Trapframe {
    pub tf_rdi: u64,
    pub tf_rsi: u64,
    pub tf_rdx: u64,
    pub tf_rcx: u64,
    pub tf_r8: u64,
    pub tf_r9: u64,
    pub tf_rax: u64,
    pub tf_rbx: u64,
    pub tf_rbp: u64,
    pub tf_r10: u64,
    pub tf_r11: u64,
    pub tf_r12: u64,
    pub tf_r13: u64,
    pub tf_r14: u64,
    pub tf_r15: u64,
    pub tf_trapno: u32,
    pub tf_fs: u16,
    pub tf_gs: u16,
    pub tf_addr: u64,
    pub tf_flags: u32,
    pub tf_es: u16,
    pub tf_ds: u16,
    /// Length of the trapping instruction on syscall entry (for restarts).
    pub tf_err: u64,
    pub tf_rip: u64,
    pub tf_cs: u64,
    pub tf_rflags: u64,
    pub tf_rsp: u64,
    pub tf_ss: u64,
}

/// `struct trapframe` (arm64 machine/frame.h).
#[cfg(target_arch = "aarch64")]
#[repr(C)]
pub struct Trapframe {
    pub tf_sp: u64,
    pub tf_lr: u64,
    pub tf_elr: u64,
    pub tf_spsr: u64,
    pub tf_esr: u64,
    pub tf_far: u64,
    pub tf_x: [u64; 30],
}
