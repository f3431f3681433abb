//! The MOD_LOAD self-check: before the module changes anything, it reads
//! live kernel objects through its own mirrors and accessors and compares
//! them with what it knows must be there. Any mismatch means the kernel's
//! layout is not the one this module was built for (a different release,
//! or a KBI change within a branch); the module then refuses to load with
//! a console message naming the check, and `ENOEXEC`.
//!
//! What is checked depends on who loads the module:
//! - From a native FreeBSD process (kldload(8), `kld_list`): the process's
//!   sysentvec must be the native ELF64 one, recognized by its name, flags
//!   and seven exported functions at our offsets (this covers both ends of
//!   the struct, where 14.x and 15.x differ); and the thread is inside
//!   kldload(2), so `td_sa`, `td_frame`, `td_retval` and the trap frame
//!   must describe that syscall (`td_retval` holds what `sys_kldload()`
//!   and `cpu_fetch_syscall_args()` preset: see `loadcheck.rs`); inside
//!   another syscall (a kernel autoload) `td_retval` is not checked;
//!   `td_proc`, `p_pid`, `td_tid`,
//!   `p_vmspace`, `vm_stacktop` and `vm_shp_base` must be plausible.
//! - From the boot loader (`cloudabi64_load="YES"`): the module starts in
//!   proc0, whose sysentvec is the kernel's `null_sysvec`; its known
//!   contents are checked, the in-syscall checks cannot be made.
//! - Always: the kernel has capability mode (`kern.features.
//!   security_capability_mode`), without which CloudABI processes would
//!   run unconfined.
//!
//! Pointers are checked to be kernel addresses before they are followed,
//! so a wrong offset is far more likely to be reported than to fault.

use core::ffi::{CStr, c_char, c_int, c_void};

use crate::console;
use crate::consts::*;
use crate::ffi::access;
use crate::ffi::frame::Trapframe;
use crate::ffi::kpi;
use crate::ffi::pcpu::curthread;
use crate::ffi::sysent::{Sysent, Sysentvec};
use crate::ffi::types::{Proc, Thread};
use crate::loadcheck::{self, Loader};

/// Collects failures; every failed check is printed.
struct Checks {
    failed: u32,
}

impl Checks {
    fn eq(&mut self, what: &CStr, expected: u64, found: u64) {
        if expected != found {
            console::log_mismatch(what, expected, found);
            self.failed += 1;
        }
    }

    fn holds(&mut self, what: &CStr, ok: bool) {
        if !ok {
            console::log2(c"self-check failed: ", what);
            self.failed += 1;
        }
    }
}

/// Kernel addresses are in the upper half on amd64 and arm64.
#[cfg(not(feature = "sim"))]
fn is_kernel_ptr<T>(p: *const T) -> bool {
    (p as usize) >> 63 == 1
}

/// kmod-sim: its kernel objects live in a Linux process, so "kernel" is
/// what lies outside the simulated user address space (the one seam of
/// the module's code that differs in the `sim` build).
#[cfg(feature = "sim")]
fn is_kernel_ptr<T>(p: *const T) -> bool {
    crate::ffi::sim::is_kernel_address(p as usize)
}

/// Compares a kernel C string with `expected`, reading no further than the
/// first difference (at most `expected.len() + 1` bytes).
///
/// # Safety
/// `s` is a kernel address.
unsafe fn c_str_is(s: *const c_char, expected: &CStr) -> bool {
    for (i, &b) in expected.to_bytes_with_nul().iter().enumerate() {
        // SAFETY: bytes up to the first mismatch or NUL of a string the
        // caller vouches for.
        if unsafe { *s.cast::<u8>().add(i) } != b {
            return false;
        }
    }
    true
}

/// A function-pointer field as a number (0 for NULL).
macro_rules! fn_field {
    ($f:expr) => {
        $f.map_or(0u64, |f| f as usize as u64)
    };
}

/// A kernel function's address.
macro_rules! fn_addr {
    ($f:path) => {
        $f as *const () as usize as u64
    };
}

/// Runs every check that applies; `Err(ENOEXEC)` if any failed.
pub fn run() -> Result<(), c_int> {
    let mut c = Checks { failed: 0 };
    // SAFETY: reads through pointers the kernel owns, each checked to be a
    // kernel address first; the loading thread and its process are alive.
    unsafe { check_context(&mut c) };
    check_capability_mode(&mut c);
    if c.failed == 0 {
        Ok(())
    } else {
        console::log_num(c"self-checks failed: ", i64::from(c.failed));
        Err(ENOEXEC)
    }
}

