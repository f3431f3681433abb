//! cloudabi64.ko: CloudABI for FreeBSD 14.x and 15.x (amd64, arm64).
//!
//! The module registers an ELF brand (OSABI 17) with its own `sysentvec`:
//! CloudABI executables get a vDSO instead of a sigcode page, a CloudABI
//! process image (argument data, auxiliary vector, TLS) and the 49 CloudABI
//! system calls, all of which enter through [`syscall`].
//!
//! Layout of the crate:
//! - `ffi/`: the only place with raw kernel FFI: `#[repr(C)]` mirrors, the
//!   generated `extern` declarations and the accessors for large structs.
//! - `backend/`: the FreeBSD implementation of the `sys` core's backend
//!   traits, over `kern_*` functions.
//! - pure modules ([`convert`], [`dircookie`], [`errno`], [`image`],
//!   [`loadcheck`], [`syscalls`]) are unit-tested on the host; everything
//!   else exists only in the kernel build, and in the `sim` build (the
//!   feature kmod/sim enables: the same code on a Linux x86-64 host, linked
//!   against kmod-sim's user-space KPI shim instead of a kernel; see
//!   docs/kmod.md).
#![cfg_attr(target_os = "none", no_std)]
// LLVM must not turn loops into calls of builtins the kernel lacks; the
// kernel's own memcpy/memset/memmove/memcmp are used for copies.
#![no_builtins]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod convert;
pub mod dircookie;
pub mod errno;
pub mod image;
pub mod loadcheck;
pub mod syscalls;

/// Kernel constants from `layouts.txt` (errno values on the host; every
/// constant for the release and arch in a kernel build).
pub mod consts {
    #![allow(dead_code)]
    include!(concat!(env!("OUT_DIR"), "/consts.rs"));
}

#[cfg(any(target_os = "none", feature = "sim"))]
mod arch;
#[cfg(any(target_os = "none", feature = "sim"))]
mod backend;
#[cfg(any(target_os = "none", feature = "sim"))]
mod brand;
#[cfg(any(target_os = "none", feature = "sim"))]
mod console;
#[cfg(any(target_os = "none", feature = "sim"))]
mod exec;
#[cfg(any(target_os = "none", feature = "sim"))]
mod feature;
#[cfg(any(target_os = "none", feature = "sim"))]
mod ffi;
#[cfg(any(target_os = "none", feature = "sim"))]
mod module;
#[cfg(target_os = "none")]
mod panic;
#[cfg(any(target_os = "none", feature = "sim"))]
mod selfcheck;
#[cfg(any(target_os = "none", feature = "sim"))]
mod syscall;
#[cfg(any(target_os = "none", feature = "sim"))]
mod sysvec;
#[cfg(any(target_os = "none", feature = "sim"))]
mod vdso;

/// What kmod-sim needs of the module besides its linker sets: the mirrors
/// of the kernel records it must lay out the way the module reads them,
/// and the accessor offsets (all from `kmod/layouts.txt`).
#[cfg(feature = "sim")]
pub mod sim_api {
    pub use crate::ffi::elf::{Auxargs, Brandinfo};
    pub use crate::ffi::frame::{SyscallArgs, Trapframe};
    pub use crate::ffi::kern::*;
    pub use crate::ffi::layouts::*;
    pub use crate::ffi::module::{ModDepend, ModMetadata, ModVersion, ModuleData, Sysinit};
    pub use crate::ffi::signal::{KillArgs, Sigaction};
    pub use crate::ffi::sysent::{Sysent, Sysentvec};
    pub use crate::ffi::types::*;
}
