//! `struct sysent` and `struct sysentvec` (sys/sysent.h).
//!
//! The sysentvec differs between releases: 15.x added `sv_hwcap3`,
//! `sv_hwcap4` and `sv_protect`, and changed `sv_coredump`'s second
//! parameter. Sizes and every offset: `kmod/layouts.txt` (sys/sysent.h of
//! 14.2 and 15.0), asserted in [`super::layouts`].

use super::types::{ImageParams, NoteInfoList, Proc, Thread, VmObject};
use super::{c_char, c_int, c_uint, c_ulong, c_void};

/// `sy_call_t`: every CloudABI syscall enters through one of these.
pub type SyCall = unsafe extern "C" fn(*mut Thread, *mut c_void) -> c_int;

/// `struct sysent` (sys/sysent.h): one syscall table entry.
#[repr(C)]
pub struct Sysent {
    pub sy_call: Option<SyCall>,
    /// `systrace_args_func_t` (DTrace argument conversion); unused.
    pub sy_systrace_args_func: *const c_void,
    pub sy_narg: u8,
    pub sy_flags: u8,
    /// `au_event_t`
    pub sy_auevent: u16,
    pub sy_entry: u32,
    pub sy_return: u32,
    pub sy_thrcnt: u32,
}

#[cfg(freebsd15)]
use super::types::CoredumpWriter as CoreSink;
#[cfg(freebsd14)]
use super::types::Vnode as CoreSink;

/// `sv_coredump`: `struct vnode *` in 14.x, `struct coredump_writer *` in
/// 15.x (sys/sysent.h, sys/imgact_elf.h).
pub type CoredumpFn = unsafe extern "C" fn(*mut Thread, *mut CoreSink, i64, c_int) -> c_int;

/// `struct sysentvec` (sys/sysent.h), field for field.
#[repr(C)]
pub struct Sysentvec {
    pub sv_size: c_int,
    pub sv_table: *mut Sysent,
    pub sv_fixup: Option<unsafe extern "C" fn(*mut usize, *mut ImageParams) -> c_int>,
    pub sv_sendsig: *const c_void,
    pub sv_sigcode: *const c_char,
    pub sv_szsigcode: *const c_int,
    pub sv_sigcodeoff: c_int,
    pub sv_name: *const c_char,
    pub sv_coredump: Option<CoredumpFn>,
    pub sv_elf_core_osabi: c_int,
    pub sv_elf_core_abi_vendor: *const c_char,
    pub sv_elf_core_prepare_notes: Option<unsafe extern "C" fn(*mut Thread, *mut NoteInfoList, *mut usize)>,
    pub sv_copyout_auxargs: *const c_void,
    pub sv_minsigstksz: c_int,
    pub sv_minuser: usize,
    pub sv_maxuser: usize,
    pub sv_usrstack: usize,
    pub sv_psstrings: usize,
    pub sv_psstringssz: usize,
    pub sv_stackprot: c_int,
    pub sv_copyout_strings: Option<unsafe extern "C" fn(*mut ImageParams, *mut usize) -> c_int>,
    pub sv_setregs: Option<unsafe extern "C" fn(*mut Thread, *mut ImageParams, usize)>,
    pub sv_fixlimit: *const c_void,
    pub sv_maxssiz: *const c_ulong,
    pub sv_flags: c_uint,
    pub sv_set_syscall_retval: Option<unsafe extern "C" fn(*mut Thread, c_int)>,
    pub sv_fetch_syscall_args: Option<unsafe extern "C" fn(*mut Thread) -> c_int>,
    pub sv_syscallnames: *const *const c_char,
    pub sv_timekeep_offset: usize,
    pub sv_shared_page_base: usize,
    pub sv_shared_page_len: usize,
    pub sv_sigcode_offset: usize,
    pub sv_shared_page_obj: *mut VmObject,
    pub sv_vdso_offset: usize,
    pub sv_schedtail: Option<unsafe extern "C" fn(*mut Thread)>,
    pub sv_thread_detach: Option<unsafe extern "C" fn(*mut Thread)>,
    pub sv_trap: Option<unsafe extern "C" fn(*mut Thread) -> c_int>,
    pub sv_hwcap: *const c_ulong,
    pub sv_hwcap2: *const c_ulong,
    #[cfg(freebsd15)]
    pub sv_hwcap3: *const c_ulong,
    #[cfg(freebsd15)]
    pub sv_hwcap4: *const c_ulong,
    pub sv_machine_arch: *const c_void,
    pub sv_fxrng_gen_offset: usize,
    pub sv_onexec_old: Option<unsafe extern "C" fn(*mut Thread)>,
    pub sv_onexec: Option<unsafe extern "C" fn(*mut Proc, *mut ImageParams) -> c_int>,
    #[cfg(freebsd15)]
    pub sv_protect: Option<unsafe extern "C" fn(*mut ImageParams, c_int)>,
    pub sv_onexit: Option<unsafe extern "C" fn(*mut Proc)>,
    pub sv_ontdexit: Option<unsafe extern "C" fn(*mut Thread)>,
    pub sv_setid_allowed: Option<unsafe extern "C" fn(*mut Thread, *mut ImageParams) -> c_int>,
    pub sv_set_fork_retval: Option<unsafe extern "C" fn(*mut Thread)>,
    pub sv_regset_begin: *const c_void,
    pub sv_regset_end: *const c_void,
}
