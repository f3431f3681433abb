//! CloudABI signals and the native numbers of each backend's kernel.
//!
//! Tables of `(native name, native number, CloudABI signal)`, one per
//! system, in CloudABI order. Used for `proc_raise` (CloudABI to native) and
//! for `proc_terminate` events (native to CloudABI, where a signal missing
//! from the table is reported as `SIGABRT`). The names let tests check every
//! number against the systems' own `signal.h`.

use abi::Signal;

/// FreeBSD 14/15 `sys/signal.h`.
pub static FREEBSD: [(&str, i32, Signal); 26] = [
    ("SIGABRT", 6, Signal::ABRT),
    ("SIGALRM", 14, Signal::ALRM),
    ("SIGBUS", 10, Signal::BUS),
    ("SIGCHLD", 20, Signal::CHLD),
    ("SIGCONT", 19, Signal::CONT),
    ("SIGFPE", 8, Signal::FPE),
    ("SIGHUP", 1, Signal::HUP),
    ("SIGILL", 4, Signal::ILL),
    ("SIGINT", 2, Signal::INT),
    ("SIGKILL", 9, Signal::KILL),
    ("SIGPIPE", 13, Signal::PIPE),
    ("SIGQUIT", 3, Signal::QUIT),
    ("SIGSEGV", 11, Signal::SEGV),
    ("SIGSTOP", 17, Signal::STOP),
    ("SIGSYS", 12, Signal::SYS),
    ("SIGTERM", 15, Signal::TERM),
    ("SIGTRAP", 5, Signal::TRAP),
    ("SIGTSTP", 18, Signal::TSTP),
    ("SIGTTIN", 21, Signal::TTIN),
    ("SIGTTOU", 22, Signal::TTOU),
    ("SIGURG", 16, Signal::URG),
    ("SIGUSR1", 30, Signal::USR1),
    ("SIGUSR2", 31, Signal::USR2),
    ("SIGVTALRM", 26, Signal::VTALRM),
    ("SIGXCPU", 24, Signal::XCPU),
    ("SIGXFSZ", 25, Signal::XFSZ),
];

/// Linux `asm-generic/signal.h` (x86-64, arm64).
pub static LINUX: [(&str, i32, Signal); 26] = [
    ("SIGABRT", 6, Signal::ABRT),
    ("SIGALRM", 14, Signal::ALRM),
    ("SIGBUS", 7, Signal::BUS),
    ("SIGCHLD", 17, Signal::CHLD),
    ("SIGCONT", 18, Signal::CONT),
    ("SIGFPE", 8, Signal::FPE),
    ("SIGHUP", 1, Signal::HUP),
    ("SIGILL", 4, Signal::ILL),
    ("SIGINT", 2, Signal::INT),
    ("SIGKILL", 9, Signal::KILL),
    ("SIGPIPE", 13, Signal::PIPE),
    ("SIGQUIT", 3, Signal::QUIT),
    ("SIGSEGV", 11, Signal::SEGV),
    ("SIGSTOP", 19, Signal::STOP),
    ("SIGSYS", 31, Signal::SYS),
    ("SIGTERM", 15, Signal::TERM),
    ("SIGTRAP", 5, Signal::TRAP),
    ("SIGTSTP", 20, Signal::TSTP),
    ("SIGTTIN", 21, Signal::TTIN),
    ("SIGTTOU", 22, Signal::TTOU),
    ("SIGURG", 23, Signal::URG),
    ("SIGUSR1", 10, Signal::USR1),
    ("SIGUSR2", 12, Signal::USR2),
    ("SIGVTALRM", 26, Signal::VTALRM),
    ("SIGXCPU", 24, Signal::XCPU),
    ("SIGXFSZ", 25, Signal::XFSZ),
];

/// The native number of `sig` in `table`.
pub fn to_native(table: &[(&str, i32, Signal)], sig: Signal) -> i32 {
    // Every CloudABI signal is in both tables (checked by a test); 0 is
    // never a valid native signal, so a hole could not go unnoticed.
    table.iter().find(|r| r.2 == sig).map_or(0, |r| r.1)
}

/// The CloudABI signal for a native number; `SIGABRT` for one CloudABI
/// does not know (FreeBSD's original code wrongly used the native SIGABRT
/// number there).
pub fn from_native(table: &[(&str, i32, Signal)], native: i32) -> Signal {
    table.iter().find(|r| r.1 == native).map_or(Signal::ABRT, |r| r.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_maps_both_ways() {
        for t in [&FREEBSD[..], &LINUX[..]] {
            for sig in Signal::VALUES {
                let n = to_native(t, sig);
                assert!(n > 0, "{sig:?}");
                assert_eq!(from_native(t, n), sig);
            }
            let mut nums: [i32; 26] = core::array::from_fn(|i| t[i].1);
            nums.sort_unstable();
            assert!(nums.windows(2).all(|w| w[0] < w[1]), "duplicate native numbers");
        }
        assert_eq!(from_native(&LINUX, 34), Signal::ABRT, "a real-time signal");
        assert_eq!(to_native(&FREEBSD, Signal::USR1), 30);
        assert_eq!(to_native(&LINUX, Signal::USR1), 10);
    }
}
