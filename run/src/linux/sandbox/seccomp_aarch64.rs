//! The seccomp filter's numbers for aarch64 (`AUDIT_ARCH_AARCH64`): Linux's
//! asm-generic table (include/uapi/asm-generic/unistd.h), which arm64 uses.
//! It has no legacy path calls (`open`, `creat`, `mkdir`, `chmod`, ...), no
//! `dup2`, no x86 port and LDT calls and no second ABI numbered beside it
//! (AArch32 tasks report `AUDIT_ARCH_ARM`, which the filter refuses like
//! any foreign architecture). `seccomp.rs` selects this module on aarch64;
//! the policy (`DENIED` by group, the rules with arguments) is the same as
//! on x86-64, name for name, minus the calls this table does not have
//! ([`ABSENT`]). Numbers from 424 on are the same on every architecture.

/// `AUDIT_ARCH_AARCH64` (`EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`).
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;

/// aarch64 system call numbers the filter looks at.
pub mod nr {
    pub const CLOSE: u32 = 57;
    pub const IOCTL: u32 = 29;
    pub const SENDTO: u32 = 206;
    pub const SOCKETPAIR: u32 = 199;
    pub const CLONE: u32 = 220;
    pub const KILL: u32 = 129;
    pub const FCNTL: u32 = 25;
    pub const PRLIMIT64: u32 = 261;
    pub const DUP3: u32 = 24;
    pub const MEMFD_CREATE: u32 = 279;
    pub const EXECVEAT: u32 = 281;
    pub const CLONE3: u32 = 435;
    pub const CLOSE_RANGE: u32 = 436;
}

/// The x86-64 list's calls that aarch64 does not have (read by the
/// policy test).
#[allow(dead_code)]
pub const ABSENT: &[&str] = &[
    "uselib",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "sysfs",
    "ustat",
    "_sysctl",
    "iopl",
    "ioperm",
    "modify_ldt",
    "inotify_init",
    "chmod",
    "chown",
    "lchown",
    "open",
    "creat",
    "link",
    "unlink",
    "symlink",
    "rename",
    "mkdir",
    "rmdir",
    "mknod",
    "utime",
    "utimes",
    "futimesat",
];

