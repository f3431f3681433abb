//! UNIX-domain sockets: `socketpair`, `sendmsg`/`recvmsg` with
//! `SCM_RIGHTS` control data in mbufs, `shutdown`.
//!
//! Data goes through host sockets. Descriptors in flight follow
//! FreeBSD's `unp_internalize()`/`unp_externalize()`
//! (sys/kern/uipc_usrreq.c): at send time the numbers in the control
//! message are looked up again in the sender's table (`EBADF` if one is
//! not open), each file is held with its limits, and the host descriptor
//! travels with the data; at receive time each arriving host descriptor
//! is matched to its in-flight file (same open file description, `kcmp`)
//! and the file is installed at the lowest free number with the limits it
//! travelled with. `kern_sendit` frees the control mbuf on every path;
//! the mbufs handed out by `sbcreatecontrol` and `kern_recvit` are
//! counted until `m_freem`.

use std::ffi::{c_int, c_void};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;
use sys::rights::{CapRights, cap};

use super::filecaps::Caps;
use super::files::{self, INFLIGHT, InFlight, PEERS, linux_to_freebsd};
use crate::account;
use crate::kernel::{put, td_retval};

/// Under `--fuzz`: host sockets get receive/send timeouts, so that a
/// random receive on an empty socket cannot block the run.
static FUZZING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns the fuzzing timeouts on.
pub fn set_fuzzing() {
    FUZZING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// 10 ms send and receive timeouts on a host socket (fuzzing only: the
/// guest then sees EAGAIN instead of blocking).
pub fn limit_blocking(fd: c_int) {
    let tv = libc::timeval { tv_sec: 0, tv_usec: 10_000 };
    for opt in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: setsockopt with a local timeval.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&raw const tv).cast(),
                size_of::<libc::timeval>() as u32,
            )
        };
    }
}

/// The shim's `struct mbuf`: the fields the module reads at `MBUF_M_*`
/// and the data buffer (one cluster at most).
const MBUF_SIZE: usize = 256;

fn errno() -> c_int {
    linux_to_freebsd(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
}

/// A control mbuf holding one `cmsghdr` (FreeBSD layout: `cmsg_len`,
/// `cmsg_level`, `cmsg_type`, data at `CMSG_HDR_LEN`) with `size` data
/// bytes.
fn mbuf(size: usize, level: c_int, ty: c_int) -> *mut u8 {
    let space = CMSG_HDR_LEN + size.next_multiple_of(8);
    // SAFETY: calloc of the mbuf header and its data; freed by m_freem.
    let (m, data) = unsafe { (libc::calloc(1, MBUF_SIZE).cast::<u8>(), libc::calloc(1, space).cast::<u8>()) };
    // SAFETY: fresh blocks; offsets from layouts.txt.
    unsafe {
        put(data, 0, (CMSG_HDR_LEN + size) as u32);
        put(data, CMSG_LEVEL_OFF, level);
        put(data, CMSG_TYPE_OFF, ty);
        put(m, MBUF_M_NEXT, std::ptr::null_mut::<u8>());
        put(m, MBUF_M_DATA, data);
        put(m, MBUF_M_LEN, space as i32);
    }
    account::take("mbuf", m as usize, format!("a control mbuf of {space} bytes"));
    m
}

/// `sbcreatecontrol(9)`: one control message of `size` bytes (copied from
/// `p` unless NULL) in an mbuf; NULL when it does not fit a cluster
/// (`MCLBYTES`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sbcreatecontrol(
    p: *const c_void,
    size: u32,
    ty: c_int,
    level: c_int,
    _wait: c_int,
) -> *mut Mbuf {
    if CMSG_HDR_LEN + (size as usize).next_multiple_of(8) > MCLBYTES {
        return std::ptr::null_mut();
    }
    let m = mbuf(size as usize, level, ty);
    if !p.is_null() {
        // SAFETY: `size` bytes from the caller into the mbuf's data.
        unsafe {
            let data: *mut u8 = crate::kernel::get(m, MBUF_M_DATA);
            std::ptr::copy_nonoverlapping(p.cast::<u8>(), data.add(CMSG_HDR_LEN), size as usize);
        }
    }
    m.cast()
}

