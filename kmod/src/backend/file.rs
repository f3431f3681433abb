//! Operations on open files: advice, allocation, attributes, truncation,
//! timestamps, directory listing.

use abi::*;
use sys::backend::*;

use super::{FileRef, FreeBsd, KernBuf};
use crate::consts::*;
use crate::convert;
use crate::dircookie::{self, Resume};
use crate::ffi::kern::{Stat, Timespec};
use crate::ffi::kpi;

/// Bytes of native directory entries read per `getdirentries`, in a heap
/// buffer: well above `DIRBLKSIZ` (512 on UFS; file systems may refuse
/// smaller reads) and the largest entry (24 + `MAXNAMLEN` + 1, padded), so
/// one call returns many entries, as the in-tree CloudABI's `MAXBSIZE`
/// buffer did. Batch cookies (`dircookie`) depend on this size staying
/// the same.
const DIRBUF: usize = 8192;

/// An all-zero `struct stat` for the kernel to fill.
pub(super) fn zeroed_stat() -> Stat {
    Stat {
        st_dev: 0,
        st_ino: 0,
        st_nlink: 0,
        st_mode: 0,
        st_padding0: 0,
        st_uid: 0,
        st_gid: 0,
        st_padding1: 0,
        st_rdev: 0,
        st_atim: Timespec::default(),
        st_mtim: Timespec::default(),
        st_ctim: Timespec::default(),
        st_birthtim: Timespec::default(),
        st_size: 0,
        st_blocks: 0,
        st_blksize: 0,
        st_flags: 0,
        st_gen: 0,
        st_spare: [0; 10],
    }
}

/// The attributes the core reports, with the given type.
pub(super) fn file_stat(st: &Stat, filetype: Filetype) -> FileStat {
    FileStat {
        dev: st.st_dev,
        ino: st.st_ino,
        filetype,
        nlink: u32::try_from(st.st_nlink).unwrap_or(u32::MAX),
        size: u64::try_from(st.st_size).unwrap_or(0),
        atim: convert::stat_ns(st.st_atim.tv_sec, st.st_atim.tv_nsec),
        mtim: convert::stat_ns(st.st_mtim.tv_sec, st.st_mtim.tv_nsec),
        ctim: convert::stat_ns(st.st_ctim.tv_sec, st.st_ctim.tv_nsec),
    }
}

/// `[atime, mtime]` for `utimensat`/`futimens`.
pub(super) fn times(atim: SetTime, mtim: SetTime) -> [Timespec; 2] {
    let ts = |t| {
        let (tv_sec, tv_nsec) = convert::set_time(t);
        Timespec { tv_sec, tv_nsec }
    };
    [ts(atim), ts(mtim)]
}

impl FileOps for FreeBsd {
    fn file_advise(&mut self, file: &FileRef, offset: u64, len: u64, advice: Advice) -> Result<(), Errno> {
        // SAFETY: posix_fadvise(2) on a descriptor of the current process
        // (the core keeps offsets within off_t).
        let e = unsafe {
            kpi::kern_posix_fadvise(self.td, file.fd(), offset as i64, len as i64, convert::fadvice(advice))
        };
        self.check(e)
    }

    fn file_allocate(&mut self, file: &FileRef, offset: u64, len: u64) -> Result<(), Errno> {
        // SAFETY: posix_fallocate(2) on a descriptor of the current process.
        let e = unsafe { kpi::kern_posix_fallocate(self.td, file.fd(), offset as i64, len as i64) };
        self.check(e)
    }

    fn file_stat(&mut self, file: &FileRef) -> Result<FileStat, Errno> {
        let mut st = zeroed_stat();
        // SAFETY: fstat(2) into a kernel `struct stat`.
        let e = unsafe { kpi::kern_fstat(self.td, file.fd(), &mut st) };
        self.check(e)?;
        Ok(file_stat(&st, file.filetype()))
    }

    fn file_truncate(&mut self, file: &FileRef, size: u64) -> Result<(), Errno> {
        // SAFETY: ftruncate(2) on a descriptor of the current process.
        let e = unsafe { kpi::kern_ftruncate(self.td, file.fd(), size as i64) };
        self.check(e)
    }

    fn file_set_times(&mut self, file: &FileRef, atim: SetTime, mtim: SetTime) -> Result<(), Errno> {
        let ts = times(atim, mtim);
        // SAFETY: futimens(2) with two timespecs in kernel memory.
        let e = unsafe { kpi::kern_futimens(self.td, file.fd(), ts.as_ptr(), UIO_SYSSPACE) };
        self.check(e)
    }

    fn file_readdir(
        &mut self,
        file: &FileRef,
        cookie: Dircookie,
        sink: &mut dyn DirSink,
    ) -> Result<(), Errno> {
        let (start, mut skip) = match dircookie::resume(cookie.raw()) {
            Resume::Offset(at) => (at, 0),
            Resume::Batch { start, skip } => (start, usize::from(skip)),
        };
        // getdirentries(2) reads at the file offset: position it first.
        // Set on the file itself (as lseek would, but without needing
        // CAP_SEEK, which file_readdir does not imply); concurrent readers
        // of the same descriptor share the offset.
        set_offset(file, start);
        let mut buf = KernBuf::new(DIRBUF)?;
        loop {
            let mut base: i64 = 0;
            // SAFETY: getdirentries(2) into `buf` (DIRBUF bytes of kernel
            // memory) on a descriptor of the current process; `base`
            // receives the offset the batch was read from.
            let e = unsafe {
                kpi::kern_getdirentries(
                    self.td,
                    file.fd(),
                    buf.as_mut_ptr().cast(),
                    DIRBUF,
                    &mut base,
                    core::ptr::null_mut(),
                    UIO_SYSSPACE,
                )
            };
            self.check(e)?;
            let filled = usize::try_from(self.retval()).unwrap_or(0).min(DIRBUF);
            if filled == 0 {
                return Ok(());
            }
            let end = offset(file);
            let data = &buf.as_slice()[..filled];
            let records = convert::dirents(data).count();
            for (i, d) in convert::dirents(data).enumerate() {
                if i < skip || d.fileno == 0 {
                    continue;
                }
                let entry = DirEntry {
                    next: Dircookie::new(dircookie::cookie(d.off, i, records, base, end)),
                    ino: Inode::new(d.fileno),
                    filetype: convert::filetype_of_dirent(d.d_type),
                    name: d.name,
                };
                if !sink.entry(self, entry)? {
                    return Ok(());
                }
            }
            skip = 0;
        }
    }
}

/// The file's offset (read under the offset lock, written back unchanged).
fn offset(file: &FileRef) -> i64 {
    // SAFETY: `file` holds a reference; foffset_lock/unlock serialize with
    // every other user of the offset.
    unsafe {
        let at = kpi::foffset_lock(file.fp(), 0);
        kpi::foffset_unlock(file.fp(), at, 0);
        at
    }
}

/// Sets the file's offset under the offset lock.
fn set_offset(file: &FileRef, at: i64) {
    // SAFETY: as for `offset`.
    unsafe {
        kpi::foffset_lock(file.fp(), 0);
        kpi::foffset_unlock(file.fp(), at, 0);
    }
}
