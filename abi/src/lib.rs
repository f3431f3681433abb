//! The CloudABI ABI as Rust types, generated from `abi/cloudabi.spec`.
//!
//! `#![no_std]`, no dependencies: the kernel module, the syscall core, the
//! Linux backend and the tests all share it.
//!
//! - Every integer-like ABI type is a `#[repr(transparent)]` newtype. Enum
//!   and flags types can only be built through a validating constructor
//!   (`new` / `from_bits`), so a value of such a type is always valid; raw
//!   user-supplied integers never become a Rust `enum`.
//! - Structs are LP64 `#[repr(C)]` mirrors with explicit padding fields, so
//!   they have no uninitialised bytes and can be copied to and from user
//!   memory as bytes ([`Pod`]). Enum and flags members are stored raw, with
//!   typed, validating accessors.
//! - [`dispatch`] decodes six argument registers into typed arguments and
//!   calls the matching method of a [`Handler`]; [`SYSCALLS`] and [`TYPES`]
//!   describe the ABI for tracers and tests.
//!
//! The generated part lives in `src/generated.rs`; never edit it by hand,
//! run `scripts/gen`.
#![no_std]

#[rustfmt::skip]
mod generated;
mod meta;
mod pod;
mod user;

pub use generated::*;
pub use meta::*;
pub use pod::Pod;
pub use user::{UserPtr, UserRange};
