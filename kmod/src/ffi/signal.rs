//! Signal-related records. Sizes and offsets: `kmod/layouts.txt`, asserted
//! in [`super::layouts`].

use super::c_int;

/// `struct sigaction` (sys/signal.h), for `kern_sigaction`.
#[repr(C)]
pub struct Sigaction {
    /// `__sigaction_u`: the handler (`SIG_DFL` 0, `SIG_IGN` 1).
    pub sa_handler: usize,
    pub sa_flags: c_int,
    /// `sigset_t`: 128 bits.
    pub sa_mask: [u32; 4],
}

/// `struct kill_args` (sys/sysproto.h): each argument in a register-sized
/// slot.
#[repr(C)]
pub struct KillArgs {
    pub pid: c_int,
    pub _pad0: [u8; 4],
    pub signum: c_int,
    pub _pad1: [u8; 4],
}
