//! Host tools for the kernel module: a minimal ELF64 little-endian reader
//! and the checks scripts/check-kld runs on every built `.ko`.

pub mod elf;
pub mod kld;
pub mod selftest;
