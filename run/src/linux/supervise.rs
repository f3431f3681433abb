//! The program's death, reported: the cloudabi-run the user started stays
//! as a small supervisor, and the program runs in a child process.
//!
//! The Linux backend runs the program inside a cloudabi-run process, so a
//! fatal signal would kill cloudabi-run silently. Instead, `launch` forks
//! once, before anything of the program is loaded: the child becomes the
//! program (and everything `proc_fork`/`proc_exec` does happens beneath
//! it, unchanged: a CloudABI parent still sees its children die by
//! signals), and the parent waits for it. When the program exits, the
//! supervisor exits with the same status; when a signal kills it, the
//! supervisor prints one line to standard error, the signal's name, the
//! faulting address for `SIGSEGV`/`SIGBUS` (the fault handler leaves it in
//! a page the two share) and the program, and exits with 128 + the signal
//! number, as shells report a death by signal.
//!
//! The supervisor keeps only standard error: every other descriptor is
//! closed, so the program's closing a pipe or socket is seen by its peer
//! as before. Signals sent to cloudabi-run itself (`kill`, a terminal's
//! `SIGINT`, a service manager's `SIGTERM`) are passed on to the program;
//! if the supervisor is killed outright (`SIGKILL`), the program is killed
//! with it (`PR_SET_PDEATHSIG`).

use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};

use super::LaunchError;

/// What the fault handler leaves for the supervisor.
#[repr(C)]
pub struct FaultNote {
    /// The host process that faulted (0: none yet).
    pid: AtomicI32,
    sig: AtomicI32,
    addr: AtomicU64,
}

static NOTE: AtomicPtr<FaultNote> = AtomicPtr::new(std::ptr::null_mut());
static CHILD: AtomicI32 = AtomicI32::new(0);

/// Called by the fault handler (no TLS, no allocation): records a real
/// fault of this process before it dies of it.
pub fn note_fault(pid: i32, sig: i32, addr: u64) {
    let p = NOTE.load(Ordering::Relaxed);
    if p.is_null() {
        return;
    }
    // SAFETY: the page is mapped for the life of the process (never
    // unmapped) and only accessed through atomics.
    let n = unsafe { &*p };
    n.sig.store(sig, Ordering::Relaxed);
    n.addr.store(addr, Ordering::Relaxed);
    n.pid.store(pid, Ordering::Release);
}

/// The signals the supervisor passes on to the program.
const FORWARDED: [i32; 7] =
    [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGUSR1, libc::SIGUSR2, libc::SIGALRM];

fn set_forwarding(on: bool) {
    for sig in FORWARDED {
        // SAFETY: installs an async-signal-safe handler (one kill call), or
        // the default action.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = if on { forward as *const () as usize } else { libc::SIG_DFL };
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Forks the supervisor. Returns in the child (which goes on to run the
/// program); the parent never returns.
pub fn supervise(program: &Path) -> Result<(), LaunchError> {
    let size = std::mem::size_of::<FaultNote>();
    // SAFETY: a fresh shared anonymous mapping (zeroed: no fault noted),
    // inherited by the child.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return Err(LaunchError::Setup(format!("supervisor: {}", std::io::Error::last_os_error())));
    }
    NOTE.store(page.cast(), Ordering::Relaxed);
    // SAFETY: getpid has no arguments.
    let parent = unsafe { libc::getpid() };
    // Forwarding is on before the fork, so that no signal sent to
    // cloudabi-run once the program may run is lost; until CHILD is set
    // the handler does nothing, and the child restores the defaults.
    set_forwarding(true);
    // SAFETY: cloudabi-run is single-threaded here (nothing of the program
    // has started); the child only continues the launch.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        set_forwarding(false);
        return Err(LaunchError::Setup(format!("supervisor: fork: {e}")));
    }
    if pid == 0 {
        set_forwarding(false);
        // SAFETY: prctl and getppid with plain integer arguments.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
        }
        return Ok(());
    }
    CHILD.store(pid, Ordering::Relaxed);
    // SAFETY: page points at our zeroed, shared FaultNote.
    let note = unsafe { &*(page as *const FaultNote) };
    let status = wait_for(pid);
    std::process::exit(report(program, status, note, pid));
}

/// Closes what the supervisor does not need, passes signals on, and waits
/// for `pid`; its wait status.
fn wait_for(pid: i32) -> i32 {
    // SAFETY: closing descriptors this process owns; only standard error
    // is kept (the child has its own copies of everything).
    unsafe {
        libc::close(0);
        libc::close(1);
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
    }
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return status;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            // Cannot happen for our own child; report it as a failure.
            return 1 << 8;
        }
    }
}

extern "C" fn forward(sig: i32) {
    let child = CHILD.load(Ordering::Relaxed);
    if child > 0 {
        // SAFETY: kill is async-signal-safe; the child is ours.
        unsafe { libc::kill(child, sig) };
    }
}

/// The supervisor's exit status for wait status `status`, after printing
/// the line for a death by signal.
fn report(program: &Path, status: i32, note: &FaultNote, pid: i32) -> i32 {
    if libc::WIFEXITED(status) {
        return libc::WEXITSTATUS(status);
    }
    if !libc::WIFSIGNALED(status) {
        return 1;
    }
    let sig = libc::WTERMSIG(status);
    let fault = (note.pid.load(Ordering::Acquire) == pid && note.sig.load(Ordering::Relaxed) == sig)
        .then(|| note.addr.load(Ordering::Relaxed));
    eprintln!("{}", line(program, sig, fault));
    128 + sig
}

/// `cloudabi-run: PROGRAM: killed by SIGSEGV (fault address 0x10)`.
pub fn line(program: &Path, sig: i32, fault: Option<u64>) -> String {
    let name = signal_name(sig);
    match fault {
        Some(a) => format!("cloudabi-run: {}: killed by {name} (fault address {a:#x})", program.display()),
        None => format!("cloudabi-run: {}: killed by {name}", program.display()),
    }
}

/// The name of Linux signal `sig` (`SIGSEGV`), or `signal N`.
fn signal_name(sig: i32) -> String {
    sys::signal::LINUX
        .iter()
        .find(|(_, n, _)| *n == sig)
        .map_or_else(|| format!("signal {sig}"), |(name, _, _)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_the_signal_the_address_and_the_program() {
        let p = Path::new("./prog");
        assert_eq!(
            line(p, libc::SIGSEGV, Some(0x10)),
            "cloudabi-run: ./prog: killed by SIGSEGV (fault address 0x10)"
        );
        assert_eq!(line(p, libc::SIGABRT, None), "cloudabi-run: ./prog: killed by SIGABRT");
        assert_eq!(line(p, 64, None), "cloudabi-run: ./prog: killed by signal 64");
    }
}
