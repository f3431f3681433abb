//! The exec path of a CloudABI executable, in the order do_execve() calls
//! the sysentvec hooks:
//!
//! 1. `sv_copyout_strings` ([`copyout_strings`]): the argument data (the
//!    binary blob a CloudABI parent passes; for a native `execve`, the argv
//!    strings with their NULs) goes to the top of the new stack.
//! 2. `sv_fixup` ([`fixup`]): canary, process UUID, auxiliary vector and
//!    TCB below it (addresses from [`crate::image`]).
//! 3. `sv_setregs` ([`setregs`]): entry registers and TLS, then the
//!    sandbox: capability mode and default signal dispositions.
//!
//! Every user-memory write goes through `copyout`, so a bad address is an
//! error (and a failed exec), never a fault.

use core::ffi::{c_int, c_void};

use crate::arch;
use crate::console;
use crate::consts::{
    E2BIG, EFAULT, ENOEXEC, PS_STRINGS_SIZE, SIG_DFL, SIG_IGN, SIG_MAXSIG, SIGKILL, SIGPIPE, SIGSTOP,
};
use crate::ffi::access;
use crate::ffi::kpi;
use crate::ffi::pcpu::curthread;
use crate::ffi::signal::{KillArgs, Sigaction};
use crate::ffi::types::{ImageParams, Thread};
use crate::image::{self, AuxInfo, CANARY_LEN, PID_LEN};

/// Copies `bytes` to user address `dst`.
fn copy_out<T>(src: &T, dst: u64) -> Result<(), c_int> {
    // SAFETY: `src` is a live kernel object of `size_of::<T>()` bytes;
    // copyout validates the user range and returns an errno instead of
    // faulting.
    match unsafe { kpi::copyout((src as *const T).cast::<c_void>(), dst as *mut c_void, size_of::<T>()) } {
        0 => Ok(()),
        e => Err(e),
    }
}

/// Random bytes from the kernel's arc4random.
fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // SAFETY: `buf` is N writable bytes.
    unsafe { kpi::arc4rand(buf.as_mut_ptr().cast::<c_void>(), N as u32, 0) };
    buf
}

/// `(begin_argv, length)` of the argument data exec collected.
///
/// # Safety
/// `imgp` is the image being executed.
unsafe fn argdata(imgp: *mut ImageParams) -> Result<(*const u8, u64), c_int> {
    // SAFETY: caller contract; exec filled the args before activation.
    unsafe {
        let args = access::imgp_args(imgp);
        let begin = access::args_begin_argv(args).cast::<u8>();
        let end = kpi::exec_args_get_begin_envv(args).cast::<u8>();
        let len = (end as usize).checked_sub(begin as usize).ok_or(E2BIG)?;
        Ok((begin, len as u64))
    }
}

/// `sv_copyout_strings`: copies the argument data to the top of the stack
/// and leaves `*stack_base` at its start.
///
/// # Safety
/// Called by do_execve() with the image being executed.
pub unsafe extern "C" fn copyout_strings(imgp: *mut ImageParams, stack_base: *mut usize) -> c_int {
    // SAFETY: kernel contract for the hook.
    match unsafe { place_argdata(imgp) } {
        Ok(at) => {
            // SAFETY: `stack_base` is the caller's out-parameter.
            unsafe { *stack_base = at as usize };
            0
        }
        Err(e) => {
            // do_execve() fails the exec without calling sv_fixup, which
            // would have freed the auxargs.
            // SAFETY: the image being executed.
            unsafe { free_auxargs(imgp) };
            e
        }
    }
}

/// Frees `imgp->auxargs` (an `M_TEMP` allocation of the ELF activator) and
/// clears it, as FreeBSD's own ABIs do once the auxiliary vector is out:
/// `__elfN(freebsd_copyout_auxargs)` (sys/kern/imgact_elf.c) ends with
/// `free(imgp->auxargs, M_TEMP); imgp->auxargs = NULL;`, and do_execve()
/// (sys/kern/kern_exec.c) never frees it. The CloudABI sysentvec has no
/// `sv_copyout_auxargs`, so its exec hooks do it.
///
/// # Safety
/// `imgp` is the image being executed.
unsafe fn free_auxargs(imgp: *mut ImageParams) {
    // SAFETY: caller contract; the pointer is taken out before it is
    // freed, so it is freed once.
    unsafe {
        let aux = access::take_imgp_auxargs(imgp);
        if !aux.is_null() {
            kpi::free(aux.cast(), core::ptr::addr_of!(kpi::M_TEMP).cast_mut().cast());
        }
    }
}