/// `m_freem(9)`: frees an mbuf chain (NULL ignored).
#[unsafe(no_mangle)]
pub extern "C" fn m_freem(m: *mut Mbuf) {
    let mut m = m.cast::<u8>();
    while !m.is_null() {
        account::give("mbuf", m as usize);
        // SAFETY: an mbuf made by mbuf(), freed once (account::give is
        // fatal otherwise).
        unsafe {
            let next: *mut u8 = crate::kernel::get(m, MBUF_M_NEXT);
            libc::free(crate::kernel::get::<*mut u8>(m, MBUF_M_DATA).cast());
            libc::free(m.cast());
            m = next;
        }
    }
}

/// `kern_socketpair(9)`: `AF_UNIX` stream, datagram or seqpacket pairs;
/// both descriptors unlimited, numbers in `rsv[0..2]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_socketpair(
    _td: *mut Thread,
    domain: c_int,
    ty: c_int,
    protocol: c_int,
    rsv: *mut c_int,
) -> c_int {
    if domain != AF_UNIX {
        return EAFNOSUPPORT;
    }
    if protocol != 0 {
        return 43; // EPROTONOSUPPORT
    }
    let mut sv = [0; 2];
    // SAFETY: host socketpair into a local array.
    if unsafe { libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) } < 0 {
        return errno();
    }
    // SAFETY: two new descriptors we own.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) };
    if FUZZING.load(std::sync::atomic::Ordering::Relaxed) {
        limit_blocking(sv[0]);
        limit_blocking(sv[1]);
    }
    let (fa, fb) = (files::new_file(a), files::new_file(b));
    PEERS.lock().unwrap_or_else(|e| e.into_inner()).extend([(fa, fb), (fb, fa)]);
    let na = files::install(fa, Caps::unlimited(), None);
    let nb = files::install(fb, Caps::unlimited(), None);
    // SAFETY: the caller's int[2].
    unsafe {
        *rsv = na as c_int;
        *rsv.add(1) = nb as c_int;
    }
    0
}

/// The receiving end of what is sent on socket file `fp`.
fn peer(fp: usize) -> Option<usize> {
    PEERS.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|&&(a, _)| a == fp).map(|&(_, b)| b)
}

/// The descriptors of every SCM_RIGHTS message in an mbuf chain.
fn rights_in(control: *mut u8) -> Vec<c_int> {
    let mut fds = Vec::new();
    let mut m = control;
    while !m.is_null() {
        // SAFETY: a control mbuf chain from sbcreatecontrol.
        unsafe {
            let data: *const u8 = crate::kernel::get(m, MBUF_M_DATA);
            let len: u32 = crate::kernel::get(data, 0);
            let (level, ty): (c_int, c_int) =
                (crate::kernel::get(data, CMSG_LEVEL_OFF), crate::kernel::get(data, CMSG_TYPE_OFF));
            if level == SOL_SOCKET && ty == SCM_RIGHTS {
                for i in 0..(len as usize).saturating_sub(CMSG_HDR_LEN) / 4 {
                    fds.push(crate::kernel::get(data, CMSG_HDR_LEN + 4 * i));
                }
            }
            m = crate::kernel::get(m, MBUF_M_NEXT);
        }
    }
    fds
}

/// FreeBSD send/recv flags the module uses, as Linux's.
fn host_flags(f: c_int) -> Option<c_int> {
    let mut l = 0;
    for (b, h) in
        [(MSG_PEEK, libc::MSG_PEEK), (MSG_WAITALL, libc::MSG_WAITALL), (MSG_NOSIGNAL, libc::MSG_NOSIGNAL)]
    {
        if f & b != 0 {
            l |= h;
        }
    }
    (f & !(MSG_PEEK | MSG_WAITALL | MSG_NOSIGNAL) == 0).then_some(l)
}

