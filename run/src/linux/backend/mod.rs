//! The Linux implementation of the syscall core's backend traits.
//!
//! Every method performs one native operation with Linux system calls; the
//! core has already validated arguments and checked rights. Guest addresses
//! are addresses in this process, so buffers the kernel copies itself
//! (`readv`, `readlinkat`, `getrandom`, ...) are passed straight through and
//! a bad one fails with `EFAULT` in the kernel.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use abi::{Errno, Fd, Filetype};
use sys::backend::{FdInfo, FdRights, Files, PathBuffers};
use sys::user::{Fault, UserMemory};

use super::fault;
use super::fdtable::{FdTable, HostFile, Slot};

mod exec;
mod file;
mod futex;
mod inflight;
mod io;
mod misc;
mod path;
#[cfg(test)]
mod path_diff;
mod poll;
mod proc;
mod sock;
mod thread;

pub use exec::self_exe;
pub use thread::THREAD_EXITED;

/// Process-wide state of the running guest.
#[derive(Debug)]
pub struct Process {
    pub fds: RwLock<FdTable>,
    /// Whether `openat2` is available (cleared the first time it is not).
    pub openat2: AtomicBool,
}

static PROCESS: OnceLock<Process> = OnceLock::new();

/// A descriptor the program starts with.
pub struct Granted {
    pub fd: OwnedFd,
    /// A ceiling: the program gets the rights its type allows within it.
    pub rights: FdRights,
    /// The type, where the host cannot tell it (process descriptors
    /// handed on by `proc_exec`); found out with `fstat` otherwise.
    pub filetype: Option<Filetype>,
}

/// Sets up the process state; `fds[i]` becomes descriptor `i`. `inflight`
/// is the shared table of rights in flight a re-executed instance was
/// handed (a new one is made otherwise).
pub fn init(fds: Vec<Granted>, inflight: Option<OwnedFd>, opts: &super::Options) -> Result<(), String> {
    let mut table = FdTable::default();
    for (i, g) in fds.into_iter().enumerate() {
        let filetype = g.filetype.unwrap_or_else(|| classify(g.fd.as_raw_fd()));
        let rights = sys::rights::for_new_fd(filetype, g.rights);
        let file = if filetype == Filetype::PROCESS {
            HostFile::process(g.fd)
        } else {
            HostFile::new(g.fd, filetype)
        };
        table
            .insert_at(i as u32, Slot { file: Arc::new(file), rights })
            .map_err(|e| format!("descriptor {i}: {e:?}"))?;
    }
    inflight::init(inflight)?;
    exec::remember(opts)?;
    let force_manual = std::env::var_os("CLOUDABI_RUN_NO_OPENAT2").is_some();
    PROCESS
        .set(Process { fds: RwLock::new(table), openat2: AtomicBool::new(!force_manual) })
        .map_err(|_| "the process state was already set up".to_string())
}

pub fn process() -> &'static Process {
    PROCESS.get().expect("syscall before the Linux backend was initialised")
}

/// The backend: a handle on the process state for one syscall.
pub struct Linux {
    proc: &'static Process,
}

impl Linux {
    pub fn new() -> Linux {
        Linux { proc: process() }
    }

    fn table(&self) -> RwLockReadGuard<'_, FdTable> {
        self.proc.fds.read().unwrap_or_else(|e| e.into_inner())
    }

    fn table_mut(&self) -> RwLockWriteGuard<'_, FdTable> {
        self.proc.fds.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs a new host descriptor at the lowest free number.
    fn install(&self, fd: OwnedFd, filetype: Filetype, rights: FdRights) -> Result<Fd, Errno> {
        self.table_mut().insert(Slot { file: Arc::new(HostFile::new(fd, filetype)), rights })
    }
}

impl Default for Linux {
    fn default() -> Self {
        Self::new()
    }
}

/// The CloudABI errno for the calling thread's current `errno`.
pub fn last_errno() -> Errno {
    sys::errno::from_linux(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// `Ok(v)` for a non-negative system call result, the errno otherwise.
pub fn check<T: Copy + PartialOrd + Default>(r: T) -> Result<T, Errno> {
    if r < T::default() { Err(last_errno()) } else { Ok(r) }
}

/// Takes ownership of a descriptor a system call returned.
pub fn owned(r: RawFd) -> Result<OwnedFd, Errno> {
    let fd = check(r)?;
    // SAFETY: `fd` was just returned by the kernel and is owned by no one.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The CloudABI type of a host descriptor: pipes and FIFOs are stream
/// sockets, as in FreeBSD's CloudABI.
pub fn classify(fd: RawFd) -> Filetype {
    // SAFETY: fstat fills a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Filetype::UNKNOWN;
    }
    filetype_of_mode(st.st_mode, || socket_type(fd))
}

pub fn filetype_of_mode(mode: u32, sock: impl FnOnce() -> Filetype) -> Filetype {
    match mode & libc::S_IFMT {
        libc::S_IFREG => Filetype::REGULAR_FILE,
        libc::S_IFDIR => Filetype::DIRECTORY,
        libc::S_IFLNK => Filetype::SYMBOLIC_LINK,
        libc::S_IFBLK => Filetype::BLOCK_DEVICE,
        libc::S_IFCHR => Filetype::CHARACTER_DEVICE,
        libc::S_IFIFO => Filetype::SOCKET_STREAM,
        libc::S_IFSOCK => sock(),
        _ => Filetype::UNKNOWN,
    }
}

fn socket_type(fd: RawFd) -> Filetype {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: SO_TYPE writes one int.
    let r = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE, (&mut ty as *mut libc::c_int).cast(), &mut len)
    };
    match (r, ty) {
        (0, libc::SOCK_DGRAM) => Filetype::SOCKET_DGRAM,
        (0, libc::SOCK_STREAM) => Filetype::SOCKET_STREAM,
        _ => Filetype::UNKNOWN,
    }
}

impl UserMemory for Linux {
    fn copy_in(&mut self, src: u64, dst: &mut [u8]) -> Result<(), Fault> {
        fault::copy_in(src, dst).map_err(|_| Fault)
    }

    fn copy_out(&mut self, dst: u64, src: &[u8]) -> Result<(), Fault> {
        fault::copy_out(dst, src).map_err(|_| Fault)
    }
}

impl Files for Linux {
    type File = Arc<HostFile>;

    fn fd_get(&mut self, fd: Fd) -> Result<(Arc<HostFile>, FdInfo), Errno> {
        self.table().get(fd)
    }
}

impl PathBuffers for Linux {
    type PathBuf = [u8; sys::path::PATH_MAX];

    fn path_buf(&mut self) -> Result<Self::PathBuf, Errno> {
        Ok([0; sys::path::PATH_MAX])
    }
}

/// Nanoseconds since the epoch from a `timespec`, clamped to the ABI's
/// range (negative times are 0).
pub fn ns(sec: i64, nsec: i64) -> u64 {
    if sec < 0 {
        return 0;
    }
    (sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec.max(0) as u64)
}

pub fn set_openat2_unavailable() {
    process().openat2.store(false, Ordering::Relaxed);
}
