//! Raw kernel FFI, and the only place for it.
//!
//! - `#[repr(C)]` mirrors of the small, stable kernel structs the module
//!   builds or reads whole ([`sysent`], [`module`], [`elf`], [`frame`],
//!   [`signal`]). Their sizes and field offsets are asserted for the
//!   release and arch being built by `layouts` (generated from
//!   `kmod/layouts.txt`, which scripts/check-layouts checks against the
//!   real FreeBSD headers).
//! - [`kern`]: mirrors of the small records the backend hands to `kern_*`
//!   functions (`uio`, `msghdr`, `kevent`, `stat`, `filecaps`, ...).
//! - [`kpi`]: `extern "C"` declarations generated from `kmod/kpi-symbols.txt`.
//! - [`access`]: the accessors for the large, release-sensitive structs
//!   (`thread`, `proc`, `vmspace`, `image_params`, `vm_object`, `file`,
//!   `vnode`, `socket`, `mbuf`, `umtx_q`, `umtxq_chain`), which are never
//!   mirrored.
//! - [`pcpu`]: the current thread (`curthread`).
//! - `sim` (only with the `sim` feature): the one symbol kmod-sim adds to
//!   the KPI.

pub mod access;
pub mod cell;
pub mod elf;
pub mod frame;
pub mod kern;
pub mod kpi;
pub mod layouts;
pub mod module;
pub mod pcpu;
pub mod signal;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sysent;
pub mod types;

pub use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};
