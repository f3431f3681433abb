//! `cloudabi-run`: starts a CloudABI program with exactly the descriptors
//! and the configuration a YAML document describes.
//!
//! The pipeline, one module per step:
//!
//! 1. [`config`]: the YAML text becomes a [`config::Tree`] whose every node
//!    knows its `line:column`;
//! 2. [`resolve`]: the tree becomes an [`argdata::Value`], opening a
//!    descriptor for every `!fd`, `!file`, `!socket` and `!executable`
//!    (through [`resources`]);
//! 3. [`argdata`]: the value is encoded, descriptors as indices into the
//!    descriptor list;
//! 4. [`launch`]: the program starts with descriptor list entry `i` as its
//!    descriptor `i` (the Linux backend in [`linux`], or a native `fexecve`
//!    on FreeBSD through [`native`]).
//!
//! [`cli`] ties them together and [`exit`] holds the exit statuses;
//! [`oom`] makes running out of memory one of them. [`direct`] is the
//! other way in, with no configuration (`--exec`, and through [`binfmt`] a
//! CloudABI program run straight from a shell).

pub mod argdata;
#[cfg(target_os = "linux")]
pub mod binfmt;
pub mod cli;
pub mod config;
pub mod direct;
pub mod dump;
pub mod exit;
pub mod launch;
#[cfg(target_os = "linux")]
pub mod linux;
// Compiled on every Unix, not only FreeBSD, so that the descriptor
// renumbering and the argv construction are built and tested on Linux too.
#[cfg(unix)]
pub mod native;
pub mod oom;
pub mod resolve;
pub mod resources;
pub mod rights;
pub mod scalar;
