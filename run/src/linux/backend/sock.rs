//! Sockets: receiving and sending with descriptor passing, shutdown.
//!
//! The core turns a `sock_recv` on a listening socket into
//! `sock_accept` (cloudabi64's accept extension, docs/semantics.md).
//!
//! Rights travel inside the message: the sender puts a sealed memory
//! object holding the rights record (`sys::inflight`) first in the
//! `SCM_RIGHTS` array, the receiver reads and closes it and gives each
//! descriptor the rights of its own entry. A message without a valid
//! record gives its descriptors none (docs/semantics.md, "Descriptors in
//! flight"). A peek asks for no control data, so it receives, installs
//! and consumes no descriptors.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use abi::*;
use sys::backend::*;
use sys::inflight;

use super::{Linux, check, classify, last_errno, owned};
use crate::linux::fdtable::HostFile;

/// Most descriptors received in one call (as FreeBSD allows sending).
const MAX_FDS: usize = 508;

/// The seals that make a record immutable: its content can no longer be
/// written, its size no longer changed, and no seal removed.
const RECORD_SEALS: i32 = libc::F_SEAL_WRITE | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;

fn identity(fd: i32) -> Option<(u64, u64)> {
    // SAFETY: fstat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_dev, st.st_ino))
}

/// A sealed memory object holding `record`.
fn sealed_record(record: &[u8]) -> Result<OwnedFd, Errno> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING | super::memfd_noexec();
    // SAFETY: memfd_create with a static name; the result is ours.
    let fd = owned(unsafe { libc::memfd_create(c"cloudabi-rights".as_ptr(), flags) })?;
    let mut done = 0;
    while done < record.len() {
        // SAFETY: pwrite from the rest of `record` into our memfd.
        let n = unsafe {
            libc::pwrite(
                fd.as_raw_fd(),
                record[done..].as_ptr().cast(),
                record.len() - done,
                done as libc::off_t,
            )
        };
        if n <= 0 {
            return Err(if n < 0 { last_errno() } else { Errno::NOBUFS });
        }
        done += n as usize;
    }
    // SAFETY: F_ADD_SEALS on our memfd with an integer argument.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, RECORD_SEALS) })?;
    Ok(fd)
}

/// Reads `fd` as a rights record into `buf` if it is one: a memory
/// object with every record seal and at most `inflight::MAX_LEN` bytes.
fn read_record(fd: &OwnedFd, buf: &mut [u8; inflight::MAX_LEN]) -> Option<usize> {
    // SAFETY: F_GET_SEALS with no argument; EINVAL for anything but a
    // memory object that supports seals.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals < 0 || seals & RECORD_SEALS != RECORD_SEALS {
        return None;
    }
    // SAFETY: fstat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0
        || st.st_mode & libc::S_IFMT != libc::S_IFREG
        || st.st_size < 0
        || st.st_size as usize > buf.len()
    {
        return None;
    }
    let len = st.st_size as usize;
    // SAFETY: pread into `buf`, at most its length. The object is sealed
    // against writes and size changes, so one read sees all of it.
    let n = unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), len, 0) };
    (n >= 0 && n as usize == len).then_some(len)
}

impl Linux {
    /// Installs the descriptors of one received message and hands their
    /// numbers to `fds`: the first is the rights record when it is a valid
    /// one (then closed), and each other descriptor gets its own entry's
    /// rights; without a record, none. Returns how many were stored, or
    /// `None` when they do not all fit (then all are closed).
    fn deliver_message(
        &mut self,
        mut received: Vec<OwnedFd>,
        fds: &mut dyn FdSink,
    ) -> Result<Option<u64>, Errno> {
        let mut buf = [0u8; inflight::MAX_LEN];
        let record_len = received.first().and_then(|first| read_record(first, &mut buf));
        let ids: Vec<Option<(u64, u64)>> = received.iter().skip(1).map(|f| identity(f.as_raw_fd())).collect();
        let record = record_len.and_then(|len| inflight::verify(&buf[..len], ids.len(), |i| ids[i]));
        if record.is_some() {
            drop(received.remove(0));
        }
        // Only now is it known whether the first one was a record: a
        // message from outside may fill the room meant for it.
        if received.len() as u64 > fds.room() {
            return Ok(None);
        }
        let mut count = 0;
        let mut result = Ok(());
        for (i, fd) in received.into_iter().enumerate() {
            // After a failure the rest are just closed (dropped).
            if result.is_ok() {
                let filetype = classify(fd.as_raw_fd());
                let rights = inflight::granted(record, i, filetype);
                result = self.deliver(fd, filetype, rights, fds);
                count += u64::from(result.is_ok());
            }
        }
        result.map(|()| Some(count))
    }

