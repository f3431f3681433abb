//! The rights model.
//!
//! Every descriptor carries base rights (what may be done with it) and
//! inheriting rights (the most that descriptors opened through it may get).
//! Rights only ever shrink: `fd_stat_put` can remove rights but never add
//! them, `file_open` gives at most the directory's inheriting rights, and
//! `fd_dup` copies them. New descriptors are also limited to the rights that
//! make sense for their file type ([`for_new_fd`]).
//!
//! The FreeBSD module stores rights as Capsicum rights on the descriptor,
//! plus the exact CloudABI rights in its ioctl list ([`crate::caplist`]);
//! this module holds the Capsicum mapping ([`to_capsicum`],
//! [`from_capsicum`]).

use abi::{Errno, Filetype, Rights};

use crate::backend::{FdInfo, FdRights};

/// `ENOTCAPABLE` unless `info` grants all of `need`.
pub fn require(info: &FdInfo, need: Rights) -> Result<(), Errno> {
    if info.rights.base.contains(need) { Ok(()) } else { Err(Errno::NOTCAPABLE) }
}

/// Decodes rights from user memory: undefined bits are `ENOTCAPABLE`.
pub fn decode(bits: u64) -> Result<Rights, Errno> {
    Rights::from_bits(bits).ok_or(Errno::NOTCAPABLE)
}

/// Rights an open directory can use.
pub const DIRECTORY_BASE: Rights = Rights::FD_STAT_PUT_FLAGS
    .union(Rights::FD_SYNC)
    .union(Rights::FILE_ADVISE)
    .union(Rights::FILE_CREATE_DIRECTORY)
    .union(Rights::FILE_CREATE_FILE)
    .union(Rights::FILE_LINK_SOURCE)
    .union(Rights::FILE_LINK_TARGET)
    .union(Rights::FILE_OPEN)
    .union(Rights::FILE_READDIR)
    .union(Rights::FILE_READLINK)
    .union(Rights::FILE_RENAME_SOURCE)
    .union(Rights::FILE_RENAME_TARGET)
    .union(Rights::FILE_STAT_FGET)
    .union(Rights::FILE_STAT_FPUT_TIMES)
    .union(Rights::FILE_STAT_GET)
    .union(Rights::FILE_STAT_PUT_TIMES)
    .union(Rights::FILE_SYMLINK)
    .union(Rights::FILE_UNLINK)
    .union(Rights::POLL_FD_READWRITE);

/// Rights an open regular file can use.
pub const REGULAR_FILE_BASE: Rights = Rights::FD_DATASYNC
    .union(Rights::FD_READ)
    .union(Rights::FD_SEEK)
    .union(Rights::FD_STAT_PUT_FLAGS)
    .union(Rights::FD_SYNC)
    .union(Rights::FD_TELL)
    .union(Rights::FD_WRITE)
    .union(Rights::FILE_ADVISE)
    .union(Rights::FILE_ALLOCATE)
    .union(Rights::FILE_STAT_FGET)
    .union(Rights::FILE_STAT_FPUT_SIZE)
    .union(Rights::FILE_STAT_FPUT_TIMES)
    .union(Rights::MEM_MAP)
    .union(Rights::MEM_MAP_EXEC)
    .union(Rights::POLL_FD_READWRITE)
    .union(Rights::PROC_EXEC);

/// Rights a directory can pass on to what is opened through it.
pub const DIRECTORY_INHERITING: Rights = DIRECTORY_BASE.union(REGULAR_FILE_BASE);

/// Rights a process descriptor can use.
pub const PROCESS_BASE: Rights = Rights::FILE_STAT_FGET.union(Rights::POLL_PROC_TERMINATE);

/// Rights a shared memory object can use (what both FreeBSD's and the
/// emulator's CloudABI give `fd_create1`: `0xc180042`).
pub const SHARED_MEMORY_BASE: Rights = Rights::FD_READ
    .union(Rights::FD_WRITE)
    .union(Rights::FILE_STAT_FGET)
    .union(Rights::FILE_STAT_FPUT_SIZE)
    .union(Rights::MEM_MAP)
    .union(Rights::MEM_MAP_EXEC);

