//! The Linux backend: runs a CloudABI executable inside this process,
//! through the `sys` syscall core.
//!
//! `launch` checks and loads the executable, maps the vDSO (whose trap is a
//! call into `arch::cloudabi_linux_entry`), builds the stack, auxiliary
//! vector and TCB exactly as the FreeBSD module would, sets up the
//! descriptor table and jumps to the program. Each syscall then arrives in
//! [`cloudabi_linux_dispatch`] with the host's `%fs` switched back in, and
//! goes through `sys::dispatch` to [`backend::Linux`].

#[cfg(target_arch = "x86_64")]
mod arch;
#[cfg(target_arch = "aarch64")]
#[path = "arch_aarch64.rs"]
mod arch;
mod backend;

pub use backend::self_exe;
pub(crate) mod elf;
mod fastpath;
mod fault;
mod fdtable;
mod guestmem;
#[cfg(target_arch = "x86_64")]
mod hostvdso;
mod image;
mod loader;
pub mod reexec;
pub mod sandbox;
mod supervise;
pub use supervise::supervise;
#[cfg(target_arch = "x86_64")]
mod thread;
#[cfg(target_arch = "aarch64")]
#[path = "thread_aarch64.rs"]
mod thread;
pub(crate) mod trace;
mod vdso;

use std::convert::Infallible;
use std::fmt;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use sys::backend::FdRights;

/// How to run the program.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Print one line per syscall to standard error.
    pub trace: bool,
    /// Confine the guest's raw Linux system calls (`sandbox::apply`), and
    /// how insistently; `None`: `--no-sandbox`.
    pub sandbox: Option<sandbox::Policy>,
}

