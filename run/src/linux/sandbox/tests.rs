use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::process::Command;

use super::*;
use crate::resolve::FileMode;
use crate::rights;

fn probe(landlock: Result<u32, &str>, seccomp: Result<(), &str>, inherited: Option<Option<RawFd>>) -> Probe {
    Probe { landlock: landlock.map_err(String::from), seccomp: seccomp.map_err(String::from), inherited }
}

#[test]
fn a_complete_kernel_confines_silently() {
    for policy in [Policy::BestEffort, Policy::Required] {
        assert_eq!(
            plan(policy, &probe(Ok(7), Ok(()), None)),
            Plan::Confine { landlock: Some(7), seccomp: true, warning: None }
        );
    }
}

#[test]
fn without_landlock_the_default_warns_and_sandbox_refuses() {
    let p = probe(Err("Function not implemented (os error 38)"), Ok(()), None);
    let Plan::Confine { landlock: None, seccomp: true, warning: Some(w) } = plan(Policy::BestEffort, &p)
    else {
        panic!("{:?}", plan(Policy::BestEffort, &p))
    };
    assert!(
        w.starts_with("warning: the sandbox is incomplete (no Landlock (Function not implemented"),
        "{w}"
    );
    assert!(w.contains("files can be opened, created and removed anywhere"), "{w}");
    assert!(!w.contains('\n'));
    let Plan::Refuse(m) = plan(Policy::Required, &p) else { panic!() };
    assert!(m.starts_with("--sandbox: this kernel cannot confine the program: no Landlock"), "{m}");
}

#[test]
fn without_seccomp_the_default_warns_and_sandbox_refuses() {
    let p = probe(Ok(7), Err("Invalid argument (os error 22)"), None);
    let Plan::Confine { landlock: Some(7), seccomp: false, warning: Some(w) } = plan(Policy::BestEffort, &p)
    else {
        panic!()
    };
    assert!(w.contains("no seccomp filters (Invalid argument") && w.contains("every system call"), "{w}");
    assert!(matches!(plan(Policy::Required, &p), Plan::Refuse(m) if m.contains("no seccomp filters")));
    // Neither: both named, in one line.
    let p = probe(Err("x"), Err("y"), None);
    let Plan::Confine { landlock: None, seccomp: false, warning: Some(w) } = plan(Policy::BestEffort, &p)
    else {
        panic!()
    };
    assert!(w.contains("no Landlock (x), no seccomp filters (y)"), "{w}");
    assert!(
        matches!(plan(Policy::Required, &p), Plan::Refuse(m) if m.contains("no Landlock (x), no seccomp"))
    );
}

#[test]
fn an_older_landlock_confines_with_a_warning_even_when_required() {
    let p = probe(Ok(5), Ok(()), None);
    for policy in [Policy::BestEffort, Policy::Required] {
        let Plan::Confine { landlock: Some(5), seccomp: true, warning: Some(w) } = plan(policy, &p) else {
            panic!()
        };
        assert!(w.contains("(Landlock ABI 5)") && w.contains("signals can reach other processes"), "{w}");
    }
}

#[test]
fn a_re_executed_instance_keeps_its_filter_and_stays_quiet() {
    // The inherited filter stands for seccomp, whatever the probe says,
    // and the first instance has already warned.
    let p = probe(Ok(5), Err("unused"), Some(Some(1000)));
    assert_eq!(
        plan(Policy::Required, &p),
        Plan::Confine { landlock: Some(5), seccomp: false, warning: None }
    );
    let p = probe(Err("x"), Ok(()), Some(None));
    assert_eq!(plan(Policy::BestEffort, &p), Plan::Confine { landlock: None, seccomp: false, warning: None });
    assert!(matches!(plan(Policy::Required, &p), Plan::Refuse(_)));
}

#[test]
fn the_exec_descriptor_moves_only_to_a_free_number() {
    let file = |p: &str| -> OwnedFd { fs::File::open(p).unwrap().into() };
    // A free number far above anything this test process uses.
    let fd = move_to(file("/dev/null"), 900);
    assert_eq!(fd.as_raw_fd(), 900);
    // Taken: stays where it is.
    let other = move_to(file("/dev/null"), 900);
    assert_ne!(other.as_raw_fd(), 900);
    drop(fd);
    let n = preferred_self_exe_number();
    assert!((3..=1023).contains(&n));
}

/// The environment variable that turns `live_child` on, naming its
/// scratch directory.
const LIVE: &str = "CLOUDABI_RUN_SANDBOX_LIVE_TEST";

