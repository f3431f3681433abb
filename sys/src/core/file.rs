//! File syscalls: open, create, link, rename, symlink, unlink, readlink,
//! readdir, stat, and file attribute changes.

use abi::*;

use super::{check_offset, fd_with, with_path, with_paths};
use crate::backend::*;
use crate::rights;
use crate::user::{self, UserMemory, UserSlice, UserWriter};

fn follows(l: Lookup) -> bool {
    // `dispatch` validated the flags.
    l.flags().is_some_and(|f| f.contains(Lookupflags::SYMLINK_FOLLOW))
}

pub(super) fn advise<B: Backend + ?Sized>(b: &mut B, a: args::FileAdvise) -> Result<(), Errno> {
    let (offset, len) = (check_offset(a.offset.raw())?, check_offset(a.len.raw())?);
    let (file, _) = fd_with(b, a.fd, Rights::FILE_ADVISE)?;
    b.file_advise(&file, offset, len, a.advice)
}

pub(super) fn allocate<B: Backend + ?Sized>(b: &mut B, a: args::FileAllocate) -> Result<(), Errno> {
    let (offset, len) = (check_offset(a.offset.raw())?, check_offset(a.len.raw())?);
    if len == 0 {
        return Err(Errno::INVAL);
    }
    let (file, _) = fd_with(b, a.fd, Rights::FILE_ALLOCATE)?;
    b.file_allocate(&file, offset, len)
}

pub(super) fn create<B: Backend + ?Sized>(b: &mut B, a: args::FileCreate) -> Result<(), Errno> {
    // `dispatch` admits only `directory` as the type.
    with_path(b, a.path, |b, path| {
        let (dir, _) = fd_with(b, a.fd, Rights::FILE_CREATE_DIRECTORY)?;
        b.path_mkdir(&dir, path)
    })
}

pub(super) fn link<B: Backend + ?Sized>(b: &mut B, a: args::FileLink) -> Result<(), Errno> {
    with_paths(b, a.path1, a.path2, |b, p1, p2| {
        let (d1, _) = fd_with(b, a.fd1.fd, Rights::FILE_LINK_SOURCE)?;
        let (d2, _) = fd_with(b, a.fd2, Rights::FILE_LINK_TARGET)?;
        b.path_link(&d1, p1, follows(a.fd1), &d2, p2)
    })
}

/// Rights `file_open` needs: on the directory itself, and among the
/// directory's inheriting rights (the new descriptor's rights plus what the
/// open flags imply).
fn open_needs(oflags: Oflags, fdflags: Fdflags, requested: FdRights) -> FdRights {
    let mut base = Rights::FILE_OPEN;
    let mut inheriting = requested.base | requested.inheriting;
    if oflags.contains(Oflags::CREAT) {
        base |= Rights::FILE_CREATE_FILE;
    }
    if oflags.contains(Oflags::TRUNC) {
        inheriting |= Rights::FILE_STAT_FPUT_SIZE;
    }
    if fdflags.contains(Fdflags::DSYNC) {
        inheriting |= Rights::FD_DATASYNC;
    }
    if fdflags.intersects(Fdflags::RSYNC | Fdflags::SYNC) {
        inheriting |= Rights::FD_SYNC;
    }
    // Writing anywhere but at the end (or into a freshly truncated file)
    // means positioning: the new descriptor must be allowed to seek.
    let (_, write) = access_mode(requested.base);
    if write && !fdflags.contains(Fdflags::APPEND) && !oflags.contains(Oflags::TRUNC) {
        inheriting |= Rights::FD_SEEK;
    }
    FdRights { base, inheriting }
}

/// The access mode implied by a descriptor's requested base rights:
/// `(read, write)`. Backends open the file accordingly.
pub fn access_mode(base: Rights) -> (bool, bool) {
    let read = base.intersects(Rights::FD_READ | Rights::FILE_READDIR | Rights::MEM_MAP_EXEC);
    let write = base.intersects(
        Rights::FD_DATASYNC | Rights::FD_WRITE | Rights::FILE_ALLOCATE | Rights::FILE_STAT_FPUT_SIZE,
    );
    (read, write)
}

