//! Wrappers that let the module keep kernel-shared objects in statics.

use core::cell::UnsafeCell;

/// A static the kernel (or the module) writes: the sysentvec, the brand,
/// the sysent table, the sysinit. Lives in writable `.data`.
///
/// Writes happen only in module events (MOD_LOAD/MOD_UNLOAD), which the
/// kernel serializes under its linker lock, before the brand is registered
/// or after it is removed; everything else only reads.
#[repr(transparent)]
pub struct KernelCell<T>(UnsafeCell<T>);

// SAFETY: see the type's documentation: mutation is confined to module
// events, which the kernel serializes, and to fields no reader uses until
// the brand is registered.
unsafe impl<T> Sync for KernelCell<T> {}

impl<T> KernelCell<T> {
    pub const fn new(v: T) -> Self {
        Self(UnsafeCell::new(v))
    }

    /// The address handed to the kernel.
    pub const fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// An immutable value that holds raw pointers to other statics (module
/// metadata, linker-set entries, the syscall name table).
#[repr(transparent)]
pub struct Shared<T>(pub T);

// SAFETY: the value is never written after compilation; the pointers in it
// point at immutable statics or kernel-owned objects.
unsafe impl<T> Sync for Shared<T> {}
