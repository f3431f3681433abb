//! Direct execution (`cloudabi-run --exec PROGRAM [ARG...]`): a CloudABI
//! program run like an ordinary command, as the cloudabi64 module runs one
//! that a FreeBSD shell executes (`./ls < /etc`). No configuration is read:
//!
//! - the descriptors are the caller's 0, 1 and 2 and no others, each with
//!   the rights its type and its open mode allow (the `!fd N` rule of
//!   [`crate::rights::for_inherited`]);
//! - the argument data is what the module passes on a native `execve`:
//!   the argv strings back to back, each with its terminating NUL, less
//!   the last NUL (`kmod/src/exec.rs`: the bytes from `begin_argv` to
//!   `begin_envv` of the kernel's `image_args`; `AT_ARGDATALEN` leaves out
//!   the final NUL, `kmod/src/image.rs` `argdata_len`). It is not an
//!   argdata tree; a program that looks for keys in it finds none (see
//!   docs/semantics.md).

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use sys::backend::FdRights;

use crate::resources::duplicate_inherited;
use crate::rights::for_inherited;

/// The descriptors a directly executed program gets: 0, 1 and 2.
pub const STANDARD_FDS: [i32; 3] = [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO];

/// The argument data of a native exec with `argv`: the strings joined by
/// NULs (the kernel copies each with its NUL; the last one is not part of
/// the argument data).
pub fn argdata(argv: &[OsString]) -> Vec<u8> {
    let pieces: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    pieces.join(&0u8)
}

/// Duplicates of this process's descriptors 0 to 2 with their rights
/// ceilings. A closed one is an error: the descriptor list has no holes.
pub fn standard_fds() -> Result<Vec<(OwnedFd, FdRights)>, String> {
    STANDARD_FDS
        .iter()
        .map(|&fd| {
            let copy = duplicate_inherited(fd).map_err(|e| {
                format!("{e} (a program run with --exec is given descriptors 0, 1 and 2, which must be open)")
            })?;
            let ceiling = for_inherited(copy.as_fd());
            Ok((copy, ceiling))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argdata_is_the_argv_strings_with_their_nuls() {
        let argv: Vec<OsString> = ["./ls", "-l", "", "ü"].iter().map(OsString::from).collect();
        assert_eq!(argdata(&argv), b"./ls\0-l\0\0\xc3\xbc");
        assert_eq!(argdata(&argv[..1]), b"./ls");
        assert_eq!(argdata(&[]), b"");
    }

    #[test]
    fn argdata_splits_back_into_the_same_argv() {
        // The native launch passes argument data as execve argv pieces
        // split at NULs; the module joins them again. Both directions
        // must agree for direct execution to be the same on both systems.
        let argv: Vec<OsString> = ["prog", "a b", "c"].iter().map(OsString::from).collect();
        let data = argdata(&argv);
        let buffer = crate::native::argv::buffer(&data);
        let pieces: Vec<&[u8]> = crate::native::argv::offsets(&data)
            .iter()
            .map(|&o| {
                let rest = &buffer[o..];
                &rest[..rest.iter().position(|&b| b == 0).unwrap()]
            })
            .collect();
        assert_eq!(pieces, [&b"prog"[..], b"a b", b"c"]);
    }

    #[test]
    fn standard_descriptors_keep_their_access_mode() {
        // The test harness has 0 to 2 open; each copy is above 2.
        let fds = standard_fds().unwrap();
        assert_eq!(fds.len(), 3);
        for (fd, ceiling) in &fds {
            assert!(std::os::fd::AsRawFd::as_raw_fd(fd) > 2);
            assert_eq!(*ceiling, for_inherited(fd.as_fd()));
        }
    }
}