/// # Safety
/// As [`copyout_strings`].
unsafe fn place_argdata(imgp: *mut ImageParams) -> Result<u64, c_int> {
    // SAFETY: caller contract: the new vmspace is in place.
    let (src, len, top) = unsafe {
        let (src, len) = argdata(imgp)?;
        let top = access::vm_stacktop(access::p_vmspace(access::imgp_proc(imgp)));
        (src, len, top as u64)
    };
    // An empty ps_strings at the top, where PROC_PS_STRINGS() looks (see
    // sysvec.rs); the argument data goes below it.
    let (ps_strings, at) = image::top_blocks(top, len).ok_or(E2BIG)?;
    copy_out(&[0u8; PS_STRINGS_SIZE], ps_strings)?;
    let n = usize::try_from(len).map_err(|_| E2BIG)?;
    // SAFETY: `src` points at `len` bytes of exec's argument buffer;
    // copyout checks the user range.
    match unsafe { kpi::copyout(src.cast::<c_void>(), at as *mut c_void, n) } {
        0 => Ok(at),
        e => Err(e),
    }
}

/// `sv_fixup`: writes canary, UUID, auxiliary vector and TCB below the
/// argument data and moves `*stack_base` down to the final stack.
///
/// # Safety
/// Called by do_execve() with the image being executed.
pub unsafe extern "C" fn fixup(stack_base: *mut usize, imgp: *mut ImageParams) -> c_int {
    // SAFETY: kernel contract for the hook; `stack_base` holds what
    // copyout_strings stored.
    let result = unsafe { build_image(*stack_base as u64, imgp) };
    // On every path: the auxargs have been read (or the exec fails).
    // SAFETY: the image being executed.
    unsafe { free_auxargs(imgp) };
    match result {
        Ok(stack) => {
            // SAFETY: as above.
            unsafe { *stack_base = stack as usize };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// As [`fixup`].
unsafe fn build_image(argdata_at: u64, imgp: *mut ImageParams) -> Result<u64, c_int> {
    let td = curthread();
    // SAFETY: exec runs on the only thread of the process; the image and
    // its auxargs (filled by the ELF activator) are live.
    let (p, aux, argdata_len, shp) = unsafe {
        let p = access::imgp_proc(imgp);
        let aux = access::imgp_auxargs(imgp);
        if aux.is_null() {
            return Err(ENOEXEC);
        }
        let (_, len) = argdata(imgp)?;
        (p, &*aux, len, access::vm_shp_base(access::p_vmspace(p)))
    };
    // CloudABI executables carry no FreeBSD ABI note; let the kernel treat
    // them as built for the running release, as the in-tree module did.
    // SAFETY: exec owns the process; `osreldate` is a kernel constant.
    unsafe { access::set_p_osrel(p, kpi::osreldate) };

    let l = image::layout(argdata_at, arch::TLS).ok_or(EFAULT)?;
    copy_out(&random::<CANARY_LEN>(), l.canary)?;
    copy_out(&image::uuid_v4(random::<PID_LEN>()), l.pid)?;
    let info = AuxInfo {
        argdata: argdata_at,
        argdatalen: image::argdata_len(argdata_len),
        base: aux.base,
        canary: l.canary,
        // SAFETY: a kernel variable, read once.
        ncpus: u64::try_from(unsafe { kpi::mp_ncpus }).unwrap_or(1),
        pagesz: aux.pagesz,
        phdr: aux.phdr,
        phnum: aux.phnum,
        pid: l.pid,
        sysinfo_ehdr: shp as u64,
        // SAFETY: the current thread.
        tid: u64::from(unsafe { access::td_tid(td) } as u32),
    };
    copy_out(&image::auxv(&info), l.auxv)?;
    copy_out(&abi::Tcb::ZERO, l.tcb)?;
    if let Some(slot) = l.tcb_slot {
        copy_out(&l.tcb, slot)?;
    }
    Ok(l.stack)
}

/// `sv_setregs`: native register reset, then the CloudABI entry state
/// (auxv in the first argument register, TLS), then the sandbox.
///
/// Capability mode is entered here and not earlier: do_execve() installs
/// the new credential (set-id handling) after the image activator and
/// `sv_onexec`, and would replace a capability-mode credential made
/// earlier; and signal dispositions are per-process only after do_execve()
/// has unshared them, just before this hook.
///
/// # Safety
/// Called by do_execve() on the exec'ing thread.
pub unsafe extern "C" fn setregs(td: *mut Thread, imgp: *mut ImageParams, stack: usize) {
    // SAFETY: kernel contract for the hook.
    unsafe { kpi::exec_setregs(td, imgp, stack) };
    match image::entry_registers(stack as u64, arch::TLS) {
        Some((tls, auxv)) => {
            // SAFETY: the exec'ing thread's registers are ours to set.
            unsafe {
                arch::set_first_argument(td, auxv);
                set_tls(td, tls);
            }
        }
        // fixup produced `stack`, so this cannot overflow; if it did, the
        // process must not run with a bogus auxv pointer.
        // SAFETY: the current thread.
        None => unsafe { kill_self(td, c"exec: no room for the entry registers") },
    }
    // SAFETY: the current thread, its own process.
    unsafe { enter_sandbox(td) };
}

/// # Safety
/// `td` is the exec'ing thread.
unsafe fn set_tls(td: *mut Thread, base: u64) {
    // SAFETY: caller contract. 15.x added a THR_* flags argument; 0 (no
    // C-runtime TLS semantics) is what a CloudABI thread needs.
    #[cfg(freebsd14)]
    let error = unsafe { kpi::cpu_set_user_tls(td, base as *mut c_void) };
    // SAFETY: as above.
    #[cfg(freebsd15)]
    let error = unsafe { kpi::cpu_set_user_tls(td, base as *mut c_void, 0) };
    if error != 0 {
        // SAFETY: the current thread.
        unsafe { kill_self(td, c"exec: cpu_set_user_tls failed") };
    }
}

/// Enters capability mode and resets every signal to its default action
/// except SIGPIPE, which is ignored (CloudABI reports EPIPE instead).
///
/// # Safety
/// `td` is the exec'ing thread.
unsafe fn enter_sandbox(td: *mut Thread) {
    // SAFETY: sys_cap_enter ignores its argument structure.
    if unsafe { kpi::sys_cap_enter(td, core::ptr::null_mut()) } != 0 {
        // The load-time self-check refuses kernels without capability
        // mode, so this is unreachable; fail closed all the same.
        // SAFETY: the current thread.
        unsafe { kill_self(td, c"exec: cannot enter capability mode") };
        return;
    }
    for sig in 1..=SIG_MAXSIG {
        if sig == SIGKILL || sig == SIGSTOP {
            continue; // always default, cannot be changed
        }
        let act = Sigaction {
            sa_handler: if sig == SIGPIPE { SIG_IGN } else { SIG_DFL },
            sa_flags: 0,
            sa_mask: [0; 4],
        };
        // SAFETY: `act` is a valid sigaction; no old action is requested.
        // kern_sigaction only fails for invalid signal numbers.
        unsafe { kpi::kern_sigaction(td, sig, &act, core::ptr::null_mut(), 0) };
    }
}

/// Kills the exec'ing process before it runs a single instruction: used
/// where an exec hook cannot report failure.
///
/// # Safety
/// `td` is the current thread.
unsafe fn kill_self(td: *mut Thread, why: &core::ffi::CStr) {
    console::log2(c"killing the process: ", why);
    // SAFETY: the current thread's process.
    let pid = unsafe { access::p_pid(access::td_proc(td)) };
    let mut args = KillArgs { pid, _pad0: [0; 4], signum: SIGKILL, _pad1: [0; 4] };
    // SAFETY: a valid kill_args for the caller's own process.
    unsafe { kpi::sys_kill(td, &mut args) };
}

/// `sv_schedtail`: runs in every new thread of a CloudABI process before
/// it returns to user mode. Only the child of `proc_fork` gets the fork
/// return values: `td_sa` is copied from the parent thread on fork and on
/// thread creation, so it still names the syscall that created this
/// thread (`thread_create` threads keep the registers thread_create set).
///
/// # Safety
/// Called by fork_exit() with the new thread.
pub unsafe extern "C" fn schedtail(td: *mut Thread) {
    // SAFETY: the new thread, before it runs user code.
    unsafe {
        if (*access::td_sa(td)).code == abi::nr::PROC_FORK {
            arch::set_fork_child_retval(td);
        }
    }
}

/// `sv_setid_allowed`: CloudABI executables never gain set-user-ID or
/// set-group-ID privileges; their authority is the descriptors they get.
///
/// # Safety
/// Called by do_execve().
pub unsafe extern "C" fn setid_allowed(_td: *mut Thread, _imgp: *mut ImageParams) -> c_int {
    0
}