/// User iovecs of a msghdr as host iovecs (checked for `prot`).
///
/// # Safety
/// `mp` is the module's msghdr.
unsafe fn iovecs(mp: *mut Msghdr, prot: c_int) -> Result<Vec<libc::iovec>, c_int> {
    // SAFETY: caller contract.
    let m = unsafe { &*mp };
    let mut v = Vec::new();
    for i in 0..m.msg_iovlen.max(0) as usize {
        // SAFETY: the msghdr's iovec array.
        let iov = unsafe { *m.msg_iov.add(i) };
        if iov.iov_len > 0
            && (!crate::kernel::is_user_range(iov.iov_base as usize, iov.iov_len)
                || !super::uvm::check(iov.iov_base as usize, iov.iov_len, prot))
        {
            return Err(EFAULT);
        }
        v.push(libc::iovec { iov_base: iov.iov_base, iov_len: iov.iov_len });
    }
    Ok(v)
}

/// `kern_sendit(9)`: sends on a socket with `CAP_SEND` (`CAP_WRITE`),
/// user-space data, optional `SCM_RIGHTS` control, which it frees on
/// every path; the byte count in `td_retval[0]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_sendit(
    td: *mut Thread,
    s: c_int,
    mp: *mut Msghdr,
    flags: c_int,
    control: *mut Mbuf,
    seg: u32,
) -> c_int {
    // SAFETY: caller contract; the control mbuf is ours to free from here.
    let r = unsafe { sendit(td, s, mp, flags, control.cast(), seg) };
    m_freem(control);
    r
}

unsafe fn sendit(
    td: *mut Thread,
    s: c_int,
    mp: *mut Msghdr,
    flags: c_int,
    control: *mut u8,
    seg: u32,
) -> c_int {
    if seg != UIO_USERSPACE {
        super::unimplemented_kpi("kern_sendit with kernel-space data");
    }
    let Some(lflags) = host_flags(flags) else { super::unimplemented_kpi("kern_sendit flags") };
    let (sfp, _, _) = match files::lookup(s, Some(&CapRights::NONE.with(cap::WRITE))) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let result = (|| {
        // SAFETY: a live file.
        if unsafe { crate::kernel::get::<i16>(sfp as *const u8, FILE_F_TYPE) } != DTYPE_SOCKET {
            return Err(ENOTSOCK);
        }
        // SAFETY: caller contract.
        let iov = unsafe { iovecs(mp, libc::PROT_READ) }?;
        // unp_internalize(): every number looked up now, each file held.
        let mut flight = Vec::new();
        for fd in rights_in(control) {
            match files::lookup_caps(fd, None) {
                Ok((fp, caps)) => flight.push(InFlight { fp, caps }),
                Err(e) => {
                    flight.into_iter().for_each(InFlight::dispose);
                    return Err(e);
                }
            }
        }
        let to = match (flight.is_empty(), peer(sfp)) {
            (true, p) => p.unwrap_or(0),
            (false, Some(p)) => p,
            (false, None) => super::unimplemented_kpi("SCM_RIGHTS on a socket that is not a socketpair end"),
        };
        let hosts: Vec<c_int> = flight.iter().map(|f| files::host_fd(f.fp)).collect();
        let mut cbuf = vec![0u8; unsafe { libc::CMSG_SPACE((hosts.len() * 4) as u32) } as usize];
        // SAFETY: a host msghdr over checked user memory and a local
        // control buffer.
        let n = unsafe {
            let mut h: libc::msghdr = std::mem::zeroed();
            h.msg_iov = iov.as_ptr().cast_mut();
            h.msg_iovlen = iov.len();
            if !hosts.is_empty() {
                h.msg_control = cbuf.as_mut_ptr().cast();
                h.msg_controllen = cbuf.len();
                let c = libc::CMSG_FIRSTHDR(&h);
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_RIGHTS;
                (*c).cmsg_len = libc::CMSG_LEN((hosts.len() * 4) as u32) as usize;
                std::ptr::copy_nonoverlapping(
                    hosts.as_ptr(),
                    libc::CMSG_DATA(c).cast::<c_int>(),
                    hosts.len(),
                );
            }
            libc::sendmsg(files::host_fd(sfp), &h, lflags)
        };
        if n < 0 {
            let e = errno();
            flight.into_iter().for_each(InFlight::dispose);
            return Err(e);
        }
        INFLIGHT.lock().unwrap_or_else(|e| e.into_inner()).extend(flight.into_iter().map(|f| (to, f)));
        Ok(n as u64)
    })();
    files::fdrop(sfp);
    match result {
        Ok(n) => {
            // SAFETY: the current thread's results.
            unsafe { (*td_retval(td))[0] = n };
            0
        }
        Err(e) => e,
    }
}

