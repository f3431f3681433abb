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
//!   else exists only in the kernel build.
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

#[cfg(target_os = "none")]
mod arch;
#[cfg(target_os = "none")]
mod backend;
#[cfg(target_os = "none")]
mod brand;
#[cfg(target_os = "none")]
mod console;
#[cfg(target_os = "none")]
mod exec;
#[cfg(target_os = "none")]
mod feature;
#[cfg(target_os = "none")]
mod ffi;
#[cfg(target_os = "none")]
mod module;
#[cfg(target_os = "none")]
mod panic;
#[cfg(target_os = "none")]
mod selfcheck;
#[cfg(target_os = "none")]
mod syscall;
#[cfg(target_os = "none")]
mod sysvec;
#[cfg(target_os = "none")]
mod vdso;
