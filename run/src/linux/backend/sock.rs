//! Sockets: receiving and sending with descriptor passing, shutdown.
//!
//! The core turns a `sock_recv` on a listening socket into
//! `sock_accept` (cloudabi64's accept extension, docs/semantics.md).
//!
//! Rights travel with passed descriptors through the table of
//! [`super::inflight`], shared by every process of the cloudabi-run tree.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use abi::*;
use sys::backend::*;

use super::{Linux, check, classify, inflight, last_errno, owned};
use crate::linux::fdtable::HostFile;

/// Most descriptors received in one call (as FreeBSD allows sending).
const MAX_FDS: usize = 508;

fn identity(fd: i32) -> Option<(u64, u64)> {
    // SAFETY: fstat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_dev, st.st_ino))
}

/// The rights a received descriptor gets.
fn received_rights(fd: i32, filetype: Filetype) -> FdRights {
    match (identity(fd), inflight::lock()) {
        (Some(id), Some(mut table)) => table.take(id, filetype),
        _ => sys::rights::max_for(filetype),
    }
}

impl Linux {
    /// Installs a received host descriptor and hands its number to `fds`.
    fn deliver(&mut self, fd: OwnedFd, fds: &mut dyn FdSink) -> Result<(), Errno> {
        let filetype = classify(fd.as_raw_fd());
        let rights = received_rights(fd.as_raw_fd(), filetype);
        let n = self.install(fd, filetype, rights)?;
        if let Err(e) = fds.push(self, n) {
            let _ = self.table_mut().remove(n);
            return Err(e);
        }
        Ok(())
    }
}

impl SockOps for Linux {
    fn sock_recv(
        &mut self,
        sock: &Arc<HostFile>,
        data: UserRange<Iovec>,
        fds: &mut dyn FdSink,
        flags: Riflags,
    ) -> Result<Received, Errno> {
        let room = (fds.room() as usize).min(MAX_FDS);
        // SAFETY: CMSG_SPACE is a pure size computation.
        let space = if room > 0 { (unsafe { libc::CMSG_SPACE((room * 4) as u32) }) as usize } else { 0 };
        let mut control = vec![0u64; space.div_ceil(8)];
        // SAFETY: a zeroed msghdr is valid; fields are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = data.ptr.addr() as *mut libc::iovec;
        msg.msg_iovlen = data.len as usize;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space;
        let mut f = libc::MSG_CMSG_CLOEXEC;
        if flags.contains(Riflags::PEEK) {
            f |= libc::MSG_PEEK;
        }
        if flags.contains(Riflags::WAITALL) {
            f |= libc::MSG_WAITALL;
        }
        // SAFETY: the kernel reads the guest's iovecs (EFAULT if bad) and
        // writes at most `space` bytes of control data.
        let n = check(unsafe { libc::recvmsg(sock.raw(), &mut msg, f) })?;
        let mut out = Roflags::EMPTY;
        if msg.msg_flags & libc::MSG_TRUNC != 0 {
            out |= Roflags::DATA_TRUNCATED;
        }
        // A receiver that asked for no descriptors gets none, and the
        // kernel closed them (no control buffer); that is not a truncation
        // (FreeBSD's cloudabi_sock_recv passes no control pointer then).
        if msg.msg_flags & libc::MSG_CTRUNC != 0 && room > 0 {
            out |= Roflags::FDS_TRUNCATED;
        }
        let mut received = take_fds(&msg);
        // The control buffer is rounded up to 8 bytes, so the kernel may
        // have passed more than there is room for. As FreeBSD does, a
        // message whose descriptors do not all fit delivers none of them.
        if received.len() > room || out.contains(Roflags::FDS_TRUNCATED) {
            received.clear();
            out |= Roflags::FDS_TRUNCATED;
        }
        let mut count = 0;
        let mut result = Ok(());
        for fd in received {
            // After a failure the rest are just closed (dropped).
            if result.is_ok() {
                result = self.deliver(fd, fds);
                count += u64::from(result.is_ok());
            }
        }
        result?;
        Ok(Received { datalen: n as u64, fdslen: count, flags: out })
    }