/// Rights a socket can use.
pub const SOCKET_BASE: Rights = Rights::FD_READ
    .union(Rights::FD_STAT_PUT_FLAGS)
    .union(Rights::FD_WRITE)
    .union(Rights::FILE_STAT_FGET)
    .union(Rights::POLL_FD_READWRITE)
    .union(Rights::SOCK_SHUTDOWN);

/// Rights a socket can pass on to descriptors received through it: all of
/// them (what a received descriptor may do is decided by its own type).
pub const SOCKET_INHERITING: Rights = Rights::ALL;

/// Rights a device, symbolic link or file of unknown type can use: not
/// limited (as in FreeBSD's CloudABI); what works is up to the file.
pub const OTHER_BASE: Rights = Rights::ALL;

/// The most a descriptor of type `ft` can hold.
pub fn max_for(ft: Filetype) -> FdRights {
    let (base, inheriting) = match ft {
        Filetype::DIRECTORY => (DIRECTORY_BASE, DIRECTORY_INHERITING),
        Filetype::REGULAR_FILE => (REGULAR_FILE_BASE, Rights::EMPTY),
        Filetype::PROCESS => (PROCESS_BASE, Rights::EMPTY),
        Filetype::SHARED_MEMORY => (SHARED_MEMORY_BASE, Rights::EMPTY),
        Filetype::SOCKET_DGRAM | Filetype::SOCKET_STREAM => (SOCKET_BASE, SOCKET_INHERITING),
        _ => (OTHER_BASE, Rights::EMPTY),
    };
    FdRights { base, inheriting }
}

/// The rights a new descriptor of type `ft` gets when `requested` were
/// asked for: the request limited to what the type can use.
pub fn for_new_fd(ft: Filetype, requested: FdRights) -> FdRights {
    let max = max_for(ft);
    FdRights {
        base: requested.base.intersection(max.base),
        inheriting: requested.inheriting.intersection(max.inheriting),
    }
}

/// Checks a rights reduction for `fd_stat_put`: `ENOTCAPABLE` if `new`
/// would add anything `current` does not have.
pub fn narrow(current: FdRights, new: FdRights) -> Result<FdRights, Errno> {
    if new.within(current) { Ok(new) } else { Err(Errno::NOTCAPABLE) }
}

/// Capsicum rights in `cap_rights_t` form (`cr_rights[2]`, version 0), as
/// the FreeBSD module stores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapRights(pub [u64; 2]);

/// Capsicum right values from FreeBSD's `sys/capsicum.h`
/// (`CAPRIGHT(idx, bit) = (1 << (57 + idx)) | bit`); checked against the
/// 14.2 and 15.0 headers by `host-tests/tests/native_headers.rs`.
pub mod cap {
    const fn right(idx: u32, bit: u64) -> u64 {
        (1u64 << (57 + idx)) | bit
    }
    pub const READ: u64 = right(0, 0x1);
    pub const WRITE: u64 = right(0, 0x2);
    pub const SEEK_TELL: u64 = right(0, 0x4);
    pub const SEEK: u64 = SEEK_TELL | 0x8;
    pub const MMAP: u64 = right(0, 0x10);
    pub const MMAP_X: u64 = MMAP | SEEK | 0x20;
    pub const CREATE: u64 = right(0, 0x40);
    pub const FEXECVE: u64 = right(0, 0x80);
    pub const FSYNC: u64 = right(0, 0x100);
    pub const FTRUNCATE: u64 = right(0, 0x200);
    pub const LOOKUP: u64 = right(0, 0x400);
    pub const FCNTL: u64 = right(0, 0x8000);
    pub const FSTAT: u64 = right(0, 0x80000);
    pub const FSTATAT: u64 = FSTAT | LOOKUP;
    pub const FUTIMES: u64 = right(0, 0x200000);
    pub const FUTIMESAT: u64 = FUTIMES | LOOKUP;
    pub const LINKAT_TARGET: u64 = LOOKUP | 0x400000;
    pub const MKDIRAT: u64 = LOOKUP | 0x800000;
    pub const RENAMEAT_SOURCE: u64 = LOOKUP | 0x4000000;
    pub const SYMLINKAT: u64 = LOOKUP | 0x8000000;
    pub const UNLINKAT: u64 = LOOKUP | 0x10000000;
    pub const SHUTDOWN: u64 = right(0, 0x4000000000);
    pub const LINKAT_SOURCE: u64 = LOOKUP | 0x20000000000;
    pub const RENAMEAT_TARGET: u64 = LOOKUP | 0x40000000000;
    pub const EVENT: u64 = right(1, 0x20);
    pub const IOCTL: u64 = right(1, 0x80);

