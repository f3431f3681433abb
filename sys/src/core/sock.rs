//! Sockets: receive and send with descriptor passing, shutdown.

use abi::*;

use super::lists::{UserFdList, UserFdSink};
use super::{check_iovs, fd_with};
use crate::backend::*;
use crate::{rights, user};

/// Most descriptors one `sock_send` attaches: what fits in one FreeBSD mbuf
/// cluster (`MCLBYTES` 2048) of `int`s after the control message header.
pub const SEND_FDS_MAX: u64 = (2048 - 16) / 4;

pub(super) fn recv<B: Backend + ?Sized>(b: &mut B, a: args::SockRecv) -> Result<(), Errno> {
    let ri: RecvIn = user::read(b, a.r#in)?;
    let flags = ri.ri_flags().ok_or(Errno::INVAL)?;
    let data = check_iovs(ri.ri_data_range())?;
    let (sock, info) = fd_with(b, a.sock, Rights::FD_READ)?;
    let mut fds = UserFdSink::new(ri.ri_fds_range())?;
    if b.sock_listening(&sock) {
        return accept(b, &sock, info, ri.ri_fds_range(), a.out);
    }
    let got = b.sock_recv(&sock, data, &mut fds, flags)?;
    let mut ro = RecvOut::ZERO;
    ro.ro_datalen = got.datalen;
    ro.ro_fdslen = fds.stored();
    ro.set_ro_flags(got.flags);
    user::write(b, a.out, &ro)
}

/// cloudabi64's accept extension: `sock_recv` on a listening socket takes
/// one connection and returns it as a received descriptor, with the
/// listening socket's inheriting rights (docs/semantics.md).
fn accept<B: Backend + ?Sized>(
    b: &mut B,
    sock: &B::File,
    info: FdInfo,
    fds: UserRange<Fd>,
    out: UserPtr<RecvOut>,
) -> Result<(), Errno> {
    if fds.len == 0 {
        return Err(Errno::INVAL);
    }
    let inheriting = info.rights.inheriting;
    let rights = rights::for_new_fd(Filetype::SOCKET_STREAM, FdRights { base: inheriting, inheriting });
    let fd = b.sock_accept(sock, rights)?;
    let mut ro = RecvOut::ZERO;
    ro.ro_fdslen = 1;
    // The connection is only the caller's once both writes succeed.
    if let Err(e) = user::write(b, fds.ptr, &fd).and_then(|()| user::write(b, out, &ro)) {
        let _ = b.fd_close(fd);
        return Err(e);
    }
    Ok(())
}

pub(super) fn send<B: Backend + ?Sized>(b: &mut B, a: args::SockSend) -> Result<(), Errno> {
    let si: SendIn = user::read(b, a.r#in)?;
    // No send flags are defined.
    if si.si_flags != 0 {
        return Err(Errno::INVAL);
    }
    let data = check_iovs(si.si_data_range())?;
    if si.si_fds_len > SEND_FDS_MAX {
        return Err(Errno::INVAL);
    }
    let (sock, _) = fd_with(b, a.sock, Rights::FD_WRITE)?;
    let mut fds = UserFdList::new(si.si_fds_range())?;
    let sent = b.sock_send(&sock, data, &mut fds)?;
    let mut so = SendOut::ZERO;
    so.so_datalen = sent;
    user::write(b, a.out, &so)
}

pub(super) fn shutdown<B: Backend + ?Sized>(b: &mut B, a: args::SockShutdown) -> Result<(), Errno> {
    // At least one direction.
    if a.how.is_empty() {
        return Err(Errno::INVAL);
    }
    let (sock, _) = fd_with(b, a.sock, Rights::SOCK_SHUTDOWN)?;
    b.sock_shutdown(&sock, a.how)
}
