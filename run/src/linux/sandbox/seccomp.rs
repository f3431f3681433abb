//! The seccomp filter: which Linux system calls the process may make once
//! the program runs.
//!
//! The filter allows by default and refuses, with `EPERM`, what a CloudABI
//! process never needs and what would let a program that makes raw system
//! calls get around the backend or Landlock: other system-call ABIs
//! (`int 0x80`, x32), creating sockets and addressing datagrams, debugging
//! and reading other processes, executing anything but cloudabi-run itself
//! (its pinned descriptor cannot be closed or replaced, and memory objects
//! must be made non-executable where the kernel can, [`program_for`]),
//! namespaces and mounts, kernel keyrings, modules, time, host names,
//! io_uring, BPF, perf, `userfaultfd`, file handles, owners, modes and
//! extended attributes, the path calls that have an `*at` form (which the
//! backend uses instead), System V and POSIX message IPC, terminal input
//! injection and every `ioctl` the backend does not make, signals to
//! process groups and resource limits of other processes. `clone3` answers
//! `ENOSYS`, so that the C library falls back to `clone`, whose flags the
//! filter can see; so does every system call newer than the ones reviewed
//! here (`MAX_REVIEWED`).
//!
//! Seccomp cannot read memory, so it cannot look at paths: which files can
//! be opened, created, removed or executed is Landlock's part
//! (`landlock.rs`).
//!
//! A filter also answers a marker system call (`MARKER_NR`), so that a
//! re-executed cloudabi-run knows its inherited filter is this one (and
//! which descriptor it lets `execveat` use) and does not stack a second.

use std::io;
use std::os::fd::RawFd;

use super::bpf::{self, Asm, Insn, JEQ, JGE, JGT, JSET, To};