/// Refused with `EPERM` whatever the arguments, by group (as on x86-64).
pub const DENIED: &[(&str, u32)] = &[
    // Debugging and reading or changing other processes.
    ("ptrace", 117),
    ("process_vm_readv", 270),
    ("process_vm_writev", 271),
    ("kcmp", 272),
    ("pidfd_getfd", 438),
    ("process_madvise", 440),
    ("process_mrelease", 448),
    ("get_robust_list", 100),
    ("migrate_pages", 238),
    ("move_pages", 239),
    // Executing anything else (execveat is checked below).
    ("execve", 221),
    // Sockets: CloudABI programs get them from their configuration or
    // from fd_create2 (socketpair) and accept (both allowed).
    ("socket", 198),
    ("connect", 203),
    ("bind", 200),
    ("listen", 201),
    // Namespaces and the mount table.
    ("unshare", 97),
    ("setns", 268),
    ("mount", 40),
    ("umount2", 39),
    ("pivot_root", 41),
    ("chroot", 51),
    ("open_tree", 428),
    ("move_mount", 429),
    ("fsopen", 430),
    ("fsconfig", 431),
    ("fsmount", 432),
    ("fspick", 433),
    ("mount_setattr", 442),
    ("statmount", 457),
    ("listmount", 458),
    ("open_tree_attr", 467),
    // The kernel and the machine.
    ("init_module", 105),
    ("delete_module", 106),
    ("finit_module", 273),
    ("kexec_load", 104),
    ("kexec_file_load", 294),
    ("reboot", 142),
    ("swapon", 224),
    ("swapoff", 225),
    ("syslog", 116),
    ("acct", 89),
    ("quotactl", 60),
    ("quotactl_fd", 443),
    ("nfsservctl", 42),
    ("lookup_dcookie", 18),
    ("vhangup", 58),
    ("personality", 92),
    ("settimeofday", 170),
    ("clock_settime", 112),
    ("adjtimex", 171),
    ("clock_adjtime", 266),
    ("sethostname", 161),
    ("setdomainname", 162),
    ("lsm_set_self_attr", 460),
    // Kernel keyrings (the user's session keys).
    ("add_key", 217),
    ("request_key", 218),
    ("keyctl", 219),
    // Kernel interfaces that bypass this filter or help exploits.
    ("io_uring_setup", 425),
    ("io_uring_enter", 426),
    ("io_uring_register", 427),
    ("bpf", 280),
    ("perf_event_open", 241),
    ("userfaultfd", 282),
    // Watching files anywhere.
    ("fanotify_init", 262),
    ("fanotify_mark", 263),
    ("inotify_init1", 26),
    ("inotify_add_watch", 27),
    ("inotify_rm_watch", 28),
    // Files by handle.
    ("name_to_handle_at", 264),
    ("open_by_handle_at", 265),
    // Owners, modes and attributes: CloudABI has none of them, and
    // Landlock does not cover them.
    ("fchmod", 52),
    ("fchmodat", 53),
    ("fchmodat2", 452),
    ("fchown", 55),
    ("fchownat", 54),
    ("setxattr", 5),
    ("lsetxattr", 6),
    ("fsetxattr", 7),
    ("getxattr", 8),
    ("lgetxattr", 9),
    ("fgetxattr", 10),
    ("listxattr", 11),
    ("llistxattr", 12),
    ("flistxattr", 13),
    ("removexattr", 14),
    ("lremovexattr", 15),
    ("fremovexattr", 16),
    ("setxattrat", 463),
    ("getxattrat", 464),
    ("listxattrat", 465),
    ("removexattrat", 466),
    ("file_getattr", 468),
    ("file_setattr", 469),
    // Path calls with an *at form, which is what the backend uses; device
    // nodes in either form.
    ("mknodat", 33),
    ("truncate", 45),
    // A CloudABI process has no working directory.
    ("chdir", 49),
    ("fchdir", 50),
    // System V IPC and POSIX message queues: global namespaces.
    ("shmget", 194),
    ("shmat", 196),
    ("shmctl", 195),
    ("shmdt", 197),
    ("semget", 190),
    ("semop", 193),
    ("semctl", 191),
    ("semtimedop", 192),
    ("msgget", 186),
    ("msgsnd", 189),
    ("msgrcv", 188),
    ("msgctl", 187),
    ("mq_open", 180),
    ("mq_unlink", 181),
    ("mq_timedsend", 182),
    ("mq_timedreceive", 183),
    ("mq_notify", 184),
    ("mq_getsetattr", 185),
    // Scheduling, which can name other processes or all of the user's.
    ("setpriority", 140),
    ("sched_setparam", 118),
    ("sched_setscheduler", 119),
    ("sched_setaffinity", 122),
    ("sched_setattr", 274),
    ("ioprio_set", 30),
];

