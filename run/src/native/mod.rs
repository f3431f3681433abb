//! Native launch, for FreeBSD with the cloudabi64 kernel module:
//! cloudabi-run moves the program's descriptors into place and replaces
//! itself with the program through `fexecve(2)`; the kernel does the rest.
//!
//! The argument vector carries the argdata (see [`argv`]); the descriptor
//! moves are planned as data and applied through a small trait (see
//! [`plan`]), so that both are tested on Linux, against a model and
//! against real descriptors. Only [`exec`] and [`elf`] are used by the
//! FreeBSD build alone.

pub mod argv;
pub mod caps;
pub mod elf;
pub mod exec;
pub mod plan;
pub mod table;