/// # Safety
/// Called in MOD_LOAD on the loading thread.
unsafe fn check_context(c: &mut Checks) {
    let td = curthread();
    c.holds(c"curthread is a kernel address", is_kernel_ptr(td));
    if c.failed > 0 {
        return;
    }
    // SAFETY: `td` is the current thread.
    let p = unsafe { access::td_proc(td) };
    c.holds(c"td_proc is a kernel address", is_kernel_ptr(p));
    // SAFETY: `p` was just checked.
    let sv = if c.failed == 0 { unsafe { access::p_sysent(p) } } else { core::ptr::null_mut() };
    c.holds(c"p_sysent is a kernel address", is_kernel_ptr(sv));
    if c.failed > 0 {
        return;
    }
    // SAFETY: `sv` is the process's sysentvec, read through our mirror.
    let sv = unsafe { &*sv };
    c.holds(c"sv_name is a kernel address", is_kernel_ptr(sv.sv_name));
    if c.failed > 0 {
        return;
    }
    // SAFETY: `sv_name` is a kernel string.
    unsafe {
        if c_str_is(sv.sv_name, c"FreeBSD ELF64") {
            check_native_sysvec(c, sv);
            check_in_syscall(c, td, p, sv);
        } else if c_str_is(sv.sv_name, c"null") {
            console::log(c"loaded by the boot loader: thread-in-syscall checks skipped");
            check_null_sysvec(c, p, sv);
        } else {
            console::log(c"loaded from a non-native process: native sysentvec checks skipped");
            check_syscall_args(c, td, sv);
        }
    }
}

/// The native ELF64 sysentvec, recognized by fields near both ends.
fn check_native_sysvec(c: &mut Checks, sv: &Sysentvec) {
    c.eq(
        c"native sv_flags ABI is SV_ABI_FREEBSD",
        u64::from(SV_ABI_FREEBSD),
        u64::from(sv.sv_flags & SV_ABI_MASK),
    );
    c.holds(c"native sv_flags has SV_LP64", sv.sv_flags & SV_LP64 != 0);
    c.eq(c"native sv_table is sysent", (&raw const kpi::sysent) as u64, sv.sv_table as u64);
    c.eq(c"native sv_fixup", fn_addr!(kpi::elf64_freebsd_fixup), fn_field!(sv.sv_fixup));
    c.eq(c"native sv_coredump", fn_addr!(kpi::elf64_coredump), fn_field!(sv.sv_coredump));
    c.eq(
        c"native sv_elf_core_prepare_notes",
        fn_addr!(kpi::elf64_prepare_notes),
        fn_field!(sv.sv_elf_core_prepare_notes),
    );
    c.eq(c"native sv_copyout_strings", fn_addr!(kpi::exec_copyout_strings), fn_field!(sv.sv_copyout_strings));
    c.eq(c"native sv_setregs", fn_addr!(kpi::exec_setregs), fn_field!(sv.sv_setregs));
    c.eq(c"native sv_onexec_old", fn_addr!(kpi::exec_onexec_old), fn_field!(sv.sv_onexec_old));
    c.eq(c"native sv_onexit", fn_addr!(kpi::exit_onexit), fn_field!(sv.sv_onexit));
}

/// Inside kldload(2): the syscall state the native fetch left behind.
///
/// # Safety
/// `td` is the current thread, `p` its process, `sv` its sysentvec.
unsafe fn check_in_syscall(c: &mut Checks, td: *mut Thread, p: *mut Proc, sv: &Sysentvec) {
    // SAFETY: caller contract.
    let code = unsafe { check_syscall_args(c, td, sv) };
    // SAFETY: caller contract.
    let frame = unsafe { access::td_frame(td) };
    c.holds(c"td_frame is a kernel address", is_kernel_ptr(frame));
    if c.failed == 0 {
        // SAFETY: the current thread's frame (checked above).
        let f = unsafe { &*frame };
        // SAFETY: as above.
        let original = u64::from(unsafe { (*access::td_sa(td)).original_code });
        #[cfg(target_arch = "x86_64")]
        c.eq(c"trap frame %rax is the syscall number", original, f.tf_rax);
        #[cfg(target_arch = "aarch64")]
        c.eq(c"trap frame x8 is the syscall number", original, f.tf_x[8]);
    }
    if c.failed == 0 && loadcheck::loader(true, false, code, SYS_KLDLOAD) == Loader::Kldload {
        // SAFETY: the current thread and its frame (checked above).
        let (rv, rdx) = unsafe { (*access::td_retval(td), frame_rdx(&*frame)) };
        let expected = loadcheck::kldload_retval(loadcheck::ARCH, rdx);
        c.eq(c"td_retval[0] is -1 inside kldload (sys_kldload)", expected[0], rv[0]);
        c.eq(c"td_retval[1] is the fetch preset inside kldload", expected[1], rv[1]);
    }
    // SAFETY: caller contract.
    let (pid, tid) = unsafe { (access::p_pid(p), access::td_tid(td)) };
    c.holds(c"p_pid is a process ID", (1..=PID_MAX).contains(&pid));
    c.holds(c"td_tid is a thread ID", tid > PID_MAX);
    // SAFETY: caller contract.
    let vm = unsafe { access::p_vmspace(p) };
    c.holds(c"p_vmspace is a kernel address", is_kernel_ptr(vm));
    if c.failed == 0 {
        // SAFETY: the process's vmspace (checked above).
        let (top, shp) = unsafe { (access::vm_stacktop(vm), access::vm_shp_base(vm)) };
        c.holds(c"vm_stacktop is in the user address space", top > sv.sv_minuser && top <= sv.sv_maxuser);
        c.holds(
            c"vm_shp_base is a page in the user address space",
            shp >= sv.sv_minuser && shp < sv.sv_maxuser && shp % PAGE_SIZE == 0,
        );
    }
}

