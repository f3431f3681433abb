//! The platform-independent CloudABI syscall core.
//!
//! CloudABI's semantics, written once: argument validation, the rights
//! model, user-memory access and errno mapping. The FreeBSD kernel module and
//! the Linux backend of `cloudabi-run` both run every syscall through here
//! and only supply the native operations (the [`backend`] traits), so a
//! behaviour shown on one is the behaviour of the other.
//!
//! `#![no_std]` and allocation-free: it runs inside the FreeBSD kernel.
#![no_std]

pub mod backend;
pub mod caplist;
mod core;
pub mod errno;
pub mod inflight;
pub mod path;
pub mod rights;
pub mod signal;
pub mod sync;
pub mod user;

pub use crate::core::file_access_mode;
pub use crate::core::{Core, IOV_MAX, dispatch};