#[cfg(all(test, target_arch = "aarch64"))]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_c_library() {
        let known: &[(&str, libc::c_long)] = &[
            ("ptrace", libc::SYS_ptrace),
            ("process_vm_readv", libc::SYS_process_vm_readv),
            ("process_vm_writev", libc::SYS_process_vm_writev),
            ("kcmp", libc::SYS_kcmp),
            ("pidfd_getfd", libc::SYS_pidfd_getfd),
            ("process_madvise", libc::SYS_process_madvise),
            ("process_mrelease", libc::SYS_process_mrelease),
            ("get_robust_list", libc::SYS_get_robust_list),
            ("migrate_pages", libc::SYS_migrate_pages),
            ("move_pages", libc::SYS_move_pages),
            ("execve", libc::SYS_execve),
            ("socket", libc::SYS_socket),
            ("connect", libc::SYS_connect),
            ("bind", libc::SYS_bind),
            ("listen", libc::SYS_listen),
            ("unshare", libc::SYS_unshare),
            ("setns", libc::SYS_setns),
            ("mount", libc::SYS_mount),
            ("umount2", libc::SYS_umount2),
            ("pivot_root", libc::SYS_pivot_root),
            ("chroot", libc::SYS_chroot),
            ("open_tree", libc::SYS_open_tree),
            ("move_mount", libc::SYS_move_mount),
            ("fsopen", libc::SYS_fsopen),
            ("fsconfig", libc::SYS_fsconfig),
            ("fsmount", libc::SYS_fsmount),
            ("fspick", libc::SYS_fspick),
            ("mount_setattr", libc::SYS_mount_setattr),
            ("init_module", libc::SYS_init_module),
            ("delete_module", libc::SYS_delete_module),
            ("finit_module", libc::SYS_finit_module),
            ("kexec_load", libc::SYS_kexec_load),
            ("kexec_file_load", libc::SYS_kexec_file_load),
            ("reboot", libc::SYS_reboot),
            ("swapon", libc::SYS_swapon),
            ("swapoff", libc::SYS_swapoff),
            ("syslog", libc::SYS_syslog),
            ("acct", libc::SYS_acct),
            ("quotactl", libc::SYS_quotactl),
            ("quotactl_fd", libc::SYS_quotactl_fd),
            ("nfsservctl", libc::SYS_nfsservctl),
            ("lookup_dcookie", libc::SYS_lookup_dcookie),
            ("vhangup", libc::SYS_vhangup),
            ("personality", libc::SYS_personality),
            ("settimeofday", libc::SYS_settimeofday),
            ("clock_settime", libc::SYS_clock_settime),
            ("adjtimex", libc::SYS_adjtimex),
            ("clock_adjtime", libc::SYS_clock_adjtime),
            ("sethostname", libc::SYS_sethostname),
            ("setdomainname", libc::SYS_setdomainname),
            ("add_key", libc::SYS_add_key),
            ("request_key", libc::SYS_request_key),
            ("keyctl", libc::SYS_keyctl),
            ("io_uring_setup", libc::SYS_io_uring_setup),
            ("io_uring_enter", libc::SYS_io_uring_enter),
            ("io_uring_register", libc::SYS_io_uring_register),
            ("bpf", libc::SYS_bpf),
            ("perf_event_open", libc::SYS_perf_event_open),
            ("userfaultfd", libc::SYS_userfaultfd),
            ("fanotify_init", libc::SYS_fanotify_init),
            ("fanotify_mark", libc::SYS_fanotify_mark),
            ("inotify_init1", libc::SYS_inotify_init1),
            ("inotify_add_watch", libc::SYS_inotify_add_watch),
            ("inotify_rm_watch", libc::SYS_inotify_rm_watch),
            ("name_to_handle_at", libc::SYS_name_to_handle_at),
            ("open_by_handle_at", libc::SYS_open_by_handle_at),
            ("fchmod", libc::SYS_fchmod),
            ("fchmodat", libc::SYS_fchmodat),
            ("fchown", libc::SYS_fchown),
            ("fchownat", libc::SYS_fchownat),
            ("setxattr", libc::SYS_setxattr),
            ("lsetxattr", libc::SYS_lsetxattr),
            ("fsetxattr", libc::SYS_fsetxattr),
            ("getxattr", libc::SYS_getxattr),
            ("lgetxattr", libc::SYS_lgetxattr),
            ("fgetxattr", libc::SYS_fgetxattr),
            ("listxattr", libc::SYS_listxattr),
            ("llistxattr", libc::SYS_llistxattr),
            ("flistxattr", libc::SYS_flistxattr),
            ("removexattr", libc::SYS_removexattr),
            ("lremovexattr", libc::SYS_lremovexattr),
            ("fremovexattr", libc::SYS_fremovexattr),
            ("mknodat", libc::SYS_mknodat),
            ("truncate", libc::SYS_truncate),
            ("chdir", libc::SYS_chdir),
            ("fchdir", libc::SYS_fchdir),
            ("shmget", libc::SYS_shmget),
            ("shmat", libc::SYS_shmat),
            ("shmctl", libc::SYS_shmctl),
            ("shmdt", libc::SYS_shmdt),
            ("semget", libc::SYS_semget),
            ("semop", libc::SYS_semop),
            ("semctl", libc::SYS_semctl),
            ("semtimedop", libc::SYS_semtimedop),
            ("msgget", libc::SYS_msgget),
            ("msgsnd", libc::SYS_msgsnd),
            ("msgrcv", libc::SYS_msgrcv),
            ("msgctl", libc::SYS_msgctl),
            ("mq_open", libc::SYS_mq_open),
            ("mq_unlink", libc::SYS_mq_unlink),
            ("mq_timedsend", libc::SYS_mq_timedsend),
            ("mq_timedreceive", libc::SYS_mq_timedreceive),
            ("mq_notify", libc::SYS_mq_notify),
            ("mq_getsetattr", libc::SYS_mq_getsetattr),
            ("setpriority", libc::SYS_setpriority),
            ("sched_setparam", libc::SYS_sched_setparam),
            ("sched_setscheduler", libc::SYS_sched_setscheduler),
            ("sched_setaffinity", libc::SYS_sched_setaffinity),
            ("sched_setattr", libc::SYS_sched_setattr),
            ("ioprio_set", libc::SYS_ioprio_set),
        ];
        for (name, n) in known {
            let ours = DENIED.iter().find(|(d, _)| d == name).unwrap_or_else(|| panic!("{name} not denied"));
            assert_eq!(i64::from(ours.1), *n, "{name}");
        }
        let checked: &[(u32, libc::c_long)] = &[
            (nr::CLOSE, libc::SYS_close),
            (nr::IOCTL, libc::SYS_ioctl),
            (nr::SENDTO, libc::SYS_sendto),
            (nr::SOCKETPAIR, libc::SYS_socketpair),
            (nr::CLONE, libc::SYS_clone),
            (nr::KILL, libc::SYS_kill),
            (nr::FCNTL, libc::SYS_fcntl),
            (nr::PRLIMIT64, libc::SYS_prlimit64),
            (nr::DUP3, libc::SYS_dup3),
            (nr::MEMFD_CREATE, libc::SYS_memfd_create),
            (nr::EXECVEAT, libc::SYS_execveat),
            (nr::CLONE3, libc::SYS_clone3),
            (nr::CLOSE_RANGE, libc::SYS_close_range),
        ];
        for (ours, n) in checked {
            assert_eq!(i64::from(*ours), *n);
        }
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    /// Every x86-64 entry is here under the same name, or listed as absent;
    /// the legacy path calls are all absent.
    #[test]
    fn same_policy_as_x86_64() {
        for (name, _) in super::super::seccomp::DENIED_X86_64 {
            let here = DENIED.iter().any(|(d, _)| d == name);
            assert!(here != ABSENT.contains(name), "{name}: in DENIED and ABSENT, or in neither");
        }
        assert_eq!(DENIED.len() + ABSENT.len(), super::super::seccomp::DENIED_X86_64.len());
        for legacy in
            ["open", "creat", "mkdir", "rmdir", "unlink", "rename", "link", "symlink", "chmod", "chown"]
        {
            assert!(ABSENT.contains(&legacy), "{legacy}");
        }
        let mut all: Vec<u32> = DENIED.iter().map(|d| d.1).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), DENIED.len(), "a number is listed twice");
        assert!(all.iter().all(|&n| n <= super::super::seccomp::MAX_REVIEWED));
    }
}
