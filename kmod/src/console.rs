//! Messages on the kernel console (dmesg), always prefixed `cloudabi64: `.

use core::ffi::{CStr, c_long};

use crate::ffi::kpi;

/// Prints `cloudabi64: <msg>`.
pub fn log(msg: &CStr) {
    // SAFETY: a literal format with one `%s` and a NUL-terminated argument.
    unsafe { kpi::printf(c"cloudabi64: %s\n".as_ptr(), msg.as_ptr()) };
}

/// Prints `cloudabi64: <msg><what>`.
pub fn log2(msg: &CStr, what: &CStr) {
    // SAFETY: a literal format with two `%s` and NUL-terminated arguments.
    unsafe { kpi::printf(c"cloudabi64: %s%s\n".as_ptr(), msg.as_ptr(), what.as_ptr()) };
}

/// Prints `cloudabi64: <msg><decimal>`.
pub fn log_num(msg: &CStr, n: i64) {
    // SAFETY: a literal format with `%s` and `%ld` (long is 64 bits on
    // both LP64 targets) and matching arguments.
    unsafe { kpi::printf(c"cloudabi64: %s%ld\n".as_ptr(), msg.as_ptr(), n as c_long) };
}

/// Prints `cloudabi64: self-check failed: <what> (expected <e>, found <f>)`.
pub fn log_mismatch(what: &CStr, expected: u64, found: u64) {
    // SAFETY: a literal format with `%s` and two `%#lx` and matching
    // arguments.
    unsafe {
        kpi::printf(
            c"cloudabi64: self-check failed: %s (expected %#lx, found %#lx)\n".as_ptr(),
            what.as_ptr(),
            expected as c_long,
            found as c_long,
        )
    };
}
