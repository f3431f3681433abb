//! Landlock: the host file system as the configuration granted it.
//!
//! Every file-system access Landlock can restrict on the running kernel
//! (its ABI version, up to [`REVIEWED`]) is handled, so that it is refused
//! unless a rule allows it. The rules:
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
//!
//! The system calls and their structures are the `landlock` crate's (by
//! Landlock's maintainers; its `Ruleset`, `PathBeneath`, `AccessFs`,
//! `AccessNet`, `Scope`). What each ABI handles is decided here, from the
//! ABI the kernel reports ([`abi`]), and the crate is told to enforce
//! exactly that with `CompatLevel::HardRequirement`: where the crate would
//! otherwise drop a restriction it finds unsupported (its default,
//! best-effort mode), building the ruleset fails instead, so the sandbox
//! is never weaker than the ABI the warning and `--sandbox` were decided
//! on.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};

use abi::Rights;
use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, RestrictSelfError,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetError, RulesetStatus, Scope, make_bitflags,
};
use sys::backend::FdRights;

/// The newest Landlock ABI this policy was reviewed against; a newer
/// kernel is used as this one. ABI 7 added only logging flags; ABI 8
/// (restricting every thread at once), ABI 9 (`LANDLOCK_ACCESS_FS_RESOLVE_UNIX`)
/// and ABI 10 (quiet rules) are not used: the sandbox is applied while the
/// process has one thread, and seccomp already refuses `connect`.
pub const REVIEWED: u32 = 7;

/// Never allowed beneath a granted directory.
pub const NEVER: BitFlags<AccessFs> = make_bitflags!(AccessFs::{Execute | MakeChar | MakeBlock | IoctlDev});

/// What a ruleset handles (`struct landlock_ruleset_attr`'s three masks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handled {
    pub fs: BitFlags<AccessFs>,
    pub net: BitFlags<AccessNet>,
    pub scoped: BitFlags<Scope>,
}

/// The Landlock ABI version of the running kernel, or why there is none
/// (`ENOSYS`: not built in; `EOPNOTSUPP`: disabled at boot).
///
/// The one Landlock call made here rather than through the crate: the
/// crate keeps the kernel's ABI to itself until a ruleset is enforced
/// (`LandlockStatus::current` is private, landlock 0.4.8 `src/compat.rs`),
/// but whether to refuse (`--sandbox`) or warn is decided before anything
/// is applied.
pub fn abi() -> Result<u32, io::Error> {
    const CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: with a null attribute, size 0 and the VERSION flag the call
    // only returns a number.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as u32)
}

/// What a ruleset of ABI `abi` handles: everything that ABI can restrict
/// (ABIs after [`REVIEWED`] as that one).
pub fn handled(abi: u32) -> Handled {
    let abi = ABI::from(abi.min(REVIEWED) as i32);
    Handled { fs: AccessFs::from_all(abi), net: AccessNet::from_all(abi), scoped: Scope::from_all(abi) }
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
pub fn dir_access(ceiling: FdRights) -> BitFlags<AccessFs> {
    let r = ceiling.base.union(ceiling.inheriting);
    let any = |rights: Rights| r.intersects(rights);
    let mut a = BitFlags::EMPTY;
    let mut allow = |cond: bool, access: BitFlags<AccessFs>| {
        if cond {
            a |= access;
        }
    };
    allow(any(Rights::FILE_OPEN | Rights::FILE_READDIR), AccessFs::ReadDir.into());
    allow(any(Rights::FD_READ), AccessFs::ReadFile.into());
    allow(any(Rights::FD_WRITE), AccessFs::WriteFile.into());
    allow(any(Rights::FILE_STAT_FPUT_SIZE), AccessFs::Truncate.into());
    let link_in = Rights::FILE_LINK_TARGET | Rights::FILE_RENAME_TARGET;
    allow(any(Rights::FILE_CREATE_FILE | link_in), AccessFs::MakeReg.into());
    allow(any(Rights::FILE_CREATE_DIRECTORY | Rights::FILE_RENAME_TARGET), AccessFs::MakeDir.into());
    allow(any(Rights::FILE_SYMLINK | link_in), AccessFs::MakeSym.into());
    // Only moved or linked in, never created (no mknod and no bind).
    allow(any(link_in), AccessFs::MakeFifo | AccessFs::MakeSock);
    allow(any(Rights::FILE_UNLINK | Rights::FILE_RENAME_SOURCE), AccessFs::RemoveFile | AccessFs::RemoveDir);
    let moves = Rights::FILE_LINK_SOURCE | Rights::FILE_RENAME_SOURCE | link_in;
    allow(any(moves), AccessFs::Refer.into());
    debug_assert!((a & NEVER).is_empty());
    a
}

/// A rule: `fd` (a directory or a file) and what is allowed beneath it.
/// `fd` must stay open until [`restrict`] returns.
#[derive(Debug)]
pub struct Rule {
    pub fd: RawFd,
    pub access: BitFlags<AccessFs>,
    /// For messages.
    pub what: String,
}

/// How `restrict` ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Restricted {
    /// A new layer is in force, handling everything its ABI can.
    Yes,
    /// The process already has the most layers Landlock allows (16); the
    /// inherited ones stay in force.
    LayerLimit,
}

