//! What differs between amd64 and arm64: where the syscall number and
//! arguments are, how success/failure is signalled (carry flag / PSTATE.C),
//! how a restart rewinds the PC, which register carries the auxv pointer,
//! and how TLS is set up.

#[cfg(target_arch = "x86_64")]
mod amd64;
#[cfg(target_arch = "x86_64")]
pub use amd64::*;

#[cfg(target_arch = "aarch64")]
mod arm64;
#[cfg(target_arch = "aarch64")]
pub use arm64::*;

use crate::ffi::access;
use crate::ffi::frame::SyscallArgs;
use crate::ffi::sysent::Sysent;
use crate::ffi::types::Thread;
use crate::syscall::SYSENT;
use crate::syscalls;

/// Fills `td->td_sa` from the syscall number and the first six argument
/// registers, shared by both `sv_fetch_syscall_args`.
///
/// `callp` must be valid even for bad numbers (syscallenter() reads it for
/// ktrace before checking anything), so out-of-range numbers get the
/// table's extra entry, whose call dispatches to `ENOSYS`.
///
/// # Safety
/// `td` is the current thread inside syscallenter().
unsafe fn fill_syscall_args(td: *mut Thread, number: u64, regs: [u64; 6]) {
    let index = syscalls::table_index(number);
    let code = syscalls::code_for(number);
    // SAFETY: `index` <= COUNT < TABLE_LEN, so the entry is in the table.
    let callp: *mut Sysent = unsafe { SYSENT.get().cast::<Sysent>().add(index) };
    // SAFETY: `td_sa` of the current thread is ours to fill during fetch.
    let sa: &mut SyscallArgs = unsafe { &mut *access::td_sa(td) };
    sa.code = code;
    sa.original_code = code;
    sa.callp = callp;
    sa.args = [regs[0], regs[1], regs[2], regs[3], regs[4], regs[5], 0, 0];
}
