//! Descriptor syscalls: close, create, dup, replace, read/write, seek,
//! sync, and descriptor attributes.

use abi::*;

use super::{check_iovs, check_offset, fd_with};
use crate::backend::*;
use crate::rights;
use crate::user;

pub(super) fn close<B: Backend + ?Sized>(b: &mut B, a: args::FdClose) -> Result<(), Errno> {
    b.fd_close(a.fd)
}

pub(super) fn create1<B: Backend + ?Sized>(b: &mut B, a: args::FdCreate1) -> Result<Fd, Errno> {
    // `dispatch` admits only `shared_memory` here.
    b.fd_create_shm(rights::max_for(a.r#type))
}

pub(super) fn create2<B: Backend + ?Sized>(b: &mut B, a: args::FdCreate2) -> Result<(Fd, Fd), Errno> {
    // `dispatch` admits only `socket_dgram` and `socket_stream` here.
    b.fd_create_socketpair(a.r#type, rights::max_for(a.r#type))
}

pub(super) fn datasync<B: Backend + ?Sized>(b: &mut B, a: args::FdDatasync) -> Result<(), Errno> {
    let (file, _) = fd_with(b, a.fd, Rights::FD_DATASYNC)?;
    b.fd_sync(&file, true)
}

pub(super) fn sync<B: Backend + ?Sized>(b: &mut B, a: args::FdSync) -> Result<(), Errno> {
    let (file, _) = fd_with(b, a.fd, Rights::FD_SYNC)?;
    b.fd_sync(&file, false)
}

pub(super) fn dup<B: Backend + ?Sized>(b: &mut B, a: args::FdDup) -> Result<Fd, Errno> {
    let (file, info) = b.fd_get(a.from)?;
    b.fd_dup(&file, info)
}

pub(super) fn replace<B: Backend + ?Sized>(b: &mut B, a: args::FdReplace) -> Result<(), Errno> {
    let (file, info) = b.fd_get(a.from)?;
    b.fd_replace(&file, info, a.to)
}

pub(super) fn read<B: Backend + ?Sized>(b: &mut B, a: args::FdRead) -> Result<u64, Errno> {
    let iovs = check_iovs(a.iovs)?;
    let (file, _) = fd_with(b, a.fd, Rights::FD_READ)?;
    b.fd_read(&file, iovs, None)
}

pub(super) fn pread<B: Backend + ?Sized>(b: &mut B, a: args::FdPread) -> Result<u64, Errno> {
    let iovs = check_iovs(a.iovs)?;
    let offset = check_offset(a.offset.raw())?;
    let (file, _) = fd_with(b, a.fd, Rights::FD_READ | Rights::FD_SEEK)?;
    b.fd_read(&file, iovs, Some(offset))
}

pub(super) fn write<B: Backend + ?Sized>(b: &mut B, a: args::FdWrite) -> Result<u64, Errno> {
    let iovs = check_iovs(a.iovs)?;
    let (file, _) = fd_with(b, a.fd, Rights::FD_WRITE)?;
    b.fd_write(&file, iovs, None)
}

pub(super) fn pwrite<B: Backend + ?Sized>(b: &mut B, a: args::FdPwrite) -> Result<u64, Errno> {
    let iovs = check_iovs(a.iovs)?;
    let offset = check_offset(a.offset.raw())?;
    let (file, _) = fd_with(b, a.fd, Rights::FD_WRITE | Rights::FD_SEEK)?;
    b.fd_write(&file, iovs, Some(offset))
}

pub(super) fn seek<B: Backend + ?Sized>(b: &mut B, a: args::FdSeek) -> Result<Filesize, Errno> {
    let offset = a.offset.raw();
    // Asking for the current position without moving needs only `fd_tell`,
    // which `fd_seek` implies.
    let (file, info) = b.fd_get(a.fd)?;
    let tell_only = a.whence == Whence::CUR && offset == 0;
    let allowed = info.rights.base.contains(Rights::FD_SEEK)
        || (tell_only && info.rights.base.contains(Rights::FD_TELL));
    if !allowed {
        return Err(Errno::NOTCAPABLE);
    }
    b.fd_seek(&file, offset, a.whence).map(Filesize::new)
}

pub(super) fn stat_get<B: Backend + ?Sized>(b: &mut B, a: args::FdStatGet) -> Result<(), Errno> {
    let (file, info) = b.fd_get(a.fd)?;
    let flags = b.fd_flags(&file)?;
    let mut st = Fdstat::ZERO;
    st.set_fs_filetype(info.filetype);
    st.set_fs_flags(flags);
    st.fs_rights_base = info.rights.base.bits();
    st.fs_rights_inheriting = info.rights.inheriting.bits();
    user::write(b, a.buf, &st)
}

pub(super) fn stat_put<B: Backend + ?Sized>(b: &mut B, a: args::FdStatPut) -> Result<(), Errno> {
    let st: Fdstat = user::read(b, a.buf)?;
    if a.flags == Fdsflags::FLAGS {
        let flags = st.fs_flags().ok_or(Errno::INVAL)?;
        let (file, _) = fd_with(b, a.fd, Rights::FD_STAT_PUT_FLAGS)?;
        b.fd_set_flags(&file, flags)
    } else if a.flags == Fdsflags::RIGHTS {
        let new = FdRights {
            base: rights::decode(st.fs_rights_base)?,
            inheriting: rights::decode(st.fs_rights_inheriting)?,
        };
        let (file, info) = b.fd_get(a.fd)?;
        let narrowed = rights::narrow(info.rights, new)?;
        b.fd_set_rights(a.fd, &file, narrowed)
    } else {
        // Exactly one attribute is adjusted per call.
        Err(Errno::INVAL)
    }
}
