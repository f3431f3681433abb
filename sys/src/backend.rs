//! What a backend supplies: the native operations.
//!
//! The syscall core has already decoded and validated the arguments,
//! checked the rights on every descriptor involved, copied paths in and
//! turned user structures into the typed values below before any of these
//! methods runs. A backend only performs the operation with its kernel's
//! means (FreeBSD: `kern_*` functions; Linux: system calls) and converts
//! native errors with [`crate::errno`].
//!
//! Descriptors reach a backend as a [`Files::File`] handle obtained from
//! [`Files::fd_get`] at the start of the syscall, so a concurrent
//! `fd_close` + reopen of the same number cannot redirect an operation to a
//! file whose rights were never checked. User buffers that the native
//! operation copies itself (`readv`, `readlink`, ...) are passed as
//! [`UserRange`]s; such native copies must fail with `EFAULT`, never fault.

use abi::*;

use crate::path::Path;
use crate::user::UserMemory;

/// Rights of a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdRights {
    /// What may be done with the descriptor itself.
    pub base: Rights,
    /// The most that descriptors derived from it (by `file_open`) may get.
    pub inheriting: Rights,
}

impl FdRights {
    pub const NONE: FdRights = FdRights { base: Rights::EMPTY, inheriting: Rights::EMPTY };

    /// True if `self` grants nothing beyond `other`.
    pub fn within(self, other: FdRights) -> bool {
        other.base.contains(self.base) && other.inheriting.contains(self.inheriting)
    }
}

/// What the core needs to know about an open descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdInfo {
    pub filetype: Filetype,
    pub rights: FdRights,
}

/// A timestamp update for `file_stat_fput` / `file_stat_put`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTime {
    /// Leave the timestamp unchanged.
    Keep,
    /// Set it to the current time of the realtime clock.
    Now,
    /// Set it to this many nanoseconds since the epoch.
    To(u64),
}

/// File attributes, as a backend reports them. Times before the epoch are
/// reported as 0 and times beyond `u64` nanoseconds as `u64::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: Filetype,
    pub nlink: u32,
    pub size: u64,
    /// Nanoseconds since the epoch.
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

/// One directory entry produced by `file_readdir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    /// Cookie of the entry that follows this one.
    pub next: Dircookie,
    pub ino: Inode,
    pub filetype: Filetype,
    pub name: &'a [u8],
}

/// Receives directory entries; implemented by the core (it packs them into
/// the caller's buffer).
pub trait DirSink {
    /// Takes one entry; returns `false` when no more are wanted.
    fn entry(&mut self, mem: &mut dyn UserMemory, e: DirEntry<'_>) -> Result<bool, Errno>;
}

/// Access to the descriptor table.
pub trait Files: UserMemory {
    /// A reference to an open file, held for the duration of one syscall.
    type File;

    /// Looks up a descriptor: its file and what it is. `EBADF` if not open.
    fn fd_get(&mut self, fd: Fd) -> Result<(Self::File, FdInfo), Errno>;
}

/// Scratch memory for path arguments (each syscall needs at most two).
pub trait PathBuffers {
    /// Room for a path of `PATH_MAX` bytes.
    type PathBuf: AsMut<[u8]>;

