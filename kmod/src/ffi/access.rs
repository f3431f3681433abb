//! Accessors for the large, release-sensitive kernel structs. The module
//! never mirrors `struct thread`, `struct proc`, `struct vmspace`,
//! `struct image_params`, `struct vm_object`, `struct file`, `struct
//! vnode`, `struct socket`, `struct mbuf`, `struct umtx_q` or `struct
//! umtxq_chain`; it reaches the few fields it needs here, at the offsets from
//! `kmod/layouts.txt` (checked against the 14.2 and 15.0 headers by
//! scripts/check-layouts, and against the running kernel by the load-time
//! self-check).
//!
//! # Safety
//!
//! Every function takes a pointer to a live object of the named kernel
//! type (e.g. `curthread`, or a pointer the kernel passed to a hook) and
//! must only be called while that object cannot go away.

use core::sync::atomic::{AtomicU8, AtomicU32};

use super::c_char;
use super::elf::Auxargs;
use super::frame::{SyscallArgs, Trapframe};
use super::kern::{ImageArgs, UmtxKey};
use super::layouts::*;
use super::sysent::Sysentvec;
use super::types::*;
use crate::consts::{FDT_NFILES_SIZE, FILEDESCENT_SIZE};

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

/// `p->p_fd`: the process's descriptor table.
pub unsafe fn p_fd(p: *mut Proc) -> *mut Filedesc {
    // SAFETY: caller contract; `p_fd` is a `struct filedesc *`.
    unsafe { *field::<_, *mut Filedesc>(p, PROC_P_FD) }
}

/// `&fdp->fd_sx`: the table's lock (`FILEDESC_SLOCK` takes it shared).
pub unsafe fn fd_sx(fdp: *mut Filedesc) -> *mut Sx {
    // SAFETY: caller contract; `fd_sx` is an embedded `struct sx`.
    unsafe { field::<_, Sx>(fdp, FILEDESC_FD_SX) }
}

/// `fdp->fd_files` (read under the table's lock).
pub unsafe fn fd_files(fdp: *mut Filedesc) -> *mut Fdescenttbl {
    // SAFETY: caller contract; `fd_files` is a `struct fdescenttbl *`.
    unsafe { *field::<_, *mut Fdescenttbl>(fdp, FILEDESC_FD_FILES) }
}

/// `fdt->fdt_nfiles`: the number of entries.
pub unsafe fn fdt_nfiles(fdt: *mut Fdescenttbl) -> i32 {
    const _: () = assert!(FDT_NFILES_SIZE == 4);
    // SAFETY: caller contract; `fdt_nfiles` is an `int`.
    unsafe { *field::<_, i32>(fdt, FDESCENTTBL_FDT_NFILES) }
}

/// `&fdt->fdt_ofiles[i]`.
///
/// # Safety
/// Also `0 <= i < fdt_nfiles(fdt)`.
pub unsafe fn fdt_entry(fdt: *mut Fdescenttbl, i: i32) -> *mut Filedescent {
    // SAFETY: caller contract: `i` is inside the array that starts at
    // `fdt_ofiles`, whose entries are FILEDESCENT_SIZE bytes apart.
    unsafe { field::<_, Filedescent>(fdt, FDESCENTTBL_FDT_OFILES + i as usize * FILEDESCENT_SIZE) }
}

/// `fde->fde_file` (NULL for a free entry).
pub unsafe fn fde_file(fde: *mut Filedescent) -> *mut File {
    // SAFETY: caller contract; `fde_file` is a `struct file *`.
    unsafe { *field::<_, *mut File>(fde, FILEDESCENT_FDE_FILE) }
}