    /// Installs a received host descriptor and hands its number to `fds`.
    fn deliver(
        &mut self,
        fd: OwnedFd,
        filetype: Filetype,
        rights: FdRights,
        fds: &mut dyn FdSink,
    ) -> Result<(), Errno> {
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
        let peek = flags.contains(Riflags::PEEK);
        // Room for the rights record as well. A peek asks for no control
        // data: Linux would hand over copies of the descriptors, which
        // must neither reach the program nor use up anything.
        let space = if room > 0 && !peek {
            // SAFETY: CMSG_SPACE is a pure size computation.
            (unsafe { libc::CMSG_SPACE(((room + 1) * 4) as u32) }) as usize
        } else {
            0
        };
        let mut control = vec![0u64; space.div_ceil(8)];
        // SAFETY: a zeroed msghdr is valid; fields are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = data.ptr.addr() as *mut libc::iovec;
        msg.msg_iovlen = data.len as usize;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space;
        let mut f = libc::MSG_CMSG_CLOEXEC;
        if peek {
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
        if peek {
            // Nothing was received but data: what a peek leaves queued is
            // reported by the receive that takes it.
            return Ok(Received { datalen: n as u64, fdslen: 0, flags: out });
        }
        // A receiver that asked for no descriptors gets none, and the
        // kernel closed them (no control buffer); that is not a truncation
        // (FreeBSD's cloudabi_sock_recv passes no control pointer then).
        if msg.msg_flags & libc::MSG_CTRUNC != 0 && room > 0 {
            out |= Roflags::FDS_TRUNCATED;
        }
        let mut received = take_fds(&msg);
        // The control buffer is rounded up to 8 bytes, so the kernel may
        // have passed more than there is room for (the record aside). As
        // FreeBSD does, a message whose descriptors do not all fit
        // delivers none of them; they are closed (dropped) here.
        if received.len() > room + 1 || out.contains(Roflags::FDS_TRUNCATED) {
            received.clear();
            out |= Roflags::FDS_TRUNCATED;
        }
        let Some(count) = self.deliver_message(received, fds)? else {
            out |= Roflags::FDS_TRUNCATED;
            return Ok(Received { datalen: n as u64, fdslen: 0, flags: out });
        };
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
        // The receiver will share these descriptions (fdtable.rs).
        for (f, _) in &files {
            f.share();
        }
        // The rights record goes first, in the same message.
        let record = if files.is_empty() {
            None
        } else {
            let mut entries = Vec::with_capacity(files.len());
            for (f, info) in &files {
                let id = identity(f.raw()).ok_or(Errno::BADF)?;
                entries.push(inflight::Entry { id, rights: info.rights });
            }
            let mut bytes = vec![0u8; inflight::len(entries.len())];
            inflight::encode(&entries, &mut bytes).ok_or(Errno::INVAL)?;
            Some(sealed_record(&bytes)?)
        };
        let raw: Vec<i32> =
            record.iter().map(|r| r.as_raw_fd()).chain(files.iter().map(|(f, _)| f.raw())).collect();
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
        // SAFETY: the kernel reads the guest's iovecs and our control data.
        // The message holds its own references: our record closes (drops)
        // on every path.
        let n = unsafe { libc::sendmsg(sock.raw(), &msg, libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(last_errno());
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
        self.install_private(conn, Filetype::SOCKET_STREAM, rights)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn memfd(flags: u32) -> OwnedFd {
        // SAFETY: memfd_create with a static name.
        owned(unsafe { libc::memfd_create(c"test".as_ptr(), libc::MFD_CLOEXEC | flags) }).unwrap()
    }

    fn record() -> Vec<u8> {
        let e = [inflight::Entry { id: (1, 2), rights: sys::rights::max_for(Filetype::REGULAR_FILE) }];
        let mut b = vec![0u8; inflight::len(1)];
        inflight::encode(&e, &mut b).unwrap();
        b
    }

    #[test]
    fn only_a_sealed_memory_object_is_a_record() {
        let mut buf = [0u8; inflight::MAX_LEN];
        let bytes = record();
        let good = sealed_record(&bytes).unwrap();
        assert_eq!(read_record(&good, &mut buf), Some(bytes.len()));
        assert_eq!(&buf[..bytes.len()], &bytes[..]);
        // SAFETY: F_GET_SEALS on our memfd.
        let seals = unsafe { libc::fcntl(good.as_raw_fd(), libc::F_GET_SEALS) };
        assert_eq!(seals & RECORD_SEALS, RECORD_SEALS);

        // The same bytes without seals, or with some missing: not a record.
        for seals in [0, libc::F_SEAL_WRITE, libc::F_SEAL_WRITE | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW] {
            let fd = memfd(libc::MFD_ALLOW_SEALING);
            // SAFETY: write and fcntl on our memfd.
            unsafe {
                assert_eq!(
                    libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()),
                    bytes.len() as isize
                );
                if seals != 0 {
                    assert_eq!(libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals), 0);
                }
            }
            assert_eq!(read_record(&fd, &mut buf), None, "seals {seals:#x}");
        }
        // A memfd that cannot be sealed, a pipe: not records.
        assert_eq!(read_record(&memfd(0), &mut buf), None);
        let mut p = [0; 2];
        // SAFETY: pipe2 fills two descriptors we then own.
        assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (r, w) = (owned(p[0]).unwrap(), owned(p[1]).unwrap());
        assert_eq!(read_record(&r, &mut buf), None);
        drop(w);
        // Too large to be a record.
        let big = sealed_record(&vec![0u8; inflight::MAX_LEN + 1]).unwrap();
        assert_eq!(read_record(&big, &mut buf), None);
    }

    #[test]
    fn a_sealed_record_cannot_be_changed() {
        let fd = sealed_record(&record()).unwrap();
        // SAFETY: write, ftruncate and fcntl on our memfd: all refused.
        unsafe {
            assert!(libc::pwrite(fd.as_raw_fd(), b"x".as_ptr().cast(), 1, 0) < 0);
            assert!(libc::ftruncate(fd.as_raw_fd(), 0) < 0);
            assert!(libc::ftruncate(fd.as_raw_fd(), 4096) < 0);
            assert!(libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_FUTURE_WRITE) < 0);
        }
    }
}
