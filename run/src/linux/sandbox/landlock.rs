//! Landlock: the host file system as the configuration granted it.
//!
//! Every file-system access Landlock can restrict on the running kernel
//! (its ABI version) is handled, so that it is refused unless a rule
//! allows it. The rules:
//!
//! - each granted directory allows, for everything beneath it, what its
//!   rights ceiling allows (`dir_access`): a `mode: read` tree can be read
//!   and listed, a `directory` tree also changed; never executed, never
//!   given device nodes, never sent device `ioctl`s;
//! - cloudabi-run's own executable and its ELF interpreter may be executed
//!   and, with the shared libraries it was loaded with, read: that is what
//!   re-executing cloudabi-run for `proc_exec` needs (and what re-running
//!   it with other arguments could reach anyway);
//! - `/dev/null` may be read and written (the Rust runtime opens it at
//!   start-up when a standard descriptor is closed).
//!
//! Files granted as files are already open and need no rule: Landlock
//! checks opening, not using.
//!
//! From ABI 4 on, TCP `bind` and `connect` are handled with no rule (none
//! is allowed); from ABI 6 on, signals and abstract Unix sockets are
//! scoped to the processes of this sandbox.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use abi::Rights;
use sys::backend::FdRights;

const SYS_CREATE_RULESET: libc::c_long = 444;
const SYS_ADD_RULE: libc::c_long = 445;
const SYS_RESTRICT_SELF: libc::c_long = 446;
const CREATE_RULESET_VERSION: u32 = 1;
const RULE_PATH_BENEATH: u32 = 1;

/// File-system access rights (`LANDLOCK_ACCESS_FS_*`).
pub mod fs {
    pub const EXECUTE: u64 = 1 << 0;
    pub const WRITE_FILE: u64 = 1 << 1;
    pub const READ_FILE: u64 = 1 << 2;
    pub const READ_DIR: u64 = 1 << 3;
    pub const REMOVE_DIR: u64 = 1 << 4;
    pub const REMOVE_FILE: u64 = 1 << 5;
    pub const MAKE_CHAR: u64 = 1 << 6;
    pub const MAKE_DIR: u64 = 1 << 7;
    pub const MAKE_REG: u64 = 1 << 8;
    pub const MAKE_SOCK: u64 = 1 << 9;
    pub const MAKE_FIFO: u64 = 1 << 10;
    pub const MAKE_BLOCK: u64 = 1 << 11;
    pub const MAKE_SYM: u64 = 1 << 12;
    /// ABI 2.
    pub const REFER: u64 = 1 << 13;
    /// ABI 3.
    pub const TRUNCATE: u64 = 1 << 14;
    /// ABI 5.
    pub const IOCTL_DEV: u64 = 1 << 15;
    /// ABI 1: everything up to `MAKE_SYM`.
    pub const V1: u64 = (1 << 13) - 1;
    /// Never allowed beneath a granted directory.
    pub const NEVER: u64 = EXECUTE | MAKE_CHAR | MAKE_BLOCK | IOCTL_DEV;
}

/// Network access rights (`LANDLOCK_ACCESS_NET_*`, ABI 4).
pub mod net {
    pub const BIND_TCP: u64 = 1 << 0;
    pub const CONNECT_TCP: u64 = 1 << 1;
}

/// Scopes (`LANDLOCK_SCOPE_*`, ABI 6).
pub mod scope {
    pub const ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
    pub const SIGNAL: u64 = 1 << 1;
}

/// `struct landlock_ruleset_attr` as of ABI 6. Older kernels accept the
/// larger structure as long as the fields they do not know are zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Handled {
    pub fs: u64,
    pub net: u64,
    pub scoped: u64,
}

/// `struct landlock_path_beneath_attr` (packed).
#[repr(C, packed)]
struct PathBeneath {
    allowed_access: u64,
    parent_fd: i32,
}

/// The Landlock ABI version of the running kernel, or why there is none
/// (`ENOSYS`: not built in; `EOPNOTSUPP`: disabled at boot).
pub fn abi() -> Result<u32, io::Error> {
    // SAFETY: with a null attribute, size 0 and the VERSION flag the call
    // only returns a number.
    let r = unsafe {
        libc::syscall(SYS_CREATE_RULESET, std::ptr::null::<Handled>(), 0usize, CREATE_RULESET_VERSION)
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as u32)
}

/// What a ruleset of ABI `abi` handles: everything that ABI can restrict.
pub fn handled(abi: u32) -> Handled {
    let mut h = Handled { fs: fs::V1, net: 0, scoped: 0 };
    if abi >= 2 {
        h.fs |= fs::REFER;
    }
    if abi >= 3 {
        h.fs |= fs::TRUNCATE;
    }
    if abi >= 4 {
        h.net = net::BIND_TCP | net::CONNECT_TCP;
    }
    if abi >= 5 {
        h.fs |= fs::IOCTL_DEV;
    }
    if abi >= 6 {
        h.scoped = scope::ABSTRACT_UNIX_SOCKET | scope::SIGNAL;
    }
    h
}

