//! Operations on open files: advice, allocation, attributes, directory
//! entries.

use std::sync::Arc;

use abi::*;
use sys::backend::{DirEntry, DirSink, FileOps, FileStat, SetTime};

use super::{Linux, check, filetype_of_mode, last_errno, ns};
use crate::linux::fdtable::HostFile;

/// A `timespec` for `futimens`/`utimensat`.
pub fn timespec(t: SetTime) -> libc::timespec {
    match t {
        SetTime::Keep => libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_OMIT },
        SetTime::Now => libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_NOW },
        SetTime::To(ns) => libc::timespec {
            tv_sec: (ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (ns % 1_000_000_000) as libc::c_long,
        },
    }
}

/// Converts a host `stat`; `filetype` overrides the type where the table
/// knows better (shared memory is a regular file to Linux).
pub fn file_stat(st: &libc::stat, filetype: Option<Filetype>) -> FileStat {
    FileStat {
        dev: st.st_dev,
        ino: st.st_ino,
        filetype: filetype.unwrap_or_else(|| filetype_of_mode(st.st_mode, || Filetype::SOCKET_STREAM)),
        nlink: u32::try_from(st.st_nlink).unwrap_or(u32::MAX),
        size: st.st_size.max(0) as u64,
        atim: ns(st.st_atime, st.st_atime_nsec),
        mtim: ns(st.st_mtime, st.st_mtime_nsec),
        ctim: ns(st.st_ctime, st.st_ctime_nsec),
    }
}

fn advice(a: Advice) -> libc::c_int {
    match a {
        Advice::DONTNEED => libc::POSIX_FADV_DONTNEED,
        Advice::NOREUSE => libc::POSIX_FADV_NOREUSE,
        Advice::RANDOM => libc::POSIX_FADV_RANDOM,
        Advice::SEQUENTIAL => libc::POSIX_FADV_SEQUENTIAL,
        Advice::WILLNEED => libc::POSIX_FADV_WILLNEED,
        _ => libc::POSIX_FADV_NORMAL,
    }
}

/// posix_fadvise/posix_fallocate return the error instead of setting errno.
fn direct(r: libc::c_int) -> Result<(), Errno> {
    if r == 0 { Ok(()) } else { Err(sys::errno::from_linux(r)) }
}

impl FileOps for Linux {
    fn file_advise(&mut self, file: &Arc<HostFile>, offset: u64, len: u64, a: Advice) -> Result<(), Errno> {
        // SAFETY: advisory call on an owned descriptor.
        direct(unsafe { libc::posix_fadvise(file.raw(), offset as i64, len as i64, advice(a)) })
    }

    fn file_allocate(&mut self, file: &Arc<HostFile>, offset: u64, len: u64) -> Result<(), Errno> {
        // SAFETY: as above.
        direct(unsafe { libc::posix_fallocate(file.raw(), offset as i64, len as i64) })
    }

    fn file_stat(&mut self, file: &Arc<HostFile>) -> Result<FileStat, Errno> {
        // A raw fstat: this runs on the TLS-free fast path too (and glibc's
        // fstat is newfstatat with an empty path, which costs more).
        // SAFETY: fstat fills a zeroed buffer.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let r = unsafe {
            crate::linux::fault::raw_syscall(
                libc::SYS_fstat,
                [file.raw() as u64, (&mut st as *mut libc::stat) as u64, 0, 0, 0, 0],
            )
        };
        super::raw_check(r)?;
        Ok(file_stat(&st, Some(file.filetype())))
    }

    fn file_truncate(&mut self, file: &Arc<HostFile>, size: u64) -> Result<(), Errno> {
        // SAFETY: ftruncate on an owned descriptor; the core keeps `size`
        // within the signed range.
        check(unsafe { libc::ftruncate(file.raw(), size as libc::off_t) }).map(|_| ())
    }

    fn file_set_times(&mut self, file: &Arc<HostFile>, atim: SetTime, mtim: SetTime) -> Result<(), Errno> {
        let ts = [timespec(atim), timespec(mtim)];
        // SAFETY: futimens reads two timespecs.
        check(unsafe { libc::futimens(file.raw(), ts.as_ptr()) }).map(|_| ())
    }

    fn file_readdir(
        &mut self,
        file: &Arc<HostFile>,
        cookie: Dircookie,
        sink: &mut dyn DirSink,
    ) -> Result<(), Errno> {
        // The cookie is the directory offset to continue from: Linux's
        // `d_off` of the previous entry.
        // SAFETY: lseek on an owned directory descriptor.
        check(unsafe { libc::lseek(file.raw(), cookie.raw() as libc::off_t, libc::SEEK_SET) })?;
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: getdents64 fills at most `buf.len()` bytes.
            let n = unsafe { libc::syscall(libc::SYS_getdents64, file.raw(), buf.as_mut_ptr(), buf.len()) };
            if n < 0 {
                return Err(last_errno());
            }
            if n == 0 {
                return Ok(());
            }
            let mut off = 0usize;
            while off < n as usize {
                // linux_dirent64: ino u64, off i64, reclen u16, type u8, name.
                let rec = &buf[off..n as usize];
                let ino = u64::from_ne_bytes(rec[0..8].try_into().unwrap_or([0; 8]));
                let next = i64::from_ne_bytes(rec[8..16].try_into().unwrap_or([0; 8]));
                let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
                let name_area = &rec[19..reclen.min(rec.len())];
                let name = &name_area[..name_area.iter().position(|&b| b == 0).unwrap_or(name_area.len())];
                let e = DirEntry {
                    next: Dircookie::new(next as u64),
                    ino: Inode::new(ino),
                    filetype: dirent_type(rec[18]),
                    name,
                };
                if !sink.entry(self, e)? {
                    return Ok(());
                }
                if reclen == 0 {
                    return Err(Errno::IO);
                }
                off += reclen;
            }
        }
    }
}

fn dirent_type(t: u8) -> Filetype {
    match t {
        libc::DT_BLK => Filetype::BLOCK_DEVICE,
        libc::DT_CHR => Filetype::CHARACTER_DEVICE,
        libc::DT_DIR => Filetype::DIRECTORY,
        libc::DT_FIFO | libc::DT_SOCK => Filetype::SOCKET_STREAM,
        libc::DT_LNK => Filetype::SYMBOLIC_LINK,
        libc::DT_REG => Filetype::REGULAR_FILE,
        _ => Filetype::UNKNOWN,
    }
}
