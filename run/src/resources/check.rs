//! The [`Opener`] of `--dump-argdata`: checks what a run would open and
//! opens nothing a run would create or bind, so that a dump leaves no
//! trace (no log file created, no UNIX-domain socket path left behind)
//! and a later run starts from the same state.
//!
//! | tag | checked | not done |
//! |---|---|---|
//! | `!fd N` | N is open (duplicated, as in a run) | |
//! | `!file` existing | its type for `directory`, `access(2)` for the mode | opening it |
//! | `!file` missing | the mode creates, the directory it would be created in is writable | creating it |
//! | `!socket` UNIX | the path does not exist, its directory is writable | creating and binding the socket |
//! | `!socket` host:port | the address parsed | resolving and binding: a port in use shows only when the program starts |
//!
//! Each tag still needs a descriptor for the list: `/dev/null`, opened
//! read-only, stands in; only the descriptions are printed.

use std::ffi::CString;
use std::fs::{self, File};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::System;
use crate::resolve::{BindAddr, FileMode, FileSpec, Opener, SocketSpec};

pub struct Checker<'a> {
    system: System<'a>,
}

impl<'a> Checker<'a> {
    pub fn new(exe: &'a File, exe_path: &'a Path) -> Self {
        Checker { system: System::new(exe, exe_path) }
    }
}

impl Opener for Checker<'_> {
    fn inherited(&mut self, fd: std::os::fd::RawFd) -> Result<OwnedFd, String> {
        self.system.inherited(fd)
    }

    fn file(&mut self, spec: &FileSpec) -> Result<OwnedFd, String> {
        check_file(spec).map_err(|e| format!("cannot open `{}`: {e}", spec.path))?;
        stand_in()
    }

    fn socket(&mut self, spec: &SocketSpec) -> Result<OwnedFd, String> {
        if let BindAddr::Unix(path) = &spec.bind {
            check_unix_path(Path::new(path)).map_err(|e| format!("cannot bind to `{path}`: {e}"))?;
        }
        stand_in()
    }

    fn executable(&mut self) -> Result<OwnedFd, String> {
        self.system.executable()
    }
}

fn check_file(spec: &FileSpec) -> io::Result<()> {
    let path = Path::new(&spec.path);
    let creates = matches!(spec.mode, FileMode::Write | FileMode::Append | FileMode::ReadWrite);
    match fs::metadata(path) {
        Ok(meta) => {
            if spec.mode == FileMode::Directory && !meta.is_dir() {
                return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
            }
            let wanted = match spec.mode {
                FileMode::Read | FileMode::Directory | FileMode::Unspecified => libc::R_OK,
                FileMode::Write | FileMode::Append => libc::W_OK,
                FileMode::ReadWrite => libc::R_OK | libc::W_OK,
            };
            access(path, wanted)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && creates => writable_dir_of(path),
        Err(e) => Err(e),
    }
}

fn check_unix_path(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(_) => Err(io::Error::other("the path already exists")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => writable_dir_of(path),
        Err(e) => Err(e),
    }
}

/// Whether a file could be created at `path`: its directory exists and is
/// writable and searchable.
fn writable_dir_of(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    access(dir, libc::W_OK | libc::X_OK)
}

fn access(path: &Path, mode: libc::c_int) -> io::Result<()> {
    let c =
        CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is a NUL-terminated string that lives across the call;
    // access(2) only reads it.
    if unsafe { libc::access(c.as_ptr(), mode) } == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

fn stand_in() -> Result<OwnedFd, String> {
    File::open("/dev/null").map(OwnedFd::from).map_err(|e| format!("cannot open /dev/null: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &Path, mode: FileMode) -> FileSpec {
        FileSpec { path: path.to_str().unwrap().into(), mode }
    }

    #[test]
    fn files_a_run_would_create_are_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let exe = File::open("/dev/null").unwrap();
        let mut checker = Checker::new(&exe, Path::new("/dev/null"));
        for mode in [FileMode::Write, FileMode::Append, FileMode::ReadWrite] {
            let log = dir.path().join("log");
            checker.file(&spec(&log, mode)).unwrap();
            assert!(!log.exists(), "{mode:?} created the file");
        }
        let err = checker.file(&spec(&dir.path().join("no/log"), FileMode::Append)).unwrap_err();
        assert!(err.ends_with("No such file or directory (os error 2)"), "{err}");
        let err = checker.file(&spec(&dir.path().join("missing"), FileMode::Read)).unwrap_err();
        assert!(err.ends_with("No such file or directory (os error 2)"), "{err}");
        fs::write(dir.path().join("f"), "x").unwrap();
        let err = checker.file(&spec(&dir.path().join("f"), FileMode::Directory)).unwrap_err();
        assert!(err.contains("Not a directory"), "{err}");
        checker.file(&spec(dir.path(), FileMode::Directory)).unwrap();
    }

    #[test]
    fn unix_sockets_are_not_bound() {
        let dir = tempfile::tempdir().unwrap();
        let exe = File::open("/dev/null").unwrap();
        let mut checker = Checker::new(&exe, Path::new("/dev/null"));
        let path = dir.path().join("sock");
        let text = path.to_str().unwrap().to_owned();
        let sock = SocketSpec {
            text: text.clone(),
            bind: BindAddr::Unix(text.clone()),
            kind: crate::resolve::SocketKind::Stream,
            domain: None,
        };
        checker.socket(&sock).unwrap();
        assert!(!path.exists());
        fs::write(&path, "").unwrap();
        assert_eq!(
            checker.socket(&sock).unwrap_err(),
            format!("cannot bind to `{text}`: the path already exists")
        );
    }
}
