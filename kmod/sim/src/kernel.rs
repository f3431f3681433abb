//! The simulated machine: the split between kernel and user addresses, the
//! per-CPU area `curthread` is read from, and the kernel objects the
//! module reads through its accessors (`struct thread`, `proc`, `vmspace`,
//! trap frames), laid out at the offsets of `kmod/layouts.txt` (the
//! module's own `sim_api` constants, the values it was compiled with).
//!
//! Kernel objects are plain host memory. The simulated process's user
//! address space is one fixed reservation ([`USER_BASE`], [`USER_SIZE`]):
//! everything the guest program can touch lives there, and copyin/copyout
//! accept nothing else.

use std::alloc::{Layout, alloc_zeroed};

use cloudabi64::sim_api::*;

/// Start of the simulated user address space (inside the module's
/// `sv_minuser..sv_maxuser`).
pub const USER_BASE: usize = 0x1000_0000_0000;
/// Its size: 64 GiB of address space, reserved (not committed) at start.
pub const USER_SIZE: usize = 64 << 30;

/// Kernel addresses of the simulated machine: anything outside the user
/// reservation and the NULL region (the self-check follows only these).
pub fn is_kernel_address(addr: usize) -> bool {
    addr >= 0x1_0000 && !(USER_BASE..USER_BASE + USER_SIZE).contains(&addr)
}

/// Whether `[addr, addr + len)` lies inside the user reservation.
pub fn is_user_range(addr: usize, len: usize) -> bool {
    addr >= USER_BASE && addr.checked_add(len).is_some_and(|end| end <= USER_BASE + USER_SIZE)
}

