//! `proc_exec`: the program is replaced by re-executing cloudabi-run itself
//! (`execveat` on a descriptor of its own executable opened at start-up),
//! handing the new instance the new executable, the argument data, the
//! listed descriptors with their rights and types, and the shared table of
//! rights in flight, through inherited descriptors described in one
//! environment variable (see `crate::linux::reexec`). As with a kernel's
//! exec, every other thread ends, every other descriptor closes (they are
//! all close-on-exec), and the process id stays.
//!
//! The new executable is checked before anything is torn down, so that an
//! executable that is not CloudABI's fails the call (`ENOEXEC`) while the
//! old program can still be told.

use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, OnceLock};

use abi::*;
use sys::backend::FdList;

use super::{Linux, last_errno, owned};
use crate::linux::fdtable::HostFile;
use crate::linux::{Options, elf, reexec};

/// What a re-exec needs to know about this instance.
struct Remembered {
    self_exe: OwnedFd,
    options: Options,
}

static REMEMBERED: OnceLock<Remembered> = OnceLock::new();

/// Opens cloudabi-run's own executable (before any sandbox is applied) and
/// keeps the options for re-executed instances.
pub fn remember(opts: &Options) -> Result<(), String> {
    // At the number an inherited sandbox allows re-executing (see
    // `sandbox::open_self_exe`).
    let self_exe = crate::linux::sandbox::open_self_exe()?;
    let _ = REMEMBERED.set(Remembered { self_exe, options: opts.clone() });
    Ok(())
}

/// The descriptor of cloudabi-run's own executable (for the sandbox,
/// which must allow exactly this re-exec).
pub fn self_exe() -> Option<RawFd> {
    REMEMBERED.get().map(|r| r.self_exe.as_raw_fd())
}

/// Largest executable `proc_exec` reads to check it.
const MAX_EXE: u64 = 1 << 30;

/// The executable's contents, refusing anything larger than [`MAX_EXE`].
fn read_whole(exe: &HostFile) -> Result<Vec<u8>, Errno> {
    // SAFETY: fstat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(exe.raw(), &mut st) } != 0 {
        return Err(last_errno());
    }
    if st.st_size as u64 > MAX_EXE {
        return Err(Errno::NOEXEC);
    }
    crate::linux::read_from_start(exe.fd.as_fd()).map_err(io_errno)
}

fn io_errno(e: std::io::Error) -> Errno {
    sys::errno::from_linux(e.raw_os_error().unwrap_or(0))
}

/// A copy of `fd` that survives the exec.
fn inheritable(fd: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: F_DUPFD without FD_CLOEXEC makes a new descriptor we own.
    owned(unsafe { libc::fcntl(fd, libc::F_DUPFD, 3) })
}

fn memfd_with(data: &[u8]) -> Result<OwnedFd, Errno> {
    // SAFETY: memfd_create with a static name, without close-on-exec.
    let fd = owned(unsafe { libc::memfd_create(c"cloudabi-argdata".as_ptr(), super::memfd_noexec()) })?;
    let mut done = 0;
    while done < data.len() {
        // SAFETY: write from the rest of `data`.
        let n = unsafe { libc::write(fd.as_raw_fd(), data[done..].as_ptr().cast(), data.len() - done) };
        if n < 0 {
            return Err(last_errno());
        }
        done += n as usize;
    }
    Ok(fd)
}

pub fn exec(
    b: &mut Linux,
    exe: &Arc<HostFile>,
    data: UserRange<u8>,
    fds: &mut dyn FdList<Arc<HostFile>>,
) -> Result<Infallible, Errno> {
    let remembered = REMEMBERED.get().ok_or(Errno::NOSYS)?;
    let image = read_whole(exe)?;
    let img = elf::parse(&image).map_err(|_| Errno::NOEXEC)?;
    elf::check_executable(&img, elf::EM_HOST).map_err(|_| Errno::NOEXEC)?;
    drop(image);

    let mut argdata = vec![0u8; data.len as usize];
    sys::user::UserSlice::of_range(data)?.reader().read_bytes(b, &mut argdata)?;

    // Everything the new instance gets, as descriptors that survive exec;
    // they close again (dropped) if the exec fails.
    let mut keep: Vec<OwnedFd> = Vec::new();
    let mut spec = reexec::Spec::default();
    let exe_fd = inheritable(exe.raw())?;
    spec.exe = exe_fd.as_raw_fd();
    keep.push(exe_fd);
    let arg_fd = memfd_with(&argdata)?;
    spec.argdata = arg_fd.as_raw_fd();
    keep.push(arg_fd);
    while let Some((_, file, info)) = fds.next(b)? {
        let fd = inheritable(file.raw())?;
        spec.fds.push(reexec::SpecFd { fd: fd.as_raw_fd(), filetype: info.filetype, rights: info.rights });
        keep.push(fd);
    }
    spec.trace = remembered.options.trace;
    spec.sandbox = remembered.options.sandbox;

    let var = CString::new(format!("{}={}", reexec::VAR, spec.encode())).map_err(|_| Errno::INVAL)?;
    let mut env: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| k != reexec::VAR)
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).ok()
        })
        .collect();
    env.push(var);
    let envp: Vec<*const libc::c_char> =
        env.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    let argv: [*const libc::c_char; 2] = [c"cloudabi-run".as_ptr(), std::ptr::null()];
    // SAFETY: execveat of our own executable (a descriptor opened at
    // start-up) with NULL-terminated argument and environment arrays that
    // live across the call; it only returns on failure.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            remembered.self_exe.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    let e = last_errno();
    drop(keep);
    Err(e)
}