/// Whether two host descriptors are the same open file description.
fn same_file(a: c_int, b: c_int) -> bool {
    // SAFETY: kcmp(KCMP_FILE) on our own descriptors.
    let pid = unsafe { libc::getpid() };
    let r = unsafe { libc::syscall(libc::SYS_kcmp, pid, pid, 0, a, b) };
    if r >= 0 {
        return r == 0;
    }
    // Without kcmp: the same file (device and inode).
    // SAFETY: fstat into locals.
    unsafe {
        let (mut x, mut y): (libc::stat, libc::stat) = (std::mem::zeroed(), std::mem::zeroed());
        libc::fstat(a, &mut x) == 0
            && libc::fstat(b, &mut y) == 0
            && x.st_dev == y.st_dev
            && x.st_ino == y.st_ino
    }
}

/// Takes the in-flight entry for an arriving host descriptor.
fn arrive(to: usize, host: c_int) -> Option<InFlight> {
    let mut q = INFLIGHT.lock().unwrap_or_else(|e| e.into_inner());
    let i = q.iter().position(|(t, f)| *t == to && same_file(files::host_fd(f.fp), host))?;
    Some(q.remove(i).1)
}

/// `kern_recvit(9)`: receives on a socket with `CAP_RECV` (`CAP_READ`)
/// into user memory; with `controlp`, arriving descriptors are installed
/// (lowest numbers, travelled limits) and their numbers returned in
/// `SCM_RIGHTS` mbufs; without it they are disposed of. `msg_flags` gets
/// `MSG_TRUNC`/`MSG_CTRUNC`; the byte count in `td_retval[0]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_recvit(
    td: *mut Thread,
    s: c_int,
    mp: *mut Msghdr,
    seg: u32,
    controlp: *mut *mut Mbuf,
) -> c_int {
    if seg != UIO_USERSPACE {
        super::unimplemented_kpi("kern_recvit into kernel memory");
    }
    // SAFETY: the module's msghdr.
    let Some(lflags) = host_flags(unsafe { (*mp).msg_flags }) else {
        super::unimplemented_kpi("kern_recvit flags")
    };
    let (sfp, _, _) = match files::lookup(s, Some(&CapRights::NONE.with(cap::READ))) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let result = (|| {
        // SAFETY: a live file.
        if unsafe { crate::kernel::get::<i16>(sfp as *const u8, FILE_F_TYPE) } != DTYPE_SOCKET {
            return Err(ENOTSOCK);
        }
        // SAFETY: caller contract.
        let iov = unsafe { iovecs(mp, libc::PROT_WRITE) }?;
        let mut cbuf = vec![0u8; 8192];
        // SAFETY: a host recvmsg into checked user memory.
        let (n, h) = unsafe {
            let mut h: libc::msghdr = std::mem::zeroed();
            h.msg_iov = iov.as_ptr().cast_mut();
            h.msg_iovlen = iov.len();
            h.msg_control = cbuf.as_mut_ptr().cast();
            h.msg_controllen = cbuf.len();
            (libc::recvmsg(files::host_fd(sfp), &mut h, lflags | libc::MSG_CMSG_CLOEXEC), h)
        };
        if n < 0 {
            return Err(errno());
        }
        // The arriving host descriptors, message by message.
        let mut messages: Vec<Vec<OwnedFd>> = Vec::new();
        // SAFETY: walking the control data recvmsg wrote.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&h);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let k = ((*c).cmsg_len - libc::CMSG_LEN(0) as usize) / 4;
                    let p = libc::CMSG_DATA(c).cast::<c_int>();
                    messages.push((0..k).map(|i| OwnedFd::from_raw_fd(*p.add(i))).collect());
                }
                c = libc::CMSG_NXTHDR(&h, c);
            }
        }
        let mut chain: *mut u8 = std::ptr::null_mut();
        let mut tail: *mut u8 = std::ptr::null_mut();
        for msg in messages {
            if lflags & libc::MSG_PEEK != 0 {
                // A peek leaves the descriptors queued for the receive
                // that consumes them (the host's duplicates are closed).
                continue;
            }
            let flight: Vec<InFlight> = msg
                .iter()
                .map(|h| {
                    arrive(sfp, h.as_raw_fd())
                        .unwrap_or_else(|| crate::fatal("a received descriptor that was not in flight"))
                })
                .collect();
            drop(msg);
            if controlp.is_null() {
                flight.into_iter().for_each(InFlight::dispose);
                continue;
            }
            // unp_externalize(): installed, numbers in an SCM_RIGHTS mbuf.
            let m = mbuf(flight.len() * 4, SOL_SOCKET, SCM_RIGHTS);
            for (i, f) in flight.into_iter().enumerate() {
                let fd = files::install_caps(f.fp, f.caps) as c_int;
                // SAFETY: the mbuf's data has room for every number.
                unsafe {
                    let data: *mut u8 = crate::kernel::get(m, MBUF_M_DATA);
                    put(data, CMSG_HDR_LEN + 4 * i, fd);
                }
            }
            if tail.is_null() {
                chain = m;
            } else {
                // SAFETY: the previous mbuf of the chain.
                unsafe { put(tail, MBUF_M_NEXT, m) };
            }
            tail = m;
        }
        let mut out = 0;
        if h.msg_flags & libc::MSG_TRUNC != 0 {
            out |= MSG_TRUNC;
        }
        if h.msg_flags & libc::MSG_CTRUNC != 0 {
            out |= MSG_CTRUNC;
        }
        Ok((n as u64, out, chain))
    })();
    files::fdrop(sfp);
    match result {
        Ok((n, out, chain)) => {
            // SAFETY: the caller's msghdr, out-pointer and thread.
            unsafe {
                (*mp).msg_flags = out;
                if !controlp.is_null() {
                    *controlp = chain.cast();
                }
                (*td_retval(td))[0] = n;
            }
            0
        }
        Err(e) => e,
    }
}

