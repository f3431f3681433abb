//! Sockets: receive and send with descriptor passing (`SCM_RIGHTS`),
//! shutdown, and cloudabi64's accept extension.

use core::ffi::c_int;
use core::ptr;

use abi::*;
use sys::backend::*;

use super::{FileRef, FreeBsd, KernList, OwnedCaps};
use crate::consts::*;
use crate::convert;
use crate::ffi::access;
use crate::ffi::kern::Msghdr;
use crate::ffi::kpi;
use crate::ffi::types::Mbuf;

fn msghdr(iov: *mut crate::ffi::kern::Iovec, n: c_int, flags: c_int) -> Msghdr {
    Msghdr {
        msg_name: ptr::null_mut(),
        msg_namelen: 0,
        msg_iov: iov,
        msg_iovlen: n,
        msg_control: ptr::null_mut(),
        msg_controllen: 0,
        msg_flags: flags,
    }
}

/// A file `sock_send` attaches: the reference taken when it was checked,
/// and the temporary descriptor it is sent from (-1 when none).
struct Attached {
    file: FileRef,
    tmp: c_int,
}

impl FreeBsd {
    /// Builds the `SCM_RIGHTS` control message for `files` (NULL for none).
    ///
    /// `unp_internalize()` reads descriptor numbers, looked up again in the
    /// table when the message is sent; the numbers the caller named may by
    /// then refer to other files (a concurrent close or `dup2`). So each
    /// checked file is installed at a new descriptor of its own, with the
    /// limits it had when checked (never wider), and that number is sent;
    /// [`Self::detach`] removes them after `kern_sendit`. On failure nothing
    /// is left installed and the native errno is returned.
    fn attach(&mut self, files: &mut KernList<Attached>) -> Result<*mut Mbuf, c_int> {
        let n = files.as_mut_slice().len();
        if n == 0 {
            return Ok(ptr::null_mut());
        }
        for a in files.as_mut_slice() {
            let mut caps = a.file.sendable_caps();
            let mut fd: c_int = -1;
            // SAFETY: installs the referenced file at a new descriptor
            // (finstall takes its own reference and, on success, the
            // limits with their copy of the ioctl list, so the exact
            // rights travel; OwnedCaps frees the copy on failure).
            let e = unsafe { kpi::finstall(self.td, a.file.fp(), &mut fd, O_CLOEXEC, caps.as_mut_ptr()) };
            if e != 0 {
                self.detach(files);
                return Err(e);
            }
            a.tmp = fd;
        }
        // At most 508 descriptors (the core): one cluster.
        let size = u32::try_from(n * 4).unwrap_or(u32::MAX);
        // SAFETY: allocates a zeroed SOL_SOCKET/SCM_RIGHTS control message
        // with room for `n` ints (may sleep for memory).
        let control = unsafe { kpi::sbcreatecontrol(ptr::null(), size, SCM_RIGHTS, SOL_SOCKET, M_WAITOK) };
        if control.is_null() {
            self.detach(files);
            return Err(ENOBUFS);
        }
        // SAFETY: the message's data starts CMSG_LEN(0) bytes into the
        // mbuf and holds `n` ints.
        let dst = unsafe { access::m_data(control).add(CMSG_HDR_LEN).cast_mut() };
        for (i, a) in files.as_mut_slice().iter().enumerate() {
            let raw = a.tmp.to_ne_bytes();
            // SAFETY: `i < n`, inside the message's data.
            unsafe { ptr::copy_nonoverlapping(raw.as_ptr(), dst.add(i * 4), 4) };
        }
        Ok(control)
    }

    /// Removes the temporary descriptors of [`Self::attach`] (each only if
    /// it still refers to its file: `fdclose` checks).
    fn detach(&mut self, files: &mut KernList<Attached>) {
        for a in files.as_mut_slice() {
            if a.tmp >= 0 {
                // SAFETY: the file is referenced by `a.file`.
                unsafe { kpi::fdclose(self.td, a.file.fp(), a.tmp) };
                a.tmp = -1;
            }
        }
    }

