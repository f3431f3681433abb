//! Processes: exec, exit, fork, raise.

use abi::*;

use super::fd_with;
use super::lists::UserFdList;
use crate::backend::*;
use crate::rights;

/// Largest argument data `proc_exec` takes: less than FreeBSD's `ARG_MAX`
/// (512 KiB on 64-bit systems, `sys/syslimits.h`), as the kernel appends a
/// NUL to it. More is `E2BIG`.
pub const ARG_MAX: u64 = 2 * 256 * 1024;

/// Most descriptors `proc_exec` passes on; more is `E2BIG`.
pub const EXEC_FDS_MAX: u64 = 1 << 16;

pub(super) fn exec<B: Backend + ?Sized>(b: &mut B, a: args::ProcExec) -> Result<(), Errno> {
    if a.data.len >= ARG_MAX || a.fds.len > EXEC_FDS_MAX {
        return Err(Errno::E2BIG);
    }
    let (exe, _) = fd_with(b, a.fd, Rights::PROC_EXEC)?;
    let mut fds = UserFdList::new(a.fds)?;
    match b.proc_exec(&exe, a.data, &mut fds)? {}
}

pub(super) fn exit<B: Backend + ?Sized>(
    b: &mut B,
    a: args::ProcExit,
) -> Result<core::convert::Infallible, Errno> {
    b.proc_exit(a.rval.raw())
}

pub(super) fn fork<B: Backend + ?Sized>(b: &mut B, _: args::ProcFork) -> Result<(Fd, Tid), Errno> {
    b.proc_fork(rights::max_for(Filetype::PROCESS))
}

pub(super) fn raise<B: Backend + ?Sized>(b: &mut B, a: args::ProcRaise) -> Result<(), Errno> {
    b.proc_raise(a.sig)
}
