//! Process and thread primitives of the exec and syscall paths: register
//! setup, TLS, capability mode, signal dispositions, randomness, clocks,
//! exit.

use std::ffi::{c_int, c_void};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::kernel;

/// Whether the process has entered capability mode (`cap_enter(2)`).
static CAP_MODE: AtomicBool = AtomicBool::new(false);

/// Whether the current process is in capability mode
/// (`IN_CAPABILITY_MODE(td)`).
pub fn in_capability_mode() -> bool {
    CAP_MODE.load(Ordering::Acquire)
}

/// Signal dispositions of the process (`SIG_DFL` 0, `SIG_IGN` 1, or a
/// handler address), indexed by signal number; exec starts from the
/// parent's, which for a native process may be anything: the sim presets
/// a handler for every signal, so a disposition the module does not reset
/// stays visibly non-default.
pub static DISPOSITIONS: Mutex<[usize; 129]> = Mutex::new([0xdead_0000; 129]);

/// `exec_setregs` (sys/amd64/amd64/exec_machdep.c): a fresh frame for the
/// new image: `%rip` = the entry point, `%rsp` = `((stack - 8) & ~0xf) +
/// 8`, `%rdi` = `stack`, `%rflags` = `PSL_USER`, everything else 0; the
/// pcb's `%fs` base cleared and `PCB_FULL_IRET` set (the frame is loaded
/// whole on the way out).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn exec_setregs(td: *mut Thread, _imgp: *mut ImageParams, stack: usize) {
    // SAFETY: the exec'ing thread's frame and pcb.
    unsafe {
        let f = kernel::td_frame(td);
        std::ptr::write_bytes(f, 0, 1);
        let f = &mut *f;
        f.tf_rip = crate::proc::entry_addr();
        f.tf_rsp = (((stack as u64).wrapping_sub(8)) & !0xf) + 8;
        f.tf_rdi = stack as u64;
        f.tf_rflags = 0x202; // PSL_USER: PSL_I | reserved bit 1
        let pcb = &mut *kernel::td_pcb(td);
        pcb.fsbase = 0;
        pcb.flags |= PCB_FULL_IRET;
    }
}

/// `cpu_set_user_tls` (sys/amd64/amd64/vm_machdep.c, 15.0): as 14.x; a
/// `THR_C_RUNTIME` flag (which also sets `PCB_TLSBASE`) is not reproduced.
#[cfg(freebsd15)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cpu_set_user_tls(td: *mut Thread, base: *mut c_void, thr_flags: c_int) -> c_int {
    if thr_flags != 0 {
        super::unimplemented_kpi("cpu_set_user_tls with thr_flags");
    }
    // SAFETY: caller contract.
    unsafe { set_user_tls(td, base) }
}

/// `cpu_set_user_tls` (sys/amd64/amd64/vm_machdep.c, 14.x).
#[cfg(freebsd14)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cpu_set_user_tls(td: *mut Thread, base: *mut c_void) -> c_int {
    // SAFETY: caller contract.
    unsafe { set_user_tls(td, base) }
}

/// `cpu_set_user_tls`'s work: `EINVAL` for a base at or above
/// `VM_MAXUSER_ADDRESS`; else the pcb's `%fs` base, with `PCB_FULL_IRET`
/// so it is loaded on return.
///
/// # Safety
/// `td` is a simulated thread.
unsafe fn set_user_tls(td: *mut Thread, base: *mut c_void) -> c_int {
    if base as usize >= VM_MAXUSER_ADDRESS_LA48 {
        return EINVAL;
    }
    // SAFETY: the thread's pcb.
    unsafe {
        let pcb = &mut *kernel::td_pcb(td);
        pcb.fsbase = base as u64;
        pcb.flags |= PCB_FULL_IRET;
    }
    0
}

/// `set_pcb_flags` (machine/pcb.h): sets flags in the pcb.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn set_pcb_flags(pcb: *mut kernel::Pcb, flags: u32) {
    // SAFETY: a thread's pcb.
    unsafe { (*pcb).flags |= flags };
}

/// `sys_cap_enter` (sys/kern/sys_capability.c): the process enters
/// capability mode (for good); always succeeds.
#[unsafe(no_mangle)]
pub extern "C" fn sys_cap_enter(_td: *mut Thread, _uap: *mut c_void) -> c_int {
    CAP_MODE.store(true, Ordering::Release);
    0
}