pub(super) fn open<B: Backend + ?Sized>(b: &mut B, a: args::FileOpen) -> Result<Fd, Errno> {
    let fds: Fdstat = user::read(b, a.fds)?;
    let requested = FdRights {
        base: rights::decode(fds.fs_rights_base)?,
        inheriting: rights::decode(fds.fs_rights_inheriting)?,
    };
    let fdflags = fds.fs_flags().ok_or(Errno::INVAL)?;
    let needs = open_needs(a.oflags, fdflags, requested);
    with_path(b, a.path, |b, path| {
        let (dir, info) = b.fd_get(a.dirfd.fd)?;
        if !needs.within(info.rights) {
            return Err(Errno::NOTCAPABLE);
        }
        match b.path_open(&dir, path, follows(a.dirfd), a.oflags, fdflags, requested) {
            // Kernels report opening a symbolic link without following it
            // as EMLINK (FreeBSD) or ELOOP (Linux); CloudABI says ELOOP.
            Err(Errno::MLINK) => Err(Errno::LOOP),
            r => r,
        }
    })
}

/// Packs directory entries into the caller's buffer: each a `dirent`
/// followed by the name, the last one cut off where the buffer ends.
struct ReaddirSink {
    out: UserWriter,
    used: u64,
}

impl DirSink for ReaddirSink {
    fn entry(&mut self, mem: &mut dyn UserMemory, e: DirEntry<'_>) -> Result<bool, Errno> {
        let mut d = Dirent::ZERO;
        d.d_next = e.next;
        d.d_ino = e.ino;
        d.d_namlen = u32::try_from(e.name.len()).map_err(|_| Errno::NAMETOOLONG)?;
        d.set_d_type(e.filetype);
        for part in [d.as_bytes(), e.name] {
            let n = self.out.write_truncated(mem, part)?;
            self.used += n as u64;
            if n < part.len() {
                return Ok(false);
            }
        }
        Ok(!self.out.is_empty())
    }
}

pub(super) fn readdir<B: Backend + ?Sized>(b: &mut B, a: args::FileReaddir) -> Result<u64, Errno> {
    let out = UserSlice::of_range(a.buf)?.writer();
    let (dir, _) = fd_with(b, a.fd, Rights::FILE_READDIR)?;
    if out.is_empty() {
        return Ok(0);
    }
    let mut sink = ReaddirSink { out, used: 0 };
    b.file_readdir(&dir, a.cookie, &mut sink)?;
    Ok(sink.used)
}

pub(super) fn readlink<B: Backend + ?Sized>(b: &mut B, a: args::FileReadlink) -> Result<u64, Errno> {
    UserSlice::of_range(a.buf)?;
    with_path(b, a.path, |b, path| {
        let (dir, _) = fd_with(b, a.fd, Rights::FILE_READLINK)?;
        b.path_readlink(&dir, path, a.buf)
    })
}

pub(super) fn rename<B: Backend + ?Sized>(b: &mut B, a: args::FileRename) -> Result<(), Errno> {
    with_paths(b, a.path1, a.path2, |b, p1, p2| {
        let (d1, _) = fd_with(b, a.fd1, Rights::FILE_RENAME_SOURCE)?;
        let (d2, _) = fd_with(b, a.fd2, Rights::FILE_RENAME_TARGET)?;
        b.path_rename(&d1, p1, &d2, p2)
    })
}

fn encode_stat(st: FileStat) -> Filestat {
    let mut out = Filestat::ZERO;
    out.st_dev = Device::new(st.dev);
    out.st_ino = Inode::new(st.ino);
    out.set_st_filetype(st.filetype);
    out.st_nlink = Linkcount::new(st.nlink);
    out.st_size = Filesize::new(st.size);
    out.st_atim = Timestamp::new(st.atim);
    out.st_mtim = Timestamp::new(st.mtim);
    out.st_ctim = Timestamp::new(st.ctim);
    out
}