    fn sock_send(
        &mut self,
        sock: &Arc<HostFile>,
        data: UserRange<Ciovec>,
        fds: &mut dyn FdList<Arc<HostFile>>,
    ) -> Result<u64, Errno> {
        let mut files = Vec::new();
        while let Some((_, file, info)) = fds.next(self)? {
            files.push((file, info));
        }
        let raw: Vec<i32> = files.iter().map(|(f, _)| f.raw()).collect();
        // SAFETY: CMSG_SPACE/CMSG_LEN are pure size computations.
        let space =
            if raw.is_empty() { 0 } else { (unsafe { libc::CMSG_SPACE((raw.len() * 4) as u32) }) as usize };
        let mut control = vec![0u64; space.div_ceil(8)];
        // SAFETY: a zeroed msghdr is valid; fields are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = data.ptr.addr() as *mut libc::iovec;
        msg.msg_iovlen = data.len as usize;
        if !raw.is_empty() {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = space;
            // SAFETY: the control buffer has room for one header with
            // `raw.len()` descriptors.
            unsafe {
                let c = libc::CMSG_FIRSTHDR(&msg);
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_RIGHTS;
                (*c).cmsg_len = libc::CMSG_LEN((raw.len() * 4) as u32) as usize;
                std::ptr::copy_nonoverlapping(raw.as_ptr(), libc::CMSG_DATA(c).cast(), raw.len());
            }
        }
        let ids: Vec<_> =
            files.iter().filter_map(|(f, i)| identity(f.raw()).map(|id| (id, i.rights))).collect();
        record_in_flight(&ids)?;
        // SAFETY: the kernel reads the guest's iovecs and our control data.
        let n = unsafe { libc::sendmsg(sock.raw(), &msg, libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = last_errno();
            forget_in_flight(&ids);
            return Err(e);
        }
        Ok(n as u64)
    }

    fn sock_listening(&mut self, sock: &Arc<HostFile>) -> bool {
        sock.listening()
    }

    fn sock_accept(&mut self, sock: &Arc<HostFile>, rights: FdRights) -> Result<Fd, Errno> {
        // SAFETY: accept4 without a peer address.
        let conn = owned(unsafe {
            libc::accept4(sock.raw(), std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_CLOEXEC)
        })?;
        self.install(conn, Filetype::SOCKET_STREAM, rights)
    }

    fn sock_shutdown(&mut self, sock: &Arc<HostFile>, how: Sdflags) -> Result<(), Errno> {
        let h = match (how.contains(Sdflags::RD), how.contains(Sdflags::WR)) {
            (true, true) => libc::SHUT_RDWR,
            (true, false) => libc::SHUT_RD,
            _ => libc::SHUT_WR,
        };
        // SAFETY: shutdown on an owned socket.
        check(unsafe { libc::shutdown(sock.raw(), h) }).map(|_| ())
    }
}

/// Records the rights of descriptors about to be sent; all or none.
fn record_in_flight(ids: &[((u64, u64), FdRights)]) -> Result<(), Errno> {
    let Some(mut table) = inflight::lock() else { return Ok(()) };
    for (n, (id, rights)) in ids.iter().enumerate() {
        if let Err(e) = table.push(*id, *rights) {
            for (id, rights) in &ids[..n] {
                table.forget(*id, *rights);
            }
            return Err(e);
        }
    }
    Ok(())
}

fn forget_in_flight(ids: &[((u64, u64), FdRights)]) {
    if let Some(mut table) = inflight::lock() {
        for (id, rights) in ids {
            table.forget(*id, *rights);
        }
    }
}

/// Takes ownership of every descriptor in the control messages.
fn take_fds(msg: &libc::msghdr) -> Vec<OwnedFd> {
    let mut out = Vec::new();
    // SAFETY: walks control messages the kernel wrote into our buffer,
    // using the CMSG macros to stay within `msg_controllen`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let n = ((*c).cmsg_len - libc::CMSG_LEN(0) as usize) / 4;
                let data = libc::CMSG_DATA(c) as *const i32;
                for i in 0..n {
                    if let Ok(fd) = owned(data.add(i).read_unaligned()) {
                        out.push(fd);
                    }
                }
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    out
}
