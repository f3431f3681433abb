//! The KPI shim: user-space definitions, under their FreeBSD names, of
//! every kernel symbol cloudabi64.ko references (`kmod/kpi-symbols.txt`).
//! The module's generated `extern "C"` declarations bind to these when
//! kmod-sim is linked. Three names collide with the host C library
//! (`malloc`, `free`, `printf`); the `sim` build of the module binds those
//! to `fbsd_malloc`, `fbsd_free`, `fbsd_printf` (kmod/build.rs).
//!
//! Every definition says which FreeBSD function it stands for and, in
//! one line, the semantics it reproduces. What is not reproduced fails
//! loudly: [`unimplemented_kpi`] names the function and ends the run
//! with status 70, it never pretends to succeed.

pub mod console;
pub mod exec;
pub mod filecaps;
pub mod files;
pub mod fork;
pub mod kevent;
pub mod malloc;
pub mod module;
pub mod path;
pub mod proc;
pub mod sock;
pub mod thread;
pub mod umtx;
pub mod uvm;
pub mod vm;

/// What kmod-sim adds to the KPI (kmod/src/ffi/sim.rs): kernel addresses
/// are those outside the simulated user address space.
#[unsafe(no_mangle)]
pub extern "C" fn kmodsim_is_kernel_address(addr: usize) -> bool {
    crate::kernel::is_kernel_address(addr)
}

/// Ends the run: the module called a KPI function the shim does not
/// reproduce.
pub fn unimplemented_kpi(name: &str) -> ! {
    crate::fatal(&format!("the module called {name}(), which the KPI shim does not implement"))
}

/// KPI functions the shim does not reproduce yet: each fails loudly.
macro_rules! unimplemented_kpi {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "`: not reproduced; fails the run loudly.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $name() -> ! {
            unimplemented_kpi(stringify!($name))
        }
    )*};
}

unimplemented_kpi! {
    // Core dumps (stored in the sysentvec, never called by the sim)
    elf64_coredump, elf64_prepare_notes,
    // The native ELF64 sysentvec's hooks (fingerprinted by the self-check)
    elf64_freebsd_fixup, exec_copyout_strings,
}
