//! The guest's descriptor table.
//!
//! CloudABI descriptor numbers are this table's indexes; each slot holds a
//! shared reference to a host file and the rights of that descriptor. The
//! host descriptor numbers are never visible to the guest. `fd_dup` shares
//! the host file (one open file description, like a kernel `dup`); the host
//! descriptor closes when the last slot referring to it goes.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use abi::{Errno, Fd, Fdflags, Filetype};
use sys::backend::{FdInfo, FdRights};

use super::backend::classify;

/// `waitid`'s id type for a pidfd (Linux 5.4; not in the libc crate).
pub const P_PIDFD: libc::idtype_t = 3;

/// Most descriptors a guest may hold (and the table never grows beyond).
pub const MAX_FDS: usize = 65536;

/// An open host file as the guest sees it.
#[derive(Debug)]
pub struct HostFile {
    pub fd: OwnedFd,
    /// Its CloudABI type and whether it is a listening socket, decided the
    /// first time anyone asks: `file_open` does not know what it opened,
    /// and an `fstat` for a descriptor that is only closed again would
    /// cost as much as the open itself.
    kind: OnceLock<Kind>,
    /// For a process descriptor this process created with `proc_fork`: its
    /// pid. Closing the last reference kills and reaps the child, as
    /// closing a FreeBSD process descriptor does; copies inherited by other
    /// processes (after another fork) leave it alone.
    owner: libc::pid_t,
    /// The open file description's status flags as last read, while no
    /// other process can change them (see [`HostFile::cached_flags`]):
    /// [`FLAGS_UNKNOWN`], a cached `Fdflags` value, or [`FLAGS_SHARED`].
    /// Only ever moves UNKNOWN -> value -> SHARED or UNKNOWN -> SHARED.
    flags: AtomicU32,
    /// For the tests: a number no other file of this process had, and a
    /// record of the drop (see [`test_drops`]).
    #[cfg(test)]
    pub serial: u64,
}

/// [`HostFile::flags`]: private, not read yet.
const FLAGS_UNKNOWN: u32 = 1 << 16;
/// [`HostFile::flags`]: the description may be shared (it came from
/// outside, was sent or inherited by a fork, or had its flags set): every
/// read asks the kernel.
const FLAGS_SHARED: u32 = 1 << 17;

#[derive(Debug, Clone, Copy)]
struct Kind {
    filetype: Filetype,
    /// A listening stream socket (accept extension). Guests cannot call
    /// `listen`, so this never changes once the file is in the table.
    listening: bool,
}

impl HostFile {
    /// A file whose type is known.
    pub fn new(fd: OwnedFd, filetype: Filetype) -> HostFile {
        let file = HostFile::unclassified(fd);
        let _ = file.kind.set(Kind::of(file.raw(), filetype));
        file
    }

    /// A file whose type is found out when first needed.
    pub fn unclassified(fd: OwnedFd) -> HostFile {
        HostFile {
            fd,
            kind: OnceLock::new(),
            owner: 0,
            flags: AtomicU32::new(FLAGS_SHARED),
            #[cfg(test)]
            serial: test_drops::serial(),
        }
    }

    /// A process descriptor (a Linux pidfd) for a child this process forked.
    pub fn process(pidfd: OwnedFd) -> HostFile {
        let mut file = HostFile::unclassified(pidfd);
        // SAFETY: getpid has no arguments.
        file.owner = unsafe { libc::getpid() };
        let _ = file.kind.set(Kind { filetype: Filetype::PROCESS, listening: false });
        file
    }

    /// Marks the file's open file description as this process's own: it
    /// was just created here (an open, a socket pair, an accepted
    /// connection, shared memory, or a `!file`/`!socket` cloudabi-run
    /// opened for the program) and no other process holds it, so its
    /// status flags can change only through this process's
    /// `fd_stat_put`, and [`HostFile::cached_flags`] may remember them.
    pub fn private(self) -> HostFile {
        self.flags.store(FLAGS_UNKNOWN, Ordering::Relaxed);
        self
    }

    /// The status flags remembered for a private file, or `None`: ask the
    /// kernel, then offer the answer to [`HostFile::remember_flags`].
    ///
    /// Why this is exact: the flags belong to the open file description.
    /// While it is private, only `fd_set_flags` changes them, and that
    /// calls [`HostFile::share`] first; every way the description can
    /// reach another process (`sock_send`, `proc_fork`) does too. Once
    /// shared, nothing is remembered again. (A guest that bypasses the ABI
    /// with raw `fcntl`/`fork`/`sendmsg` on host descriptor numbers can
    /// make its own answers stale; it cannot affect anyone else's.)
    pub fn cached_flags(&self) -> Option<Fdflags> {
        let v = self.flags.load(Ordering::Acquire);
        if v < FLAGS_UNKNOWN { Some(Fdflags::from_bits_truncate(v as u16)) } else { None }
    }