/// Runs `live_child` in a new process of this test binary and returns what
/// it reported (`name -> result`).
fn run_live(dir: &std::path::Path) -> BTreeMap<String, String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "linux::sandbox::tests::live_child", "--nocapture", "--test-threads=1"])
        .env(LIVE, dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the sandboxed child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        // The harness may print its own text before the first report.
        .filter_map(|l| l.split_once("live: ").map(|(_, r)| r))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_sandboxed_process_cannot_escape() {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["rw", "ro"] {
        fs::create_dir(tmp.path().join(d)).unwrap();
    }
    fs::write(tmp.path().join("ro/file"), "ro").unwrap();
    fs::write(tmp.path().join("outside"), "secret").unwrap();
    let got = run_live(tmp.path());
    if let Some(why) = got.get("refused") {
        println!("skipped: the kernel cannot sandbox: {why}");
        return;
    }
    let want: &[(&str, &str)] = &[
        // Landlock: only the granted trees, read-only where granted so.
        ("openat-absolute", "EACCES"),
        ("openat-outside", "EACCES"),
        ("open-legacy", "EPERM"),
        ("ro-read", "ok"),
        ("ro-write", "EACCES"),
        ("ro-create", "EACCES"),
        ("rw-create", "ok"),
        ("rw-mkdir", "ok"),
        ("rw-rename-across", "ok"),
        ("link-ro-into-rw", "EXDEV"),
        ("exec-other", "EACCES"),
        ("kill-init", "EPERM"),
        ("kill-self", "ok"),
        // seccomp.
        ("socket-inet", "EPERM"),
        ("socketpair-unix", "ok"),
        ("connect", "EPERM"),
        ("execve", "EPERM"),
        ("ptrace", "EPERM"),
        ("ioctl-tiocsti", "EPERM"),
        ("ioctl-fionread", "ok"),
        ("int80-getpid", "EPERM"),
        ("x32-getpid", "EPERM"),
        ("clone3", "ENOSYS"),
        ("clone-newuser", "EPERM"),
        ("marker", "self-exe"),
        // What the backend needs keeps working.
        ("thread", "ok"),
        ("fork", "7"),
        // A re-executed instance of this binary starts (dynamic loader,
        // libraries, Rust runtime) inside the inherited sandbox.
        ("reexec", "0"),
        ("no-new-privs", "1"),
        // ... and that one can confine itself again and re-execute again.
        ("reexec-chain", "0"),
        ("chain-exe-number", "pinned"),
        ("chain-confine", "ok"),
        ("chain-openat-absolute", "EACCES"),
        ("chain-reexec", "0"),
    ];
    let mut wrong = Vec::new();
    for (name, expected) in want {
        let actual = got.get(*name).map_or("(missing)", String::as_str);
        if actual != *expected {
            wrong.push(format!("{name}: expected {expected} got {actual}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(!tmp.path().join("ro/new").exists());
}

fn errno_name(e: i32) -> String {
    match e {
        0 => "ok".into(),
        libc::EPERM => "EPERM".into(),
        libc::EACCES => "EACCES".into(),
        libc::ENOSYS => "ENOSYS".into(),
        libc::EXDEV => "EXDEV".into(),
        libc::ENOENT => "ENOENT".into(),
        libc::EBADF => "EBADF".into(),
        e => format!("errno{e}"),
    }
}

/// A raw system call: 0 or the errno (a descriptor it returns is closed).
fn raw(nr: libc::c_long, a: [u64; 6]) -> String {
    // SAFETY: each call below passes arguments valid for its system call.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r < 0 {
        return errno_name(io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    if matches!(nr, libc::SYS_openat | libc::SYS_socket) {
        // SAFETY: closes the descriptor just returned.
        unsafe { libc::close(r as i32) };
    }
    "ok".into()
}

fn ptr(c: &CString) -> u64 {
    c.as_ptr() as u64
}

/// `int 0x80` (the i386 ABI) with `getpid`.
fn int80_getpid() -> i64 {
    let r: i64;
    // SAFETY: i386 getpid takes no arguments and touches no memory.
    unsafe { std::arch::asm!("int 0x80", inlateout("rax") 20i64 => r, options(nostack)) };
    r
}

/// `getpid` with the x32 bit set.
fn x32_getpid() -> i64 {
    let r: i64;
    // SAFETY: getpid takes no arguments; `syscall` clobbers rcx and r11.
    unsafe {
        std::arch::asm!("syscall", inlateout("rax") 0x4000_0000i64 | 39 => r,
            out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

fn neg_errno(r: i64) -> String {
    if r < 0 { errno_name(-r as i32) } else { "ok".into() }
}

/// The sandboxed side of `a_sandboxed_process_cannot_escape`: does nothing
/// unless `LIVE` names a directory. Prints `live: <name> <result>` lines.
#[test]
fn live_child() {
    let Some(dir) = std::env::var_os(LIVE) else { return };
    let dir = std::path::PathBuf::from(dir);
    let report = |name: &str, result: &str| println!("live: {name} {result}");
    let open_dir =
        |p: &str| -> OwnedFd { fs::File::open(dir.join(p)).unwrap_or_else(|e| panic!("{p}: {e}")).into() };
    let (rw, ro) = (open_dir("rw"), open_dir("ro"));
    let exe = open_self_exe().unwrap();
    let granted = [
        (rw.as_raw_fd(), rights::for_file(FileMode::Directory)),
        (ro.as_raw_fd(), rights::for_file(FileMode::Read)),
    ];
    // Prepared before the sandbox: the re-exec's arguments.
    let me = CString::new(std::env::current_exe().unwrap().into_os_string().into_encoded_bytes()).unwrap();
    let list = c"--list".to_owned();
    match confine(&granted, Some(exe.as_raw_fd()), Policy::Required) {
        Err(Error::Refused(m)) => return report("refused", &m),
        Err(Error::Failed(m)) => panic!("{m}"),
        Ok(_) => {}
    }
    let c = |s: &str| CString::new(s).unwrap();
    let (rwfd, rofd) = (rw.as_raw_fd() as u64, ro.as_raw_fd() as u64);
    let at_fdcwd = libc::AT_FDCWD as u32 as u64;
    let rdonly = libc::O_RDONLY as u64;
    let (passwd, outside) = (c("/etc/passwd"), c("../outside"));
    report("openat-absolute", &raw(libc::SYS_openat, [at_fdcwd, ptr(&passwd), rdonly, 0, 0, 0]));
    report("openat-outside", &raw(libc::SYS_openat, [rwfd, ptr(&outside), rdonly, 0, 0, 0]));
    report("open-legacy", &raw(libc::SYS_open, [ptr(&passwd), rdonly, 0, 0, 0, 0]));
    let (file, new) = (c("file"), c("new"));
    let wronly = libc::O_WRONLY as u64;
    let create = (libc::O_CREAT | libc::O_RDWR | libc::O_TRUNC) as u64;
    report("ro-read", &raw(libc::SYS_openat, [rofd, ptr(&file), rdonly, 0, 0, 0]));
    report("ro-write", &raw(libc::SYS_openat, [rofd, ptr(&file), wronly, 0, 0, 0]));
    report("ro-create", &raw(libc::SYS_openat, [rofd, ptr(&new), create, 0o600, 0, 0]));
    report("rw-create", &raw(libc::SYS_openat, [rwfd, ptr(&new), create, 0o600, 0, 0]));
    let (d, d_new, stolen) = (c("d"), c("d/new"), c("stolen"));
    report("rw-mkdir", &raw(libc::SYS_mkdirat, [rwfd, ptr(&d), 0o700, 0, 0, 0]));
    report("rw-rename-across", &raw(libc::SYS_renameat, [rwfd, ptr(&new), rwfd, ptr(&d_new), 0, 0]));
    report("link-ro-into-rw", &raw(libc::SYS_linkat, [rofd, ptr(&file), rwfd, ptr(&stolen), 0, 0]));
    let (bin_false, empty) = (c("/bin/false"), c(""));
    let argv = [me.as_ptr(), std::ptr::null()];
    let exec_flags = libc::AT_EMPTY_PATH as u64;
    let exefd = exe.as_raw_fd() as u64;
    report(
        "exec-other",
        &raw(libc::SYS_execveat, [exefd, ptr(&bin_false), argv.as_ptr() as u64, 0, exec_flags, 0]),
    );
    report("kill-init", &raw(libc::SYS_kill, [1, 0, 0, 0, 0, 0]));
    // SAFETY: getpid has no arguments.
    let pid = unsafe { libc::getpid() } as u64;
    report("kill-self", &raw(libc::SYS_kill, [pid, 0, 0, 0, 0, 0]));
    report(
        "socket-inet",
        &raw(libc::SYS_socket, [libc::AF_INET as u64, libc::SOCK_STREAM as u64, 0, 0, 0, 0]),
    );
    let mut pair = [0i32; 2];
    let unix = [libc::AF_UNIX as u64, libc::SOCK_STREAM as u64, 0, pair.as_mut_ptr() as u64, 0, 0];
    report("socketpair-unix", &raw(libc::SYS_socketpair, unix));
    // SAFETY: a zeroed sockaddr_un is valid; connect reads it.
    let addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::sockaddr_un>() as u64;
    report("connect", &raw(libc::SYS_connect, [pair[0] as u64, &addr as *const _ as u64, size, 0, 0, 0]));
    report("execve", &raw(libc::SYS_execve, [ptr(&bin_false), argv.as_ptr() as u64, 0, 0, 0, 0]));
    report("ptrace", &raw(libc::SYS_ptrace, [0x7fff_ffff, 0, 0, 0, 0, 0]));
    report("ioctl-tiocsti", &raw(libc::SYS_ioctl, [u64::MAX, 0x5412, 0, 0, 0, 0]));
    let mut n: libc::c_int = 0;
    report(
        "ioctl-fionread",
        &raw(libc::SYS_ioctl, [pair[1] as u64, libc::FIONREAD, &mut n as *mut _ as u64, 0, 0, 0]),
    );
    report("int80-getpid", &neg_errno(int80_getpid()));
    report("x32-getpid", &neg_errno(x32_getpid()));
    report("clone3", &raw(libc::SYS_clone3, [0, 0, 0, 0, 0, 0]));
    let newuser = (libc::CLONE_NEWUSER | libc::CLONE_THREAD) as u64;
    report("clone-newuser", &raw(libc::SYS_clone, [newuser, 0, 0, 0, 0, 0]));
    report(
        "marker",
        match seccomp::inherited() {
            Some(Some(fd)) if fd == exe.as_raw_fd() => "self-exe",
            Some(_) => "wrong",
            None => "absent",
        },
    );
    let thread = std::thread::spawn(|| 6 * 7).join();
    report("thread", if matches!(thread, Ok(42)) { "ok" } else { "failed" });
    report("fork", &wait_for(fork_then(|| 7)));
    let args = [me.as_ptr(), list.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null::<libc::c_char>()];
    let exec_self = fork_then(|| {
        // SAFETY: execveat of our own executable with NULL-terminated
        // arrays prepared before the fork; returns only on failure.
        unsafe {
            libc::syscall(
                libc::SYS_execveat,
                exe.as_raw_fd(),
                empty.as_ptr(),
                args.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        100
    });
    report("reexec", &wait_for(exec_self));
    // A re-executed instance that confines itself again and re-executes
    // once more (live_grandchild).
    let chain = [
        me.as_ptr(),
        c"--exact".as_ptr(),
        c"linux::sandbox::tests::live_grandchild".as_ptr(),
        c"--nocapture".as_ptr(),
        c"--test-threads=1".as_ptr(),
        std::ptr::null(),
    ];
    let chain_env = [c"CLOUDABI_RUN_SANDBOX_LIVE_CHAIN=1".as_ptr(), std::ptr::null()];
    let exec_chain = fork_then(|| {
        // SAFETY: as above.
        unsafe {
            libc::syscall(
                libc::SYS_execveat,
                exe.as_raw_fd(),
                empty.as_ptr(),
                chain.as_ptr(),
                chain_env.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        100
    });
    report("reexec-chain", &wait_for(exec_chain));
    // SAFETY: prctl with integer arguments.
    report("no-new-privs", &unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) }.to_string());
}

/// The second generation of `live_child`: started by it through the
/// sandbox's exec rule, it finds the inherited filter, opens its own
/// executable at the number that filter allows, adds a Landlock layer and
/// re-executes once more.
#[test]
fn live_grandchild() {
    if std::env::var_os("CLOUDABI_RUN_SANDBOX_LIVE_CHAIN").is_none() {
        return;
    }
    let report = |name: &str, result: &str| println!("live: {name} {result}");
    let inherited = seccomp::inherited();
    let exe = open_self_exe().unwrap();
    report("chain-exe-number", if inherited == Some(Some(exe.as_raw_fd())) { "pinned" } else { "other" });
    let me = CString::new(std::env::current_exe().unwrap().into_os_string().into_encoded_bytes()).unwrap();
    match confine(&[], Some(exe.as_raw_fd()), Policy::Required) {
        Ok(None) => report("chain-confine", "ok"),
        other => report("chain-confine", &format!("{other:?}")),
    }
    let passwd = c"/etc/passwd".to_owned();
    let at_fdcwd = libc::AT_FDCWD as u32 as u64;
    report("chain-openat-absolute", &raw(libc::SYS_openat, [at_fdcwd, ptr(&passwd), 0, 0, 0, 0]));
    let args = [me.as_ptr(), c"--list".as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null::<libc::c_char>()];
    let exec_self = fork_then(|| {
        // SAFETY: as in live_child.
        unsafe {
            libc::syscall(
                libc::SYS_execveat,
                exe.as_raw_fd(),
                c"".as_ptr(),
                args.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        100
    });
    report("chain-reexec", &wait_for(exec_self));
}

/// Forks; the child runs `f` and exits with its result. Returns the pid.
fn fork_then(f: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only makes system calls and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = f();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// The exit status of child `pid` (or how it ended otherwise).
fn wait_for(pid: libc::pid_t) -> String {
    if pid < 0 {
        return format!("fork failed: {}", io::Error::last_os_error());
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return format!("waitpid: {}", io::Error::last_os_error());
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status).to_string()
    } else {
        format!("signal {}", libc::WTERMSIG(status))
    }
}
