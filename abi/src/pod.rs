//! Plain-old-data: types that can be copied to and from raw bytes.

use core::mem::size_of;

/// A type whose values are just bytes.
///
/// # Safety
///
/// An implementor must be `#[repr(C)]` or `#[repr(transparent)]`, contain
/// no implicit padding (every byte belongs to a field) and accept every bit
/// pattern as a valid value. The generated ABI structs guarantee the first
/// two with explicit padding fields and compile-time offset assertions, and
/// the third by storing enum and flags members as raw integers.
pub unsafe trait Pod: Copy + 'static {
    /// The value with every byte zero.
    fn zeroed() -> Self {
        // SAFETY: every bit pattern, including all zeroes, is a valid value
        // of a `Pod` type (trait contract).
        unsafe { core::mem::zeroed() }
    }

    /// The bytes of the value.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Self` has no padding, so all `size_of::<Self>()` bytes
        // behind `self` are initialised; the slice borrows `self`.
        unsafe { core::slice::from_raw_parts((self as *const Self).cast::<u8>(), size_of::<Self>()) }
    }

    /// The bytes of the value, writable.
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `as_bytes`; any bytes written leave a valid value
        // because every bit pattern is valid for `Self`.
        unsafe { core::slice::from_raw_parts_mut((self as *mut Self).cast::<u8>(), size_of::<Self>()) }
    }

    /// Reads a value from exactly `size_of::<Self>()` bytes.
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != size_of::<Self>() {
            return None;
        }
        // SAFETY: the length was checked, the read is unaligned-safe, and
        // every bit pattern is a valid `Self`.
        Some(unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast::<Self>()) })
    }
}

// SAFETY: primitive integers have no padding and accept every bit pattern.
unsafe impl Pod for u8 {}
// SAFETY: as above.
unsafe impl Pod for u16 {}
// SAFETY: as above.
unsafe impl Pod for u32 {}
// SAFETY: as above.
unsafe impl Pod for u64 {}
// SAFETY: as above.
unsafe impl Pod for i64 {}
// SAFETY: an array of `Pod` elements has no padding between elements.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
