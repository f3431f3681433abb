//! The rights of descriptors in flight through sockets, shared by every
//! process of one cloudabi-run tree.
//!
//! Linux's `SCM_RIGHTS` carries descriptors but not CloudABI rights, so the
//! sender records each passed file's identity (device, inode) with its
//! rights, and the receiver gets at most those: the intersection of every
//! record for that file, one of which it consumes. A file nobody recorded
//! gets the maximum for its type (it came from outside CloudABI).
//!
//! The table lives in a shared memory object created when the first
//! program starts: `fork` children share the mapping, and a re-executed
//! cloudabi-run (`proc_exec`) receives the object as a descriptor. A full
//! table makes the send fail (`ENOBUFS`) rather than lose rights.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use abi::{Errno, Filetype};
use sys::backend::FdRights;

/// Records the table holds at most.
pub const CAPACITY: usize = 4096;

#[repr(C)]
struct Record {
    dev: u64,
    ino: u64,
    base: u64,
    inheriting: u64,
}

#[repr(C)]
struct Table {
    /// 0 free, 1 locked, 2 locked with sleepers (a process-shared futex).
    lock: AtomicU32,
    len: u32,
    records: [Record; CAPACITY],
}

struct Shared {
    table: *mut Table,
    /// The shared memory object, for a re-exec.
    fd: OwnedFd,
}

// SAFETY: the table is only accessed under its lock.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// Maps the table: a new one, or the one a re-exec was handed (`inherited`).
pub fn init(inherited: Option<OwnedFd>) -> Result<(), String> {
    let size = std::mem::size_of::<Table>();
    let fd = match inherited {
        Some(fd) => fd,
        None => {
            // SAFETY: memfd_create with a static name; the result is ours.
            let raw = unsafe { libc::memfd_create(c"cloudabi-in-flight".as_ptr(), libc::MFD_CLOEXEC) };
            if raw < 0 {
                return Err(format!("in-flight rights table: {}", std::io::Error::last_os_error()));
            }
            // SAFETY: `raw` was just created and is owned by no one else.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: ftruncate on our memfd.
            if unsafe { libc::ftruncate(fd.as_raw_fd(), size as libc::off_t) } != 0 {
                return Err(format!("in-flight rights table: {}", std::io::Error::last_os_error()));
            }
            fd
        }
    };
    // SAFETY: a shared mapping of the whole object (zero-filled when new,
    // which is an unlocked, empty table).
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(format!("in-flight rights table: {}", std::io::Error::last_os_error()));
    }
    SHARED
        .set(Shared { table: p.cast(), fd })
        .map_err(|_| "the in-flight rights table was already set up".to_string())
}

/// The table's shared memory object (handed to a re-executed cloudabi-run).
pub fn descriptor() -> Option<RawFd> {
    SHARED.get().map(|s| s.fd.as_raw_fd())
}

/// The table, locked.
pub struct Guard {
    table: *mut Table,
}

fn futex(word: &AtomicU32, op: i32, val: u32) {
    // SAFETY: a shared (not private) futex operation on a word of the
    // mapping; no timeout.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), op, val, 0usize, 0usize, 0u32) };
}

/// Locks the table; `None` before `init` (then nothing is recorded).
pub fn lock() -> Option<Guard> {
    let shared = SHARED.get()?;
    // SAFETY: the mapping lives as long as the process.
    let word = unsafe { &(*shared.table).lock };
    if word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
        while word.swap(2, Ordering::Acquire) != 0 {
            futex(word, libc::FUTEX_WAIT, 2);
        }
    }
    Some(Guard { table: shared.table })
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: the table is mapped for the life of the process.
        let word = unsafe { &(*self.table).lock };
        if word.swap(0, Ordering::Release) == 2 {
            futex(word, libc::FUTEX_WAKE, 1);
        }
    }
}

impl Guard {
    fn table(&mut self) -> &mut Table {
        // SAFETY: we hold the lock, so no other thread or process touches
        // the table until the guard drops.
        unsafe { &mut *self.table }
    }

    /// Records `rights` for the file `(dev, ino)`; `ENOBUFS` when full.
    pub fn push(&mut self, (dev, ino): (u64, u64), rights: FdRights) -> Result<(), Errno> {
        let t = self.table();
        let len = t.len as usize;
        if len >= CAPACITY {
            return Err(Errno::NOBUFS);
        }
        t.records[len] = Record { dev, ino, base: rights.base.bits(), inheriting: rights.inheriting.bits() };
        t.len += 1;
        Ok(())
    }

    /// Removes one record of exactly `rights` for `id` (a failed send).
    pub fn forget(&mut self, id: (u64, u64), rights: FdRights) {
        let t = self.table();
        let len = t.len as usize;
        let found = t.records[..len].iter().position(|r| {
            (r.dev, r.ino) == id && r.base == rights.base.bits() && r.inheriting == rights.inheriting.bits()
        });
        if let Some(i) = found {
            t.records.swap(i, len - 1);
            t.len -= 1;
        }
    }

    /// The rights a received file of type `filetype` gets, consuming one
    /// record for it.
    pub fn take(&mut self, id: (u64, u64), filetype: Filetype) -> FdRights {
        let t = self.table();
        let len = t.len as usize;
        let mut r = sys::rights::max_for(filetype);
        let mut first = None;
        for (i, rec) in t.records[..len].iter().enumerate() {
            if (rec.dev, rec.ino) == id {
                r.base &= abi::Rights::from_bits_truncate(rec.base);
                r.inheriting &= abi::Rights::from_bits_truncate(rec.inheriting);
                first.get_or_insert(i);
            }
        }
        if let Some(i) = first {
            t.records.swap(i, len - 1);
            t.len -= 1;
        }
        r
    }
}
