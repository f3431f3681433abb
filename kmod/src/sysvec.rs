//! The CloudABI `sysentvec` ("CloudABI ELF64"): what the kernel does
//! differently for processes of the CloudABI brand.
//!
//! Address space, top down: the vDSO (the shared-page object) occupies the
//! top `vdso::LEN` bytes below `arch::USER_MAX`, and the stack ends right
//! below it, as in the in-tree module. With ELF ASLR (`SV_ASLR`, honoured
//! by the kern.elf64.aslr.* sysctls) the PIE base, the stack and the vDSO
//! may move; the exec hooks read the per-process `vm_stacktop` and
//! `vm_shp_base`, never these defaults.
//!
//! Hooks left NULL, and why:
//! - `sv_sendsig`, `sv_sigcode`: CloudABI processes cannot install signal
//!   handlers (no syscall does it, and exec resets every disposition), so
//!   no signal frame is ever built; the kernel only calls sendsig for
//!   caught signals. `sv_szsigcode` points at a 0 because the
//!   kern.proc.sigtramp sysctl dereferences it for any process.
//! - `sv_copyout_auxargs`: our own `sv_fixup` writes the CloudABI auxv; the
//!   kernel calls copyout_auxargs only from the native fixup/copyout.
//! - `sv_fixlimit`, `sv_maxssiz`, `sv_thread_detach`, `sv_trap`,
//!   `sv_machine_arch`, `sv_onexec`, `sv_ontdexit`, `sv_protect` (15.x),
//!   `sv_hwcap*`: optional; the kernel checks them for NULL.
//!
//! `sv_psstringssz` is `sizeof(struct ps_strings)`: procstat(1), the
//! kern.proc.{args,env,auxv} sysctls and core notes read a `ps_strings` at
//! `vm_stacktop - sv_psstringssz` (`PROC_PS_STRINGS()`, sys/sys/exec.h,
//! 14.x/15.0); exec writes an empty one there (no argv/env vectors:
//! CloudABI has argument data instead), so they find no strings rather
//! than read the vDSO or unmapped memory as one.

use core::ffi::{c_char, c_int};
use core::ptr;

use crate::arch;
use crate::consts::*;
use crate::exec;
use crate::ffi::cell::KernelCell;
use crate::ffi::kpi;
use crate::ffi::sysent::{Sysent, Sysentvec};
use crate::ffi::types::VmObject;
use crate::syscall::{NAMES_TABLE, SYSENT};
use crate::syscalls::COUNT;
use crate::vdso;

/// The ABI number in `sv_flags & SV_ABI_MASK`: 17, which was
/// `SV_ABI_CLOUDABI` until CloudABI was removed from FreeBSD 14.0 (and is
/// still `ELFOSABI_CLOUDABI`). scripts/check-layouts checks that no
/// `SV_ABI_*` of 14.2 or 15.0 uses it.
pub const SV_ABI_CLOUDABI: u32 = 17;
const _: () = assert!(SV_ABI_CLOUDABI as i32 == ELFOSABI_CLOUDABI && SV_ABI_CLOUDABI & !SV_ABI_MASK == 0);

/// Where the vDSO is mapped without shared-page ASLR.
pub const SHARED_PAGE_BASE: usize = arch::USER_MAX - vdso::LEN;

/// `*sv_szsigcode`: no signal trampoline.
static NO_SIGCODE: c_int = 0;

pub static SYSVEC: KernelCell<Sysentvec> = KernelCell::new(Sysentvec {
    sv_size: COUNT as c_int,
    sv_table: SYSENT.get().cast::<Sysent>(),
    sv_fixup: Some(exec::fixup),
    sv_sendsig: ptr::null(),
    sv_sigcode: ptr::null(),
    sv_szsigcode: &NO_SIGCODE,
    sv_sigcodeoff: 0,
    sv_name: c"CloudABI ELF64".as_ptr(),
    // Core dumps are ordinary FreeBSD ELF cores.
    sv_coredump: Some(kpi::elf64_coredump),
    sv_elf_core_osabi: ELFOSABI_FREEBSD,
    sv_elf_core_abi_vendor: c"FreeBSD".as_ptr(),
    sv_elf_core_prepare_notes: Some(kpi::elf64_prepare_notes),
    sv_copyout_auxargs: ptr::null(),
    sv_minsigstksz: MINSIGSTKSZ,
    sv_minuser: VM_MIN_ADDRESS,
    sv_maxuser: arch::USER_MAX,
    sv_usrstack: SHARED_PAGE_BASE,
    sv_psstrings: SHARED_PAGE_BASE - PS_STRINGS_SIZE,
    sv_psstringssz: PS_STRINGS_SIZE,
    sv_stackprot: (VM_PROT_READ | VM_PROT_WRITE) as c_int,
    sv_copyout_strings: Some(exec::copyout_strings),
    sv_setregs: Some(exec::setregs),
    sv_fixlimit: ptr::null(),
    sv_maxssiz: ptr::null(),
    sv_flags: SV_ABI_CLOUDABI | SV_LP64 | SV_ASLR,
    sv_set_syscall_retval: Some(arch::set_syscall_retval),
    sv_fetch_syscall_args: Some(arch::fetch_syscall_args),
    sv_syscallnames: NAMES_TABLE.0.as_ptr().cast::<*const c_char>(),
    sv_timekeep_offset: 0,
    sv_shared_page_base: SHARED_PAGE_BASE,
    sv_shared_page_len: vdso::LEN,
    sv_sigcode_offset: 0,
    sv_shared_page_obj: ptr::null_mut(), // set by install_vdso() at MOD_LOAD
    sv_vdso_offset: 0,
    sv_schedtail: Some(exec::schedtail),
    sv_thread_detach: None,
    sv_trap: None,
    sv_hwcap: ptr::null(),
    sv_hwcap2: ptr::null(),
    #[cfg(freebsd15)]
    sv_hwcap3: ptr::null(),
    #[cfg(freebsd15)]
    sv_hwcap4: ptr::null(),
    sv_machine_arch: ptr::null(),
    sv_fxrng_gen_offset: 0,
    // The native cleanup of umtx and sigfastblock state on exec and exit.
    sv_onexec_old: Some(kpi::exec_onexec_old),
    sv_onexec: None,
    #[cfg(freebsd15)]
    sv_protect: None,
    sv_onexit: Some(kpi::exit_onexit),
    sv_ontdexit: None,
    sv_setid_allowed: Some(exec::setid_allowed),
    sv_set_fork_retval: arch::SET_FORK_RETVAL,
    sv_regset_begin: ptr::null(),
    sv_regset_end: ptr::null(),
});

/// Makes `obj` the shared-page object. MOD_LOAD only, before the brand is
/// registered (no process can use the sysentvec yet).
pub fn install_vdso(obj: *mut VmObject) {
    // SAFETY: see above; module events are serialized.
    unsafe { (*SYSVEC.get()).sv_shared_page_obj = obj };
}

/// Takes the shared-page object back, if one is installed. MOD_UNLOAD
/// only, after no process uses the sysentvec any more.
pub fn take_vdso() -> Option<*mut VmObject> {
    // SAFETY: as for install_vdso.
    let obj = unsafe { core::mem::replace(&mut (*SYSVEC.get()).sv_shared_page_obj, ptr::null_mut()) };
    (!obj.is_null()).then_some(obj)
}
