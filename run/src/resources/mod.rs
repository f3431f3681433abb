//! The real [`Opener`]: cloudabi-run's own descriptors, files and sockets.

mod check;
mod file;
mod inherited;
mod socket;

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::resolve::{FileSpec, Opener, SocketSpec};

pub use check::Checker;
pub use file::open_file;
pub use inherited::duplicate_inherited;
pub use socket::open_socket;

/// Opens descriptors on this system, remembering every number it got.
pub struct System<'a> {
    exe: &'a File,
    exe_path: &'a Path,
    ours: Vec<RawFd>,
}

impl<'a> System<'a> {
    /// `exe` is the executable, opened from `exe_path`.
    pub fn new(exe: &'a File, exe_path: &'a Path) -> Self {
        System { exe, exe_path, ours: Vec::new() }
    }

    fn keep(&mut self, opened: Result<OwnedFd, String>) -> Result<OwnedFd, String> {
        if let Ok(fd) = &opened {
            self.ours.push(fd.as_raw_fd());
        }
        opened
    }
}

impl Opener for System<'_> {
    fn inherited(&mut self, fd: RawFd) -> Result<OwnedFd, String> {
        // A number cloudabi-run opened itself was free when it got it, so
        // it is not a descriptor cloudabi-run was started with: `!fd 3`
        // must not hand out the executable or a `!file` opened earlier.
        if fd == self.exe.as_raw_fd() || self.ours.contains(&fd) {
            return Err(inherited::not_open(fd));
        }
        let duplicated = duplicate_inherited(fd);
        self.keep(duplicated)
    }

    fn file(&mut self, spec: &FileSpec) -> Result<OwnedFd, String> {
        let opened = open_file(spec);
        self.keep(opened)
    }

    fn socket(&mut self, spec: &SocketSpec) -> Result<OwnedFd, String> {
        let opened = open_socket(spec);
        self.keep(opened)
    }

    fn executable(&mut self) -> Result<OwnedFd, String> {
        let opened = reopen(self.exe, self.exe_path);
        self.keep(opened)
    }
}

/// The executable opened again, read-only and close-on-exec: a file
/// description of the program's own, whose offset the backend's reads do
/// not move. Checked to be the same file, in case the path was replaced.
fn reopen(exe: &File, path: &Path) -> Result<OwnedFd, String> {
    let fail = |e: std::io::Error| format!("cannot open the executable `{}` again: {e}", path.display());
    let again = File::open(path).map_err(fail)?;
    let (a, b) = (exe.metadata().map_err(fail)?, again.metadata().map_err(fail)?);
    if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
        return Err(format!("the executable `{}` was replaced while starting", path.display()));
    }
    Ok(again.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::FileMode;

    const NULL: &str = "/dev/null";

    #[test]
    fn descriptors_we_opened_are_not_inherited_ones() {
        let exe = File::open(NULL).unwrap();
        let mut system = System::new(&exe, Path::new(NULL));
        assert_eq!(
            system.inherited(exe.as_raw_fd()).unwrap_err(),
            format!("descriptor {} is not open", exe.as_raw_fd())
        );
        let spec = FileSpec { path: "/dev/null".into(), mode: FileMode::Read };
        let file = system.file(&spec).unwrap();
        let err = system.inherited(file.as_raw_fd()).unwrap_err();
        assert_eq!(err, format!("descriptor {} is not open", file.as_raw_fd()));
        let copy = system.executable().unwrap();
        assert!(system.inherited(copy.as_raw_fd()).is_err());
    }

    #[test]
    fn a_real_inherited_descriptor_is_duplicated() {
        let exe = File::open(NULL).unwrap();
        let outside = File::open(NULL).unwrap();
        let mut system = System::new(&exe, Path::new(NULL));
        let copy = system.inherited(outside.as_raw_fd()).unwrap();
        assert_ne!(copy.as_raw_fd(), outside.as_raw_fd());
    }

    #[test]
    fn the_executable_is_opened_again_with_its_own_offset() {
        use std::io::{Read, Seek, SeekFrom};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prog");
        std::fs::write(&path, "0123456789").unwrap();
        let mut exe = File::open(&path).unwrap();
        exe.seek(SeekFrom::Start(5)).unwrap();
        let mut again = File::from(System::new(&exe, &path).executable().unwrap());
        let mut text = String::new();
        again.read_to_string(&mut text).unwrap();
        assert_eq!(text, "0123456789");
    }

    #[test]
    fn a_replaced_executable_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prog");
        std::fs::write(&path, "old").unwrap();
        let exe = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "new").unwrap();
        let err = System::new(&exe, &path).executable().unwrap_err();
        assert_eq!(err, format!("the executable `{}` was replaced while starting", path.display()));
    }
}