    fn path_buf(&mut self) -> Result<Self::PathBuf, Errno>;
}

/// Descriptor operations.
pub trait FdOps: Files {
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno>;
    /// A new descriptor for the same file, with the same rights.
    fn fd_dup(&mut self, file: &Self::File, info: FdInfo) -> Result<Fd, Errno>;
    /// Makes `to` (which must be open: `EBADF` otherwise) refer to `file`,
    /// with `info`'s rights.
    fn fd_replace(&mut self, file: &Self::File, info: FdInfo, to: Fd) -> Result<(), Errno>;
    fn fd_flags(&mut self, file: &Self::File) -> Result<Fdflags, Errno>;
    fn fd_set_flags(&mut self, file: &Self::File, flags: Fdflags) -> Result<(), Errno>;
    /// Narrows the rights of `fd` (the core checked they only shrink).
    fn fd_set_rights(&mut self, fd: Fd, file: &Self::File, rights: FdRights) -> Result<(), Errno>;
    /// An anonymous shared memory object.
    fn fd_create_shm(&mut self, rights: FdRights) -> Result<Fd, Errno>;
    /// A connected pair of UNIX sockets of type `socket_dgram` or
    /// `socket_stream`.
    fn fd_create_socketpair(&mut self, ty: Filetype, rights: FdRights) -> Result<(Fd, Fd), Errno>;
    /// `readv`, or `preadv` at `offset`.
    fn fd_read(
        &mut self,
        file: &Self::File,
        iovs: UserRange<Iovec>,
        offset: Option<u64>,
    ) -> Result<u64, Errno>;
    /// `writev`, or `pwritev` at `offset`.
    fn fd_write(
        &mut self,
        file: &Self::File,
        iovs: UserRange<Ciovec>,
        offset: Option<u64>,
    ) -> Result<u64, Errno>;
    fn fd_seek(&mut self, file: &Self::File, offset: i64, whence: Whence) -> Result<u64, Errno>;
    /// `fsync`, or `fdatasync` when `data_only`.
    fn fd_sync(&mut self, file: &Self::File, data_only: bool) -> Result<(), Errno>;
}

/// Operations on open files.
pub trait FileOps: Files {
    fn file_advise(&mut self, file: &Self::File, offset: u64, len: u64, advice: Advice) -> Result<(), Errno>;
    fn file_allocate(&mut self, file: &Self::File, offset: u64, len: u64) -> Result<(), Errno>;
    fn file_stat(&mut self, file: &Self::File) -> Result<FileStat, Errno>;
    fn file_truncate(&mut self, file: &Self::File, size: u64) -> Result<(), Errno>;
    fn file_set_times(&mut self, file: &Self::File, atim: SetTime, mtim: SetTime) -> Result<(), Errno>;
    /// Produces entries starting at `cookie` until the sink declines or the
    /// directory ends.
    fn file_readdir(
        &mut self,
        file: &Self::File,
        cookie: Dircookie,
        sink: &mut dyn DirSink,
    ) -> Result<(), Errno>;
}

/// Operations on paths, each resolved beneath a directory: an absolute
/// path, `..` above the directory or a symbolic link leading out of it must
/// fail with `ENOTCAPABLE`. `follow` says whether a symbolic link as the
/// final component is followed.
pub trait PathOps: Files {
    /// Opens a file. `rights` are what the caller asked for (already checked
    /// against the directory's inheriting rights); the backend gives the new
    /// descriptor `crate::rights::for_new_fd(filetype, rights)` once it knows
    /// what it opened.
    fn path_open(
        &mut self,
        dir: &Self::File,
        path: &Path<'_>,
        follow: bool,
        oflags: Oflags,
        fdflags: Fdflags,
        rights: FdRights,
    ) -> Result<Fd, Errno>;
    fn path_mkdir(&mut self, dir: &Self::File, path: &Path<'_>) -> Result<(), Errno>;
    #[allow(clippy::too_many_arguments)]
    fn path_link(
        &mut self,
        dir1: &Self::File,
        path1: &Path<'_>,
        follow: bool,
        dir2: &Self::File,
        path2: &Path<'_>,
    ) -> Result<(), Errno>;
    /// Stores the link's target in `buf` (cut off if it does not fit);
    /// returns the bytes stored.
    fn path_readlink(&mut self, dir: &Self::File, path: &Path<'_>, buf: UserRange<u8>) -> Result<u64, Errno>;
    fn path_rename(
        &mut self,
        dir1: &Self::File,
        path1: &Path<'_>,
        dir2: &Self::File,
        path2: &Path<'_>,
    ) -> Result<(), Errno>;
    fn path_stat(&mut self, dir: &Self::File, path: &Path<'_>, follow: bool) -> Result<FileStat, Errno>;
    fn path_set_times(
        &mut self,
        dir: &Self::File,
        path: &Path<'_>,
        follow: bool,
        atim: SetTime,
        mtim: SetTime,
    ) -> Result<(), Errno>;
    /// Creates a symbolic link at `path` holding `target`.
    fn path_symlink(&mut self, target: &Path<'_>, dir: &Self::File, path: &Path<'_>) -> Result<(), Errno>;
    /// Removes a directory (`removedir`) or any other file.
    fn path_unlink(&mut self, dir: &Self::File, path: &Path<'_>, removedir: bool) -> Result<(), Errno>;
}

/// Memory mappings. Addresses and lengths are as the caller gave them.
pub trait MemOps: Files {
    /// Maps anonymous memory (`file` is `None`) or `file` at `offset`. The
    /// core has checked W^X and the flag combinations.
    fn mem_map(
        &mut self,
        addr: u64,
        len: u64,
        prot: Mprot,
        flags: Mflags,
        file: Option<&Self::File>,
        offset: u64,
    ) -> Result<u64, Errno>;
    fn mem_protect(&mut self, addr: u64, len: u64, prot: Mprot) -> Result<(), Errno>;
    fn mem_advise(&mut self, addr: u64, len: u64, advice: Advice) -> Result<(), Errno>;
    fn mem_sync(&mut self, addr: u64, len: u64, flags: Msflags) -> Result<(), Errno>;
    fn mem_unmap(&mut self, addr: u64, len: u64) -> Result<(), Errno>;
}

/// Clocks and randomness.
pub trait ClockOps {
    /// Resolution of a clock in nanoseconds.
    fn clock_res(&mut self, id: Clockid) -> Result<u64, Errno>;
    /// Current value of a clock in nanoseconds.
    fn clock_time(&mut self, id: Clockid, precision: u64) -> Result<u64, Errno>;
    /// Fills the user buffer with random bytes.
    fn random_fill(&mut self, buf: UserRange<u8>) -> Result<(), Errno>;
}

/// A list of descriptors read from user memory as it is consumed (for
/// `proc_exec` and `sock_send`). Each entry has been looked up; a closed
/// one ends the iteration with `EBADF`.
pub trait FdList<F> {
    /// Number of entries in the list.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The next descriptor, or `None` at the end.
    fn next(&mut self, files: &mut dyn FdLookup<F>) -> Result<Option<(Fd, F, FdInfo)>, Errno>;
}

/// `Files::fd_get` as an object, so lists can look descriptors up while a
/// backend method holds the backend.
pub trait FdLookup<F>: UserMemory {
    fn lookup_fd(&mut self, fd: Fd) -> Result<(F, FdInfo), Errno>;
}

impl<B: Files> FdLookup<B::File> for B {
    fn lookup_fd(&mut self, fd: Fd) -> Result<(B::File, FdInfo), Errno> {
        self.fd_get(fd)
    }
}

/// Processes.
pub trait ProcOps: Files {
    /// Replaces the process image with the executable `exe`. `data` is the
    /// argument data for the new image; `fds` lists the descriptors the new
    /// image gets, in order (renumbered 0..n-1). Returns only on failure.
    fn proc_exec(
        &mut self,
        exe: &Self::File,
        data: UserRange<u8>,
        fds: &mut dyn FdList<Self::File>,
    ) -> Result<core::convert::Infallible, Errno>;
    fn proc_exit(&mut self, code: u32) -> !;
    /// Forks the calling thread into a new process. The parent gets a
    /// process descriptor with `rights` and an unspecified thread id; the
    /// child gets `Fd::PROCESS_CHILD` and the id of its only thread.
    fn proc_fork(&mut self, rights: FdRights) -> Result<(Fd, Tid), Errno>;
    /// Sends `sig` to the calling process.
    fn proc_raise(&mut self, sig: Signal) -> Result<(), Errno>;
}

/// Validated thread attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadAttr {
    pub entry_point: u64,
    pub stack: u64,
    pub stack_len: u64,
    pub argument: u64,
}

/// Threads.
pub trait ThreadOps {
    fn thread_create(&mut self, attr: ThreadAttr) -> Result<Tid, Errno>;
    /// Ends the calling thread (the core has already released its join
    /// lock); the last thread to end ends the process with status 0.
    fn thread_exit(&mut self) -> !;
    fn thread_yield(&mut self) -> Result<(), Errno>;
}

/// A timeout from a clock subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub clock: Clockid,
    /// Nanoseconds: absolute on `clock` if `absolute`, else from now.
    pub timeout: u64,
    pub precision: u64,
    pub absolute: bool,
}

/// How a sleep in a wait queue ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Dequeued by `queue_wake`.
    Woken,
    /// The deadline passed (the caller may still have been woken in the
    /// meantime: `queue_remove` decides).
    TimedOut,
}

/// What a sleeping thread waits for (backends may treat an interruption
/// differently: see kmod's `futex.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sleeper {
    Lock,
    Condvar,
}

/// An absolute deadline for a wait, on `MONOTONIC` or `REALTIME`
/// (`sys::sync::until` converts every other timeout into one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitUntil {
    pub clock: Clockid,
    /// Nanoseconds since the clock's epoch.
    pub at: u64,
}