/// `&fde->fde_caps`: the descriptor's Capsicum limits.
pub unsafe fn fde_caps(fde: *mut Filedescent) -> *mut super::kern::Filecaps {
    // SAFETY: caller contract; `fde_caps` is an embedded `struct filecaps`.
    unsafe { field::<_, super::kern::Filecaps>(fde, FILEDESCENT_FDE_CAPS) }
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

/// `&vm->vm_map`: the process's address map.
pub unsafe fn vm_map(vm: *mut Vmspace) -> *mut VmMap {
    // SAFETY: caller contract; `vm_map` is a member of the vmspace.
    unsafe { field::<_, VmMap>(vm, VMSPACE_VM_MAP) }
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

/// Takes `imgp->auxargs` out of the image (leaving NULL): the caller now
/// owns the `M_TEMP` allocation the ELF activator made.
pub unsafe fn take_imgp_auxargs(imgp: *mut ImageParams) -> *mut Auxargs {
    // SAFETY: caller contract; `auxargs` is a `void *` to `Elf_Auxargs`.
    unsafe { core::ptr::replace(field::<_, *mut Auxargs>(imgp, IMAGE_PARAMS_AUXARGS), core::ptr::null_mut()) }
}

/// `args->begin_argv`
pub unsafe fn args_begin_argv(args: *mut ImageArgs) -> *mut c_char {
    // SAFETY: caller contract; `begin_argv` is a `char *` (the mirror's
    // field, asserted against the headers).
    unsafe { (*args).begin_argv }
}

/// `&obj->lock.rw_lock`: the cookie `_rw_wlock_cookie` takes for
/// `VM_OBJECT_WLOCK(obj)` in a module (sys/rwlock.h with `LOCK_DEBUG` > 0,
/// which sys/_lock.h forces for modules).
pub unsafe fn vm_object_lock_cookie(obj: *mut VmObject) -> *mut usize {
    // SAFETY: caller contract; `lock` is an embedded `struct rwlock`.
    unsafe { field(obj, VM_OBJECT_LOCK_COOKIE) }
}

/// `td->td_umtxq`: the thread's wait-queue entry (allocated with the
/// thread, used by one wait at a time).
pub unsafe fn td_umtxq(td: *mut Thread) -> *mut UmtxQ {
    // SAFETY: caller contract; `td_umtxq` is a `struct umtx_q *`.
    unsafe { *field::<_, *mut UmtxQ>(td, THREAD_TD_UMTXQ) }
}

/// `&fp->f_count`: the reference count (`volatile u_int`), updated
/// atomically as `refcount(9)` does.
pub unsafe fn f_count(fp: *mut File) -> *const AtomicU32 {
    // SAFETY: caller contract; `f_count` is a naturally aligned u_int.
    unsafe { field::<_, AtomicU32>(fp, FILE_F_COUNT) }
}

/// `fp->f_flag` (`volatile u_int`, FREAD, FWRITE, FNONBLOCK, ...).
pub unsafe fn f_flag(fp: *mut File) -> u32 {
    // SAFETY: caller contract; `f_flag` is a naturally aligned u_int that
    // fcntl(F_SETFL) updates atomically.
    unsafe { (*field::<_, AtomicU32>(fp, FILE_F_FLAG)).load(core::sync::atomic::Ordering::Relaxed) }
}

/// `fp->f_type` (`short`, DTYPE_*); fixed once the file is installed.
pub unsafe fn f_type(fp: *mut File) -> i16 {
    // SAFETY: caller contract; `f_type` is a `short`.
    unsafe { *field::<_, i16>(fp, FILE_F_TYPE) }
}

/// `fp->f_data`: the socket, pipe, shm object, ... behind the file.
pub unsafe fn f_data(fp: *mut File) -> *mut core::ffi::c_void {
    // SAFETY: caller contract; `f_data` is a `void *`.
    unsafe { *field::<_, *mut core::ffi::c_void>(fp, FILE_F_DATA) }
}

/// `fp->f_vnode`: the vnode of a vnode-backed file, or NULL.
pub unsafe fn f_vnode(fp: *mut File) -> *mut Vnode {
    // SAFETY: caller contract; `f_vnode` is a `struct vnode *`.
    unsafe { *field::<_, *mut Vnode>(fp, FILE_F_VNODE) }
}

/// `vp->v_type` (`__enum_uint8(vtype)`): VREG, VDIR, ...; it only ever
/// changes to VBAD (reclaim), so one atomic byte load is a valid snapshot.
pub unsafe fn v_type(vp: *mut Vnode) -> u8 {
    // SAFETY: caller contract (the vnode is held by an open file).
    unsafe { (*field::<_, AtomicU8>(vp, VNODE_V_TYPE)).load(core::sync::atomic::Ordering::Relaxed) }
}

/// `so->so_type` (`short`: SOCK_STREAM, SOCK_DGRAM, ...), fixed at creation.
pub unsafe fn so_type(so: *mut Socket) -> i16 {
    // SAFETY: caller contract; `so_type` is a `short`.
    unsafe { *field::<_, i16>(so, SOCKET_SO_TYPE) }
}

/// `so->so_options` (`int`, SO_ACCEPTCONN, ...). Read without the socket
/// lock, as the unlocked `SOLISTENING()` checks in the kernel do.
pub unsafe fn so_options(so: *mut Socket) -> i32 {
    // SAFETY: caller contract; `so_options` is a naturally aligned int.
    unsafe {
        (*field::<_, AtomicU32>(so, SOCKET_SO_OPTIONS)).load(core::sync::atomic::Ordering::Relaxed) as i32
    }
}

/// `&uq->uq_key`
pub unsafe fn uq_key(uq: *mut UmtxQ) -> *mut UmtxKey {
    // SAFETY: caller contract; `uq_key` is an embedded `struct umtx_key`.
    unsafe { field(uq, UMTX_Q_UQ_KEY) }
}

/// `uq->uq_flags` (UQF_UMTXQ: still queued); read with the chain locked.
pub unsafe fn uq_flags(uq: *mut UmtxQ) -> i32 {
    // SAFETY: caller contract; `uq_flags` is an `int`.
    unsafe { *field::<_, i32>(uq, UMTX_Q_UQ_FLAGS) }
}

/// `uq->uq_bitset = bits` (matched by `umtxq_signal_mask`); set before the
/// entry is queued.
pub unsafe fn set_uq_bitset(uq: *mut UmtxQ, bits: u32) {
    // SAFETY: caller contract; `uq_bitset` is a `u_int`.
    unsafe { *field::<_, u32>(uq, UMTX_Q_UQ_BITSET) = bits }
}

/// `&uc->uc_lock.mtx_lock`: the cookie `__mtx_lock_flags` takes for
/// `mtx_lock(&uc->uc_lock)` in a module (sys/mutex.h with LOCK_DEBUG > 0).
pub unsafe fn umtxq_chain_lock_cookie(uc: *mut UmtxqChain) -> *mut usize {
    // SAFETY: caller contract; `uc_lock` is an embedded `struct mtx`.
    unsafe { field(uc, UMTXQ_CHAIN_LOCK_COOKIE) }
}

/// `m->m_next`: the next mbuf of a chain.
pub unsafe fn m_next(m: *mut Mbuf) -> *mut Mbuf {
    // SAFETY: caller contract; `m_next` is a `struct mbuf *`.
    unsafe { *field::<_, *mut Mbuf>(m, MBUF_M_NEXT) }
}

/// `m->m_data`: the start of the mbuf's data.
pub unsafe fn m_data(m: *mut Mbuf) -> *const u8 {
    // SAFETY: caller contract; `m_data` is a `caddr_t`.
    unsafe { *field::<_, *const u8>(m, MBUF_M_DATA) }
}

/// `m->m_len`: bytes of data in this mbuf.
pub unsafe fn m_len(m: *mut Mbuf) -> i32 {
    // SAFETY: caller contract; `m_len` is an `int32_t`.
    unsafe { *field::<_, i32>(m, MBUF_M_LEN) }
}
