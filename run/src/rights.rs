//! The rights cloudabi-run grants each descriptor.
//!
//! A configuration says how a resource is to be used (`mode: read`, an
//! append-only log, a listening socket); cloudabi-run turns that into a
//! ceiling of CloudABI rights. The backend gives the descriptor the
//! maximum for its type limited by the ceiling, so the program cannot do
//! more with it than the configuration meant, whatever the host file's own
//! permissions allow:
//!
//! | resource | the program may not |
//! |---|---|
//! | `!file` `read`, `!executable` | write, create, rename, link, unlink or change anything through it or anything opened beneath it |
//! | `!file` without `mode`: a directory | — (every directory right, as the original cloudabi-run and FreeBSD's CloudABI gave a directory opened read-only) |
//! | `!file` without `mode`: anything else | as `read` |
//! | `!file` `write` | read it |
//! | `!file` `append` | read it, seek, truncate, allocate, map it, or clear `append` |
//! | `!file` `readwrite`, `directory` | — |
//! | `!socket` stream or seqpacket (listening) | write to it or shut it down (connections it accepts get the usual socket rights) |
//! | `!socket` dgram | — |
//! | `!fd N` | read it if cloudabi-run cannot, write it if cloudabi-run cannot (FreeBSD's rule for descriptors entering CloudABI) |

use std::os::fd::{AsRawFd, BorrowedFd};

use abi::Rights;
use sys::backend::FdRights;

use crate::resolve::{FileMode, SocketKind};

/// Rights that change a file or a directory tree.
pub const MODIFY: Rights = Rights::FD_WRITE
    .union(Rights::FILE_ALLOCATE)
    .union(Rights::FILE_CREATE_DIRECTORY)
    .union(Rights::FILE_CREATE_FILE)
    .union(Rights::FILE_LINK_SOURCE)
    .union(Rights::FILE_LINK_TARGET)
    .union(Rights::FILE_RENAME_SOURCE)
    .union(Rights::FILE_RENAME_TARGET)
    .union(Rights::FILE_STAT_FPUT_SIZE)
    .union(Rights::FILE_STAT_FPUT_TIMES)
    .union(Rights::FILE_STAT_PUT_TIMES)
    .union(Rights::FILE_SYMLINK)
    .union(Rights::FILE_UNLINK);

/// Rights an append-only file must not have: reading, moving the offset
/// (which also rules out `pwrite`), shrinking or growing it other than by
/// appending, mapping it, and clearing `append` with `fd_stat_put`.
pub const NOT_APPEND_ONLY: Rights = Rights::FD_READ
    .union(Rights::FD_SEEK)
    .union(Rights::FD_STAT_PUT_FLAGS)
    .union(Rights::FILE_ALLOCATE)
    .union(Rights::FILE_STAT_FPUT_SIZE)
    .union(Rights::MEM_MAP)
    .union(Rights::MEM_MAP_EXEC);

/// No limit: the maximum for the descriptor's type.
pub const UNLIMITED: FdRights = FdRights { base: Rights::ALL, inheriting: Rights::ALL };

const fn without(r: Rights) -> FdRights {
    FdRights { base: Rights::ALL.difference(r), inheriting: Rights::ALL.difference(r) }
}

/// The ceiling for a `!file` opened with `mode`.
pub fn for_file(mode: FileMode) -> FdRights {
    match mode {
        FileMode::Read | FileMode::Unspecified => without(MODIFY),
        FileMode::Write => without(Rights::FD_READ),
        FileMode::Append => without(NOT_APPEND_ONLY),
        FileMode::ReadWrite | FileMode::Directory => UNLIMITED,
    }
}

/// The ceiling for a `!file` opened without `mode` (read-only, as the
/// original cloudabi-run opened every `!file`): the original gave the
/// descriptor the maximum rights of its type, so a directory can be
/// written beneath; a regular file opened read-only can only be read.
pub fn for_unspecified_file(fd: BorrowedFd<'_>) -> FdRights {
    // SAFETY: fstat fills a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above, on a descriptor we own.
    let is_dir =
        unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    if is_dir { UNLIMITED } else { for_file(FileMode::Read) }
}