/// Wait queues keyed by a 32-bit word in user memory (its address and
/// scope): the native primitive `sys::sync` builds CloudABI's locks and
/// condition variables on, with exact accounting of who waits. Words of
/// `Scope::SHARED` may lie in memory several processes map; their queues
/// must then be the same for all of them. Addresses are 4-byte aligned
/// (checked by the caller).
///
/// The model is FreeBSD's umtx queue (`sys/kern/kern_umtx.c`, as its
/// `do_cv_wait` uses it): a FIFO of waiting threads per key, a per-key
/// lock (`umtxq_busy`) under which the word and the queue are changed
/// together, and a per-thread membership that only a wakeup or the thread
/// itself ends. A thread is in at most one queue, and holds at most one
/// queue lock, at a time; `queue_*` methods other than `queue_lock` and
/// `queue_sleep` are called with the key's lock held.
pub trait FutexOps {
    /// The calling thread's CloudABI thread id (2 ..= 2³⁰ − 1).
    fn current_tid(&mut self) -> Tid;
    /// Atomically replaces the word at `addr` with `new` if it holds
    /// `old`; returns the value it held. `EFAULT` if it cannot be accessed.
    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno>;
    /// Takes the lock of the queue of `(addr, scope)`. May sleep; user
    /// memory may be accessed while it is held.
    fn queue_lock(&mut self, addr: u64, scope: Scope) -> Result<(), Errno>;
    fn queue_unlock(&mut self, addr: u64, scope: Scope);
    /// Adds the calling thread at the tail of the queue. Fails (and adds
    /// nothing) when the backend's accounting is full.
    fn queue_insert(&mut self, addr: u64, scope: Scope) -> Result<(), Errno>;
    /// Ends the calling thread's membership after `queue_insert`: `true`
    /// if it was still queued (it removed itself), `false` if a
    /// `queue_wake` had dequeued it.
    fn queue_remove(&mut self, addr: u64, scope: Scope) -> bool;
    /// How many threads the queue holds.
    fn queue_count(&mut self, addr: u64, scope: Scope) -> u32;
    /// Dequeues up to `n` threads from the head and wakes them; returns
    /// how many.
    fn queue_wake(&mut self, addr: u64, scope: Scope, n: u32) -> u32;
    /// Called without the queue lock after `queue_insert`: sleeps until a
    /// `queue_wake` dequeues the caller (`Woken`, also at once if that
    /// already happened) or `until` has passed (`TimedOut`). An error is
    /// an interruption the backend wants reported (the caller is then
    /// still to call `queue_remove`). Linux never reports one.
    fn queue_sleep(
        &mut self,
        addr: u64,
        scope: Scope,
        until: Option<WaitUntil>,
        what: Sleeper,
    ) -> Result<Wait, Errno>;
}

