//! FreeBSD signal numbers (sys/signal.h) and their names and numbers on
//! this host, for the exit status of a program killed by a signal.

/// `(name, host number)` of a FreeBSD signal.
pub fn host(fbsd: i32) -> (&'static str, i32) {
    use libc::*;
    match fbsd {
        1 => ("SIGHUP", SIGHUP),
        2 => ("SIGINT", SIGINT),
        3 => ("SIGQUIT", SIGQUIT),
        4 => ("SIGILL", SIGILL),
        5 => ("SIGTRAP", SIGTRAP),
        6 => ("SIGABRT", SIGABRT),
        7 => ("SIGEMT", SIGSYS), // no SIGEMT on Linux
        8 => ("SIGFPE", SIGFPE),
        9 => ("SIGKILL", SIGKILL),
        10 => ("SIGBUS", SIGBUS),
        11 => ("SIGSEGV", SIGSEGV),
        12 => ("SIGSYS", SIGSYS),
        13 => ("SIGPIPE", SIGPIPE),
        14 => ("SIGALRM", SIGALRM),
        15 => ("SIGTERM", SIGTERM),
        16 => ("SIGURG", SIGURG),
        17 => ("SIGSTOP", SIGSTOP),
        18 => ("SIGTSTP", SIGTSTP),
        19 => ("SIGCONT", SIGCONT),
        20 => ("SIGCHLD", SIGCHLD),
        21 => ("SIGTTIN", SIGTTIN),
        22 => ("SIGTTOU", SIGTTOU),
        23 => ("SIGIO", SIGIO),
        24 => ("SIGXCPU", SIGXCPU),
        25 => ("SIGXFSZ", SIGXFSZ),
        26 => ("SIGVTALRM", SIGVTALRM),
        27 => ("SIGPROF", SIGPROF),
        28 => ("SIGWINCH", SIGWINCH),
        30 => ("SIGUSR1", SIGUSR1),
        31 => ("SIGUSR2", SIGUSR2),
        _ => ("an unknown signal", SIGKILL),
    }
}

/// The FreeBSD number of a host signal (`SIGKILL`'s for unknown ones).
pub fn freebsd(host_sig: i32) -> i32 {
    (1..=31).find(|&f| f != 7 && host(f).1 == host_sig).unwrap_or(9)
}
