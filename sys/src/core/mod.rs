//! `Core`: the syscall semantics, as an `abi::Handler` over any backend.
//!
//! One module per area (`fd`, `file`, `mem`, `clock`, `proc`, `thread`,
//! `poll`, `sock`), each a set of short functions that validate, check
//! rights, touch user memory through `UserSlice` and call the backend.

use abi::*;

use crate::backend::*;
use crate::path::{Path, copy_path};

mod clock;
mod fd;
pub(crate) mod file;
mod lists;
mod mem;
mod poll;
mod proc;
mod sock;
mod thread;

/// Most iovecs in one read or write (FreeBSD's `UIO_MAXIOV`, Linux's
/// `IOV_MAX`); more is `EINVAL`.
pub const IOV_MAX: u64 = 1024;

/// The syscall core bound to a backend for one call.
pub struct Core<'a, B: ?Sized> {
    b: &'a mut B,
}

impl<'a, B: Backend + ?Sized> Core<'a, B> {
    pub fn new(b: &'a mut B) -> Self {
        Core { b }
    }
}

/// Runs syscall `number` with argument registers `args` on `backend`:
/// decodes and validates the arguments, enforces CloudABI's semantics and
/// rights, and returns the two result registers or the errno.
pub fn dispatch<B: Backend + ?Sized>(
    backend: &mut B,
    number: u64,
    args: &[u64; 6],
) -> Result<[u64; 2], Errno> {
    abi::dispatch(&mut Core::new(backend), number, args)
}

/// Looks `fd` up and checks it grants `need`.
fn fd_with<B: Files + ?Sized>(b: &mut B, fd: Fd, need: Rights) -> Result<(B::File, FdInfo), Errno> {
    let (file, info) = b.fd_get(fd)?;
    crate::rights::require(&info, need)?;
    Ok((file, info))
}

