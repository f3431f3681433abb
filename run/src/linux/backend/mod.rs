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

use super::fastpath::{self, Held, PinSlot};
use super::fault;
use super::fdtable::{FdTable, HostFile, Slot};

mod exec;
mod file;
mod futex;
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
#[cfg(target_arch = "x86_64")]
pub use misc::clock;
pub use thread::{THREAD_EXITED, linger, register_initial};

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
    /// Whether cloudabi-run created its open file description for the
    /// program (a `!file` or `!socket`), so that no other process holds
    /// it (see `HostFile::private`); not for inherited descriptors.
    pub private: bool,
}

/// Sets up the process state; `fds[i]` becomes descriptor `i`.
pub fn init(fds: Vec<Granted>, opts: &super::Options) -> Result<(), String> {
    let mut table = FdTable::default();
    for (i, g) in fds.into_iter().enumerate() {
        let filetype = g.filetype.unwrap_or_else(|| classify(g.fd.as_raw_fd()));
        let rights = sys::rights::for_new_fd(filetype, g.rights);
        let file = if filetype == Filetype::PROCESS {
            HostFile::process(g.fd)
        } else if g.private {
            HostFile::new(g.fd, filetype).private()
        } else {
            HostFile::new(g.fd, filetype)
        };
        table
            .insert_at(i as u32, Slot { file: Arc::new(file), rights })
            .map_err(|e| format!("descriptor {i}: {e:?}"))?;
    }
    futex::init()?;
    exec::remember(opts)?;
    let force_manual = std::env::var_os("CLOUDABI_RUN_NO_OPENAT2").is_some();
    PROCESS
        .set(Process { fds: RwLock::new(table), openat2: AtomicBool::new(!force_manual) })
        .map_err(|_| "the process state was already set up".to_string())
}

pub fn process() -> &'static Process {
    PROCESS.get().expect("syscall before the Linux backend was initialised")
}

/// The descriptor table locked for changing. Taking it begins a change
/// (`fastpath::begin_change`: every thread's cached lookups are stale, and
/// no fast-path lookup is taking a reference to anything in the table).
pub struct TableMut<'a>(RwLockWriteGuard<'a, FdTable>);

impl std::ops::Deref for TableMut<'_> {
    type Target = FdTable;
    fn deref(&self) -> &FdTable {
        &self.0
    }
}

impl std::ops::DerefMut for TableMut<'_> {
    fn deref_mut(&mut self) -> &mut FdTable {
        &mut self.0
    }
}

#[cfg(test)]
impl Drop for TableMut<'_> {
    fn drop(&mut self) {
        fastpath::end_change();
    }
}

/// The lookup cache of a thread without a pin slot (`fastpath::SLOTS`
/// threads have one): an entry holds a weak reference (a cached entry must
/// not keep a closed file open) and the table generation it was read in
/// (under the table's read lock).
mod cache {
    use std::cell::RefCell;
    use std::sync::{Arc, Weak};

    use abi::Fd;
    use sys::backend::FdInfo;

    use crate::linux::fdtable::HostFile;

    const WAYS: usize = 8;

    struct Entry {
        generation: u64,
        fd: Fd,
        file: Weak<HostFile>,
        info: FdInfo,
    }

    thread_local! {
        static CACHE: RefCell<[Option<Entry>; WAYS]> = const { RefCell::new([const { None }; WAYS]) };
    }

    pub fn lookup(fd: Fd, generation: u64) -> Option<(Arc<HostFile>, FdInfo)> {
        CACHE.with(|c| {
            let c = c.borrow();
            let e = c[fd.raw() as usize % WAYS].as_ref()?;
            if e.generation != generation || e.fd != fd {
                return None;
            }
            Some((e.file.upgrade()?, e.info))
        })
    }

    pub fn store(fd: Fd, generation: u64, file: &Arc<HostFile>, info: FdInfo) {
        CACHE.with(|c| {
            c.borrow_mut()[fd.raw() as usize % WAYS] =
                Some(Entry { generation, fd, file: Arc::downgrade(file), info });
        });
    }
}

/// The backend: a handle on the process state for one syscall.
pub struct Linux {
    proc: &'static Process,
    /// The calling thread's pin slot and lookup cache (`fastpath.rs`).
    slot: Option<&'static PinSlot>,
    /// Running on the TLS-free fast path (`fastpath.rs`) with the guest's
    /// `%fs`: descriptors come from the thread's cache only.
    fast: bool,
    /// Set on the fast path when the call must be run again on the normal
    /// path; set before anything was done.
    fallback: bool,
    /// The fast path's second reference to the call's file (see
    /// `fastpath.rs`), given up by `fastpath::fast_call`.
    held: Option<Held>,
}