/// A validated subscription of a non-blocking (event) `poll`.
#[derive(Debug, PartialEq, Eq)]
pub enum Sub<F> {
    Clock {
        userdata: Userdata,
        deadline: Deadline,
    },
    FdRead {
        userdata: Userdata,
        file: F,
    },
    FdWrite {
        userdata: Userdata,
        file: F,
    },
    ProcTerminate {
        userdata: Userdata,
        file: F,
    },
    /// Cannot be waited on; must be reported right away as an event of
    /// type `ty` with `error` set.
    Failed {
        userdata: Userdata,
        ty: u8,
        error: Errno,
    },
}

/// An event a backend reports from an event `poll`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ready {
    Clock {
        userdata: Userdata,
    },
    FdRead {
        userdata: Userdata,
        nbytes: u64,
        hangup: bool,
    },
    FdWrite {
        userdata: Userdata,
        nbytes: u64,
        hangup: bool,
    },
    /// `signal` is `None` for a normal exit with `exitcode`.
    ProcTerminate {
        userdata: Userdata,
        signal: Option<Signal>,
        exitcode: u32,
    },
    /// A subscription failed with `error`.
    Error {
        userdata: Userdata,
        ty: u8,
        error: Errno,
    },
}

/// The subscriptions of a `poll`, decoded as they are read.
pub trait Subscriptions<F> {
    /// Number of subscriptions.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The next subscription, validated and with its descriptor looked up.
    fn next(&mut self, files: &mut dyn FdLookup<F>) -> Result<Option<Sub<F>>, Errno>;
}