    /// Remembers flags just read from the kernel, unless the file was
    /// shared meanwhile (a compare-and-swap from UNKNOWN only: a
    /// concurrent `share` wins).
    pub fn remember_flags(&self, flags: Fdflags) {
        let _ = self.flags.compare_exchange(
            FLAGS_UNKNOWN,
            u32::from(flags.bits()),
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }

    /// The description may be (or is about to be) changed from elsewhere:
    /// never answer from memory again. Called before the change or the
    /// sharing happens.
    pub fn share(&self) {
        self.flags.store(FLAGS_SHARED, Ordering::SeqCst);
    }

    fn kind(&self) -> Kind {
        *self.kind.get_or_init(|| Kind::of(self.raw(), classify(self.raw())))
    }

    pub fn filetype(&self) -> Filetype {
        self.kind().filetype
    }

    pub fn listening(&self) -> bool {
        self.kind().listening
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        #[cfg(test)]
        test_drops::dropped(self.serial);
        // SAFETY: getpid has no arguments.
        if self.owner == 0 || self.owner != unsafe { libc::getpid() } {
            return;
        }
        // SAFETY: a signal to the child behind our own pidfd, then waiting
        // for it to end (a zeroed siginfo is a valid output buffer).
        unsafe {
            libc::syscall(libc::SYS_pidfd_send_signal, self.raw(), libc::SIGKILL, std::ptr::null::<u8>(), 0);
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(P_PIDFD, self.raw() as libc::id_t, &mut info, libc::WEXITED);
        }
    }
}

/// For the tests of the fast path's reclamation: every file gets a serial
/// number, and every drop is recorded, so that a test can tell that a file
/// it was handed has not been dropped, and that every file is dropped
/// exactly once.
#[cfg(test)]
pub mod test_drops {
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    static NEXT: AtomicU64 = AtomicU64::new(1);
    static DROPPED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
    /// Drops of a serial that had already been dropped.
    static TWICE: AtomicU64 = AtomicU64::new(0);

    pub fn serial() -> u64 {
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    pub fn dropped(serial: u64) {
        let mut d = DROPPED.lock().unwrap_or_else(|e| e.into_inner());
        if !d.get_or_insert_with(HashSet::new).insert(serial) {
            TWICE.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn was_dropped(serial: u64) -> bool {
        DROPPED.lock().unwrap_or_else(|e| e.into_inner()).as_ref().is_some_and(|d| d.contains(&serial))
    }

    pub fn dropped_twice() -> u64 {
        TWICE.load(Ordering::SeqCst)
    }
}

impl Kind {
    fn of(fd: RawFd, filetype: Filetype) -> Kind {
        Kind { filetype, listening: filetype == Filetype::SOCKET_STREAM && is_listening(fd) }
    }
}

fn is_listening(fd: RawFd) -> bool {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: SO_ACCEPTCONN writes one int.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    r == 0 && v != 0
}

#[derive(Debug, Clone)]
pub struct Slot {
    pub file: Arc<HostFile>,
    pub rights: FdRights,
}

#[derive(Debug, Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
}

impl FdTable {
    pub fn get(&self, fd: Fd) -> Result<(Arc<HostFile>, FdInfo), Errno> {
        let slot = self.slots.get(fd.raw() as usize).and_then(Option::as_ref).ok_or(Errno::BADF)?;
        // The stored rights are what was granted; the type limits them.
        let filetype = slot.file.filetype();
        Ok((slot.file.clone(), FdInfo { filetype, rights: sys::rights::for_new_fd(filetype, slot.rights) }))
    }

    /// Installs at the lowest free number.
    pub fn insert(&mut self, slot: Slot) -> Result<Fd, Errno> {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(slot);
            return Ok(Fd::new(i as u32));
        }
        if self.slots.len() >= MAX_FDS {
            return Err(Errno::MFILE);
        }
        self.slots.push(Some(slot));
        Ok(Fd::new(self.slots.len() as u32 - 1))
    }

    /// Installs at `fd` exactly (used to build the initial table).
    pub fn insert_at(&mut self, fd: u32, slot: Slot) -> Result<(), Errno> {
        let i = fd as usize;
        if i >= MAX_FDS {
            return Err(Errno::MFILE);
        }
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(slot);
        Ok(())
    }

    /// Replaces an open descriptor; `EBADF` if `fd` is not open.
    pub fn replace(&mut self, fd: Fd, slot: Slot) -> Result<Option<Slot>, Errno> {
        let s = self.slots.get_mut(fd.raw() as usize).filter(|s| s.is_some()).ok_or(Errno::BADF)?;
        Ok(s.replace(slot))
    }

    pub fn remove(&mut self, fd: Fd) -> Result<Slot, Errno> {
        self.slots.get_mut(fd.raw() as usize).and_then(Option::take).ok_or(Errno::BADF)
    }

    /// Marks every file's description as shared (before `proc_fork`, whose
    /// child inherits them all).
    pub fn share_all(&self) {
        for slot in self.slots.iter().flatten() {
            slot.file.share();
        }
    }

    pub fn set_rights(&mut self, fd: Fd, rights: FdRights) -> Result<(), Errno> {
        let s = self.slots.get_mut(fd.raw() as usize).and_then(Option::as_mut).ok_or(Errno::BADF)?;
        s.rights = rights;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<HostFile> {
        let fd = std::fs::File::open("/dev/null").unwrap().into();
        Arc::new(HostFile::new(fd, Filetype::CHARACTER_DEVICE))
    }

    #[test]
    fn lowest_free_numbers_and_replacement() {
        let mut t = FdTable::default();
        let r = FdRights::NONE;
        assert_eq!(t.insert(Slot { file: file(), rights: r }), Ok(Fd::new(0)));
        assert_eq!(t.insert(Slot { file: file(), rights: r }), Ok(Fd::new(1)));
        t.remove(Fd::new(0)).unwrap();
        assert_eq!(t.insert(Slot { file: file(), rights: r }), Ok(Fd::new(0)));
        assert_eq!(t.remove(Fd::new(7)).err(), Some(Errno::BADF));
        assert_eq!(t.replace(Fd::new(5), Slot { file: file(), rights: r }).err(), Some(Errno::BADF));
        assert!(t.replace(Fd::new(1), Slot { file: file(), rights: r }).unwrap().is_some());
        t.insert_at(9, Slot { file: file(), rights: r }).unwrap();
        assert!(t.get(Fd::new(9)).is_ok());
        assert_eq!(t.get(Fd::new(8)).err(), Some(Errno::BADF));
    }
}