/// `%rdx` of the trap frame on amd64 (what `td_retval[1]` is preset to);
/// 0 on arm64, where the preset does not depend on the frame.
fn frame_rdx(f: &Trapframe) -> u64 {
    #[cfg(target_arch = "x86_64")]
    return f.tf_rdx;
    #[cfg(target_arch = "aarch64")]
    {
        let _ = f;
        0
    }
}

/// `td_sa` names a valid entry of the process's table. Returns the code.
///
/// # Safety
/// `td` is the current thread, `sv` its process's sysentvec.
unsafe fn check_syscall_args(c: &mut Checks, td: *mut Thread, sv: &Sysentvec) -> Option<u32> {
    // SAFETY: caller contract.
    let sa = unsafe { &*access::td_sa(td) };
    let in_range = i64::from(sa.code) < i64::from(sv.sv_size);
    c.holds(c"td_sa.code is within sv_size", in_range);
    if !in_range {
        return None;
    }
    let expected = sv.sv_table.cast::<Sysent>().wrapping_add(sa.code as usize);
    c.eq(c"td_sa.callp is &sv_table[td_sa.code]", expected as u64, sa.callp as u64);
    Some(sa.code)
}

/// proc0's `null_sysvec` (sys/kern/init_main.c).
fn check_null_sysvec(c: &mut Checks, p: *mut Proc, sv: &Sysentvec) {
    // SAFETY: proc0 is always alive.
    c.eq(c"proc0 p_pid", 0, unsafe { access::p_pid(p) } as u64);
    c.eq(c"null_sysvec sv_size", 0, sv.sv_size as u64);
    c.eq(c"null_sysvec sv_table", 0, sv.sv_table as u64);
    c.eq(c"null_sysvec sv_maxuser", VM_MAXUSER_ADDRESS as u64, sv.sv_maxuser as u64);
    c.eq(c"null_sysvec sv_usrstack", USRSTACK as u64, sv.sv_usrstack as u64);
    c.eq(c"null_sysvec sv_stackprot", u64::from(VM_PROT_ALL), sv.sv_stackprot as u64);
    c.eq(c"null_sysvec sv_flags", 0, u64::from(sv.sv_flags));
    c.holds(
        c"null_sysvec sv_set_syscall_retval is set",
        is_kernel_ptr(fn_field!(sv.sv_set_syscall_retval) as *const u8),
    );
    c.holds(
        c"null_sysvec sv_fetch_syscall_args is set",
        is_kernel_ptr(fn_field!(sv.sv_fetch_syscall_args) as *const u8),
    );
    c.eq(c"null_sysvec sv_onexit", 0, fn_field!(sv.sv_onexit));
}

/// CloudABI's confinement is capability mode; refuse kernels without it.
fn check_capability_mode(c: &mut Checks) {
    let mut value: c_int = 0;
    let mut len = size_of::<c_int>();
    // SAFETY: a read-only sysctl lookup into a local int.
    let error = unsafe {
        kpi::kernel_sysctlbyname(
            curthread(),
            c"kern.features.security_capability_mode".as_ptr().cast_mut(),
            (&raw mut value).cast::<c_void>(),
            &mut len,
            core::ptr::null_mut(),
            0,
            core::ptr::null_mut(),
            0,
        )
    };
    c.holds(
        c"this kernel has no capability mode (options CAPABILITY_MODE), which confines CloudABI processes",
        error == 0 && value == 1,
    );
}