/// Whether a host socket is listening.
fn listening(fd: c_int) -> bool {
    let mut v: c_int = 0;
    let mut l = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt into a local int.
    unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN, (&raw mut v).cast(), &mut l) == 0
            && v != 0
    }
}

/// `kern_shutdown(9)`: `CAP_SHUTDOWN`; `ENOTSOCK` for other files.
#[unsafe(no_mangle)]
pub extern "C" fn kern_shutdown(_td: *mut Thread, s: c_int, how: c_int) -> c_int {
    let (fp, _, _) = match files::lookup(s, Some(&CapRights::NONE.with(cap::SHUTDOWN))) {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: a live file; host shutdown (same `how` values).
    let r = unsafe {
        if crate::kernel::get::<i16>(fp as *const u8, FILE_F_TYPE) != DTYPE_SOCKET {
            ENOTSOCK
        } else if listening(files::host_fd(fp)) {
            // soshutdown() (sys/kern/uipc_socket.c): a listening socket
            // stays listening and is not connected: ENOTCONN. (Linux's
            // shutdown would stop it listening, so it is not called; the
            // wakeup of pending accepts is not reproduced.)
            ENOTCONN
        } else if libc::shutdown(files::host_fd(fp), how) < 0 {
            errno()
        } else {
            0
        }
    };
    files::fdrop(fp);
    r
}

/// `kern_accept4(9)` (14.x) as the module calls it (no address, flags 0,
/// no file out): `CAP_ACCEPT` on the descriptor, `EINVAL` unless it is
/// listening; blocks for a connection, which is installed at the lowest
/// free number with the listening descriptor's limits (`falloc_caps`
/// with the caps `getsock_cap` returned), blocking (no
/// `ACCEPT4_INHERIT`); the number in `td_retval[0]`.
#[cfg(freebsd14)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_accept4(
    td: *mut Thread,
    s: c_int,
    name: *mut c_void,
    namelen: *mut u32,
    flags: c_int,
    fp: *mut c_void,
) -> c_int {
    if !name.is_null() || !namelen.is_null() || flags != 0 || !fp.is_null() {
        super::unimplemented_kpi("kern_accept4 with an address, flags or a file out");
    }
    // SAFETY: caller contract.
    unsafe { accept(td, s, std::ptr::null_mut()) }
}