/// What raw system calls can still do that this ABI cannot stop (for the
/// warning), empty when it covers everything the sandbox relies on it for.
/// Network and device `ioctl` gaps are closed by the seccomp filter.
pub fn gaps(abi: u32) -> Vec<&'static str> {
    let mut g = Vec::new();
    if abi < 2 {
        g.push("files cannot be renamed or linked between directories");
    }
    if abi < 6 {
        g.push("signals can reach other processes of this user");
        g.push("abstract Unix sockets can be reached");
    }
    g
}

/// The access a directory with rights ceiling `ceiling` allows beneath it,
/// before masking with what the kernel handles. The ceiling's base and
/// inheriting rights both count: directories opened beneath it get the
/// inheriting ones.
pub fn dir_access(ceiling: FdRights) -> u64 {
    let r = ceiling.base.union(ceiling.inheriting);
    let any = |rights: Rights| r.intersects(rights);
    let mut a = 0;
    let mut allow = |cond: bool, access: u64| {
        if cond {
            a |= access;
        }
    };
    allow(any(Rights::FILE_OPEN | Rights::FILE_READDIR), fs::READ_DIR);
    allow(any(Rights::FD_READ), fs::READ_FILE);
    allow(any(Rights::FD_WRITE), fs::WRITE_FILE);
    allow(any(Rights::FILE_STAT_FPUT_SIZE), fs::TRUNCATE);
    let link_in = Rights::FILE_LINK_TARGET | Rights::FILE_RENAME_TARGET;
    allow(any(Rights::FILE_CREATE_FILE | link_in), fs::MAKE_REG);
    allow(any(Rights::FILE_CREATE_DIRECTORY | Rights::FILE_RENAME_TARGET), fs::MAKE_DIR);
    allow(any(Rights::FILE_SYMLINK | link_in), fs::MAKE_SYM);
    // Only moved or linked in, never created (no mknod and no bind).
    allow(any(link_in), fs::MAKE_FIFO | fs::MAKE_SOCK);
    allow(any(Rights::FILE_UNLINK | Rights::FILE_RENAME_SOURCE), fs::REMOVE_FILE | fs::REMOVE_DIR);
    let moves = Rights::FILE_LINK_SOURCE | Rights::FILE_RENAME_SOURCE | link_in;
    allow(any(moves), fs::REFER);
    debug_assert_eq!(a & fs::NEVER, 0);
    a
}

/// A rule: `fd` (a directory or a file) and what is allowed beneath it.
#[derive(Debug)]
pub struct Rule {
    pub fd: RawFd,
    pub access: u64,
    /// For messages.
    pub what: String,
}

/// How `restrict` ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Restricted {
    /// A new layer is in force.
    Yes,
    /// The process already has the most layers Landlock allows (16); the
    /// inherited ones stay in force.
    LayerLimit,
}