    /// Hands the descriptors of a received control chain to `fds`.
    /// Messages are all-or-nothing: one that does not fit is closed, as
    /// is everything after it, and `fds_truncated` is reported. Returns
    /// whether anything was cut and how many were stored, or the first
    /// error storing a number (the rest is closed).
    fn deliver(&mut self, control: *mut Mbuf, fds: &mut dyn FdSink) -> Result<(bool, u64), Errno> {
        let mut truncated = false;
        let mut stored = 0;
        let mut failed = None;
        let mut m = control;
        while !m.is_null() {
            // SAFETY: `m` is an mbuf of the chain kern_recvit returned to us;
            // its data is `m_len` readable bytes.
            let data = unsafe {
                let len = usize::try_from(access::m_len(m)).unwrap_or(0);
                let at = access::m_data(m);
                if at.is_null() { &[][..] } else { core::slice::from_raw_parts(at, len) }
            };
            for c in convert::cmsgs(data) {
                if c.level != SOL_SOCKET || c.ty != SCM_RIGHTS {
                    continue;
                }
                let count = (c.data.len() / 4) as u64;
                if truncated || failed.is_some() || count > fds.room() {
                    truncated |= failed.is_none();
                    convert::rights_fds(c.data).for_each(|fd| self.close_quietly(fd));
                    continue;
                }
                for fd in convert::rights_fds(c.data) {
                    if failed.is_some() {
                        self.close_quietly(fd);
                    } else if let Err(e) = fds.push(self, Fd::new(fd as u32)) {
                        self.close_quietly(fd);
                        failed = Some(e);
                    } else {
                        stored += 1;
                    }
                }
            }
            // SAFETY: as above.
            m = unsafe { access::m_next(m) };
        }
        match failed {
            Some(e) => Err(e),
            None => Ok((truncated, stored)),
        }
    }
}

impl SockOps for FreeBsd {
    fn sock_recv(
        &mut self,
        sock: &FileRef,
        data: UserRange<Iovec>,
        fds: &mut dyn FdSink,
        flags: Riflags,
    ) -> Result<Received, Errno> {
        let s = sock.fd();
        let mut control: *mut Mbuf = ptr::null_mut();
        let mut msg_flags = 0;
        // Control data is asked for whenever the receiver wants
        // descriptors, so that those that do not fit are closed here and
        // reported as truncated. A receiver that wants none passes no
        // control pointer: the kernel discards (closes) them, and that is
        // no truncation (FreeBSD's cloudabi_sock_recv: `fdslen > 0 ?
        // &control : NULL`). A peek leaves them queued (and soreceive
        // would copy their in-kernel form), so it asks for none.
        let controlp: *mut *mut Mbuf =
            if flags.contains(Riflags::PEEK) || fds.room() == 0 { ptr::null_mut() } else { &mut control };
        self.with_iovecs(data.ptr.addr(), data.len, |b, iov, n, _| {
            let mut msg = msghdr(iov, n, convert::recv_flags(flags));
            // SAFETY: recvmsg(2) into the caller's buffers (the iovecs are
            // in kernel memory, their buffers are user memory); received
            // descriptors are installed in our table and their numbers come
            // back as control mbufs in `control`, which we then own.
            let e = unsafe { kpi::kern_recvit(b.td, s, &mut msg, UIO_USERSPACE, controlp) };
            msg_flags = msg.msg_flags;
            e
        })?;
        let datalen = self.retval();
        let result = self.deliver(control, fds);
        if !control.is_null() {
            // SAFETY: the chain is ours; freeing it does not close the
            // descriptors (they are installed already).
            unsafe { kpi::m_freem(control) };
        }
        let (truncated, fdslen) = result?;
        let mut out = convert::ro_flags(msg_flags);
        if truncated {
            out |= Roflags::FDS_TRUNCATED;
        }
        Ok(Received { datalen, fdslen, flags: out })
    }