pub(super) fn stat_fget<B: Backend + ?Sized>(b: &mut B, a: args::FileStatFget) -> Result<(), Errno> {
    let (file, _) = fd_with(b, a.fd, Rights::FILE_STAT_FGET)?;
    let st = b.file_stat(&file)?;
    user::write(b, a.buf, &encode_stat(st))
}

pub(super) fn stat_get<B: Backend + ?Sized>(b: &mut B, a: args::FileStatGet) -> Result<(), Errno> {
    let st = with_path(b, a.path, |b, path| {
        let (dir, _) = fd_with(b, a.fd.fd, Rights::FILE_STAT_GET)?;
        b.path_stat(&dir, path, follows(a.fd))
    })?;
    user::write(b, a.buf, &encode_stat(st))
}

const TIMES: Fsflags = Fsflags::ATIM.union(Fsflags::ATIM_NOW).union(Fsflags::MTIM).union(Fsflags::MTIM_NOW);

/// The timestamp updates `flags` asks for (only time flags may be set; a
/// `_NOW` flag wins over the matching value flag).
fn times(flags: Fsflags, st: &Filestat) -> Result<(SetTime, SetTime), Errno> {
    if !TIMES.contains(flags) {
        return Err(Errno::INVAL);
    }
    let one = |now: Fsflags, to: Fsflags, value: Timestamp| {
        if flags.contains(now) {
            SetTime::Now
        } else if flags.contains(to) {
            SetTime::To(value.raw())
        } else {
            SetTime::Keep
        }
    };
    Ok((one(Fsflags::ATIM_NOW, Fsflags::ATIM, st.st_atim), one(Fsflags::MTIM_NOW, Fsflags::MTIM, st.st_mtim)))
}

pub(super) fn stat_fput<B: Backend + ?Sized>(b: &mut B, a: args::FileStatFput) -> Result<(), Errno> {
    let st: Filestat = user::read(b, a.buf)?;
    if a.flags.contains(Fsflags::SIZE) {
        // A size change stands alone.
        if a.flags != Fsflags::SIZE {
            return Err(Errno::INVAL);
        }
        let size = check_offset(st.st_size.raw())?;
        let (file, _) = fd_with(b, a.fd, Rights::FILE_STAT_FPUT_SIZE)?;
        return b.file_truncate(&file, size);
    }
    if a.flags.is_empty() {
        return Err(Errno::INVAL);
    }
    let (atim, mtim) = times(a.flags, &st)?;
    let (file, _) = fd_with(b, a.fd, Rights::FILE_STAT_FPUT_TIMES)?;
    b.file_set_times(&file, atim, mtim)
}

pub(super) fn stat_put<B: Backend + ?Sized>(b: &mut B, a: args::FileStatPut) -> Result<(), Errno> {
    // Only timestamps can be changed by path (no truncation by path); no
    // flags at all is a plain lookup.
    if !TIMES.contains(a.flags) {
        return Err(Errno::INVAL);
    }
    let st: Filestat = user::read(b, a.buf)?;
    let (atim, mtim) = times(a.flags, &st)?;
    with_path(b, a.path, |b, path| {
        let (dir, _) = fd_with(b, a.fd.fd, Rights::FILE_STAT_PUT_TIMES)?;
        b.path_set_times(&dir, path, follows(a.fd), atim, mtim)
    })
}

pub(super) fn symlink<B: Backend + ?Sized>(b: &mut B, a: args::FileSymlink) -> Result<(), Errno> {
    with_paths(b, a.path1, a.path2, |b, target, path| {
        let (dir, _) = fd_with(b, a.fd, Rights::FILE_SYMLINK)?;
        b.path_symlink(target, &dir, path)
    })
}

pub(super) fn unlink<B: Backend + ?Sized>(b: &mut B, a: args::FileUnlink) -> Result<(), Errno> {
    with_path(b, a.path, |b, path| {
        let (dir, _) = fd_with(b, a.fd, Rights::FILE_UNLINK)?;
        b.path_unlink(&dir, path, a.flags.contains(Ulflags::REMOVEDIR))
    })
}