/// Why a program could not be started.
#[derive(Debug)]
pub enum LaunchError {
    /// The file is not a CloudABI executable this backend can run (the
    /// message says what is wrong with it).
    NotExecutable(String),
    /// This backend cannot run here (wrong architecture or kernel).
    Unsupported(String),
    /// Setting up the process failed.
    Setup(String),
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::NotExecutable(m) | LaunchError::Unsupported(m) | LaunchError::Setup(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for LaunchError {}

/// The thread id of the initial thread (the lock protocol reserves 0 and
/// 1; ids must fit in 30 bits).
pub const MAIN_TID: u32 = 2;

/// Runs `exe` with argument data `argdata`; `fds[i]` becomes the program's
/// descriptor `i`, with the maximum rights for its type limited to the
/// ceiling given with it, and whether cloudabi-run created its open file
/// description (`backend::Granted::private`). Returns only if the program could not be started: once
/// it runs, its `proc_exit` ends this process with its exit code, and a
/// fatal signal kills this process with that signal.
pub fn launch(
    exe: File,
    argdata: Vec<u8>,
    fds: Vec<(OwnedFd, FdRights, bool)>,
    opts: &Options,
) -> Result<Infallible, LaunchError> {
    let granted = fds
        .into_iter()
        .map(|(fd, ceiling, private)| backend::Granted { fd, rights: ceiling, filetype: None, private })
        .collect();
    start(exe, argdata, granted, opts)
}

/// What a program is started with after `proc_exec` (see `reexec`): the
/// descriptors with their exact rights and types.
fn start(
    exe: File,
    argdata: Vec<u8>,
    fds: Vec<backend::Granted>,
    opts: &Options,
) -> Result<Infallible, LaunchError> {
    if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        return Err(LaunchError::Unsupported(
            "the Linux backend runs on x86-64 and aarch64 hosts only".into(),
        ));
    }
    let data = read_from_start(exe.as_fd())
        .map_err(|e| LaunchError::Setup(format!("reading the executable: {e}")))?;
    let img = elf::parse(&data).map_err(|e| LaunchError::NotExecutable(e.0))?;
    elf::check_executable(&img, elf::EM_HOST).map_err(|e| LaunchError::NotExecutable(e.0))?;
    let loaded = loader::load(&img).map_err(LaunchError::Setup)?;
    drop(data);

    fault::install();
    fault::alt_stack().map_err(|e| LaunchError::Setup(format!("signal stack: {e}")))?;
    let ctx = thread::attach(MAIN_TID).map_err(|e| LaunchError::Setup(format!("thread context: {e}")))?;
    let vdso = vdso::map(thread::syscall_entry()).map_err(LaunchError::Setup)?;
    trace::enable(opts.trace);
    enable_clock_fast_path(opts);
    fastpath::enable(opts.trace);
    let ncpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let facts = image::Facts { ncpus, tid: MAIN_TID, vdso, tcb_parent: ctx.self_addr };
    let start = image::build(&argdata, &loaded, &facts).map_err(LaunchError::Setup)?;
    let granted: Vec<(RawFd, FdRights)> = fds.iter().map(|g| (g.fd.as_raw_fd(), g.rights)).collect();
    backend::init(fds, opts).map_err(LaunchError::Setup)?;
    if let Some(policy) = opts.sandbox {
        sandbox::apply(&granted, policy).map_err(|e| match e {
            sandbox::Error::Refused(m) => LaunchError::Unsupported(m),
            sandbox::Error::Failed(m) => LaunchError::Setup(m),
        })?;
    }
    fault::reset_signals();
    backend::register_initial();
    // SAFETY: the image is loaded, the stack and TLS slot are laid out per
    // the CloudABI convention and this thread's context is attached.
    let value = unsafe { thread::run_guest(loaded.entry, start.rsp, start.auxv, 0, start.fs) };
    if value == backend::THREAD_EXITED {
        // The initial thread ended while others run on: this host thread
        // waits until none runs guest code any more (backend::linger).
        backend::linger();
    }
    // The guest only leaves through proc_exit or thread_exit.
    Err(LaunchError::Setup(format!("the program's initial thread returned ({value})")))
}

/// The whole file, from its first byte whatever its offset (a descriptor
/// handed on by `proc_exec` may have been read from).
pub(crate) fn read_from_start(f: std::os::fd::BorrowedFd<'_>) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: pread into our buffer at the current end of `data`.
        let n = unsafe {
            libc::pread(f.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), data.len() as libc::off_t)
        };
        match n {
            0 => return Ok(data),
            n if n > 0 => data.extend_from_slice(&buf[..n as usize]),
            _ => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Lets the entry code answer `clock_time_get` through Linux's vDSO
/// without switching `%fs` (see `arch.rs`), unless every call must reach
/// the dispatcher (`--trace`) or `CLOUDABI_RUN_NO_FAST_CLOCK` is set
/// (tests of the normal path, benchmarks). x86-64 only: the aarch64 entry
/// takes every call to the dispatcher.
#[cfg(not(target_arch = "x86_64"))]
fn enable_clock_fast_path(_: &Options) {}

#[cfg(target_arch = "x86_64")]
fn enable_clock_fast_path(opts: &Options) {
    if opts.trace || std::env::var_os("CLOUDABI_RUN_NO_FAST_CLOCK").is_some() {
        return;
    }
    if let Some(f) = hostvdso::symbol("__vdso_clock_gettime") {
        arch::cloudabi_linux_vdso_clock_gettime.store(f, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Called by the syscall entry code on the host stack with the host's
/// `%fs`: runs syscall `nr`, stores the result registers in `out` and
/// returns 0, or returns the errno.
#[unsafe(no_mangle)]
extern "C" fn cloudabi_linux_dispatch(nr: u64, args: *const [u64; 6], out: *mut [u64; 2]) -> u64 {
    // SAFETY: the entry code passes pointers into its own stack frame.
    let (args, out) = unsafe { (&*args, &mut *out) };
    if let Some(code) = fastpath::finish_deferred(nr, out) {
        return code;
    }
    let mut b = backend::Linux::new();
    let result = if trace::enabled() { traced(&mut b, nr, args) } else { sys::dispatch(&mut b, nr, args) };
    match result {
        Ok(r) => {
            *out = r;
            0
        }
        Err(e) => u64::from(e.raw()),
    }
}

/// `sys::dispatch` with a trace line (`--trace`). Calls that do not return
/// (`proc_exit`, `thread_exit`, a successful `proc_exec`) are shown before
/// they run.
fn traced(b: &mut backend::Linux, nr: u64, args: &[u64; 6]) -> Result<[u64; 2], abi::Errno> {
    let tid = thread::current_tid();
    let call = trace::call(nr, args);
    let noreturn =
        abi::SyscallDesc::by_number(nr).is_some_and(|d| d.noreturn || d.number == abi::nr::PROC_EXEC);
    if noreturn {
        trace::line(tid, &format!("{call} ..."));
    }
    let result = sys::dispatch(b, nr, args);
    trace::line(tid, &format!("{call}{}", trace::result(nr, args, &result)));
    result
}