/// Copies a path argument into scratch memory and runs `f` with it.
fn with_path<B: Backend + ?Sized, T>(
    b: &mut B,
    arg: UserRange<u8>,
    f: impl FnOnce(&mut B, &Path<'_>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let mut buf = b.path_buf()?;
    let path = copy_path(b, arg, buf.as_mut())?;
    f(b, &path)
}

/// Copies two path arguments (link, rename, symlink) and runs `f`.
fn with_paths<B: Backend + ?Sized, T>(
    b: &mut B,
    first: UserRange<u8>,
    second: UserRange<u8>,
    f: impl FnOnce(&mut B, &Path<'_>, &Path<'_>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    with_path(b, first, |b, p1| with_path(b, second, |b, p2| f(b, p1, p2)))
}

/// `EINVAL` for an iovec count above [`IOV_MAX`].
fn check_iovs<T>(iovs: UserRange<T>) -> Result<UserRange<T>, Errno> {
    if iovs.len > IOV_MAX { Err(Errno::INVAL) } else { Ok(iovs) }
}

/// `EINVAL` for a file offset that does not fit the native signed type.
fn check_offset(off: u64) -> Result<u64, Errno> {
    if off > i64::MAX as u64 { Err(Errno::INVAL) } else { Ok(off) }
}

impl<B: Backend + ?Sized> Handler for Core<'_, B> {
    fn clock_res_get(&mut self, a: args::ClockResGet) -> Result<Timestamp, Errno> {
        clock::res_get(self.b, a)
    }
    fn clock_time_get(&mut self, a: args::ClockTimeGet) -> Result<Timestamp, Errno> {
        clock::time_get(self.b, a)
    }
    fn condvar_signal(&mut self, a: args::CondvarSignal) -> Result<(), Errno> {
        thread::condvar_signal(self.b, a)
    }
    fn fd_close(&mut self, a: args::FdClose) -> Result<(), Errno> {
        fd::close(self.b, a)
    }
    fn fd_create1(&mut self, a: args::FdCreate1) -> Result<Fd, Errno> {
        fd::create1(self.b, a)
    }
    fn fd_create2(&mut self, a: args::FdCreate2) -> Result<(Fd, Fd), Errno> {
        fd::create2(self.b, a)
    }
    fn fd_datasync(&mut self, a: args::FdDatasync) -> Result<(), Errno> {
        fd::datasync(self.b, a)
    }
    fn fd_dup(&mut self, a: args::FdDup) -> Result<Fd, Errno> {
        fd::dup(self.b, a)
    }
    fn fd_pread(&mut self, a: args::FdPread) -> Result<u64, Errno> {
        fd::pread(self.b, a)
    }
    fn fd_pwrite(&mut self, a: args::FdPwrite) -> Result<u64, Errno> {
        fd::pwrite(self.b, a)
    }
    fn fd_read(&mut self, a: args::FdRead) -> Result<u64, Errno> {
        fd::read(self.b, a)
    }
    fn fd_replace(&mut self, a: args::FdReplace) -> Result<(), Errno> {
        fd::replace(self.b, a)
    }
    fn fd_seek(&mut self, a: args::FdSeek) -> Result<Filesize, Errno> {
        fd::seek(self.b, a)
    }
    fn fd_stat_get(&mut self, a: args::FdStatGet) -> Result<(), Errno> {
        fd::stat_get(self.b, a)
    }
    fn fd_stat_put(&mut self, a: args::FdStatPut) -> Result<(), Errno> {
        fd::stat_put(self.b, a)
    }
    fn fd_sync(&mut self, a: args::FdSync) -> Result<(), Errno> {
        fd::sync(self.b, a)
    }
    fn fd_write(&mut self, a: args::FdWrite) -> Result<u64, Errno> {
        fd::write(self.b, a)
    }
    fn file_advise(&mut self, a: args::FileAdvise) -> Result<(), Errno> {
        file::advise(self.b, a)
    }
    fn file_allocate(&mut self, a: args::FileAllocate) -> Result<(), Errno> {
        file::allocate(self.b, a)
    }
    fn file_create(&mut self, a: args::FileCreate) -> Result<(), Errno> {
        file::create(self.b, a)
    }
    fn file_link(&mut self, a: args::FileLink) -> Result<(), Errno> {
        file::link(self.b, a)
    }
    fn file_open(&mut self, a: args::FileOpen) -> Result<Fd, Errno> {
        file::open(self.b, a)
    }
    fn file_readdir(&mut self, a: args::FileReaddir) -> Result<u64, Errno> {
        file::readdir(self.b, a)
    }
    fn file_readlink(&mut self, a: args::FileReadlink) -> Result<u64, Errno> {
        file::readlink(self.b, a)
    }
    fn file_rename(&mut self, a: args::FileRename) -> Result<(), Errno> {
        file::rename(self.b, a)
    }
    fn file_stat_fget(&mut self, a: args::FileStatFget) -> Result<(), Errno> {
        file::stat_fget(self.b, a)
    }
    fn file_stat_fput(&mut self, a: args::FileStatFput) -> Result<(), Errno> {
        file::stat_fput(self.b, a)
    }
    fn file_stat_get(&mut self, a: args::FileStatGet) -> Result<(), Errno> {
        file::stat_get(self.b, a)
    }
    fn file_stat_put(&mut self, a: args::FileStatPut) -> Result<(), Errno> {
        file::stat_put(self.b, a)
    }
    fn file_symlink(&mut self, a: args::FileSymlink) -> Result<(), Errno> {
        file::symlink(self.b, a)
    }
    fn file_unlink(&mut self, a: args::FileUnlink) -> Result<(), Errno> {
        file::unlink(self.b, a)
    }
    fn lock_unlock(&mut self, a: args::LockUnlock) -> Result<(), Errno> {
        thread::lock_unlock(self.b, a)
    }
    fn mem_advise(&mut self, a: args::MemAdvise) -> Result<(), Errno> {
        mem::advise(self.b, a)
    }
    fn mem_map(&mut self, a: args::MemMap) -> Result<UserPtr<u8>, Errno> {
        mem::map(self.b, a)
    }
    fn mem_protect(&mut self, a: args::MemProtect) -> Result<(), Errno> {
        mem::protect(self.b, a)
    }
    fn mem_sync(&mut self, a: args::MemSync) -> Result<(), Errno> {
        mem::sync(self.b, a)
    }
    fn mem_unmap(&mut self, a: args::MemUnmap) -> Result<(), Errno> {
        mem::unmap(self.b, a)
    }
    fn poll(&mut self, a: args::Poll) -> Result<u64, Errno> {
        poll::poll(self.b, a)
    }
    fn proc_exec(&mut self, a: args::ProcExec) -> Result<(), Errno> {
        proc::exec(self.b, a)
    }
    fn proc_exit(&mut self, a: args::ProcExit) -> Result<core::convert::Infallible, Errno> {
        proc::exit(self.b, a)
    }
    fn proc_fork(&mut self, a: args::ProcFork) -> Result<(Fd, Tid), Errno> {
        proc::fork(self.b, a)
    }
    fn proc_raise(&mut self, a: args::ProcRaise) -> Result<(), Errno> {
        proc::raise(self.b, a)
    }
    fn random_get(&mut self, a: args::RandomGet) -> Result<(), Errno> {
        clock::random_get(self.b, a)
    }
    fn sock_recv(&mut self, a: args::SockRecv) -> Result<(), Errno> {
        sock::recv(self.b, a)
    }
    fn sock_send(&mut self, a: args::SockSend) -> Result<(), Errno> {
        sock::send(self.b, a)
    }
    fn sock_shutdown(&mut self, a: args::SockShutdown) -> Result<(), Errno> {
        sock::shutdown(self.b, a)
    }
    fn thread_create(&mut self, a: args::ThreadCreate) -> Result<Tid, Errno> {
        thread::create(self.b, a)
    }
    fn thread_exit(&mut self, a: args::ThreadExit) -> Result<core::convert::Infallible, Errno> {
        thread::exit(self.b, a)
    }
    fn thread_yield(&mut self, a: args::ThreadYield) -> Result<(), Errno> {
        thread::yield_now(self.b, a)
    }
}

pub use file::access_mode as file_access_mode;
