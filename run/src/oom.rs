//! Running out of memory ends cloudabi-run with a documented status.
//!
//! Rust's default answer to a failed allocation is an abort (status 134
//! and, for some, a backtrace). cloudabi-run's allocations that grow with
//! its input (the configuration, argument data, `--dump-argdata`) cannot
//! all be made fallible one by one through the libraries that parse
//! them, so the binary's global allocator (`main.rs`) turns any failure
//! into one line on standard error and exit status 71 (`EX_OSERR`), as
//! cloudabi-run(1) says (issue 13, D6). It allocates nothing itself.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, ending the process when it fails.
pub struct ExitOnFailure;

const MESSAGE: &[u8] = b"cloudabi-run: out of memory\n";
/// `EX_OSERR` ([`crate::exit::Status::OsError`]).
pub const STATUS: i32 = crate::exit::Status::OsError as i32;

#[cold]
fn out_of_memory() -> ! {
    // SAFETY: write from a static buffer, then end the process without
    // running anything else (nothing may allocate now).
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(STATUS)
    }
}

// SAFETY: every method forwards to `System` with the same arguments and
// returns its result unchanged, or does not return.
unsafe impl GlobalAlloc for ExitOnFailure {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as the caller gave it.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory();
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as the caller gave it.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory();
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as the caller gave it.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as the caller gave it.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory();
        }
        p
    }
}
