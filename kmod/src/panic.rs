//! The panic handler. The module is written so that no user-reachable path
//! can panic (scripts/check-kld fails the build if any panic machinery is
//! linked in); this handler exists because `no_std` requires one, and
//! hands a truly impossible state to the kernel's `panic()`.

use core::ffi::{c_int, c_uint};
use core::panic::PanicInfo;

use crate::ffi::kpi;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    let len = c_int::try_from(file.len()).unwrap_or(0);
    // SAFETY: `%.*s` takes a length and a pointer, so `file` needs no NUL;
    // the kernel's panic() does not return.
    unsafe {
        kpi::panic(c"cloudabi64: internal error at %.*s:%u".as_ptr(), len, file.as_ptr(), line as c_uint)
    }
}

/// Keeps the handler (and with it the reference to the kernel's `panic()`)
/// in the module although, by construction, no code path reaches it:
/// `scripts/build-kmod` links with `--gc-sections`, which would otherwise
/// drop it, and check-kld requires every symbol of kpi-symbols.txt.
#[used]
static KEEP_PANIC_HANDLER: fn(&PanicInfo<'_>) -> ! = panic;
