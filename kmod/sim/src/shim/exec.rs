//! The native FreeBSD ELF64 ABI as the module's self-check sees it: the
//! native syscall table `sysent` and a "FreeBSD ELF64" sysentvec whose
//! hooks are the exported kernel functions (the shim's definitions of
//! them), as in sys/amd64/amd64/elf_machdep.c.

use std::ffi::c_int;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::kernel::kzalloc;

/// `SYS_MAXSYSCALL` of 14.2 (sys/sys/syscall.h): entries of `sysent`.
pub const SYS_MAXSYSCALL: usize = 598;

/// `nosys` for every native entry: the sim never runs native syscalls.
unsafe extern "C" fn nosys(_td: *mut Thread, _uap: *mut std::ffi::c_void) -> c_int {
    super::unimplemented_kpi("a native FreeBSD syscall")
}

const NATIVE_ENTRY: Sysent = Sysent {
    sy_call: Some(nosys),
    sy_systrace_args_func: std::ptr::null(),
    sy_narg: 0,
    sy_flags: 0,
    sy_auevent: 0,
    sy_entry: 0,
    sy_return: 0,
    sy_thrcnt: SY_THR_STATIC,
};

/// `sysent` (sys/sysent.h): the native syscall table.
#[unsafe(no_mangle)]
pub static mut sysent: [Sysent; SYS_MAXSYSCALL] = [NATIVE_ENTRY; SYS_MAXSYSCALL];

unsafe extern "C" {
    // The shim's own definitions (shim/mod.rs), referenced for the
    // native sysentvec's hook fields.
    fn elf64_freebsd_fixup();
    fn exec_copyout_strings();
    fn elf64_coredump();
    fn elf64_prepare_notes();
    fn exec_setregs();
    fn exec_onexec_old();
    fn exit_onexit();
}

/// The native "FreeBSD ELF64" sysentvec (`elf64_freebsd_sysvec`), with
/// the fields the module's self-check fingerprints.
#[allow(clippy::missing_transmute_annotations)] // the field types say it
pub fn native_sysvec() -> *mut Sysentvec {
    let sv = kzalloc(size_of::<Sysentvec>()).cast::<Sysentvec>();
    // SAFETY: a fresh zeroed Sysentvec; every field written is a plain
    // value or a function of the right C type (the shim's definitions,
    // called only through the module's typed declarations).
    unsafe {
        let s = &mut *sv;
        s.sv_size = SYS_MAXSYSCALL as c_int;
        s.sv_table = (&raw mut sysent).cast();
        s.sv_name = c"FreeBSD ELF64".as_ptr();
        s.sv_flags = SV_ABI_FREEBSD | SV_LP64 | SV_ASLR;
        s.sv_minuser = VM_MIN_ADDRESS;
        s.sv_maxuser = VM_MAXUSER_ADDRESS_LA48;
        s.sv_usrstack = USRSTACK;
        s.sv_fixup = Some(std::mem::transmute::<unsafe extern "C" fn(), _>(elf64_freebsd_fixup));
        s.sv_copyout_strings = Some(std::mem::transmute::<unsafe extern "C" fn(), _>(exec_copyout_strings));
        s.sv_coredump = Some(std::mem::transmute::<unsafe extern "C" fn(), _>(elf64_coredump));
        s.sv_elf_core_prepare_notes =
            Some(std::mem::transmute::<unsafe extern "C" fn(), _>(elf64_prepare_notes));
        s.sv_setregs = Some(std::mem::transmute::<unsafe extern "C" fn(), _>(exec_setregs));
        s.sv_onexec_old = Some(std::mem::transmute::<unsafe extern "C" fn(), _>(exec_onexec_old));
        s.sv_onexit = Some(std::mem::transmute::<unsafe extern "C" fn(), _>(exit_onexit));
    }
    sv
}