/// `kern_sigaction` (sys/kern/kern_sig.c): `EINVAL` for signals outside
/// 1.._SIG_MAXSIG and for a handler other than `SIG_DFL` on `SIGKILL`/
/// `SIGSTOP`; otherwise records the new disposition and returns the old.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_sigaction(
    _td: *mut Thread,
    sig: c_int,
    act: *const Sigaction,
    oact: *mut Sigaction,
    _flags: c_int,
) -> c_int {
    if !(1..=SIG_MAXSIG).contains(&sig) {
        return EINVAL;
    }
    let mut d = DISPOSITIONS.lock().unwrap_or_else(|e| e.into_inner());
    if !oact.is_null() {
        // SAFETY: the caller's out-parameter.
        unsafe { *oact = Sigaction { sa_handler: d[sig as usize], sa_flags: 0, sa_mask: [0; 4] } };
    }
    if !act.is_null() {
        // SAFETY: the caller's sigaction.
        let h = unsafe { (*act).sa_handler };
        if (sig == SIGKILL || sig == SIGSTOP) && h != SIG_DFL {
            return EINVAL;
        }
        d[sig as usize] = h;
    }
    0
}

/// `arc4rand(9)`: `len` random bytes (the host's getrandom).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn arc4rand(ptr: *mut c_void, len: u32, _reseed: c_int) {
    let mut done = 0usize;
    while done < len as usize {
        // SAFETY: the caller's buffer of `len` bytes.
        let n = unsafe { libc::getrandom(ptr.cast::<u8>().add(done).cast(), len as usize - done, 0) };
        if n <= 0 {
            crate::fatal("getrandom failed");
        }
        done += n as usize;
    }
}

/// `read_random_uio(9)`: fills a uio (user space) with random bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn read_random_uio(uio: *mut Uio, _nonblock: bool) -> c_int {
    // SAFETY: the module's uio.
    let u = unsafe { &mut *uio };
    for i in 0..u.uio_iovcnt.max(0) as usize {
        // SAFETY: the uio's iovecs.
        let iov = unsafe { *u.uio_iov.add(i) };
        let mut chunk = vec![0u8; iov.iov_len.min(1 << 20)];
        let mut off = 0;
        while off < iov.iov_len {
            let n = chunk.len().min(iov.iov_len - off);
            // SAFETY: a kernel buffer.
            unsafe { arc4rand(chunk.as_mut_ptr().cast(), n as u32, 0) };
            // SAFETY: copyout checks the user range.
            let e = unsafe {
                crate::shim::uvm::copyout(
                    chunk.as_ptr().cast(),
                    (iov.iov_base as usize + off) as *mut c_void,
                    n,
                )
            };
            if e != 0 {
                return e;
            }
            off += n;
            u.uio_resid -= n as isize;
        }
    }
    0
}

/// `exec_args_get_begin_envv` (sys/kern/kern_exec.c): `begin_envv` when
/// there are environment strings, else `endp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn exec_args_get_begin_envv(args: *mut ImageArgs) -> *mut std::ffi::c_char {
    // SAFETY: exec's image_args.
    unsafe { if (*args).envc > 0 { (*args).begin_envv } else { (*args).endp } }
}

/// `exec_onexec_old` (sys/kern/kern_exec.c): umtx and sigfastblock state
/// of the old image; the sim keeps none, so nothing to clean.
#[unsafe(no_mangle)]
pub extern "C" fn exec_onexec_old(_td: *mut Thread) {}

/// `exit_onexit` (sys/kern/kern_exit.c): umtx cleanup at exit; the sim
/// keeps no per-process umtx state, so nothing to clean.
#[unsafe(no_mangle)]
pub extern "C" fn exit_onexit(_p: *mut Proc) {}

/// `exit1(9)`: the process exits with `rval`/`signo` (`W_EXITCODE`).
#[unsafe(no_mangle)]
pub extern "C" fn exit1(td: *mut Thread, rval: c_int, signo: c_int) -> ! {
    crate::proc::exit(td, rval, signo)
}

/// `sys_kill` (sys/kern/kern_sig.c) for the caller's own process: a
/// signal whose disposition is to terminate ends the process (killed by
/// the signal); an ignored one does nothing. Other targets are not
/// reproduced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_kill(td: *mut Thread, uap: *mut KillArgs) -> c_int {
    // SAFETY: the module's kill_args; the current thread.
    let (pid, sig) = unsafe { ((*uap).pid, (*uap).signum) };
    // SAFETY: as above.
    if pid != unsafe { kernel::get::<i32>(kernel::td_proc(td).cast(), PROC_P_PID) } {
        super::unimplemented_kpi("sys_kill of another process");
    }
    if !(0..=SIG_MAXSIG).contains(&sig) {
        return EINVAL;
    }
    if sig == 0 {
        return 0;
    }
    // SIGKILL and SIGSTOP always have their default action.
    let disp = if sig == SIGKILL || sig == SIGSTOP {
        SIG_DFL
    } else {
        DISPOSITIONS.lock().unwrap_or_else(|e| e.into_inner())[sig as usize]
    };
    // Default actions that do not terminate: SIGCHLD 20, SIGURG 16,
    // SIGWINCH 28, SIGINFO 29, SIGCONT 19 (sys/kern/kern_sig.c sigproptbl);
    // stop signals are not reproduced.
    match (disp, sig) {
        (d, _) if d == SIG_IGN => 0,
        (d, 16 | 19 | 20 | 28 | 29) if d == SIG_DFL => 0,
        (d, 17 | 18 | 21 | 22) if d == SIG_DFL => super::unimplemented_kpi("sys_kill with a stop signal"),
        (d, _) if d == SIG_DFL => crate::proc::exit(td, 0, sig),
        _ => super::unimplemented_kpi("sys_kill delivering to a handler"),
    }
}