    /// Every constant above with its C name, for checks against the
    /// headers.
    pub static NAMED: [(&str, u64); 26] = [
        ("CAP_READ", READ),
        ("CAP_WRITE", WRITE),
        ("CAP_SEEK_TELL", SEEK_TELL),
        ("CAP_SEEK", SEEK),
        ("CAP_MMAP", MMAP),
        ("CAP_MMAP_X", MMAP_X),
        ("CAP_CREATE", CREATE),
        ("CAP_FEXECVE", FEXECVE),
        ("CAP_FSYNC", FSYNC),
        ("CAP_FTRUNCATE", FTRUNCATE),
        ("CAP_LOOKUP", LOOKUP),
        ("CAP_FCNTL", FCNTL),
        ("CAP_FSTAT", FSTAT),
        ("CAP_FSTATAT", FSTATAT),
        ("CAP_FUTIMES", FUTIMES),
        ("CAP_FUTIMESAT", FUTIMESAT),
        ("CAP_LINKAT_TARGET", LINKAT_TARGET),
        ("CAP_MKDIRAT", MKDIRAT),
        ("CAP_RENAMEAT_SOURCE", RENAMEAT_SOURCE),
        ("CAP_SYMLINKAT", SYMLINKAT),
        ("CAP_UNLINKAT", UNLINKAT),
        ("CAP_SHUTDOWN", SHUTDOWN),
        ("CAP_LINKAT_SOURCE", LINKAT_SOURCE),
        ("CAP_RENAMEAT_TARGET", RENAMEAT_TARGET),
        ("CAP_EVENT", EVENT),
        ("CAP_IOCTL", IOCTL),
    ];
}

/// Each CloudABI right and the Capsicum rights it needs (FreeBSD's
/// `RIGHTS_MAPPINGS`). `file_advise` needs none: `posix_fadvise` has no
/// Capsicum right.
pub static CAPSICUM: [(Rights, &[u64]); 31] = [
    (Rights::FD_DATASYNC, &[cap::FSYNC]),
    (Rights::FD_READ, &[cap::READ]),
    (Rights::FD_SEEK, &[cap::SEEK]),
    (Rights::FD_STAT_PUT_FLAGS, &[cap::FCNTL]),
    (Rights::FD_SYNC, &[cap::FSYNC]),
    (Rights::FD_TELL, &[cap::SEEK_TELL]),
    (Rights::FD_WRITE, &[cap::WRITE]),
    (Rights::FILE_ADVISE, &[]),
    (Rights::FILE_ALLOCATE, &[cap::WRITE]),
    (Rights::FILE_CREATE_DIRECTORY, &[cap::MKDIRAT]),
    (Rights::FILE_CREATE_FILE, &[cap::CREATE]),
    (Rights::FILE_LINK_SOURCE, &[cap::LINKAT_SOURCE]),
    (Rights::FILE_LINK_TARGET, &[cap::LINKAT_TARGET]),
    (Rights::FILE_OPEN, &[cap::LOOKUP]),
    (Rights::FILE_READDIR, &[cap::READ]),
    (Rights::FILE_READLINK, &[cap::LOOKUP]),
    (Rights::FILE_RENAME_SOURCE, &[cap::RENAMEAT_SOURCE]),
    (Rights::FILE_RENAME_TARGET, &[cap::RENAMEAT_TARGET]),
    (Rights::FILE_STAT_FGET, &[cap::FSTAT]),
    (Rights::FILE_STAT_FPUT_SIZE, &[cap::FTRUNCATE]),
    (Rights::FILE_STAT_FPUT_TIMES, &[cap::FUTIMES]),
    (Rights::FILE_STAT_GET, &[cap::FSTATAT]),
    (Rights::FILE_STAT_PUT_TIMES, &[cap::FUTIMESAT]),
    (Rights::FILE_SYMLINK, &[cap::SYMLINKAT]),
    (Rights::FILE_UNLINK, &[cap::UNLINKAT]),
    (Rights::MEM_MAP, &[cap::MMAP]),
    (Rights::MEM_MAP_EXEC, &[cap::MMAP_X]),
    (Rights::POLL_FD_READWRITE, &[cap::EVENT]),
    (Rights::POLL_PROC_TERMINATE, &[cap::EVENT]),
    (Rights::PROC_EXEC, &[cap::FEXECVE]),
    (Rights::SOCK_SHUTDOWN, &[cap::SHUTDOWN]),
];