/// Reserves the user address space (PROT_NONE, nothing committed).
pub fn reserve_user_space() -> Result<(), String> {
    // SAFETY: a fixed, non-replacing reservation of an address range that
    // nothing in this process uses (MAP_FIXED_NOREPLACE fails otherwise).
    let p = unsafe {
        libc::mmap(
            USER_BASE as *mut libc::c_void,
            USER_SIZE,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED || p as usize != USER_BASE {
        return Err(format!(
            "cannot reserve the simulated user address space at {USER_BASE:#x}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Zeroed kernel memory of `size` bytes that lives as long as the
/// simulation (kernel objects of the simulated machine itself).
pub fn kzalloc(size: usize) -> *mut u8 {
    let layout = Layout::from_size_align(size, 64).unwrap_or_else(|_| crate::fatal("bad kernel object size"));
    // SAFETY: a non-zero size and a valid alignment.
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        crate::fatal("out of memory for a kernel object");
    }
    p
}

/// Writes `value` at `offset` bytes into the kernel object `base`.
///
/// # Safety
/// `base` is a kernel object with room for a `T` at `offset`.
pub unsafe fn put<T>(base: *mut u8, offset: usize, value: T) {
    // SAFETY: caller contract.
    unsafe { base.add(offset).cast::<T>().write_unaligned(value) }
}

/// Reads the `T` at `offset` bytes into the kernel object `base`.
///
/// # Safety
/// As [`put`].
pub unsafe fn get<T>(base: *const u8, offset: usize) -> T {
    // SAFETY: caller contract.
    unsafe { base.add(offset).cast::<T>().read_unaligned() }
}

/// Bytes allocated for the objects the module only reaches by offset:
/// above the largest 14.x/15.x offset the module uses (td_frame at 1208,
/// p_sysent at 1016, vm_shp_base at 288).
const THREAD_SIZE: usize = 4096;
const PROC_SIZE: usize = 4096;
const VMSPACE_SIZE: usize = 1024;
const UMTX_Q_SIZE: usize = 256;

/// The shim's `struct pcb`: the module only passes it to `set_pcb_flags`;
/// the shim keeps the user `%fs` base there as the kernel does.
#[repr(C)]
#[derive(Debug, Default)]
pub struct Pcb {
    pub flags: u32,
    pub fsbase: u64,
}

/// The per-CPU area; `%gs` points at it on every host thread that runs
/// module code, as in the kernel (`pc_curthread` at offset
/// `PCPU_PC_CURTHREAD`, 0), followed by the shim's own state for entering
/// and leaving user mode (see trap.rs).
#[repr(C)]
pub struct Pcpu {
    pub curthread: *mut Thread,
    /// The host's `%fs` base (glibc and Rust thread-locals).
    pub host_fs: u64,
    /// Host stack pointer saved when user mode was entered; leaving user
    /// mode for good (exit1) returns through it.
    pub resume_rsp: u64,
    /// The user `%fs` base saved by the trap entry.
    pub guest_fs: u64,
}

const _: () = assert!(std::mem::offset_of!(Pcpu, curthread) == PCPU_PC_CURTHREAD);
pub const PCPU_HOST_FS: usize = 8;
pub const PCPU_RESUME_RSP: usize = 16;
const _: () = assert!(std::mem::offset_of!(Pcpu, host_fs) == PCPU_HOST_FS);
const _: () = assert!(std::mem::offset_of!(Pcpu, resume_rsp) == PCPU_RESUME_RSP);
pub const PCPU_GUEST_FS: usize = 24;
const _: () = assert!(std::mem::offset_of!(Pcpu, guest_fs) == PCPU_GUEST_FS);

/// Points this host thread's `%gs` at a new per-CPU area for `td`.
pub fn set_curthread(td: *mut Thread) {
    let pcpu = Box::leak(Box::new(Pcpu { curthread: td, host_fs: 0, resume_rsp: 0, guest_fs: 0 }));
    // SAFETY: reading this thread's own %fs base.
    pcpu.host_fs = unsafe { rdfsbase() };
    // SAFETY: ARCH_SET_GS on the calling thread; neither glibc nor Rust
    // uses %gs on x86-64.
    let r = unsafe { libc::syscall(libc::SYS_arch_prctl, 0x1001, pcpu as *mut Pcpu as usize) };
    if r != 0 {
        crate::fatal("arch_prctl(ARCH_SET_GS) failed");
    }
}

/// The per-CPU area of this host thread.
pub fn pcpu() -> *mut Pcpu {
    let p: *mut Pcpu;
    // SAFETY: %gs points at our Pcpu (set_curthread); rdgsbase reads its
    // address (FSGSBASE is checked at start).
    unsafe { std::arch::asm!("rdgsbase {}", out(reg) p, options(nostack, preserves_flags)) };
    p
}

/// `rdfsbase` (FSGSBASE is required; checked at start).
///
/// # Safety
/// The CPU and kernel allow FSGSBASE in user mode.
pub unsafe fn rdfsbase() -> u64 {
    let v: u64;
    // SAFETY: caller contract.
    unsafe { std::arch::asm!("rdfsbase {}", out(reg) v, options(nostack, preserves_flags)) };
    v
}

/// A simulated process: its `struct proc` and `struct vmspace`.
pub struct SimProc {
    pub p: *mut Proc,
}

/// A simulated thread: `struct thread` with its frame, pcb and umtx queue
/// entry.
pub struct SimThread {
    pub td: *mut Thread,
    pub frame: *mut Trapframe,
}

/// Makes a process with `sysentvec`, `pid` and a vmspace whose stack top
/// and shared page lie in the user reservation.
pub fn new_proc(sysentvec: *mut Sysentvec, pid: i32, stacktop: usize, shp_base: usize) -> SimProc {
    let p = kzalloc(PROC_SIZE);
    let vm = kzalloc(VMSPACE_SIZE);
    // SAFETY: fresh objects of PROC_SIZE/VMSPACE_SIZE bytes; every offset
    // is below those sizes (see the constants).
    unsafe {
        put(p, PROC_P_SYSENT, sysentvec);
        put(p, PROC_P_VMSPACE, vm);
        put(p, PROC_P_PID, pid);
        put(p, PROC_P_FD, crate::shim::files::filedesc());
        put(vm, VMSPACE_VM_STACKTOP, stacktop);
        put(vm, VMSPACE_VM_SHP_BASE, shp_base);
    }
    SimProc { p: p.cast() }
}

/// Makes a thread of `proc` with thread ID `tid`.
pub fn new_thread(proc: &SimProc, tid: i32) -> SimThread {
    let td = kzalloc(THREAD_SIZE);
    let frame = kzalloc(size_of::<Trapframe>()).cast::<Trapframe>();
    let pcb = Box::into_raw(Box::new(Pcb::default()));
    let uq = kzalloc(UMTX_Q_SIZE);
    // SAFETY: a fresh object of THREAD_SIZE bytes; every offset is below it.
    unsafe {
        put(td, THREAD_TD_PROC, proc.p);
        put(td, THREAD_TD_TID, tid);
        put(td, THREAD_TD_FRAME, frame);
        put(td, THREAD_TD_PCB, pcb);
        put(td, THREAD_TD_UMTXQ, uq);
    }
    SimThread { td: td.cast(), frame }
}

/// `&td->td_sa`
///
/// # Safety
/// `td` is a simulated thread.
pub unsafe fn td_sa(td: *mut Thread) -> *mut SyscallArgs {
    // SAFETY: caller contract.
    unsafe { td.cast::<u8>().add(THREAD_TD_SA).cast() }
}

/// `&td->td_retval`
///
/// # Safety
/// `td` is a simulated thread.
pub unsafe fn td_retval(td: *mut Thread) -> *mut [u64; 2] {
    // SAFETY: caller contract.
    unsafe { td.cast::<u8>().add(THREAD_TD_RETVAL).cast() }
}

/// `td->td_frame`
///
/// # Safety
/// `td` is a simulated thread.
pub unsafe fn td_frame(td: *mut Thread) -> *mut Trapframe {
    // SAFETY: caller contract.
    unsafe { get(td.cast(), THREAD_TD_FRAME) }
}

/// `td->td_pcb`
///
/// # Safety
/// `td` is a simulated thread.
pub unsafe fn td_pcb(td: *mut Thread) -> *mut Pcb {
    // SAFETY: caller contract.
    unsafe { get(td.cast(), THREAD_TD_PCB) }
}

/// A number that identifies the calling host thread (its curthread).
pub fn current_thread_id() -> usize {
    // SAFETY: %gs is this thread's per-CPU area.
    unsafe { (*pcpu()).curthread as usize }
}

/// `td->td_proc`
///
/// # Safety
/// `td` is a simulated thread.
pub unsafe fn td_proc(td: *mut Thread) -> *mut Proc {
    // SAFETY: caller contract.
    unsafe { get(td.cast(), THREAD_TD_PROC) }
}

/// `p->p_sysent`
///
/// # Safety
/// `p` is a simulated process.
pub unsafe fn p_sysent(p: *mut Proc) -> *mut Sysentvec {
    // SAFETY: caller contract.
    unsafe { get(p.cast(), PROC_P_SYSENT) }
}
