//! Memory mappings. W^X holds everywhere: a mapping is never writable and
//! executable at once.

use abi::*;

use super::fd_with;
use crate::backend::*;

/// `ENOTSUP` for write and execute together.
fn check_wx(prot: Mprot) -> Result<(), Errno> {
    if prot.contains(Mprot::WRITE | Mprot::EXEC) { Err(Errno::NOTSUP) } else { Ok(()) }
}

pub(super) fn map<B: Backend + ?Sized>(b: &mut B, a: args::MemMap) -> Result<UserPtr<u8>, Errno> {
    check_wx(a.prot)?;
    // Exactly one of private and shared.
    if a.flags.contains(Mflags::PRIVATE) == a.flags.contains(Mflags::SHARED) {
        return Err(Errno::INVAL);
    }
    let (addr, len, off) = (a.addr.addr(), a.len, a.off.raw());
    if a.flags.contains(Mflags::ANON) {
        if a.fd != Fd::MAP_ANON_FD || off != 0 {
            return Err(Errno::INVAL);
        }
        return b.mem_map(addr, len, a.prot, a.flags, None, 0).map(UserPtr::new);
    }
    let mut need = Rights::MEM_MAP;
    if a.prot.contains(Mprot::READ) {
        need |= Rights::FD_READ;
    }
    if a.prot.contains(Mprot::WRITE) && a.flags.contains(Mflags::SHARED) {
        need |= Rights::FD_WRITE;
    }
    if a.prot.contains(Mprot::EXEC) {
        need |= Rights::MEM_MAP_EXEC;
    }
    let (file, _) = fd_with(b, a.fd, need)?;
    b.mem_map(addr, len, a.prot, a.flags, Some(&file), off).map(UserPtr::new)
}

pub(super) fn protect<B: Backend + ?Sized>(b: &mut B, a: args::MemProtect) -> Result<(), Errno> {
    check_wx(a.prot)?;
    b.mem_protect(a.mapping.ptr.addr(), a.mapping.len, a.prot)
}

pub(super) fn advise<B: Backend + ?Sized>(b: &mut B, a: args::MemAdvise) -> Result<(), Errno> {
    // Memory has no "use once" advice (FreeBSD and Linux alike).
    if a.advice == Advice::NOREUSE {
        return Err(Errno::INVAL);
    }
    b.mem_advise(a.mapping.ptr.addr(), a.mapping.len, a.advice)
}

pub(super) fn sync<B: Backend + ?Sized>(b: &mut B, a: args::MemSync) -> Result<(), Errno> {
    // Exactly one of asynchronous and synchronous writing.
    if a.flags.contains(Msflags::ASYNC) == a.flags.contains(Msflags::SYNC) {
        return Err(Errno::INVAL);
    }
    // Invalidating cached pages only makes sense after writing them back.
    if a.flags.contains(Msflags::ASYNC | Msflags::INVALIDATE) {
        return Err(Errno::INVAL);
    }
    b.mem_sync(a.mapping.ptr.addr(), a.mapping.len, a.flags)
}

pub(super) fn unmap<B: Backend + ?Sized>(b: &mut B, a: args::MemUnmap) -> Result<(), Errno> {
    if a.mapping.len == 0 {
        return Err(Errno::INVAL);
    }
    b.mem_unmap(a.mapping.ptr.addr(), a.mapping.len)
}