/// `kern_accept4(9)` (15.0: the peer's address is written into the
/// caller's `sa`, whose `sa_len` says how much room it has: `soaccept()`
/// asserts the address fits), as 14.x otherwise.
#[cfg(freebsd15)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_accept4(
    td: *mut Thread,
    s: c_int,
    sa: *mut c_void,
    flags: c_int,
    fp: *mut c_void,
) -> c_int {
    if flags != 0 || !fp.is_null() {
        super::unimplemented_kpi("kern_accept4 with flags or a file out");
    }
    // SAFETY: caller contract: `sa` is NULL or a sockaddr buffer.
    unsafe { accept(td, s, sa.cast()) }
}

/// The FreeBSD `struct sockaddr` for a host peer address: `AF_UNIX`
/// (`sa_len`, `sa_family` 1, the path; an unnamed peer is `sun_noname`,
/// 16 bytes: uipc_usrreq.c `uipc_peeraddr`, 15.0), `AF_INET` (16 bytes,
/// family 2), `AF_INET6` (28 bytes, family 28).
fn freebsd_sockaddr(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Vec<u8> {
    let raw = (ss as *const libc::sockaddr_storage).cast::<u8>();
    // SAFETY: `len` bytes of the host's address record.
    let b =
        unsafe { std::slice::from_raw_parts(raw, (len as usize).min(size_of::<libc::sockaddr_storage>())) };
    match ss.ss_family as c_int {
        libc::AF_UNIX => {
            let path: Vec<u8> = b.get(2..).unwrap_or(&[]).iter().copied().take_while(|&c| c != 0).collect();
            if path.is_empty() {
                let mut v = vec![0u8; 16];
                v[0] = 16;
                v[1] = 1;
                v
            } else {
                let mut v = vec![0u8; 2 + path.len() + 1];
                v[0] = v.len() as u8;
                v[1] = 1;
                v[2..2 + path.len()].copy_from_slice(&path);
                v
            }
        }
        libc::AF_INET => {
            let mut v = vec![0u8; 16];
            v[0] = 16;
            v[1] = 2;
            v[2..8].copy_from_slice(&b[2..8]);
            v
        }
        libc::AF_INET6 => {
            let mut v = vec![0u8; 28];
            v[0] = 28;
            v[1] = 28;
            v[2..28].copy_from_slice(&b[2..28]);
            v
        }
        f => super::unimplemented_kpi(&format!("kern_accept4 of a host address family {f}")),
    }
}

/// `kern_accept4`'s work.
///
/// # Safety
/// `td` is the current thread.
unsafe fn accept(td: *mut Thread, s: c_int, sa: *mut u8) -> c_int {
    // getsock_cap(): the listening socket's limits copied (filecaps_copy),
    // moved to the new descriptor by falloc_caps or freed (uipc_syscalls.c).
    let (lfp, caps) = match files::lookup_caps(s, Some(&CapRights::NONE.with(CAP_ACCEPT))) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let host = files::host_fd(lfp);
    let r = if !listening(host) {
        caps.free();
        Err(EINVAL)
    } else {
        // SAFETY: a zeroed address record for the host's accept4.
        let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: host accept4 on our listening socket, into `ss`.
        let c = unsafe { libc::accept4(host, (&raw mut ss).cast(), &mut len, libc::SOCK_CLOEXEC) };
        if c < 0 {
            caps.free();
            Err(errno())
        } else {
            if !sa.is_null() {
                let addr = freebsd_sockaddr(&ss, len);
                // SAFETY: the caller's sockaddr buffer; its sa_len (first
                // byte) is the room it has, checked as soaccept() does.
                unsafe {
                    if usize::from(*sa) < addr.len() {
                        crate::fatal("panic: soaccept: the address does not fit the caller's sa_len");
                    }
                    std::ptr::copy_nonoverlapping(addr.as_ptr(), sa, addr.len());
                }
            }
            // SAFETY: a new descriptor we own.
            let nfp = files::new_file(unsafe { OwnedFd::from_raw_fd(c) });
            Ok(files::install_caps(nfp, caps))
        }
    };
    files::fdrop(lfp);
    match r {
        Ok(fd) => {
            // SAFETY: the current thread's results.
            unsafe { (*td_retval(td))[0] = fd as u64 };
            0
        }
        Err(e) => e,
    }
}