/// The ruleset [`restrict`] enforces for ABI `abi`, before its rules: the
/// accesses of [`handled`], each required (an empty mask is not asked for:
/// the crate refuses one).
fn ruleset(abi: u32) -> Result<Ruleset, RulesetError> {
    let h = handled(abi);
    let mut r = Ruleset::default().set_compatibility(CompatLevel::HardRequirement).handle_access(h.fs)?;
    if !h.net.is_empty() {
        r = r.handle_access(h.net)?;
    }
    if !h.scoped.is_empty() {
        r = r.scope(h.scoped)?;
    }
    Ok(r)
}

/// Enforces a ruleset of ABI `abi` with `rules` on the calling thread (and
/// every thread and process it creates afterwards). `no_new_privs` must be
/// set (the caller sets it, with its own error message).
pub fn restrict(abi: u32, rules: &[Rule]) -> Result<Restricted, String> {
    let fs = handled(abi).fs;
    let ruleset = ruleset(abi).map_err(|e| format!("Landlock ABI {abi}: {e}"))?;
    let mut created =
        ruleset.create().map_err(|e| format!("landlock_create_ruleset: {e}"))?.no_new_privs(false);
    for rule in rules {
        let access = rule.access & fs;
        if access.is_empty() {
            continue;
        }
        // SAFETY: the caller keeps `rule.fd` open until this returns
        // (`Rule`'s contract); the borrow ends with the rule.
        let fd = unsafe { BorrowedFd::borrow_raw(rule.fd) };
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| format!("landlock_add_rule ({}): {e}", rule.what))?;
    }
    match created.restrict_self() {
        Ok(s) if s.ruleset == RulesetStatus::FullyEnforced => Ok(Restricted::Yes),
        // Not reachable with HardRequirement; refused rather than trusted.
        Ok(s) => Err(format!("landlock_restrict_self: the ruleset of ABI {abi} is {:?}", s.ruleset)),
        Err(RulesetError::RestrictSelf(RestrictSelfError::RestrictSelfCall { source, .. }))
            if source.raw_os_error() == Some(libc::E2BIG) =>
        {
            Ok(Restricted::LayerLimit)
        }
        Err(e) => Err(format!("landlock_restrict_self: {e}")),
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
    use std::fs;
    use std::io::ErrorKind;
    use std::os::fd::AsRawFd;

    use super::*;
    use crate::resolve::FileMode;
    use crate::rights;

    #[test]
    fn each_abi_handles_what_it_has() {
        // The masks as numbers, from the kernel's uapi header
        // (include/uapi/linux/landlock.h): the crate's per-ABI tables must
        // give exactly these.
        let bits = |abi| {
            let h = handled(abi);
            (h.fs.bits(), h.net.bits(), h.scoped.bits())
        };
        assert_eq!(bits(1), (0x1fff, 0, 0));
        assert_eq!(bits(2), (0x3fff, 0, 0));
        assert_eq!(bits(3), (0x7fff, 0, 0));
        assert_eq!(bits(4), (0x7fff, 3, 0));
        assert_eq!(bits(5), (0xffff, 3, 0));
        assert_eq!(bits(6), (0xffff, 3, 3));
        // ABI 7 adds only logging flags; later ABIs are used as ABI 7 (no
        // RESOLVE_UNIX from ABI 9, no UDP from ABI 10).
        for later in [7, 8, 9, 10, 11, 99] {
            assert_eq!(handled(later), handled(6), "ABI {later}");
        }
        assert_eq!(NEVER.bits(), 1 | 1 << 6 | 1 << 11 | 1 << 15);
        assert!(gaps(7).is_empty() && gaps(6).is_empty());
        assert_eq!(gaps(5).len(), 2);
        assert_eq!(gaps(1).len(), 3);
    }

    #[test]
    fn read_only_trees_can_only_be_read() {
        let a = dir_access(rights::for_file(FileMode::Read));
        assert_eq!(a, AccessFs::ReadDir | AccessFs::ReadFile);
        let a = dir_access(rights::for_executable());
        assert_eq!(a, AccessFs::ReadDir | AccessFs::ReadFile);
    }

    #[test]
    fn read_write_trees_can_be_changed_but_not_executed() {
        let a = dir_access(rights::for_file(FileMode::Directory));
        let everything = handled(REVIEWED).fs;
        assert_eq!(a, everything & !NEVER);
        assert_eq!(dir_access(rights::UNLIMITED), a);
        // Write-only: everything but reading.
        let w = dir_access(rights::for_file(FileMode::Write));
        assert_eq!(w, a & !AccessFs::ReadFile);
    }

    #[test]
    fn rights_map_one_by_one() {
        let only = |r: Rights| dir_access(FdRights { base: r, inheriting: Rights::EMPTY });
        assert_eq!(only(Rights::EMPTY), BitFlags::EMPTY);
        assert_eq!(only(Rights::FILE_OPEN), AccessFs::ReadDir);
        assert_eq!(only(Rights::FILE_CREATE_DIRECTORY), AccessFs::MakeDir);
        assert_eq!(only(Rights::FILE_CREATE_FILE), AccessFs::MakeReg);
        assert_eq!(only(Rights::FILE_SYMLINK), AccessFs::MakeSym);
        assert_eq!(only(Rights::FILE_UNLINK), AccessFs::RemoveFile | AccessFs::RemoveDir);
        assert_eq!(only(Rights::FILE_LINK_SOURCE), AccessFs::Refer);
        assert_eq!(only(Rights::FILE_STAT_FPUT_SIZE), AccessFs::Truncate);
        // Inheriting rights count as well.
        let inh = dir_access(FdRights { base: Rights::EMPTY, inheriting: Rights::FD_WRITE });
        assert_eq!(inh, AccessFs::WriteFile);
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

    /// The kernel's ABI, or `None` after saying why the test is skipped.
    fn kernel_abi() -> Option<u32> {
        abi().map_err(|e| println!("skipped: this kernel has no Landlock ({e})")).ok()
    }

    /// Runs `f` on a new thread with `no_new_privs`: Landlock layers and
    /// `no_new_privs` belong to a thread and what it creates afterwards, so
    /// the rest of the test process stays unconfined.
    fn on_confined_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(move || {
            // SAFETY: prctl with integer arguments only.
            assert_eq!(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }, 0);
            f()
        })
        .join()
        .unwrap()
    }

    #[test]
    fn this_kernel_enforces_everything_its_abi_has() {
        let Some(abi) = kernel_abi() else { return };
        // HardRequirement: the ruleset of the kernel's own ABI is fully
        // enforced (restrict refuses anything less).
        assert_eq!(on_confined_thread(move || restrict(abi, &[])), Ok(Restricted::Yes));
        // Asked for more than the kernel has, the crate's best effort would
        // enforce part of it and say so, where our HardRequirement fails:
        // the reason restrict asks only for what `handled` computed.
        if abi < 10 {
            let more = AccessFs::from_all(ABI::V10);
            let hard = Ruleset::default().set_compatibility(CompatLevel::HardRequirement).handle_access(more);
            assert!(hard.is_err(), "{hard:?}");
            let best = on_confined_thread(move || {
                Ruleset::default().handle_access(more)?.create()?.restrict_self().map(|s| s.ruleset)
            });
            assert_eq!(best.unwrap(), RulesetStatus::PartiallyEnforced);
        }
        // An ABI the kernel does not have is refused, never half applied.
        if abi < REVIEWED {
            let r = on_confined_thread(|| restrict(REVIEWED, &[]));
            assert!(matches!(&r, Err(m) if m.starts_with("Landlock ABI 7: ")), "{r:?}");
        }
    }

    #[test]
    fn past_the_layer_limit_the_inherited_layers_stay() {
        let Some(abi) = kernel_abi() else { return };
        // Landlock stacks at most 16 layers (LANDLOCK_MAX_NUM_LAYERS); a
        // re-executed chain longer than that keeps the ones it has, which
        // the crate reports as E2BIG from landlock_restrict_self.
        let got = on_confined_thread(move || (0..20).map(|_| restrict(abi, &[])).collect::<Vec<_>>());
        let layers = got.iter().take_while(|r| **r == Ok(Restricted::Yes)).count();
        assert!((1..=16).contains(&layers), "{got:?}");
        assert!(got[layers..].iter().all(|r| *r == Ok(Restricted::LayerLimit)), "{got:?}");
    }

    #[test]
    fn a_read_only_tree_refuses_writes() {
        let Some(abi) = kernel_abi() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let (ro, rw) = (tmp.path().join("ro"), tmp.path().join("rw"));
        for d in [&ro, &rw] {
            fs::create_dir(d).unwrap();
            fs::write(d.join("file"), "before").unwrap();
        }
        fs::write(tmp.path().join("outside"), "secret").unwrap();
        let (ro2, rw2, outside) = (ro.clone(), rw.clone(), tmp.path().join("outside"));
        let got = on_confined_thread(move || {
            let (rofd, rwfd) = (fs::File::open(&ro2).unwrap(), fs::File::open(&rw2).unwrap());
            let rules = [
                Rule {
                    fd: rofd.as_raw_fd(),
                    access: dir_access(rights::for_file(FileMode::Read)),
                    what: "ro".into(),
                },
                Rule {
                    fd: rwfd.as_raw_fd(),
                    access: dir_access(rights::for_file(FileMode::Directory)),
                    what: "rw".into(),
                },
            ];
            assert_eq!(restrict(abi, &rules), Ok(Restricted::Yes));
            let kind = |r: io::Result<()>| r.map_err(|e| e.kind());
            let write = |p: &std::path::Path| fs::OpenOptions::new().write(true).open(p).map(drop);
            vec![
                ("ro read", kind(fs::read(ro2.join("file")).map(drop))),
                ("ro write", kind(write(&ro2.join("file")))),
                ("ro truncate", kind(fs::write(ro2.join("file"), "after"))),
                ("ro create", kind(fs::write(ro2.join("new"), "new"))),
                ("ro mkdir", kind(fs::create_dir(ro2.join("d")))),
                ("ro unlink", kind(fs::remove_file(ro2.join("file")))),
                ("rw write", kind(fs::write(rw2.join("file"), "after"))),
                ("rw create", kind(fs::write(rw2.join("new"), "new"))),
                ("outside read", kind(fs::read(&outside).map(drop))),
            ]
        });
        let denied = Err(ErrorKind::PermissionDenied);
        let want = [
            ("ro read", Ok(())),
            ("ro write", denied),
            ("ro truncate", denied),
            ("ro create", denied),
            ("ro mkdir", denied),
            ("ro unlink", denied),
            ("rw write", Ok(())),
            ("rw create", Ok(())),
            ("outside read", denied),
        ];
        assert_eq!(got, want);
        assert_eq!(fs::read_to_string(ro.join("file")).unwrap(), "before");
        assert!(!ro.join("new").exists() && !ro.join("d").exists());
        assert_eq!(fs::read_to_string(rw.join("file")).unwrap(), "after");
    }
}