/// Linux clock for a FreeBSD clock id (sys/_clock_id.h).
fn clock(id: c_int) -> Option<libc::clockid_t> {
    match id {
        CLOCK_REALTIME => Some(libc::CLOCK_REALTIME),
        CLOCK_MONOTONIC => Some(libc::CLOCK_MONOTONIC),
        CLOCK_PROCESS_CPUTIME_ID => Some(libc::CLOCK_PROCESS_CPUTIME_ID),
        CLOCK_THREAD_CPUTIME_ID => Some(libc::CLOCK_THREAD_CPUTIME_ID),
        _ => None,
    }
}

/// `kern_clock_gettime(9)`: the clock's time; `EINVAL` for unknown ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_clock_gettime(_td: *mut Thread, id: c_int, ts: *mut Timespec) -> c_int {
    let Some(c) = clock(id) else { return EINVAL };
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a local timespec.
    unsafe { libc::clock_gettime(c, &mut t) };
    // SAFETY: the caller's timespec.
    unsafe { *ts = Timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec } };
    0
}

/// `kern_clock_getres(9)`: the clock's resolution; `EINVAL` for unknown
/// ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_clock_getres(_td: *mut Thread, id: c_int, ts: *mut Timespec) -> c_int {
    let Some(c) = clock(id) else { return EINVAL };
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a local timespec.
    unsafe { libc::clock_getres(c, &mut t) };
    // SAFETY: the caller's timespec.
    unsafe { *ts = Timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec } };
    0
}

/// `sched_relinquish(9)`: yields the CPU.
#[unsafe(no_mangle)]
pub extern "C" fn sched_relinquish(_td: *mut Thread) {
    std::thread::yield_now();
}

/// `ARG_MAX` (sys/syslimits.h, amd64): exec's argument buffer.
const ARG_MAX: usize = 2 * 256 * 1024;

/// `pre_execve` (sys/kern/kern_exec.c): the process must be
/// single-threaded (several threads are not reproduced); `*oldvm` =
/// `p_vmspace`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pre_execve(td: *mut Thread, oldvm: *mut *mut Vmspace) -> c_int {
    if crate::proc::live_threads() > 1 {
        super::unimplemented_kpi("pre_execve in a process with several threads (thread_single)");
    }
    // SAFETY: the current thread's process; the caller's out-pointer.
    unsafe { *oldvm = kernel::get(kernel::td_proc(td).cast(), PROC_P_VMSPACE) };
    0
}

/// `post_execve`: ends the single-threading (nothing to end here).
#[unsafe(no_mangle)]
pub extern "C" fn post_execve(_td: *mut Thread, _error: c_int, _oldvm: *mut Vmspace) {}

/// `exec_alloc_args(9)`: an `ARG_MAX` argument buffer (from `exec_map`
/// in the kernel; counted here until `exec_free_args`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn exec_alloc_args(args: *mut ImageArgs) -> c_int {
    let buf = super::malloc::alloc_counted("exec args", ARG_MAX, false, "an exec argument buffer".into());
    // SAFETY: the caller's image_args.
    unsafe {
        std::ptr::write_bytes(args, 0, 1);
        (*args).buf = buf.cast();
        (*args).begin_argv = buf.cast();
        (*args).endp = buf.cast();
        (*args).stringspace = ARG_MAX as c_int;
    }
    0
}

/// `exec_args_add_fname(9)`: without a name (fexecve) only marks where
/// the arguments begin.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn exec_args_add_fname(
    args: *mut ImageArgs,
    fname: *const std::ffi::c_char,
    _seg: u32,
) -> c_int {
    if !fname.is_null() {
        super::unimplemented_kpi("exec_args_add_fname with a name");
    }
    // SAFETY: the caller's image_args.
    unsafe {
        (*args).fname = std::ptr::null_mut();
        (*args).begin_argv = (*args).endp;
    }
    0
}

/// `exec_free_args(9)`: frees the buffer (NULL ignored).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn exec_free_args(args: *mut ImageArgs) {
    // SAFETY: the caller's image_args.
    let buf = unsafe { std::mem::replace(&mut (*args).buf, std::ptr::null_mut()) };
    if !buf.is_null() {
        crate::account::give("exec args", buf as usize);
        // SAFETY: from alloc_counted (C allocator).
        unsafe { libc::free(buf.cast()) };
    }
}

/// `kern_execve(9)`: see `proc::execve`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_execve(
    td: *mut Thread,
    args: *mut ImageArgs,
    _mac: *mut c_void,
    _oldvm: *mut Vmspace,
) -> c_int {
    // SAFETY: caller contract.
    unsafe { crate::proc::execve(td, args) }
}
