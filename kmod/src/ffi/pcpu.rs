//! `curthread`: the first member of the per-CPU area (`pc_curthread` at
//! offset 0 in sys/pcpu.h, asserted via `PCPU_PC_CURTHREAD`), reached like
//! the kernel's own `__curthread()`: through `%gs` on amd64 and through the
//! per-CPU pointer in `x18` on arm64 (which `-Zfixed-x18` keeps ours).

use super::layouts::PCPU_PC_CURTHREAD;
use super::types::Thread;

/// The running thread.
#[cfg(target_arch = "x86_64")]
pub fn curthread() -> *mut Thread {
    let td: *mut Thread;
    // SAFETY: in kernel mode %gs is the per-CPU segment; reading its first
    // word has no side effects.
    unsafe {
        core::arch::asm!(
            "mov {td}, qword ptr gs:[{off}]",
            td = out(reg) td,
            off = const PCPU_PC_CURTHREAD,
            options(nostack, preserves_flags, readonly, pure),
        );
    }
    td
}

/// The running thread.
#[cfg(target_arch = "aarch64")]
pub fn curthread() -> *mut Thread {
    let td: *mut Thread;
    // SAFETY: x18 holds the per-CPU pointer in the kernel; reading its
    // first word has no side effects.
    unsafe {
        core::arch::asm!(
            "ldr {td}, [x18, #{off}]",
            td = out(reg) td,
            off = const PCPU_PC_CURTHREAD,
            options(nostack, preserves_flags, readonly, pure),
        );
    }
    td
}