/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ERRNO`: the low 16 bits are the errno.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `AUDIT_ARCH_X86_64` (`EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`).
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// The architecture of this process's system calls (the filter refuses
/// every other).
#[cfg(not(target_arch = "aarch64"))]
pub const AUDIT_ARCH_NATIVE: u32 = AUDIT_ARCH_X86_64;
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH_NATIVE: u32 = super::seccomp_aarch64::AUDIT_ARCH_AARCH64;
/// `__X32_SYSCALL_BIT`.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

pub const EPERM: u32 = 1;
pub const ENOSYS: u32 = 38;

/// The highest system call number reviewed for this filter
/// (`file_setattr`, Linux 6.17, the same number on x86-64 and aarch64);
/// anything above answers `ENOSYS`.
pub const MAX_REVIEWED: u32 = 469;

/// The marker: no Linux system call has this number.
pub const MARKER_NR: u32 = 0x00c1_0ab1;
/// The marker answers errno `MARKER_BASE + fd` for the descriptor
/// `execveat` may use, or `MARKER_NONE`.
pub const MARKER_BASE: u32 = 2048;
pub const MARKER_NONE: u32 = 4095;

#[cfg(target_arch = "aarch64")]
pub use super::seccomp_aarch64::{DENIED, nr};
/// The numbers and the list of the architecture this is built for
/// (aarch64: `seccomp_aarch64.rs`, the same policy in asm-generic numbers).
#[cfg(not(target_arch = "aarch64"))]
pub use nr_x86_64 as nr;
#[cfg(not(target_arch = "aarch64"))]
pub const DENIED: &[(&str, u32)] = DENIED_X86_64;

/// x86-64 system call numbers the filter looks at.
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
pub mod nr_x86_64 {
    pub const CLOSE: u32 = 3;
    pub const IOCTL: u32 = 16;
    pub const DUP2: u32 = 33;
    pub const SENDTO: u32 = 44;
    pub const SOCKETPAIR: u32 = 53;
    pub const CLONE: u32 = 56;
    pub const KILL: u32 = 62;
    pub const FCNTL: u32 = 72;
    pub const PRLIMIT64: u32 = 302;
    pub const DUP3: u32 = 292;
    pub const MEMFD_CREATE: u32 = 319;
    pub const EXECVEAT: u32 = 322;
    pub const CLONE3: u32 = 435;
    pub const CLOSE_RANGE: u32 = 436;
}

/// Refused with `EPERM` whatever the arguments, by group (x86-64 numbers).
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
pub const DENIED_X86_64: &[(&str, u32)] = &[
    // Debugging and reading or changing other processes.
    ("ptrace", 101),
    ("process_vm_readv", 310),
    ("process_vm_writev", 311),
    ("kcmp", 312),
    ("pidfd_getfd", 438),
    ("process_madvise", 440),
    ("process_mrelease", 448),
    ("get_robust_list", 274),
    ("migrate_pages", 256),
    ("move_pages", 279),
    // Executing anything else (execveat is checked below).
    ("execve", 59),
    ("uselib", 134),
    // Sockets: CloudABI programs get them from their configuration or
    // from fd_create2 (socketpair) and accept (both allowed).
    ("socket", 41),
    ("connect", 42),
    ("bind", 49),
    ("listen", 50),
    // Namespaces and the mount table.
    ("unshare", 272),
    ("setns", 308),
    ("mount", 165),
    ("umount2", 166),
    ("pivot_root", 155),
    ("chroot", 161),
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
    ("create_module", 174),
    ("init_module", 175),
    ("delete_module", 176),
    ("get_kernel_syms", 177),
    ("query_module", 178),
    ("finit_module", 313),
    ("kexec_load", 246),
    ("kexec_file_load", 320),
    ("reboot", 169),
    ("swapon", 167),
    ("swapoff", 168),
    ("syslog", 103),
    ("acct", 163),
    ("quotactl", 179),
    ("quotactl_fd", 443),
    ("nfsservctl", 180),
    ("lookup_dcookie", 212),
    ("sysfs", 139),
    ("ustat", 136),
    ("_sysctl", 156),
    ("vhangup", 153),
    ("iopl", 172),
    ("ioperm", 173),
    ("modify_ldt", 154),
    ("personality", 135),
    ("settimeofday", 164),
    ("clock_settime", 227),
    ("adjtimex", 159),
    ("clock_adjtime", 305),
    ("sethostname", 170),
    ("setdomainname", 171),
    ("lsm_set_self_attr", 460),
    // Kernel keyrings (the user's session keys).
    ("add_key", 248),
    ("request_key", 249),
    ("keyctl", 250),
    // Kernel interfaces that bypass this filter or help exploits.
    ("io_uring_setup", 425),
    ("io_uring_enter", 426),
    ("io_uring_register", 427),
    ("bpf", 321),
    ("perf_event_open", 298),
    ("userfaultfd", 323),
    // Watching files anywhere.
    ("fanotify_init", 300),
    ("fanotify_mark", 301),
    ("inotify_init", 253),
    ("inotify_init1", 294),
    ("inotify_add_watch", 254),
    ("inotify_rm_watch", 255),
    // Files by handle.
    ("name_to_handle_at", 303),
    ("open_by_handle_at", 304),
    // Owners, modes and attributes: CloudABI has none of them, and
    // Landlock does not cover them.
    ("chmod", 90),
    ("fchmod", 91),
    ("fchmodat", 268),
    ("fchmodat2", 452),
    ("chown", 92),
    ("fchown", 93),
    ("lchown", 94),
    ("fchownat", 260),
    ("setxattr", 188),
    ("lsetxattr", 189),
    ("fsetxattr", 190),
    ("getxattr", 191),
    ("lgetxattr", 192),
    ("fgetxattr", 193),
    ("listxattr", 194),
    ("llistxattr", 195),
    ("flistxattr", 196),
    ("removexattr", 197),
    ("lremovexattr", 198),
    ("fremovexattr", 199),
    ("setxattrat", 463),
    ("getxattrat", 464),
    ("listxattrat", 465),
    ("removexattrat", 466),
    ("file_getattr", 468),
    ("file_setattr", 469),
    // Path calls with an *at form, which is what the backend uses; device
    // nodes in either form.
    ("open", 2),
    ("creat", 85),
    ("link", 86),
    ("unlink", 87),
    ("symlink", 88),
    ("rename", 82),
    ("mkdir", 83),
    ("rmdir", 84),
    ("mknod", 133),
    ("mknodat", 259),
    ("truncate", 76),
    ("utime", 132),
    ("utimes", 235),
    ("futimesat", 261),
    // A CloudABI process has no working directory.
    ("chdir", 80),
    ("fchdir", 81),
    // System V IPC and POSIX message queues: global namespaces.
    ("shmget", 29),
    ("shmat", 30),
    ("shmctl", 31),
    ("shmdt", 67),
    ("semget", 64),
    ("semop", 65),
    ("semctl", 66),
    ("semtimedop", 220),
    ("msgget", 68),
    ("msgsnd", 69),
    ("msgrcv", 70),
    ("msgctl", 71),
    ("mq_open", 240),
    ("mq_unlink", 241),
    ("mq_timedsend", 242),
    ("mq_timedreceive", 243),
    ("mq_notify", 244),
    ("mq_getsetattr", 245),
    // Scheduling, which can name other processes or all of the user's.
    ("setpriority", 141),
    ("sched_setparam", 142),
    ("sched_setscheduler", 144),
    ("sched_setaffinity", 203),
    ("sched_setattr", 314),
    ("ioprio_set", 251),
];

/// The only `ioctl` requests allowed: what the backend uses (`FIONREAD`,
/// `TIOCOUTQ`) and harmless queries and descriptor flags the C library
/// may use. Everything else, in particular `TIOCSTI` and `TIOCLINUX`
/// (typing into a terminal the program was handed), is refused.
pub const IOCTLS: &[(&str, u32)] = &[
    ("TCGETS", 0x5401),
    ("TIOCOUTQ", 0x5411),
    ("TIOCGWINSZ", 0x5413),
    ("FIONREAD", 0x541b),
    ("FIONBIO", 0x5421),
    ("FIONCLEX", 0x5450),
    ("FIOCLEX", 0x5451),
];

/// `fcntl` commands refused: choosing who gets `SIGIO` (another process).
pub const FCNTLS: &[(&str, u32)] = &[("F_SETOWN", 8), ("F_SETSIG", 10), ("F_SETOWN_EX", 15)];

/// `clone` flags refused: new namespaces.
pub const CLONE_NAMESPACES: u32 = 0x0002_0000 // CLONE_NEWNS
    | 0x0200_0000 // CLONE_NEWCGROUP
    | 0x0400_0000 // CLONE_NEWUTS
    | 0x0800_0000 // CLONE_NEWIPC
    | 0x1000_0000 // CLONE_NEWUSER
    | 0x2000_0000 // CLONE_NEWPID
    | 0x4000_0000; // CLONE_NEWNET

pub const AF_UNIX: u32 = 1;
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// `MFD_NOEXEC_SEAL` (Linux 6.3).
pub const MFD_NOEXEC_SEAL: u32 = 0x0008;

fn errno(e: u32) -> u32 {
    RET_ERRNO | (e & 0xffff)
}

/// The filter. `self_exe` is the descriptor of cloudabi-run's executable,
/// the only one `execveat` may run (with `AT_EMPTY_PATH`); `None` refuses
/// every exec. `memfd_create` must carry `MFD_NOEXEC_SEAL` where this
/// kernel has it.
pub fn program(self_exe: Option<RawFd>) -> Vec<Insn> {
    program_for(self_exe, crate::linux::backend::memfd_noexec() != 0)
}

/// [`program`], saying whether the kernel has `MFD_NOEXEC_SEAL`.
///
/// The one executable the filter lets run must stay cloudabi-run's, and
/// nothing the program makes may be run in its place (issue 13, D3):
/// - with `noexec` (Linux 6.3 on), every memory object must be created
///   with `MFD_NOEXEC_SEAL`: it is never executable (mode 0666, and the
///   seal keeps `chmod` from changing that), whichever way it is named
///   (its descriptor, a `/proc/self/fd` path);
/// - always, the pinned descriptor cannot be closed (`close`, a
///   `close_range` covering it) or replaced (`dup2`, `dup3` onto it), so
///   it names cloudabi-run's executable for the life of the process.
pub fn program_for(self_exe: Option<RawFd>, noexec: bool) -> Vec<Insn> {
    let mut asm = Asm::new();
    let eperm = errno(EPERM);

    // Another system call ABI (i386 through int 0x80): refused.
    asm.load(bpf::OFF_ARCH);
    let native = asm.label();
    asm.jump(JEQ, AUDIT_ARCH_NATIVE, To::Label(native), To::Next);
    asm.ret(eperm);
    asm.bind(native);

    asm.load(bpf::OFF_NR);
    let not_marker = asm.label();
    asm.jump(JEQ, MARKER_NR, To::Next, To::Label(not_marker));
    let pin = self_exe.and_then(|fd| u32::try_from(fd).ok()).filter(|&fd| fd < MARKER_NONE - MARKER_BASE);
    asm.ret(errno(pin.map_or(MARKER_NONE, |fd| MARKER_BASE + fd)));
    asm.bind(not_marker);

    // x32 system calls (the x32 bit set): refused. (aarch64 has no such
    // second numbering: these numbers are above MAX_REVIEWED there.)
    if cfg!(not(target_arch = "aarch64")) {
        let not_x32 = asm.label();
        asm.jump(JSET, X32_SYSCALL_BIT, To::Next, To::Label(not_x32));
        asm.ret(eperm);
        asm.bind(not_x32);
    }

    // Newer than this review: as if the kernel did not have them.
    let known = asm.label();
    asm.jump(JGT, MAX_REVIEWED, To::Next, To::Label(known));
    asm.ret(errno(ENOSYS));
    asm.bind(known);

    // Below the x32 bit and at most MAX_REVIEWED: a binary decision tree
    // over the numbers the filter cares about, so that every call takes a
    // few comparisons (the kernel also runs the filter once per number to
    // cache the ones that are always allowed).
    let mut rules: Vec<(u32, Rule)> = DENIED.iter().map(|&(_, n)| (n, Rule::Errno(EPERM))).collect();
    rules.push((nr::CLONE3, Rule::Errno(ENOSYS)));
    rules.extend([
        (nr::IOCTL, Rule::Ioctl),
        (nr::FCNTL, Rule::Fcntl),
        (nr::KILL, Rule::Kill),
        (nr::CLONE, Rule::Clone),
        (nr::SENDTO, Rule::SendTo),
        (nr::SOCKETPAIR, Rule::SocketPair),
        (nr::PRLIMIT64, Rule::Prlimit),
        (nr::EXECVEAT, Rule::Execveat(pin)),
    ]);
    if let Some(fd) = pin {
        rules.extend([
            (nr::CLOSE, Rule::NotOnto { arg: 0, fd }),
            (nr::DUP3, Rule::NotOnto { arg: 1, fd }),
            (nr::CLOSE_RANGE, Rule::CloseRange(fd)),
        ]);
        #[cfg(not(target_arch = "aarch64"))]
        rules.push((nr::DUP2, Rule::NotOnto { arg: 1, fd }));
    }
    if noexec {
        rules.push((nr::MEMFD_CREATE, Rule::MemfdNoexec));
    }
    rules.sort_unstable_by_key(|r| r.0);
    tree(&mut asm, &rules);
    // The policy is fixed, so a mistake here shows in every test run.
    asm.finish().unwrap_or_else(|e| panic!("the seccomp filter does not assemble: {e}"))
}

/// What the filter does with one system call number.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Refused with this errno, whatever the arguments.
    Errno(u32),
    /// Only the requests in `IOCTLS`.
    Ioctl,
    /// Not the commands in `FCNTLS`.
    Fcntl,
    /// Not to a process group or every process (`pid <= 0`).
    Kill,
    /// Not with `CLONE_NAMESPACES`.
    Clone,
    /// Not with a destination address.
    SendTo,
    /// `AF_UNIX` only.
    SocketPair,
    /// Of the caller only (pid 0).
    Prlimit,
    /// This descriptor with `AT_EMPTY_PATH` only (none: never).
    Execveat(Option<u32>),
    /// Not with descriptor `fd` as argument `arg` (an `unsigned int`: the
    /// kernel reads the low 32 bits only).
    NotOnto { arg: u8, fd: u32 },
    /// `close_range(first, last, flags)` not covering this descriptor.
    CloseRange(u32),
    /// With `MFD_NOEXEC_SEAL` only.
    MemfdNoexec,
}

/// Most rules tested one after the other at a leaf of the tree.
const LEAF: usize = 6;

/// The decision tree over `rules` (sorted by number), with the number in
/// A; numbers without a rule are allowed.
fn tree(asm: &mut Asm, rules: &[(u32, Rule)]) {
    if rules.len() <= LEAF {
        for &(n, rule) in rules {
            let other = asm.label();
            asm.jump(JEQ, n, To::Next, To::Label(other));
            emit(asm, rule);
            asm.bind(other);
        }
        asm.ret(RET_ALLOW);
        return;
    }
    let (low, high) = rules.split_at(rules.len() / 2);
    // Conditional jumps reach 255 instructions at most; `ja` any distance.
    let (lower, upper) = (asm.label(), asm.label());
    asm.jump(JGE, high[0].0, To::Next, To::Label(lower));
    asm.ja(upper);
    asm.bind(lower);
    tree(asm, low);
    asm.bind(upper);
    tree(asm, high);
}

/// The code for a number that matched `rule`: returns on every path.
fn emit(asm: &mut Asm, rule: Rule) {
    let (allow, deny) = (asm.label(), asm.label());
    match rule {
        Rule::Errno(e) => {
            asm.ret(errno(e));
            return;
        }
        Rule::Ioctl => {
            asm.load(bpf::off_arg_lo(1));
            for &(_, cmd) in IOCTLS {
                asm.jump(JEQ, cmd, To::Label(allow), To::Next);
            }
            asm.ja(deny);
        }
        Rule::Fcntl => {
            asm.load(bpf::off_arg_lo(1));
            for &(_, cmd) in FCNTLS {
                asm.jump(JEQ, cmd, To::Label(deny), To::Next);
            }
            asm.ja(allow);
        }
        Rule::Kill => {
            asm.load(bpf::off_arg_lo(0));
            asm.jump(JEQ, 0, To::Label(deny), To::Next);
            asm.jump(JSET, 0x8000_0000, To::Label(deny), To::Label(allow));
        }
        Rule::Clone => {
            asm.load(bpf::off_arg_lo(0));
            asm.jump(JSET, CLONE_NAMESPACES, To::Label(deny), To::Label(allow));
        }
        Rule::SendTo => {
            asm.load(bpf::off_arg_lo(4));
            asm.jump(JEQ, 0, To::Next, To::Label(deny));
            asm.load(bpf::off_arg_hi(4));
            asm.jump(JEQ, 0, To::Label(allow), To::Label(deny));
        }
        Rule::SocketPair => {
            asm.load(bpf::off_arg_lo(0));
            asm.jump(JEQ, AF_UNIX, To::Label(allow), To::Label(deny));
        }
        Rule::Prlimit => {
            asm.load(bpf::off_arg_lo(0));
            asm.jump(JEQ, 0, To::Label(allow), To::Label(deny));
        }
        Rule::Execveat(Some(fd)) => {
            asm.load(bpf::off_arg_lo(0));
            asm.jump(JEQ, fd, To::Next, To::Label(deny));
            asm.load(bpf::off_arg_lo(4));
            asm.jump(JEQ, AT_EMPTY_PATH, To::Label(allow), To::Label(deny));
        }
        Rule::Execveat(None) => asm.ja(deny),
        Rule::NotOnto { arg, fd } => {
            asm.load(bpf::off_arg_lo(arg.into()));
            asm.jump(JEQ, fd, To::Label(deny), To::Label(allow));
        }
        Rule::CloseRange(fd) => {
            asm.load(bpf::off_arg_lo(0));
            asm.jump(JGT, fd, To::Label(allow), To::Next);
            asm.load(bpf::off_arg_lo(1));
            asm.jump(JGE, fd, To::Label(deny), To::Label(allow));
        }
        Rule::MemfdNoexec => {
            asm.load(bpf::off_arg_lo(1));
            asm.jump(JSET, MFD_NOEXEC_SEAL, To::Label(allow), To::Label(deny));
        }
    }
    asm.bind(deny);
    asm.ret(errno(EPERM));
    asm.bind(allow);
    asm.ret(RET_ALLOW);
}

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_GET_ACTION_AVAIL: libc::c_ulong = 2;
const SECCOMP_FILTER_FLAG_TSYNC: libc::c_ulong = 1;

/// `struct sock_fprog`.
#[repr(C)]
struct Fprog {
    len: libc::c_ushort,
    filter: *const Insn,
}

/// Whether this kernel can install seccomp filters that return errors.
pub fn available() -> Result<(), io::Error> {
    let action: u32 = RET_ERRNO;
    // SAFETY: SECCOMP_GET_ACTION_AVAIL reads one u32.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action as *const u32) };
    if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Installs `prog` on every thread of the process. `no_new_privs` must be
/// set.
pub fn install(prog: &[Insn]) -> Result<(), io::Error> {
    let len = libc::c_ushort::try_from(prog.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "filter too long"))?;
    let fprog = Fprog { len, filter: prog.as_ptr() };
    // SAFETY: the kernel copies the program described by `fprog`, which
    // points at `prog` for the duration of the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            SECCOMP_FILTER_FLAG_TSYNC,
            &fprog as *const Fprog,
        )
    };
    match r {
        0 => Ok(()),
        r if r > 0 => Err(io::Error::other(format!("thread {r} could not be given the filter (TSYNC)"))),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Asks an inherited filter (from the cloudabi-run that re-executed this
/// one) for its marker: `None` without one, else the descriptor its
/// `execveat` rule allows (`Some(None)`: none).
pub fn inherited() -> Option<Option<RawFd>> {
    // SAFETY: an unknown system call number without arguments: the kernel
    // answers ENOSYS, or this filter answers its marker.
    let r = unsafe { libc::syscall(MARKER_NR as libc::c_long) };
    if r != -1 {
        return None;
    }
    let e = io::Error::last_os_error().raw_os_error()? as u32;
    match e {
        MARKER_NONE => Some(None),
        e if (MARKER_BASE..MARKER_NONE).contains(&e) => Some(Some((e - MARKER_BASE) as RawFd)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::bpf::{Data, run};
    use super::*;

    const SELF_EXE: RawFd = 1000;

    fn call(prog: &[Insn], n: u32, args: [u64; 6]) -> u32 {
        run(prog, &Data { nr: n as i32, arch: AUDIT_ARCH_NATIVE, ip: 0, args }).unwrap()
    }

    fn plain(prog: &[Insn], n: u32) -> u32 {
        call(prog, n, [0; 6])
    }

    // aarch64: seccomp_aarch64.rs checks its own table.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn numbers_match_the_c_library() {
        let known: &[(&str, libc::c_long)] = &[
            ("ptrace", libc::SYS_ptrace),
            ("execve", libc::SYS_execve),
            ("socket", libc::SYS_socket),
            ("connect", libc::SYS_connect),
            ("bind", libc::SYS_bind),
            ("listen", libc::SYS_listen),
            ("mount", libc::SYS_mount),
            ("unshare", libc::SYS_unshare),
            ("setns", libc::SYS_setns),
            ("keyctl", libc::SYS_keyctl),
            ("bpf", libc::SYS_bpf),
            ("perf_event_open", libc::SYS_perf_event_open),
            ("userfaultfd", libc::SYS_userfaultfd),
            ("io_uring_setup", libc::SYS_io_uring_setup),
            ("io_uring_enter", libc::SYS_io_uring_enter),
            ("io_uring_register", libc::SYS_io_uring_register),
            ("process_vm_readv", libc::SYS_process_vm_readv),
            ("process_vm_writev", libc::SYS_process_vm_writev),
            ("pidfd_getfd", libc::SYS_pidfd_getfd),
            ("kcmp", libc::SYS_kcmp),
            ("name_to_handle_at", libc::SYS_name_to_handle_at),
            ("open_by_handle_at", libc::SYS_open_by_handle_at),
            ("fchmodat", libc::SYS_fchmodat),
            ("fchmodat2", libc::SYS_fchmodat2),
            ("fchownat", libc::SYS_fchownat),
            ("mknodat", libc::SYS_mknodat),
            ("open", libc::SYS_open),
            ("creat", libc::SYS_creat),
            ("chdir", libc::SYS_chdir),
            ("fchdir", libc::SYS_fchdir),
            ("chroot", libc::SYS_chroot),
            ("pivot_root", libc::SYS_pivot_root),
            ("personality", libc::SYS_personality),
            ("modify_ldt", libc::SYS_modify_ldt),
            ("init_module", libc::SYS_init_module),
            ("finit_module", libc::SYS_finit_module),
            ("kexec_load", libc::SYS_kexec_load),
            ("kexec_file_load", libc::SYS_kexec_file_load),
            ("reboot", libc::SYS_reboot),
            ("settimeofday", libc::SYS_settimeofday),
            ("clock_settime", libc::SYS_clock_settime),
            ("sethostname", libc::SYS_sethostname),
            ("fanotify_init", libc::SYS_fanotify_init),
            ("inotify_add_watch", libc::SYS_inotify_add_watch),
            ("open_tree", libc::SYS_open_tree),
            ("fsopen", libc::SYS_fsopen),
            ("mount_setattr", libc::SYS_mount_setattr),
            ("shmget", libc::SYS_shmget),
            ("msgget", libc::SYS_msgget),
            ("semtimedop", libc::SYS_semtimedop),
            ("mq_open", libc::SYS_mq_open),
            ("setxattr", libc::SYS_setxattr),
            ("fremovexattr", libc::SYS_fremovexattr),
            ("futimesat", libc::SYS_futimesat),
            ("sched_setattr", libc::SYS_sched_setattr),
            ("ioprio_set", libc::SYS_ioprio_set),
            ("quotactl_fd", libc::SYS_quotactl_fd),
            ("process_mrelease", libc::SYS_process_mrelease),
            ("get_robust_list", libc::SYS_get_robust_list),
        ];
        for (name, n) in known {
            let ours = DENIED.iter().find(|(d, _)| d == name).unwrap_or_else(|| panic!("{name} not denied"));
            assert_eq!(i64::from(ours.1), *n, "{name}");
        }
        let checked: &[(u32, libc::c_long)] = &[
            (nr::IOCTL, libc::SYS_ioctl),
            (nr::SENDTO, libc::SYS_sendto),
            (nr::SOCKETPAIR, libc::SYS_socketpair),
            (nr::CLONE, libc::SYS_clone),
            (nr::KILL, libc::SYS_kill),
            (nr::FCNTL, libc::SYS_fcntl),
            (nr::PRLIMIT64, libc::SYS_prlimit64),
            (nr::EXECVEAT, libc::SYS_execveat),
            (nr::CLONE3, libc::SYS_clone3),
        ];
        for (ours, n) in checked {
            assert_eq!(i64::from(*ours), *n);
        }
        let flags = libc::CLONE_NEWNS
            | libc::CLONE_NEWCGROUP
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUSER
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNET;
        assert_eq!(CLONE_NAMESPACES, flags as u32);
        assert_eq!(AT_EMPTY_PATH, libc::AT_EMPTY_PATH as u32);
        assert_eq!(AF_UNIX, libc::AF_UNIX as u32);
        assert_eq!(IOCTLS.iter().find(|i| i.0 == "FIONREAD").unwrap().1, libc::FIONREAD as u32);
        assert_eq!(IOCTLS.iter().find(|i| i.0 == "TIOCOUTQ").unwrap().1, libc::TIOCOUTQ as u32);
        assert_eq!(FCNTLS.iter().find(|i| i.0 == "F_SETOWN").unwrap().1, libc::F_SETOWN as u32);
        // No number twice, none above the review.
        let mut all: Vec<u32> = DENIED.iter().map(|d| d.1).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), DENIED.len(), "a number is listed twice");
        assert!(all.iter().all(|&n| n <= MAX_REVIEWED));
    }

    #[test]
    fn the_backend_s_own_calls_are_allowed() {
        let prog = program(Some(SELF_EXE));
        let allowed: &[(&str, libc::c_long)] = &[
            ("read", libc::SYS_read),
            ("write", libc::SYS_write),
            ("readv", libc::SYS_readv),
            ("pwritev", libc::SYS_pwritev),
            ("openat", libc::SYS_openat),
            ("openat2", libc::SYS_openat2),
            ("newfstatat", libc::SYS_newfstatat),
            ("statx", libc::SYS_statx),
            ("utimensat", libc::SYS_utimensat),
            ("readlinkat", libc::SYS_readlinkat),
            ("renameat", libc::SYS_renameat),
            ("renameat2", libc::SYS_renameat2),
            ("linkat", libc::SYS_linkat),
            ("symlinkat", libc::SYS_symlinkat),
            ("unlinkat", libc::SYS_unlinkat),
            ("mkdirat", libc::SYS_mkdirat),
            ("getdents64", libc::SYS_getdents64),
            ("futex", libc::SYS_futex),
            ("mmap", libc::SYS_mmap),
            ("mprotect", libc::SYS_mprotect),
            ("munmap", libc::SYS_munmap),
            ("madvise", libc::SYS_madvise),
            ("msync", libc::SYS_msync),
            ("getrandom", libc::SYS_getrandom),
            ("clock_gettime", libc::SYS_clock_gettime),
            ("ppoll", libc::SYS_ppoll),
            ("recvmsg", libc::SYS_recvmsg),
            ("sendmsg", libc::SYS_sendmsg),
            ("accept4", libc::SYS_accept4),
            ("getsockopt", libc::SYS_getsockopt),
            ("shutdown", libc::SYS_shutdown),
            ("ftruncate", libc::SYS_ftruncate),
            ("fallocate", libc::SYS_fallocate),
            ("fadvise64", libc::SYS_fadvise64),
            ("sched_yield", libc::SYS_sched_yield),
            ("tgkill", libc::SYS_tgkill),
            ("rt_sigaction", libc::SYS_rt_sigaction),
            ("sigaltstack", libc::SYS_sigaltstack),
            #[cfg(target_arch = "x86_64")]
            ("arch_prctl", libc::SYS_arch_prctl),
            ("exit_group", libc::SYS_exit_group),
            // The aarch64 entry code finds its context with it.
            ("gettid", libc::SYS_gettid),
            #[cfg(target_arch = "x86_64")]
            ("fork", libc::SYS_fork),
            #[cfg(target_arch = "x86_64")]
            ("vfork", libc::SYS_vfork),
            ("pidfd_open", libc::SYS_pidfd_open),
            ("pidfd_send_signal", libc::SYS_pidfd_send_signal),
            ("waitid", libc::SYS_waitid),
            ("wait4", libc::SYS_wait4),
            ("landlock_restrict_self", libc::SYS_landlock_restrict_self),
            ("seccomp", libc::SYS_seccomp),
            ("prctl", libc::SYS_prctl),
            ("rseq", libc::SYS_rseq),
        ];
        for (name, n) in allowed {
            assert_eq!(plain(&prog, *n as u32), RET_ALLOW, "{name}");
        }
        // With the arguments the backend passes.
        assert_eq!(call(&prog, nr::IOCTL, [5, libc::FIONREAD, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&prog, nr::IOCTL, [5, libc::TIOCOUTQ, 0, 0, 0, 0]), RET_ALLOW);
        for cmd in [libc::F_GETFL, libc::F_SETFL, libc::F_DUPFD_CLOEXEC, libc::F_DUPFD, libc::F_GETPIPE_SZ] {
            assert_eq!(call(&prog, nr::FCNTL, [5, cmd as u64, 0, 0, 0, 0]), RET_ALLOW, "fcntl {cmd}");
        }
        assert_eq!(call(&prog, nr::SOCKETPAIR, [libc::AF_UNIX as u64, 1, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&prog, nr::SENDTO, [5, 0x1000, 10, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&prog, nr::KILL, [4711, 10, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&prog, nr::PRLIMIT64, [0, 7, 0, 0x1000, 0, 0]), RET_ALLOW);
        // Threads (glibc's clone flags) and fork.
        let thread = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM
            | libc::CLONE_SETTLS
            | libc::CLONE_PARENT_SETTID
            | libc::CLONE_CHILD_CLEARTID) as u64;
        assert_eq!(call(&prog, nr::CLONE, [thread, 0x1000, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&prog, nr::CLONE, [libc::SIGCHLD as u64, 0, 0, 0, 0, 0]), RET_ALLOW);
        // The re-exec of cloudabi-run.
        let exec = [SELF_EXE as u64, 0x1000, 0x2000, 0x3000, libc::AT_EMPTY_PATH as u64, 0];
        assert_eq!(call(&prog, nr::EXECVEAT, exec), RET_ALLOW);
        // Memory objects as the backend makes them, with or without
        // MFD_NOEXEC_SEAL as the kernel allows; other descriptors closed,
        // duplicated onto, and closed in ranges.
        for noexec in [false, true] {
            let prog = program_for(Some(SELF_EXE), noexec);
            let flags = u64::from(
                libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING | if noexec { MFD_NOEXEC_SEAL } else { 0 },
            );
            assert_eq!(call(&prog, nr::MEMFD_CREATE, [0x1000, flags, 0, 0, 0, 0]), RET_ALLOW);
        }
        assert_eq!(call(&prog, nr::CLOSE, [5, 0, 0, 0, 0, 0]), RET_ALLOW);
        #[cfg(not(target_arch = "aarch64"))]
        assert_eq!(call(&prog, nr::DUP2, [5, 6, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&prog, nr::DUP3, [5, 6, libc::O_CLOEXEC as u64, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&prog, nr::CLOSE_RANGE, [3, SELF_EXE as u64 - 1, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(
            call(&prog, nr::CLOSE_RANGE, [SELF_EXE as u64 + 1, u64::from(u32::MAX), 0, 0, 0, 0]),
            RET_ALLOW
        );
    }

    /// Issue 13, D3: nothing but cloudabi-run can be run through the one
    /// exec the filter allows.
    #[test]
    fn the_exec_descriptor_stays_cloudabi_run() {
        let eperm = RET_ERRNO | EPERM;
        let fd = SELF_EXE as u64;
        for noexec in [false, true] {
            let prog = program_for(Some(SELF_EXE), noexec);
            assert_eq!(call(&prog, nr::CLOSE, [fd, 0, 0, 0, 0, 0]), eperm);
            // The kernel reads an unsigned int: the high half is ignored.
            assert_eq!(call(&prog, nr::CLOSE, [fd | 1 << 32, 0, 0, 0, 0, 0]), eperm);
            #[cfg(not(target_arch = "aarch64"))]
            assert_eq!(call(&prog, nr::DUP2, [5, fd, 0, 0, 0, 0]), eperm);
            assert_eq!(call(&prog, nr::DUP3, [5, fd, libc::O_CLOEXEC as u64, 0, 0, 0]), eperm);
            assert_eq!(call(&prog, nr::DUP3, [5, fd | 7 << 32, 0, 0, 0, 0]), eperm);
            for (first, last) in
                [(fd, fd), (0, fd), (fd, u64::from(u32::MAX)), (3, fd + 1), (0, u64::from(u32::MAX))]
            {
                assert_eq!(call(&prog, nr::CLOSE_RANGE, [first, last, 0, 0, 0, 0]), eperm, "{first}..{last}");
                assert_eq!(
                    call(&prog, nr::CLOSE_RANGE, [first, last, 4, 0, 0, 0]),
                    eperm,
                    "{first}..{last} cloexec"
                );
            }
            // Memory objects that could be executed: refused where the
            // kernel can make them non-executable.
            let want = if noexec { eperm } else { RET_ALLOW };
            for flags in [0, libc::MFD_CLOEXEC, libc::MFD_ALLOW_SEALING, 0x10 /* MFD_EXEC */] {
                assert_eq!(
                    call(&prog, nr::MEMFD_CREATE, [0x1000, u64::from(flags), 0, 0, 0, 0]),
                    want,
                    "{flags:#x}"
                );
            }
        }
        // Without an exec descriptor there is nothing to pin.
        let prog = program_for(None, false);
        assert_eq!(call(&prog, nr::CLOSE, [fd, 0, 0, 0, 0, 0]), RET_ALLOW);
        #[cfg(not(target_arch = "aarch64"))]
        assert_eq!(call(&prog, nr::DUP2, [5, fd, 0, 0, 0, 0]), RET_ALLOW);
    }

    #[test]
    fn escapes_are_refused() {
        let prog = program(Some(SELF_EXE));
        let eperm = RET_ERRNO | EPERM;
        for &(name, n) in DENIED {
            assert_eq!(plain(&prog, n), eperm, "{name}");
        }
        // Other ABIs: i386 (int 0x80) and x32.
        let i386 = Data { nr: 20, arch: 0x4000_0003, ..Data::default() };
        assert_eq!(run(&prog, &i386), Ok(eperm));
        if cfg!(target_arch = "x86_64") {
            assert_eq!(plain(&prog, X32_SYSCALL_BIT | 39), eperm);
            assert_eq!(plain(&prog, X32_SYSCALL_BIT), eperm);
        } else {
            assert_eq!(plain(&prog, X32_SYSCALL_BIT | 39), RET_ERRNO | ENOSYS);
        }
        // clone3 and unknown numbers: ENOSYS.
        assert_eq!(plain(&prog, nr::CLONE3), RET_ERRNO | ENOSYS);
        assert_eq!(plain(&prog, MAX_REVIEWED + 1), RET_ERRNO | ENOSYS);
        assert_eq!(plain(&prog, 0x3fff_ffff), RET_ERRNO | ENOSYS);
        // Arguments.
        assert_eq!(call(&prog, nr::IOCTL, [0, 0x5412, 0, 0, 0, 0]), eperm, "TIOCSTI");
        assert_eq!(call(&prog, nr::IOCTL, [0, 0x541c, 0, 0, 0, 0]), eperm, "TIOCLINUX");
        assert_eq!(call(&prog, nr::IOCTL, [0, 0x8912, 0, 0, 0, 0]), eperm, "SIOCGIFCONF");
        // Only the low 32 bits of the request count (it is an int).
        assert_eq!(call(&prog, nr::IOCTL, [0, 0x1_0000_5412, 0, 0, 0, 0]), eperm);
        assert_eq!(call(&prog, nr::IOCTL, [0, 0xffff_ffff_0000_541b, 0, 0, 0, 0]), RET_ALLOW);
        for &(name, cmd) in FCNTLS {
            assert_eq!(call(&prog, nr::FCNTL, [3, u64::from(cmd), 1, 0, 0, 0]), eperm, "{name}");
        }
        for pid in [0u64, u64::from(u32::MAX), 0x8000_0000, 0xffff_ffff_ffff_fffe] {
            assert_eq!(call(&prog, nr::KILL, [pid, 9, 0, 0, 0, 0]), eperm, "kill({pid:#x})");
        }
        for flag in [libc::CLONE_NEWUSER, libc::CLONE_NEWNS, libc::CLONE_NEWNET, libc::CLONE_NEWPID] {
            let flags = (flag | libc::SIGCHLD) as u64;
            assert_eq!(call(&prog, nr::CLONE, [flags, 0, 0, 0, 0, 0]), eperm, "clone {flag:#x}");
        }
        assert_eq!(call(&prog, nr::SENDTO, [5, 0x1000, 10, 0, 0x2000, 16]), eperm);
        assert_eq!(call(&prog, nr::SENDTO, [5, 0x1000, 10, 0, 1 << 40, 16]), eperm);
        for family in [libc::AF_INET, libc::AF_INET6, libc::AF_NETLINK, 0] {
            assert_eq!(call(&prog, nr::SOCKETPAIR, [family as u64, 1, 0, 0, 0, 0]), eperm, "{family}");
        }
        assert_eq!(call(&prog, nr::PRLIMIT64, [1, 7, 0x1000, 0, 0, 0]), eperm);
        // execveat: any other descriptor, flag or AT_FDCWD.
        let exec = |fd: u64, flags: u64| call(&prog, nr::EXECVEAT, [fd, 0x1000, 0, 0, flags, 0]);
        let empty = libc::AT_EMPTY_PATH as u64;
        assert_eq!(exec(SELF_EXE as u64 + 1, empty), eperm);
        assert_eq!(exec(libc::AT_FDCWD as u32 as u64, 0), eperm);
        assert_eq!(exec(SELF_EXE as u64, 0), eperm);
        assert_eq!(exec(SELF_EXE as u64, empty | libc::AT_SYMLINK_NOFOLLOW as u64), eperm);
        // Without a descriptor, no exec at all.
        let none = program(None);
        let args = [SELF_EXE as u64, 0x1000, 0, 0, empty, 0];
        assert_eq!(call(&none, nr::EXECVEAT, args), eperm);
    }

    #[test]
    fn the_marker_names_the_exec_descriptor() {
        assert_eq!(plain(&program(Some(SELF_EXE)), MARKER_NR), RET_ERRNO | (MARKER_BASE + SELF_EXE as u32));
        assert_eq!(plain(&program(None), MARKER_NR), RET_ERRNO | MARKER_NONE);
        // A descriptor the marker cannot express gets no exec rule.
        let high = program(Some(5000));
        assert_eq!(plain(&high, MARKER_NR), RET_ERRNO | MARKER_NONE);
        let args = [5000, 0x1000, 0, 0, libc::AT_EMPTY_PATH as u64, 0];
        assert_eq!(call(&high, nr::EXECVEAT, args), RET_ERRNO | EPERM);
    }

    #[test]
    fn the_filter_fits_the_kernel_limits() {
        let prog = program(Some(SELF_EXE));
        // BPF_MAXINSNS is 4096; stay far below so that re-executed
        // instances could stack a few without reaching the 32768 total.
        assert!(prog.len() < 512, "{} instructions", prog.len());
        assert_eq!(std::mem::size_of::<Insn>(), std::mem::size_of::<libc::sock_filter>());
    }

    #[test]
    fn every_call_takes_a_few_instructions() {
        let prog = program(Some(SELF_EXE));
        let mut worst = (0, 0);
        for n in 0..=MAX_REVIEWED + 1 {
            for args in [[0; 6], [u64::MAX; 6]] {
                let data = Data { nr: n as i32, arch: AUDIT_ARCH_NATIVE, ip: 0, args };
                let (_, steps) = bpf::run_counted(&prog, &data).unwrap();
                worst = worst.max((steps, n));
            }
        }
        assert!(worst.0 <= 40, "system call {} takes {} instructions", worst.1, worst.0);
    }

    /// The system calls the backend makes on its hot paths (descriptor
    /// I/O, stat, opening beneath a directory, locks and condition
    /// variables, poll, memory, threads) must be in the kernel's action
    /// cache: for them the filter never runs, and the sandbox costs only
    /// seccomp's fixed entry work (docs/ARCHITECTURE.md, "Where the time
    /// goes"). The calls whose verdict depends on their arguments cannot
    /// be cached; the list says which they are, so that a rule added to a
    /// hot call shows up here.
    #[test]
    fn hot_calls_are_in_the_kernels_action_cache() {
        let hot = [
            ("read", libc::SYS_read),
            ("write", libc::SYS_write),
            ("fstat", libc::SYS_fstat),
            ("lseek", libc::SYS_lseek),
            ("mmap", libc::SYS_mmap),
            ("mprotect", libc::SYS_mprotect),
            ("munmap", libc::SYS_munmap),
            ("pread64", libc::SYS_pread64),
            ("pwrite64", libc::SYS_pwrite64),
            ("readv", libc::SYS_readv),
            ("writev", libc::SYS_writev),
            ("sched_yield", libc::SYS_sched_yield),
            ("madvise", libc::SYS_madvise),
            ("accept", libc::SYS_accept),
            ("sendmsg", libc::SYS_sendmsg),
            ("recvmsg", libc::SYS_recvmsg),
            ("shutdown", libc::SYS_shutdown),
            ("fsync", libc::SYS_fsync),
            ("fdatasync", libc::SYS_fdatasync),
            ("ftruncate", libc::SYS_ftruncate),
            ("gettid", libc::SYS_gettid),
            ("futex", libc::SYS_futex),
            ("getdents64", libc::SYS_getdents64),
            ("fadvise64", libc::SYS_fadvise64),
            ("clock_gettime", libc::SYS_clock_gettime),
            ("clock_nanosleep", libc::SYS_clock_nanosleep),
            ("exit_group", libc::SYS_exit_group),
            ("exit", libc::SYS_exit),
            ("openat", libc::SYS_openat),
            ("mkdirat", libc::SYS_mkdirat),
            ("newfstatat", libc::SYS_newfstatat),
            ("unlinkat", libc::SYS_unlinkat),
            ("linkat", libc::SYS_linkat),
            ("symlinkat", libc::SYS_symlinkat),
            ("readlinkat", libc::SYS_readlinkat),
            ("ppoll", libc::SYS_ppoll),
            ("utimensat", libc::SYS_utimensat),
            ("fallocate", libc::SYS_fallocate),
            ("accept4", libc::SYS_accept4),
            ("pipe2", libc::SYS_pipe2),
            ("getrandom", libc::SYS_getrandom),
            ("statx", libc::SYS_statx),
            ("renameat2", libc::SYS_renameat2),
            ("waitid", libc::SYS_waitid),
            ("openat2", libc::SYS_openat2),
            ("pidfd_send_signal", libc::SYS_pidfd_send_signal),
        ];
        let uncached_by_design =
            [nr::CLOSE, nr::IOCTL, nr::FCNTL, nr::KILL, nr::CLONE, nr::SENDTO, nr::SOCKETPAIR, nr::PRLIMIT64];
        for prog in [program_for(Some(SELF_EXE), true), program_for(None, false)] {
            for (name, n) in hot {
                let n = n as u32;
                assert!(bpf::kernel_caches_allow(&prog, n, AUDIT_ARCH_NATIVE), "{name} ({n}) is not cached");
            }
        }
        let prog = program_for(Some(SELF_EXE), true);
        for n in uncached_by_design {
            assert!(!bpf::kernel_caches_allow(&prog, n, AUDIT_ARCH_NATIVE), "{n} is cached after all");
        }
        // Without a pinned executable, close has no rule and is cached.
        assert!(bpf::kernel_caches_allow(&program_for(None, true), nr::CLOSE, AUDIT_ARCH_NATIVE));
        // Other ABIs are never allowed, so never cached as allowed.
        assert!(!bpf::kernel_caches_allow(&prog, 0, 0x4000_0003));
    }

    #[test]
    fn numbers_without_a_rule_are_allowed() {
        let prog = program(Some(SELF_EXE));
        let ruled: Vec<u32> = DENIED
            .iter()
            .map(|d| d.1)
            .chain([
                nr::CLONE3,
                nr::IOCTL,
                nr::FCNTL,
                nr::KILL,
                nr::CLONE,
                nr::SENDTO,
                nr::SOCKETPAIR,
                nr::PRLIMIT64,
                nr::EXECVEAT,
                // Refused without MFD_NOEXEC_SEAL where the kernel has it.
                nr::MEMFD_CREATE,
            ])
            .collect();
        for n in (0..=MAX_REVIEWED).filter(|n| !ruled.contains(n)) {
            assert_eq!(plain(&prog, n), RET_ALLOW, "system call {n}");
        }
    }
}