/// The ceiling for the program's own executable (`!executable`).
pub fn for_executable() -> FdRights {
    for_file(FileMode::Read)
}

/// The ceiling for a `!socket` of `kind`. A listening socket only takes
/// connections (`sock_recv`, cloudabi64's accept extension) and is polled;
/// what the connections may do is its inheriting set.
pub fn for_socket(kind: SocketKind) -> FdRights {
    match kind {
        SocketKind::Stream | SocketKind::Seqpacket => FdRights {
            base: Rights::FD_READ
                .union(Rights::FD_STAT_PUT_FLAGS)
                .union(Rights::FILE_STAT_FGET)
                .union(Rights::POLL_FD_READWRITE),
            inheriting: Rights::ALL,
        },
        SocketKind::Dgram => UNLIMITED,
    }
}

/// The ceiling for one of cloudabi-run's own descriptors (`!fd N`): no
/// reading or writing where its access mode does not allow it.
pub fn for_inherited(fd: BorrowedFd<'_>) -> FdRights {
    // SAFETY: F_GETFL only reads the descriptor's status flags.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return UNLIMITED;
    }
    let mut no = Rights::EMPTY;
    match flags & libc::O_ACCMODE {
        libc::O_RDONLY => no |= Rights::FD_WRITE,
        libc::O_WRONLY => no |= Rights::FD_READ,
        _ => {}
    }
    FdRights { base: Rights::ALL.difference(no), inheriting: Rights::ALL }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    #[test]
    fn read_only_files_and_trees_cannot_be_changed() {
        let r = for_file(FileMode::Read);
        for right in
            [Rights::FD_WRITE, Rights::FILE_CREATE_FILE, Rights::FILE_UNLINK, Rights::FILE_RENAME_SOURCE]
        {
            assert!(!r.base.contains(right) && !r.inheriting.contains(right), "{right:?}");
        }
        assert!(r.base.contains(Rights::FD_READ | Rights::FILE_OPEN | Rights::FILE_READDIR));
        assert!(r.inheriting.contains(Rights::FD_READ | Rights::FD_SEEK));
    }

    #[test]
    fn without_a_mode_directories_get_every_right_and_files_are_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = std::fs::File::open(dir.path()).unwrap();
        assert_eq!(for_unspecified_file(d.as_fd()), UNLIMITED);
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        let f = std::fs::File::open(&path).unwrap();
        assert_eq!(for_unspecified_file(f.as_fd()), for_file(FileMode::Read));
    }

    #[test]
    fn append_only_files_cannot_be_read_rewound_or_truncated() {
        let r = for_file(FileMode::Append);
        assert!(r.base.contains(Rights::FD_WRITE | Rights::FD_TELL | Rights::FD_SYNC));
        for right in
            [Rights::FD_READ, Rights::FD_SEEK, Rights::FILE_STAT_FPUT_SIZE, Rights::FD_STAT_PUT_FLAGS]
        {
            assert!(!r.base.contains(right), "{right:?}");
        }
    }

    #[test]
    fn listening_sockets_pass_socket_rights_to_connections() {
        let r = for_socket(SocketKind::Stream);
        assert!(!r.base.contains(Rights::FD_WRITE));
        let conn = sys::rights::for_new_fd(
            abi::Filetype::SOCKET_STREAM,
            FdRights { base: r.inheriting, inheriting: r.inheriting },
        );
        assert_eq!(conn.base, sys::rights::SOCKET_BASE);
    }

    #[test]
    fn inherited_descriptors_keep_their_access_mode() {
        let ro = std::fs::File::open("/dev/null").unwrap();
        let r = for_inherited(ro.as_fd());
        assert!(r.base.contains(Rights::FD_READ) && !r.base.contains(Rights::FD_WRITE));
        let wo = std::fs::OpenOptions::new().write(true).open("/dev/null").unwrap();
        let r = for_inherited(wo.as_fd());
        assert!(!r.base.contains(Rights::FD_READ) && r.base.contains(Rights::FD_WRITE));
        let rw = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null").unwrap();
        assert_eq!(for_inherited(rw.as_fd()), UNLIMITED);
    }
}