    fn sock_send(
        &mut self,
        sock: &FileRef,
        data: UserRange<Ciovec>,
        fds: &mut dyn FdList<FileRef>,
    ) -> Result<u64, Errno> {
        // Every descriptor is looked up first and its reference (with the
        // Capsicum limits it had) kept until the message is sent: what is
        // attached is the file that was checked (see `attach`).
        let n = usize::try_from(fds.len()).map_err(|_| Errno::INVAL)?;
        let mut files: KernList<Attached> = KernList::new(n)?;
        while let Some((_, file, _)) = fds.next(self)? {
            if files.push(Attached { file, tmp: -1 }).is_err() {
                return Err(Errno::INVAL);
            }
        }
        let s = sock.fd();
        // The iovecs are copied in first: the control message is only made
        // once nothing but kern_sendit (which consumes it on every path)
        // can fail, so no error path has a control mbuf to leak.
        self.with_iovecs(data.ptr.addr(), data.len, |b, iov, cnt, _| {
            let control = match b.attach(&mut files) {
                Ok(control) => control,
                Err(e) => return e,
            };
            let mut msg = msghdr(iov, cnt, 0);
            // SAFETY: sendmsg(2) from the caller's buffers; the control
            // mbuf (descriptors internalized by the UNIX socket layer,
            // with their Capsicum limits) is consumed on every path.
            // MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE.
            let e = unsafe { kpi::kern_sendit(b.td, s, &mut msg, MSG_NOSIGNAL, control, UIO_USERSPACE) };
            b.detach(&mut files);
            e
        })?;
        Ok(self.retval())
    }

    fn sock_shutdown(&mut self, sock: &FileRef, how: Sdflags) -> Result<(), Errno> {
        // SAFETY: shutdown(2) on a descriptor of the current process.
        let e = unsafe { kpi::kern_shutdown(self.td, sock.fd(), convert::shutdown_how(how)) };
        self.check(e)
    }

    fn sock_listening(&mut self, sock: &FileRef) -> bool {
        // SAFETY: the socket is held by `sock`; as SOLISTENING() without
        // the lock (a racing listen(2) cannot happen: CloudABI has none).
        sock.socket().is_some_and(|so| unsafe { access::so_options(so) } & SO_ACCEPTCONN != 0)
    }

    fn sock_accept(&mut self, sock: &FileRef, rights: FdRights) -> Result<Fd, Errno> {
        // kern_accept4 requires CAP_ACCEPT, which no CloudABI right maps
        // to (the core has checked fd_read). The listening socket is
        // installed a second time, with its own limits plus CAP_ACCEPT,
        // for the duration of the accept: that descriptor allows nothing
        // more through CloudABI (CAP_ACCEPT maps to no right), and a
        // CloudABI process has no other way to use it.
        let mut caps = OwnedCaps::listless(sock.cap_rights().with(CAP_ACCEPT));
        let mut tmp: c_int = -1;
        // SAFETY: installs the referenced socket file at a new descriptor
        // (finstall takes its own reference) with `caps` (no ioctl list),
        // close-on-exec.
        let e = unsafe { kpi::finstall(self.td, sock.fp(), &mut tmp, O_CLOEXEC, caps.as_mut_ptr()) };
        self.check(e)?;
        // SAFETY: accept(2) on that descriptor, without the peer address
        // (15.x writes it into `sa`, which is big enough for any).
        #[cfg(freebsd14)]
        let e =
            unsafe { kpi::kern_accept4(self.td, tmp, ptr::null_mut(), ptr::null_mut(), 0, ptr::null_mut()) };
        // SAFETY: as above.
        #[cfg(freebsd15)]
        let e = unsafe {
            // ss_len is the room the protocol may fill: 15.x soaccept()
            // KASSERTs (INVARIANTS kernels) that the address written is
            // no longer, as sys_accept's `{ .ss_len = sizeof(ss) }` does.
            let mut sa = crate::ffi::kern::SockaddrStorage { bytes: [0; 128] };
            sa.bytes[SS_LEN_OFFSET] = size_of::<crate::ffi::kern::SockaddrStorage>() as u8;
            kpi::kern_accept4(
                self.td,
                tmp,
                (&mut sa as *mut crate::ffi::kern::SockaddrStorage).cast(),
                0,
                ptr::null_mut(),
            )
        };
        let conn = self.retval_fd();
        // SAFETY: removes the temporary descriptor if it still refers to
        // the socket (fdclose checks), dropping its reference.
        unsafe { kpi::fdclose(self.td, sock.fp(), tmp) };
        self.check(e)?;
        // The connection got the temporary descriptor's limits; it is
        // installed again with its own exact rights.
        self.install_exact(conn, rights, 0)
    }
}