fn create_ruleset(h: &Handled) -> io::Result<OwnedFd> {
    // SAFETY: the kernel reads `size_of::<Handled>()` bytes of `h`.
    let r = unsafe {
        libc::syscall(SYS_CREATE_RULESET, h as *const Handled, std::mem::size_of::<Handled>(), 0u32)
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

fn add_rule(ruleset: &OwnedFd, fd: RawFd, access: u64) -> io::Result<()> {
    let attr = PathBeneath { allowed_access: access, parent_fd: fd };
    // SAFETY: the kernel reads the packed attribute.
    let r = unsafe {
        libc::syscall(SYS_ADD_RULE, ruleset.as_raw_fd(), RULE_PATH_BENEATH, &attr as *const PathBeneath, 0u32)
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Enforces a ruleset of ABI `abi` with `rules` on the calling thread (and
/// every thread and process it creates afterwards). `no_new_privs` must be
/// set.
pub fn restrict(abi: u32, rules: &[Rule]) -> Result<Restricted, String> {
    let h = handled(abi);
    let ruleset = create_ruleset(&h).map_err(|e| format!("landlock_create_ruleset: {e}"))?;
    for rule in rules {
        let access = rule.access & h.fs;
        if access == 0 {
            continue;
        }
        add_rule(&ruleset, rule.fd, access).map_err(|e| format!("landlock_add_rule ({}): {e}", rule.what))?;
    }
    // SAFETY: enforces the ruleset on this thread; no pointers.
    let r = unsafe { libc::syscall(SYS_RESTRICT_SELF, ruleset.as_raw_fd(), 0u32) };
    if r == 0 {
        return Ok(Restricted::Yes);
    }
    match io::Error::last_os_error() {
        e if e.raw_os_error() == Some(libc::E2BIG) => Ok(Restricted::LayerLimit),
        e => Err(format!("landlock_restrict_self: {e}")),
    }
}

/// Whether `fd` is a directory.
pub fn is_dir(fd: RawFd) -> bool {
    // SAFETY: fstat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) }) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// An `O_PATH` descriptor for `path` (Landlock does not check those).
pub fn open_path(path: &CStr) -> Option<OwnedFd> {
    // SAFETY: openat of a NUL-terminated path; the descriptor is ours.
    let fd = unsafe { libc::openat(libc::AT_FDCWD, path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    // SAFETY: a new descriptor owned by no one else.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The files this process was loaded from, other than its executable:
/// `(path, is the ELF interpreter)`.
pub fn loaded_objects() -> Vec<(CString, bool)> {
    struct Found {
        interp_base: usize,
        objects: Vec<(CString, bool)>,
    }
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: usize,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid entry and our `data`.
        let (info, found) = unsafe { (&*info, &mut *(data as *mut Found)) };
        if !info.dlpi_name.is_null() {
            // SAFETY: dlpi_name is a NUL-terminated string.
            let name = unsafe { CStr::from_ptr(info.dlpi_name) };
            // The main program has an empty name, the vDSO no path.
            if name.to_bytes().starts_with(b"/") {
                let interp = found.interp_base != 0 && info.dlpi_addr as usize == found.interp_base;
                found.objects.push((name.to_owned(), interp));
            }
        }
        0
    }
    // SAFETY: getauxval only reads the auxiliary vector.
    let interp_base = unsafe { libc::getauxval(libc::AT_BASE) } as usize;
    let mut found = Found { interp_base, objects: Vec::new() };
    // SAFETY: the callback only reads the entries and writes `found`,
    // which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(each), (&mut found as *mut Found).cast()) };
    found.objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::FileMode;
    use crate::rights;

    #[test]
    fn each_abi_handles_what_it_has() {
        assert_eq!(handled(1), Handled { fs: 0x1fff, net: 0, scoped: 0 });
        assert_eq!(handled(2).fs, 0x3fff);
        assert_eq!(handled(3).fs, 0x7fff);
        assert_eq!(handled(4), Handled { fs: 0x7fff, net: 3, scoped: 0 });
        assert_eq!(handled(5), Handled { fs: 0xffff, net: 3, scoped: 0 });
        assert_eq!(handled(6), Handled { fs: 0xffff, net: 3, scoped: 3 });
        // ABI 7 adds only logging flags; later ABIs are used as ABI 7.
        assert_eq!(handled(7), handled(6));
        assert_eq!(handled(9), handled(6));
        assert!(gaps(7).is_empty() && gaps(6).is_empty());
        assert_eq!(gaps(5).len(), 2);
        assert_eq!(gaps(1).len(), 3);
        assert_eq!(std::mem::size_of::<Handled>(), 24);
        assert_eq!(std::mem::size_of::<PathBeneath>(), 12);
    }

    #[test]
    fn read_only_trees_can_only_be_read() {
        let a = dir_access(rights::for_file(FileMode::Read));
        assert_eq!(a, fs::READ_DIR | fs::READ_FILE);
        let a = dir_access(rights::for_executable());
        assert_eq!(a, fs::READ_DIR | fs::READ_FILE);
    }

    #[test]
    fn read_write_trees_can_be_changed_but_not_executed() {
        let a = dir_access(rights::for_file(FileMode::Directory));
        let everything = handled(7).fs;
        assert_eq!(a, everything & !fs::NEVER);
        assert_eq!(dir_access(rights::UNLIMITED), a);
        // Write-only: everything but reading.
        let w = dir_access(rights::for_file(FileMode::Write));
        assert_eq!(w, a & !fs::READ_FILE);
    }

    #[test]
    fn rights_map_one_by_one() {
        let only = |r: Rights| dir_access(FdRights { base: r, inheriting: Rights::EMPTY });
        assert_eq!(only(Rights::EMPTY), 0);
        assert_eq!(only(Rights::FILE_OPEN), fs::READ_DIR);
        assert_eq!(only(Rights::FILE_CREATE_DIRECTORY), fs::MAKE_DIR);
        assert_eq!(only(Rights::FILE_CREATE_FILE), fs::MAKE_REG);
        assert_eq!(only(Rights::FILE_SYMLINK), fs::MAKE_SYM);
        assert_eq!(only(Rights::FILE_UNLINK), fs::REMOVE_FILE | fs::REMOVE_DIR);
        assert_eq!(only(Rights::FILE_LINK_SOURCE), fs::REFER);
        assert_eq!(only(Rights::FILE_STAT_FPUT_SIZE), fs::TRUNCATE);
        // Inheriting rights count as well.
        let inh = dir_access(FdRights { base: Rights::EMPTY, inheriting: Rights::FD_WRITE });
        assert_eq!(inh, fs::WRITE_FILE);
    }

    #[test]
    fn the_interpreter_and_libraries_are_found() {
        let objects = loaded_objects();
        // A static executable has none; a dynamic one has its interpreter.
        // SAFETY: getauxval only reads the auxiliary vector.
        let dynamic = unsafe { libc::getauxval(libc::AT_BASE) } != 0;
        assert_eq!(objects.iter().filter(|o| o.1).count(), usize::from(dynamic), "{objects:?}");
        for (path, _) in &objects {
            assert!(open_path(path).is_some(), "{path:?}");
        }
    }

    #[test]
    fn the_kernel_reports_an_abi_or_why_not() {
        match abi() {
            Ok(v) => assert!(v >= 1),
            Err(e) => {
                let code = e.raw_os_error();
                assert!(code == Some(libc::ENOSYS) || code == Some(libc::EOPNOTSUPP), "{e}");
            }
        }
    }
}
