//! The one thing the `sim` build asks of kmod-sim beyond the FreeBSD KPI:
//! which addresses count as kernel addresses (the self-check follows only
//! those). In a kernel they are the upper half; in kmod-sim everything
//! outside the simulated process's user address space.

unsafe extern "C" {
    /// Defined by kmod-sim's shim (kmod/sim/src/shim/mod.rs).
    fn kmodsim_is_kernel_address(addr: usize) -> bool;
}

/// Whether `addr` is a kernel address in the simulated machine.
pub fn is_kernel_address(addr: usize) -> bool {
    // SAFETY: a pure query of the shim's address-space bounds.
    unsafe { kmodsim_is_kernel_address(addr) }
}