/// Where a backend writes the events of an event `poll`.
pub trait Events {
    /// Room left.
    fn room(&self) -> u64;
    /// Stores one event (in order; `EFAULT` if the output is not writable).
    fn push(&mut self, mem: &mut dyn UserMemory, ev: Ready) -> Result<(), Errno>;
}

/// Event `poll`: clocks, descriptor readiness and process termination.
pub trait PollOps: Files {
    /// Reads every subscription, then waits until at least one triggers,
    /// stores the events and returns. If any subscription came back as
    /// [`Sub::Failed`], only those are reported (in order) and nothing is
    /// waited for, as FreeBSD's kqueue-based implementation does. With no
    /// subscriptions it returns at once.
    fn poll_events(
        &mut self,
        subs: &mut dyn Subscriptions<Self::File>,
        out: &mut dyn Events,
    ) -> Result<(), Errno>;
}

/// The result of `sock_recv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub datalen: u64,
    pub fdslen: u64,
    pub flags: Roflags,
}

/// Where `sock_recv` stores received descriptors.
pub trait FdSink {
    /// Room left.
    fn room(&self) -> u64;
    /// Stores the number of a received (already installed) descriptor.
    fn push(&mut self, mem: &mut dyn UserMemory, fd: Fd) -> Result<(), Errno>;
}

/// Sockets.
pub trait SockOps: Files {
    fn sock_recv(
        &mut self,
        sock: &Self::File,
        data: UserRange<Iovec>,
        fds: &mut dyn FdSink,
        flags: Riflags,
    ) -> Result<Received, Errno>;
    /// Sends data and, attached to it, the descriptors in `fds`.
    fn sock_send(
        &mut self,
        sock: &Self::File,
        data: UserRange<Ciovec>,
        fds: &mut dyn FdList<Self::File>,
    ) -> Result<u64, Errno>;
    fn sock_shutdown(&mut self, sock: &Self::File, how: Sdflags) -> Result<(), Errno>;
    /// Whether `sock` is a listening stream socket. Backs cloudabi64's
    /// accept extension (see [`sock_accept`](Self::sock_accept)).
    fn sock_listening(&mut self, sock: &Self::File) -> bool;
    /// Accepts one connection on the listening `sock` and installs it as a
    /// new descriptor with `rights`. The final ABI has no `accept`; the
    /// core calls this for a `sock_recv` on a listening socket.
    fn sock_accept(&mut self, sock: &Self::File, rights: FdRights) -> Result<Fd, Errno>;
}

/// Everything a backend implements.
pub trait Backend:
    Files
    + PathBuffers
    + FdOps
    + FileOps
    + PathOps
    + MemOps
    + ClockOps
    + ProcOps
    + ThreadOps
    + FutexOps
    + PollOps
    + SockOps
{
}

impl<B> Backend for B where
    B: Files
        + PathBuffers
        + FdOps
        + FileOps
        + PathOps
        + MemOps
        + ClockOps
        + ProcOps
        + ThreadOps
        + FutexOps
        + PollOps
        + SockOps
{
}
