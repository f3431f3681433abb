//! Accessors for the large, release-sensitive kernel structs. The module
//! never mirrors `struct thread`, `struct proc`, `struct vmspace`,
//! `struct image_params`, `struct image_args` or `struct vm_object`; it
//! reaches the few fields it needs here, at the offsets from
//! `kmod/layouts.txt` (checked against the 14.2 and 15.0 headers by
//! scripts/check-layouts, and against the running kernel by the load-time
//! self-check).
//!
//! # Safety
//!
//! Every function takes a pointer to a live object of the named kernel
//! type (e.g. `curthread`, or a pointer the kernel passed to a hook) and
//! must only be called while that object cannot go away.

use super::c_char;
use super::elf::Auxargs;
use super::frame::{SyscallArgs, Trapframe};
use super::layouts::*;
use super::sysent::Sysentvec;
use super::types::*;

/// The field of type `F` at `offset` bytes into `base`.
///
/// # Safety
/// `base` points at a live object that has a properly aligned `F` at
/// `offset`.
unsafe fn field<B, F>(base: *mut B, offset: usize) -> *mut F {
    // SAFETY: the caller guarantees `offset` is inside the object.
    unsafe { base.cast::<u8>().add(offset).cast::<F>() }
}

/// `td->td_proc`
pub unsafe fn td_proc(td: *mut Thread) -> *mut Proc {
    // SAFETY: caller contract; `td_proc` is a `struct proc *`.
    unsafe { *field::<_, *mut Proc>(td, THREAD_TD_PROC) }
}

/// `td->td_tid` (`lwpid_t`)
pub unsafe fn td_tid(td: *mut Thread) -> i32 {
    // SAFETY: caller contract; `td_tid` is an `lwpid_t` (int32).
    unsafe { *field::<_, i32>(td, THREAD_TD_TID) }
}

/// `&td->td_sa`
pub unsafe fn td_sa(td: *mut Thread) -> *mut SyscallArgs {
    // SAFETY: caller contract; `td_sa` is an embedded `struct syscall_args`.
    unsafe { field(td, THREAD_TD_SA) }
}

/// `&td->td_retval` (`register_t[2]`)
pub unsafe fn td_retval(td: *mut Thread) -> *mut [u64; 2] {
    // SAFETY: caller contract; `td_retval` is `register_t[2]`.
    unsafe { field(td, THREAD_TD_RETVAL) }
}

/// `td->td_frame`: the user registers.
pub unsafe fn td_frame(td: *mut Thread) -> *mut Trapframe {
    // SAFETY: caller contract; `td_frame` is a `struct trapframe *`.
    unsafe { *field::<_, *mut Trapframe>(td, THREAD_TD_FRAME) }
}

/// `td->td_pcb`
#[cfg(target_arch = "x86_64")]
pub unsafe fn td_pcb(td: *mut Thread) -> *mut Pcb {
    // SAFETY: caller contract; `td_pcb` is a `struct pcb *`.
    unsafe { *field::<_, *mut Pcb>(td, THREAD_TD_PCB) }
}

/// `p->p_sysent`
pub unsafe fn p_sysent(p: *mut Proc) -> *mut Sysentvec {
    // SAFETY: caller contract; `p_sysent` is a `struct sysentvec *`.
    unsafe { *field::<_, *mut Sysentvec>(p, PROC_P_SYSENT) }
}

/// `p->p_vmspace`
pub unsafe fn p_vmspace(p: *mut Proc) -> *mut Vmspace {
    // SAFETY: caller contract; `p_vmspace` is a `struct vmspace *`.
    unsafe { *field::<_, *mut Vmspace>(p, PROC_P_VMSPACE) }
}

/// `p->p_pid`
pub unsafe fn p_pid(p: *mut Proc) -> i32 {
    // SAFETY: caller contract; `p_pid` is a `pid_t` (int32).
    unsafe { *field::<_, i32>(p, PROC_P_PID) }
}

/// `p->p_osrel = osrel` (exec path only: the process is single-threaded
/// and in `P_INEXEC`, as when the ELF activator sets it).
pub unsafe fn set_p_osrel(p: *mut Proc, osrel: i32) {
    // SAFETY: caller contract; `p_osrel` is an `int`.
    unsafe { *field::<_, i32>(p, PROC_P_OSREL) = osrel }
}

/// `vm->vm_stacktop`: top of the (possibly randomized) user stack.
pub unsafe fn vm_stacktop(vm: *mut Vmspace) -> usize {
    // SAFETY: caller contract; `vm_stacktop` is a `vm_offset_t`.
    unsafe { *field::<_, usize>(vm, VMSPACE_VM_STACKTOP) }
}

/// `vm->vm_shp_base`: where this process's shared page (our vDSO) is mapped.
pub unsafe fn vm_shp_base(vm: *mut Vmspace) -> usize {
    // SAFETY: caller contract; `vm_shp_base` is a `vm_offset_t`.
    unsafe { *field::<_, usize>(vm, VMSPACE_VM_SHP_BASE) }
}

/// `imgp->proc`
pub unsafe fn imgp_proc(imgp: *mut ImageParams) -> *mut Proc {
    // SAFETY: caller contract; `proc` is a `struct proc *`.
    unsafe { *field::<_, *mut Proc>(imgp, IMAGE_PARAMS_PROC) }
}

/// `imgp->args`
pub unsafe fn imgp_args(imgp: *mut ImageParams) -> *mut ImageArgs {
    // SAFETY: caller contract; `args` is a `struct image_args *`.
    unsafe { *field::<_, *mut ImageArgs>(imgp, IMAGE_PARAMS_ARGS) }
}

/// `imgp->auxargs`: the ELF activator's `Elf64_Auxargs` (NULL before it).
pub unsafe fn imgp_auxargs(imgp: *mut ImageParams) -> *const Auxargs {
    // SAFETY: caller contract; `auxargs` is a `void *` to `Elf_Auxargs`.
    unsafe { *field::<_, *const Auxargs>(imgp, IMAGE_PARAMS_AUXARGS) }
}

/// `args->begin_argv`
pub unsafe fn args_begin_argv(args: *mut ImageArgs) -> *mut c_char {
    // SAFETY: caller contract; `begin_argv` is a `char *`.
    unsafe { *field::<_, *mut c_char>(args, IMAGE_ARGS_BEGIN_ARGV) }
}

/// `&obj->lock.rw_lock`: the cookie `_rw_wlock_cookie` takes for
/// `VM_OBJECT_WLOCK(obj)` in a module (sys/rwlock.h with `LOCK_DEBUG` > 0,
/// which sys/_lock.h forces for modules).
pub unsafe fn vm_object_lock_cookie(obj: *mut VmObject) -> *mut usize {
    // SAFETY: caller contract; `lock` is an embedded `struct rwlock`.
    unsafe { field(obj, VM_OBJECT_LOCK_COOKIE) }
}
