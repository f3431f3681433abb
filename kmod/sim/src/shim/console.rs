//! The console: `printf(9)` and `panic(9)`.
//!
//! Both are C variadic functions. On x86-64 (System V) a variadic call
//! with integer and pointer arguments passes them in the same registers
//! as a normal call, so the shim takes five integer arguments after the
//! format and consumes them in order as the format asks; the module's
//! formats (kmod/src/console.rs, panic.rs) have at most four. Conversions
//! other than those kprintf(9) gives the module (`%s %d %u %ld %lu %lx
//! %#lx %.*s %%`) abort the run.

use std::ffi::{CStr, c_char, c_int};
use std::io::Write;

/// Formats a kprintf(9) format with integer/pointer arguments.
///
/// # Safety
/// `fmt` is a NUL-terminated string; `%s` arguments are NUL-terminated
/// strings, `%.*s` ones have at least the given length.
pub unsafe fn format(fmt: *const c_char, args: &[usize]) -> String {
    // SAFETY: caller contract.
    let f = unsafe { CStr::from_ptr(fmt) }.to_bytes();
    let mut out = String::new();
    let mut next = args.iter().copied();
    let mut arg = || next.next().unwrap_or_else(|| crate::fatal("printf: more conversions than arguments"));
    let mut i = 0;
    while i < f.len() {
        if f[i] != b'%' {
            out.push(f[i] as char);
            i += 1;
            continue;
        }
        let rest = &f[i + 1..];
        let spec_len =
            rest.iter().position(|c| c.is_ascii_alphabetic() && *c != b'l').map_or(rest.len(), |p| p + 1);
        let spec = std::str::from_utf8(&rest[..spec_len.min(rest.len())]).unwrap_or("?");
        match spec {
            "s" => {
                let p = arg() as *const c_char;
                // SAFETY: caller contract.
                out.push_str(&unsafe { CStr::from_ptr(p) }.to_string_lossy());
            }
            ".*s" => {
                let n = arg() as c_int;
                let p = arg() as *const u8;
                // SAFETY: caller contract.
                let b = unsafe { std::slice::from_raw_parts(p, n.max(0) as usize) };
                out.push_str(&String::from_utf8_lossy(b));
            }
            "d" => out.push_str(&(arg() as c_int).to_string()),
            "u" => out.push_str(&(arg() as u32).to_string()),
            "ld" => out.push_str(&(arg() as i64).to_string()),
            "lu" => out.push_str(&(arg() as u64).to_string()),
            "lx" => out.push_str(&format!("{:x}", arg())),
            "#lx" => out.push_str(&format!("{:#x}", arg())),
            _ if rest.first() == Some(&b'%') => {
                out.push('%');
                i += 2;
                continue;
            }
            other => crate::fatal(&format!("printf: conversion %{other} is not reproduced")),
        }
        i += 1 + spec_len;
    }
    out
}

/// `printf(9)`: formats and writes to the console, which is kmod-sim's
/// stderr (dmesg); returns the number of bytes, as kprintf does.
///
/// # Safety
/// A kprintf call: a format and the arguments it names.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fbsd_printf(
    fmt: *const c_char,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
) -> c_int {
    // SAFETY: caller contract.
    let s = unsafe { format(fmt, &[a, b, c, d, e]) };
    crate::console_line(&s);
    s.len() as c_int
}

/// `panic(9)`: prints the message and stops the machine (kmod-sim exits
/// with status 70: the module reached a state it declares impossible).
///
/// # Safety
/// As [`fbsd_printf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn panic(fmt: *const c_char, a: usize, b: usize, c: usize, d: usize, e: usize) -> ! {
    // SAFETY: caller contract.
    let s = unsafe { format(fmt, &[a, b, c, d, e]) };
    let _ = std::io::stderr().write_all(format!("panic: {s}\n").as_bytes());
    crate::fatal("the module called panic()")
}
