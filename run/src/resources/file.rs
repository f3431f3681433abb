//! `!file {path, mode}`.
//!
//! Paths are relative to the current directory. Every mode opens
//! close-on-exec and without acquiring a controlling terminal:
//!
//! | mode | flags |
//! |---|---|
//! | none (as the original cloudabi-run) | `O_RDONLY` (a directory too) |
//! | `read` | `O_RDONLY` (directories too) |
//! | `write` | `O_WRONLY \| O_CREAT` |
//! | `append` | `O_WRONLY \| O_APPEND \| O_CREAT` |
//! | `readwrite` | `O_RDWR \| O_CREAT` |
//! | `directory` | `O_RDONLY \| O_DIRECTORY` |
//!
//! Files are created with mode 0666 less the umask and never truncated: a
//! configuration should not be able to destroy data by naming a file.

use std::fs::OpenOptions;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::resolve::{FileMode, FileSpec};

pub fn open_file(spec: &FileSpec) -> Result<OwnedFd, String> {
    let mut options = OpenOptions::new();
    let mut flags = libc::O_NOCTTY;
    match spec.mode {
        FileMode::Unspecified | FileMode::Read => options.read(true),
        FileMode::Write => options.write(true).create(true),
        FileMode::Append => options.append(true).create(true),
        FileMode::ReadWrite => options.read(true).write(true).create(true),
        FileMode::Directory => {
            flags |= libc::O_DIRECTORY;
            options.read(true)
        }
    };
    // std adds O_CLOEXEC; 0o666 is the mode before the umask.
    options.custom_flags(flags).mode(0o666);
    options.open(&spec.path).map(OwnedFd::from).map_err(|e| format!("cannot open `{}`: {e}", spec.path))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::{Read, Seek, Write};

    use super::*;

    fn spec(path: &std::path::Path, mode: FileMode) -> FileSpec {
        FileSpec { path: path.to_str().unwrap().into(), mode }
    }

    #[test]
    fn write_modes_create_but_never_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::File::from(open_file(&spec(&path, FileMode::Write)).unwrap()).write_all(b"hello").unwrap();
        fs::File::from(open_file(&spec(&path, FileMode::Write)).unwrap()).write_all(b"J").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"Jello");
        fs::File::from(open_file(&spec(&path, FileMode::Append)).unwrap()).write_all(b"!").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"Jello!");
        let mut rw = fs::File::from(open_file(&spec(&path, FileMode::ReadWrite)).unwrap());
        let mut text = String::new();
        rw.read_to_string(&mut text).unwrap();
        rw.rewind().unwrap();
        rw.write_all(b"j").unwrap();
        assert_eq!((text.as_str(), fs::read(&path).unwrap()), ("Jello!", b"jello!".to_vec()));
        let created = dir.path().join("g");
        open_file(&spec(&created, FileMode::Append)).unwrap();
        assert!(created.exists());
    }

    #[test]
    fn read_and_directory_modes_do_not_create() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = open_file(&spec(&missing, FileMode::Read)).unwrap_err();
        assert_eq!(
            err,
            format!("cannot open `{}`: No such file or directory (os error 2)", missing.display())
        );
        assert!(open_file(&spec(&missing, FileMode::Directory)).is_err());
        assert!(!missing.exists());
    }

    #[test]
    fn directory_mode_wants_a_directory_and_read_accepts_one() {
        let dir = tempfile::tempdir().unwrap();
        assert!(open_file(&spec(dir.path(), FileMode::Directory)).is_ok());
        assert!(open_file(&spec(dir.path(), FileMode::Read)).is_ok());
        let file = dir.path().join("f");
        fs::write(&file, "x").unwrap();
        let err = open_file(&spec(&file, FileMode::Directory)).unwrap_err();
        assert!(err.ends_with("Not a directory (os error 20)"), "{err}");
    }
}