impl Linux {
    pub fn new() -> Linux {
        Linux { proc: process(), slot: fastpath::my_slot(), fast: false, fallback: false, held: None }
    }

    /// The backend for the fast path (see `fastpath.rs`), for the thread
    /// that owns `slot`. Touches no TLS.
    pub fn fast(slot: &'static PinSlot) -> Linux {
        Linux { proc: process(), slot: Some(slot), fast: true, fallback: false, held: None }
    }

    /// The reference held across a fast call, if any.
    pub fn take_held(&mut self) -> Option<Held> {
        self.held.take()
    }

    /// The table's own answer for `fd`, bypassing every cache (the fast
    /// path's tests, x86-64 only).
    #[cfg(all(test, target_arch = "x86_64"))]
    pub fn table_lookup(&self, fd: Fd) -> Result<(Arc<HostFile>, FdInfo), Errno> {
        self.table().get(fd)
    }

    /// Whether the fast path gave up on this call (before doing anything).
    pub fn wants_fallback(&self) -> bool {
        self.fallback
    }

    fn table(&self) -> RwLockReadGuard<'_, FdTable> {
        self.proc.fds.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The table for changing: every thread's cached lookups are stale
    /// from now on (see `fastpath::begin_change`).
    fn table_mut(&self) -> TableMut<'_> {
        let guard = self.proc.fds.write().unwrap_or_else(|e| e.into_inner());
        fastpath::begin_change();
        TableMut(guard)
    }

    /// The table's entry at `fd` and the generation it belongs to.
    fn table_get(&self, fd: Fd) -> Result<(Arc<HostFile>, FdInfo, u64), Errno> {
        let table = self.table();
        let generation = fastpath::generation();
        let (file, info) = table.get(fd)?;
        Ok((file, info, generation))
    }

    /// Installs a host descriptor that came from elsewhere (a received
    /// one) at the lowest free number.
    fn install(&self, fd: OwnedFd, filetype: Filetype, rights: FdRights) -> Result<Fd, Errno> {
        self.table_mut().insert(Slot { file: Arc::new(HostFile::new(fd, filetype)), rights })
    }

    /// Installs a host descriptor whose open file description this call
    /// just created (see `HostFile::private`).
    fn install_private(&self, fd: OwnedFd, filetype: Filetype, rights: FdRights) -> Result<Fd, Errno> {
        self.table_mut().insert(Slot { file: Arc::new(HostFile::new(fd, filetype).private()), rights })
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

/// `Ok(v)` for a raw system call's result (`fault::raw_syscall`), the
/// errno for a negative one. Neither reads nor writes `errno`, so the
/// TLS-free fast path can use it.
pub fn raw_check(r: i64) -> Result<u64, Errno> {
    if r < 0 { Err(sys::errno::from_linux((-r) as i32)) } else { Ok(r as u64) }
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

/// `MFD_NOEXEC_SEAL` (Linux 6.3).
pub const MFD_NOEXEC_SEAL: u32 = 0x0008;

/// The flag every memory object the backend creates carries:
/// `MFD_NOEXEC_SEAL` where the kernel has it (its memory objects can then
/// never be made executable, and the sandbox refuses `memfd_create`
/// without it), else nothing.
pub fn memfd_noexec() -> u32 {
    static FLAG: OnceLock<u32> = OnceLock::new();
    *FLAG.get_or_init(|| {
        // SAFETY: memfd_create with a static name; the probe is closed at
        // once (dropped).
        let probe = owned(unsafe {
            libc::memfd_create(c"cloudabi-probe".as_ptr(), libc::MFD_CLOEXEC | MFD_NOEXEC_SEAL)
        });
        if probe.is_ok() { MFD_NOEXEC_SEAL } else { 0 }
    })
}

/// The CloudABI type of a host descriptor: pipes and FIFOs are stream
/// sockets, as in FreeBSD's CloudABI.
pub fn classify(fd: RawFd) -> Filetype {
    // The system call itself: glibc's fstat is newfstatat with an empty
    // path, ~35 ns more on Linux 6.18 (a newly opened file is classified
    // on its first use).
    // SAFETY: fstat fills a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::syscall(libc::SYS_fstat, fd, &mut st as *mut libc::stat) } != 0 {
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
        let Some(slot) = self.slot else {
            if self.fast {
                self.fallback = true;
                return Err(fastpath::fallback_errno());
            }
            if let Some(hit) = cache::lookup(fd, fastpath::generation()) {
                return Ok(hit);
            }
            let (file, info, generation) = self.table_get(fd)?;
            cache::store(fd, generation, &file, info);
            return Ok((file, info));
        };
        if self.fast {
            // One held reference per fast call (each fast call names one
            // descriptor; a second lookup would be a new kind of call).
            if self.held.is_some() {
                self.fallback = true;
                return Err(fastpath::fallback_errno());
            }
            let Some((file, info, held)) = fastpath::lookup(slot, fd, true) else {
                self.fallback = true;
                return Err(fastpath::fallback_errno());
            };
            self.held = held;
            return Ok((file, info));
        }
        if let Some((file, info, _)) = fastpath::lookup(slot, fd, false) {
            return Ok((file, info));
        }
        let (file, info, generation) = self.table_get(fd)?;
        fastpath::store(slot, fd, generation, &file, info);
        Ok((file, info))
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

#[cfg(test)]
mod tests {
    use abi::Fdflags;
    use sys::backend::{FdOps, FdRights, Files};

    use super::*;

    /// A file of its own (a fresh inode) and its identity.
    fn unique(dir: &std::path::Path, name: &str) -> (OwnedFd, (u64, u64)) {
        use std::os::unix::fs::MetadataExt;
        let path = dir.join(name);
        std::fs::write(&path, name).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let m = f.metadata().unwrap();
        (f.into(), (m.dev(), m.ino()))
    }

    /// Whether host descriptor `fd` still refers to the file `id` (other
    /// tests may have reused the number for something else meanwhile).
    fn still_open(fd: RawFd, id: (u64, u64)) -> bool {
        // SAFETY: fstat fills a zeroed buffer.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        (unsafe { libc::fstat(fd, &mut st) } == 0) && (st.st_dev, st.st_ino) == id
    }

    /// The lookup cache never answers with a file the table no longer
    /// holds at that number, and never keeps a closed file open.
    #[test]
    fn cached_lookups_follow_every_change_of_the_table() {
        super::path_diff::init_backend();
        let dir = std::env::temp_dir().join(format!("cloudabi-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (fa, ida) = unique(&dir, "a");
        let (fo, ido) = unique(&dir, "o");
        let mut b = Linux::new();
        let rights = FdRights { base: abi::Rights::ALL, inheriting: abi::Rights::ALL };
        let a = b.install(fa, Filetype::REGULAR_FILE, rights).unwrap();
        let other = b.install(fo, Filetype::REGULAR_FILE, rights).unwrap();
        let (file_a, _) = b.fd_get(a).unwrap();
        let host_a = file_a.raw();
        assert!(Arc::ptr_eq(&file_a, &b.fd_get(a).unwrap().0), "a repeated lookup gives the same file");
        drop(file_a);
        // Replacing the number: the next lookup sees the new file, and the
        // old one is closed although a lookup of it was cached.
        let (file_o, info) = b.fd_get(other).unwrap();
        b.fd_replace(&file_o, info, a).unwrap();
        assert!(Arc::ptr_eq(&file_o, &b.fd_get(a).unwrap().0));
        assert!(!still_open(host_a, ida), "the replaced file was closed");
        // Closing: EBADF, and the host file closes once nobody uses it.
        b.fd_close(a).unwrap();
        assert_eq!(b.fd_get(a).err(), Some(Errno::BADF));
        b.fd_close(other).unwrap();
        assert_eq!(b.fd_get(other).err(), Some(Errno::BADF));
        let host_o = file_o.raw();
        drop(file_o);
        assert!(!still_open(host_o, ido), "no cache entry keeps a closed file open");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The status flags of a host file, straight from the kernel.
    fn kernel_flags(fd: RawFd) -> i32 {
        // SAFETY: F_GETFL takes no argument.
        let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        assert!(fl >= 0);
        fl & (libc::O_APPEND | libc::O_NONBLOCK)
    }

    /// Sets a host file's flags behind the backend's back (as another
    /// process sharing the description would).
    fn set_behind(fd: RawFd, fl: i32) {
        // SAFETY: F_SETFL with an int argument.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFL, fl) }, 0);
    }

    fn pipe_end() -> OwnedFd {
        let (r, _w) = std::io::pipe().unwrap();
        r.into()
    }

    /// `fd_flags` answers from memory only for a private description, and
    /// every way its flags can change (our own `fd_set_flags`, another
    /// process after `share`/`share_all`) is seen by the next call.
    #[test]
    fn remembered_flags_follow_every_change() {
        super::path_diff::init_backend();
        let mut b = Linux::new();
        // Shared from the start (received, inherited): always the kernel's.
        let shared = Arc::new(HostFile::new(pipe_end(), Filetype::SOCKET_STREAM));
        assert_eq!(b.fd_flags(&shared), Ok(Fdflags::EMPTY));
        set_behind(shared.raw(), libc::O_NONBLOCK);
        assert_eq!(b.fd_flags(&shared), Ok(Fdflags::NONBLOCK));

        // Private: remembered; the guest's own change is seen.
        let private = Arc::new(HostFile::new(pipe_end(), Filetype::SOCKET_STREAM).private());
        assert_eq!(b.fd_flags(&private), Ok(Fdflags::EMPTY));
        assert_eq!(private.cached_flags(), Some(Fdflags::EMPTY));
        b.fd_set_flags(&private, Fdflags::NONBLOCK).unwrap();
        assert_eq!(b.fd_flags(&private), Ok(Fdflags::NONBLOCK));
        set_behind(private.raw(), 0);
        assert_eq!(b.fd_flags(&private), Ok(Fdflags::EMPTY), "after fd_set_flags nothing is remembered");

        // What the memory would hide without `share`: the test can fail.
        let hidden = Arc::new(HostFile::new(pipe_end(), Filetype::SOCKET_STREAM).private());
        assert_eq!(b.fd_flags(&hidden), Ok(Fdflags::EMPTY));
        set_behind(hidden.raw(), libc::O_NONBLOCK);
        assert_eq!(b.fd_flags(&hidden), Ok(Fdflags::EMPTY), "a change outside the ABI is not seen");
        // Shared with a forked child (what proc_fork does first), which
        // changes the flags: the parent sees it.
        set_behind(hidden.raw(), 0);
        let mut table = FdTable::default();
        table.insert(Slot { file: hidden.clone(), rights: FdRights::NONE }).unwrap();
        table.share_all();
        // SAFETY: the child only makes raw system calls and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: fcntl and _exit are async-signal-safe.
            unsafe {
                libc::fcntl(hidden.raw(), libc::F_SETFL, libc::O_APPEND);
                libc::_exit(0);
            }
        }
        assert!(pid > 0);
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert_eq!(kernel_flags(hidden.raw()), libc::O_APPEND);
        assert_eq!(b.fd_flags(&hidden), Ok(Fdflags::APPEND), "the child's change is seen");
    }

    /// Random interleavings of `fd_flags` and `fd_set_flags` on fresh
    /// private files: once every call has returned, `fd_flags` says what
    /// the kernel says, and every answer was a value the file really had.
    #[test]
    fn remembered_flags_under_random_interleavings() {
        use std::sync::Barrier;
        super::path_diff::init_backend();
        let values =
            [Fdflags::EMPTY, Fdflags::NONBLOCK, Fdflags::APPEND, Fdflags::APPEND | Fdflags::NONBLOCK];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let file = Arc::new(HostFile::new(pipe_end(), Filetype::SOCKET_STREAM).private());
            let barrier = Arc::new(Barrier::new(3));
            let plans: Vec<(u64, Fdflags)> =
                (0..3).map(|_| (next() % 50, values[(next() % 4) as usize])).collect();
            let handles: Vec<_> = plans
                .iter()
                .enumerate()
                .map(|(i, &(spin, value))| {
                    let (file, barrier) = (file.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        let mut b = Linux::new();
                        barrier.wait();
                        for _ in 0..spin {
                            std::hint::spin_loop();
                        }
                        // Thread 0 sets; the others read.
                        if i == 0 {
                            b.fd_set_flags(&file, value).unwrap();
                            None
                        } else {
                            Some(b.fd_flags(&file).unwrap())
                        }
                    })
                })
                .collect();
            let set = plans[0].1;
            for h in handles {
                if let Some(seen) = h.join().unwrap() {
                    assert!(seen == Fdflags::EMPTY || seen == set, "round {round}: {seen:?} was never set");
                }
            }
            let mut b = Linux::new();
            assert_eq!(b.fd_flags(&file), Ok(set), "round {round}: a stale value was remembered");
            let mut expect = 0;
            if set.contains(Fdflags::APPEND) {
                expect |= libc::O_APPEND;
            }
            if set.contains(Fdflags::NONBLOCK) {
                expect |= libc::O_NONBLOCK;
            }
            assert_eq!(kernel_flags(file.raw()), expect);
        }
    }
}
