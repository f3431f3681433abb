//! Sockets: receive and send with descriptor passing, shutdown.

use abi::*;

use super::lists::{UserFdList, UserFdSink};
use super::{check_iovs, fd_with};
use crate::backend::*;
use crate::user;

/// Most descriptors one `sock_send` attaches: what fits in one FreeBSD mbuf
/// cluster (`MCLBYTES` 2048) of `int`s after the control message header.
pub const SEND_FDS_MAX: u64 = (2048 - 16) / 4;

pub(super) fn recv<B: Backend + ?Sized>(b: &mut B, a: args::SockRecv) -> Result<(), Errno> {
    let ri: RecvIn = user::read(b, a.r#in)?;
    let flags = ri.ri_flags().ok_or(Errno::INVAL)?;
    let data = check_iovs(ri.ri_data_range())?;
    let (sock, _) = fd_with(b, a.sock, Rights::FD_READ)?;
    let mut fds = UserFdSink::new(ri.ri_fds_range())?;
    let got = b.sock_recv(&sock, data, &mut fds, flags)?;
    let mut ro = RecvOut::ZERO;
    ro.ro_datalen = got.datalen;
    ro.ro_fdslen = fds.stored();
    ro.set_ro_flags(got.flags);
    user::write(b, a.out, &ro)
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
