//! The pure decisions of the MOD_LOAD self-check (`selfcheck.rs` reads the
//! live kernel objects; this module says what they must hold), so that the
//! expectations can be tested on the host.
//!
//! What the loading thread's `td_retval` holds when MOD_LOAD runs inside
//! kldload(2):
//! - `td_retval[0]` is -1: `sys_kldload()` (sys/kern/kern_linker.c) sets
//!   `td->td_retval[0] = -1` before it calls `kern_kldload()`, which runs
//!   the module's SYSINITs (and so MOD_LOAD) through `linker_load_module()`
//!   → `linker_load_file()` → `linker_file_sysinit()`; the file ID is only
//!   stored after `kern_kldload()` returns.
//! - `td_retval[1]` is what the architecture's `cpu_fetch_syscall_args()`
//!   (sys/<arch>/<arch>/trap.c) preset, which nothing on the kldload path
//!   changes: `frame->tf_rdx` on amd64, 0 on arm64.
//!
//! A kernel whose `td_retval` (or `td_frame`) is not where the module
//! expects it reads other memory there, which is very unlikely to hold
//! exactly these values.

/// The two architectures the module is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    Amd64,
    Arm64,
}

/// The architecture of this build.
#[cfg(target_arch = "aarch64")]
pub const ARCH: Arch = Arch::Arm64;
/// The architecture of this build (amd64, and the host for tests).
#[cfg(not(target_arch = "aarch64"))]
pub const ARCH: Arch = Arch::Amd64;

/// Who runs MOD_LOAD, as far as the self-check can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loader {
    /// A native process inside kldload(2) (kldload(8), `kld_list`,
    /// `make load`, a module that depends on this one).
    Kldload,
    /// A native process inside another syscall (e.g. a kernel autoload
    /// through `linker_reference_module()`): no `td_retval` expectation.
    OtherSyscall,
    /// The boot loader's preload: proc0 with `null_sysvec`.
    Boot,
    /// A process of another ABI: only the generic `td_sa` checks apply.
    Foreign,
}

/// Classifies the loading context from the process's sysentvec name and,
/// for a native process, the syscall code in `td_sa` (`None` if it was out
/// of range).
pub fn loader(native: bool, null_sysvec: bool, code: Option<u32>, sys_kldload: u32) -> Loader {
    if native {
        if code == Some(sys_kldload) { Loader::Kldload } else { Loader::OtherSyscall }
    } else if null_sysvec {
        Loader::Boot
    } else {
        Loader::Foreign
    }
}

/// `td_retval` as it must be while kldload(2) runs MOD_LOAD, given the
/// trap frame's `%rdx` (amd64; ignored on arm64).
pub fn kldload_retval(arch: Arch, frame_rdx: u64) -> [u64; 2] {
    // sys_kldload(): td->td_retval[0] = -1 (register_t, so all ones).
    let first = u64::MAX;
    let second = match arch {
        // amd64 cpu_fetch_syscall_args(): td->td_retval[1] = frame->tf_rdx.
        Arch::Amd64 => frame_rdx,
        // arm64 cpu_fetch_syscall_args(): td->td_retval[1] = 0.
        Arch::Arm64 => 0,
    };
    [first, second]
}

/// The index of the first `td_retval` slot that differs from what
/// kldload(2) leaves there, if any.
pub fn kldload_retval_mismatch(arch: Arch, found: [u64; 2], frame_rdx: u64) -> Option<usize> {
    let expected = kldload_retval(arch, frame_rdx);
    (0..2).find(|&i| expected[i] != found[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    const KLDLOAD: u32 = 304; // sys/sys/syscall.h SYS_kldload

    #[test]
    fn kldload_presets_minus_one_not_zero() {
        // The state a 14.x/15.0 kernel really has inside kldload(2): this
        // was refused by the first self-check, which expected 0.
        let rdx = 0x7fff_ffff_e000;
        assert_eq!(kldload_retval_mismatch(Arch::Amd64, [u64::MAX, rdx], rdx), None);
        assert_eq!(kldload_retval_mismatch(Arch::Arm64, [u64::MAX, 0], rdx), None);
        // (-1 as register_t) is all ones.
        assert_eq!(kldload_retval(Arch::Amd64, 0)[0], (-1i64) as u64);
    }

    #[test]
    fn the_fetch_preset_alone_is_refused() {
        // What cpu_fetch_syscall_args() leaves before sys_kldload() runs:
        // a td_retval read at the wrong place could hold it.
        assert_eq!(kldload_retval_mismatch(Arch::Amd64, [0, 5], 5), Some(0));
        assert_eq!(kldload_retval_mismatch(Arch::Arm64, [0, 0], 0), Some(0));
    }

    #[test]
    fn a_wrong_second_slot_is_refused() {
        assert_eq!(kldload_retval_mismatch(Arch::Amd64, [u64::MAX, 6], 5), Some(1));
        assert_eq!(kldload_retval_mismatch(Arch::Arm64, [u64::MAX, 5], 5), Some(1));
        // Another object's memory: a kernel pointer and a small count.
        assert_eq!(kldload_retval_mismatch(Arch::Amd64, [0xffff_f800_0123_4000, 3], 3), Some(0));
    }

    #[test]
    fn loaders() {
        assert_eq!(loader(true, false, Some(KLDLOAD), KLDLOAD), Loader::Kldload);
        // nmount(2) autoloading a file system, or an out-of-range code.
        assert_eq!(loader(true, false, Some(378), KLDLOAD), Loader::OtherSyscall);
        assert_eq!(loader(true, false, None, KLDLOAD), Loader::OtherSyscall);
        assert_eq!(loader(false, true, None, KLDLOAD), Loader::Boot);
        assert_eq!(loader(false, false, Some(KLDLOAD), KLDLOAD), Loader::Foreign);
    }
}
