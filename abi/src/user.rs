//! Addresses in the address space of a CloudABI process.
//!
//! These are numbers, not references: nothing in this crate dereferences
//! them. The syscall core reads and writes through them only with its
//! `UserSlice` type, which turns every failure into `EFAULT`.

use core::fmt;
use core::marker::PhantomData;

use crate::Pod;

/// A user-space address of a `T` (or of the first of several `T`s).
#[repr(transparent)]
pub struct UserPtr<T> {
    addr: u64,
    // `fn() -> T`: no ownership of a `T`, and `Send`/`Sync` like a `u64`.
    _t: PhantomData<fn() -> T>,
}

impl<T> UserPtr<T> {
    pub const NULL: Self = Self::new(0);

    pub const fn new(addr: u64) -> Self {
        UserPtr { addr, _t: PhantomData }
    }

    pub const fn addr(self) -> u64 {
        self.addr
    }

    pub const fn is_null(self) -> bool {
        self.addr == 0
    }

    /// The same address, viewed as pointing at a `U`.
    pub const fn cast<U>(self) -> UserPtr<U> {
        UserPtr::new(self.addr)
    }
}

impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for UserPtr<T> {}
impl<T> PartialEq for UserPtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.addr == other.addr
    }
}
impl<T> Eq for UserPtr<T> {}
impl<T> Default for UserPtr<T> {
    fn default() -> Self {
        Self::NULL
    }
}
impl<T> fmt::Debug for UserPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.addr)
    }
}

// SAFETY: `UserPtr` is a transparent `u64` (the `PhantomData` is a ZST).
unsafe impl<T: 'static> Pod for UserPtr<T> {}

/// A user-space array: `len` elements of `T` starting at `ptr`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct UserRange<T> {
    pub ptr: UserPtr<T>,
    /// Number of elements (bytes for `u8`).
    pub len: u64,
}

impl<T> UserRange<T> {
    pub const fn new(ptr: u64, len: u64) -> Self {
        UserRange { ptr: UserPtr::new(ptr), len }
    }
}