impl CapRights {
    /// No rights (`CAP_NONE`: version 0, both index markers set).
    pub const NONE: CapRights = CapRights([1 << 57, 1 << 58]);

    /// Adds a `CAPRIGHT(idx, bit)` value to the word its index selects.
    pub const fn with(self, right: u64) -> CapRights {
        let mut w = self.0;
        let idx = if right & (1 << 58) != 0 { 1 } else { 0 };
        w[idx] |= right;
        CapRights(w)
    }

    /// Removes a `CAPRIGHT(idx, bit)` value's bits from its word (the
    /// index marker stays).
    pub const fn without(self, right: u64) -> CapRights {
        let mut w = self.0;
        let idx = if right & (1 << 58) != 0 { 1 } else { 0 };
        w[idx] &= !(right & ((1 << 57) - 1));
        CapRights(w)
    }

    /// The rights present in both (the index markers stay).
    pub const fn intersection(self, other: CapRights) -> CapRights {
        CapRights([self.0[0] & other.0[0], self.0[1] & other.0[1]])
    }

    /// True if every bit of `right` is present in its word.
    pub const fn has(self, right: u64) -> bool {
        let idx = if right & (1 << 58) != 0 { 1 } else { 0 };
        self.0[idx] & right == right
    }
}

/// The Capsicum rights that allow everything `r` allows.
pub fn to_capsicum(r: Rights) -> CapRights {
    let mut c = CapRights::NONE;
    for (right, caps) in CAPSICUM.iter() {
        if r.contains(*right) {
            for &cr in caps.iter() {
                c = c.with(cr);
            }
        }
    }
    c
}

/// The CloudABI rights `c` allows, limited to what `ft` can use (Capsicum
/// has one set of rights per file, so base and inheriting come out the
/// same before the type limits them).
pub fn from_capsicum(c: CapRights, ft: Filetype) -> FdRights {
    let mut r = Rights::EMPTY;
    for (right, caps) in CAPSICUM.iter() {
        if caps.iter().all(|&cr| c.has(cr)) {
            r |= *right;
        }
    }
    for_new_fd(ft, FdRights { base: r, inheriting: r })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capsicum_table_covers_every_right_once() {
        let mut seen = Rights::EMPTY;
        for (r, _) in CAPSICUM.iter() {
            assert!(!seen.intersects(*r), "{r:?} listed twice");
            seen |= *r;
        }
        assert_eq!(seen, Rights::ALL);
    }

    #[test]
    fn capsicum_round_trip_keeps_rights() {
        for ft in Filetype::VALUES {
            let max = max_for(ft);
            let back = from_capsicum(to_capsicum(max.base), ft);
            assert!(max.base.difference(back.base).is_empty(), "{ft:?}: lost {:?}", max.base - back.base);
        }
        assert_eq!(to_capsicum(Rights::EMPTY), CapRights::NONE);
        assert!(to_capsicum(Rights::POLL_FD_READWRITE).has(cap::EVENT));
        assert_eq!(to_capsicum(Rights::POLL_FD_READWRITE).0[1], (1 << 58) | 0x20);
    }

    #[test]
    fn new_fds_never_exceed_the_request() {
        let req = FdRights { base: Rights::ALL, inheriting: Rights::ALL };
        for ft in Filetype::VALUES {
            let got = for_new_fd(ft, req);
            assert!(got.within(req));
            assert!(got.within(max_for(ft)));
        }
        assert_eq!(for_new_fd(Filetype::REGULAR_FILE, req).inheriting, Rights::EMPTY);
    }
}
