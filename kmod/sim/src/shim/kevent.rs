//! `kern_kevent_anonymous(9)`: an anonymous kqueue fed and drained
//! through the caller's copy operations, as `kqueue_kevent()` and
//! `kqueue_scan()` (sys/kern/kern_event.c) run it: changes are read
//! `KQ_NEVENTS` (8) at a time and registered; a registration error comes
//! back as that kevent with `flags = EV_ERROR` and `data` = the errno
//! while there is room, and then nothing is waited for (`td_retval[0]` =
//! the number of errors); otherwise the call waits, without a timeout,
//! until at least one event is ready and copies out what is ready.
//!
//! Filters: `EVFILT_TIMER` (`NOTE_NSECONDS`, one-shot, `data` = 1 when it
//! fires), `EVFILT_READ` (`CAP_EVENT`; vnodes with `NOTE_FILE_POLL`
//! always ready with `data` = size - offset, as `filt_vfsread()`; pipes
//! and sockets when readable with `data` = bytes queued, `EV_EOF` when the
//! writer is gone) and `EVFILT_WRITE` (`CAP_EVENT`; when writable,
//! `EV_EOF` when the reader is gone). Others are `EINVAL`, as for an
//! unknown filter (`EVFILT_PROCDESC` needs processes the sim does not
//! have yet).

use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;
use sys::rights::{CapRights, cap};

use super::files;
use crate::kernel::td_retval;

const KQ_NEVENTS: usize = 8;

enum What {
    Timer(Instant),
    Fd { host: c_int, vnode: bool, fp: usize },
    Proc { pidfd: c_int, fp: usize },
}

struct Reg {
    kev: Kevent,
    what: What,
}

fn zero_kevent() -> Kevent {
    Kevent { ident: 0, filter: 0, flags: 0, fflags: 0, data: 0, udata: std::ptr::null_mut(), ext: [0; 4] }
}

/// `kqueue_register()` for the filters reproduced.
fn register(kev: &Kevent) -> Result<Reg, c_int> {
    match kev.filter {
        EVFILT_TIMER => {
            if kev.data < 0 || kev.fflags & !NOTE_NSECONDS != 0 {
                return Err(EINVAL);
            }
            let ns =
                if kev.fflags & NOTE_NSECONDS != 0 { kev.data as u64 } else { kev.data as u64 * 1_000_000 };
            Ok(Reg { kev: *kev, what: What::Timer(Instant::now() + Duration::from_nanos(ns)) })
        }
        EVFILT_READ | EVFILT_WRITE => {
            let fd = c_int::try_from(kev.ident).map_err(|_| EBADF)?;
            let (fp, _, _) = files::lookup(fd, Some(&CapRights::NONE.with(cap::EVENT)))?;
            // SAFETY: a live file.
            let vnode = unsafe { crate::kernel::get::<i16>(fp as *const u8, FILE_F_TYPE) } == DTYPE_VNODE;
            Ok(Reg { kev: *kev, what: What::Fd { host: files::host_fd(fp), vnode, fp } })
        }
        EVFILT_PROCDESC => {
            let fd = c_int::try_from(kev.ident).map_err(|_| EBADF)?;
            let (fp, _, _) = files::lookup(fd, Some(&CapRights::NONE.with(cap::EVENT)))?;
            // SAFETY: a live file.
            if unsafe { crate::kernel::get::<i16>(fp as *const u8, FILE_F_TYPE) } != DTYPE_PROCDESC {
                files::fdrop(fp);
                return Err(EINVAL);
            }
            Ok(Reg { kev: *kev, what: What::Proc { pidfd: files::host_fd(fp), fp } })
        }
        _ => Err(EINVAL),
    }
}

/// The FreeBSD wait status of an exited child (`KW_EXITCODE`), from its
/// pidfd without reaping it; None while it runs.
fn child_status(pidfd: c_int) -> Option<i64> {
    // SAFETY: waitid on our pidfd into a local siginfo.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        if libc::waitid(
            libc::P_PIDFD,
            pidfd as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        ) != 0
            || info.si_pid() == 0
        {
            return None;
        }
        let status = info.si_status();
        Some(if info.si_code == libc::CLD_EXITED {
            i64::from(status & 0xff) << 8
        } else {
            i64::from(crate::signal::freebsd(status))
        })
    }
}

/// Drops the references registrations hold.
fn release(regs: Vec<Reg>) {
    for r in regs {
        if let What::Fd { fp, .. } | What::Proc { fp, .. } = r.what {
            files::fdrop(fp);
        }
    }
}

/// `FIONREAD` of a host descriptor (0 on failure).
fn queued(host: c_int) -> i64 {
    let mut n: c_int = 0;
    // SAFETY: FIONREAD into a local int.
    unsafe { libc::ioctl(host, libc::FIONREAD, &mut n) };
    i64::from(n)
}

/// Room in a host socket's or pipe's send buffer (`sbspace()` of
/// `so_snd` for `filt_sowrite`, the pipe buffer's free space for
/// `filt_pipewrite`).
fn room(host: c_int) -> i64 {
    let (mut size, mut l): (c_int, libc::socklen_t) = (0, size_of::<c_int>() as libc::socklen_t);
    // SAFETY: getsockopt/fcntl/ioctl into locals on our host descriptor.
    unsafe {
        if libc::getsockopt(host, libc::SOL_SOCKET, libc::SO_SNDBUF, (&raw mut size).cast(), &mut l) != 0 {
            size = libc::fcntl(host, libc::F_GETPIPE_SZ).max(0);
        }
        let mut outq: c_int = 0;
        libc::ioctl(host, libc::TIOCOUTQ, &mut outq);
        i64::from(size.saturating_sub(outq).max(0))
    }
}

/// The ready events among the registrations (removed: all are one-shot
/// as the module registers them; others stay).
fn ready(regs: &mut Vec<Reg>, wait: bool) -> Vec<Kevent> {
    let mut polls: Vec<libc::pollfd> = regs
        .iter()
        .map(|r| match r.what {
            What::Proc { pidfd, .. } => libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 },
            What::Fd { host, vnode: false, .. } => libc::pollfd {
                fd: host,
                events: if r.kev.filter == EVFILT_READ {
                    libc::POLLIN | libc::POLLRDHUP
                } else {
                    libc::POLLOUT
                },
                revents: 0,
            },
            _ => libc::pollfd { fd: -1, events: 0, revents: 0 },
        })
        .collect();
    let now = Instant::now();
    let vnode_ready = regs.iter().any(|r| matches!(r.what, What::Fd { vnode: true, .. }));
    let next_timer =
        regs.iter().filter_map(|r| if let What::Timer(t) = r.what { Some(t) } else { None }).min();
    let timeout = if !wait || vnode_ready {
        Some(Duration::ZERO)
    } else {
        next_timer.map(|t| t.saturating_duration_since(now))
    };
    let ts =
        timeout.map(|d| libc::timespec { tv_sec: d.as_secs() as i64, tv_nsec: i64::from(d.subsec_nanos()) });
    // SAFETY: ppoll over our array (descriptors of -1 are ignored).
    unsafe {
        libc::ppoll(
            polls.as_mut_ptr(),
            polls.len() as libc::nfds_t,
            ts.as_ref().map_or(std::ptr::null(), |t| t),
            std::ptr::null(),
        )
    };
    let now = Instant::now();
    let mut out = Vec::new();
    let mut keep = Vec::new();
    for (r, p) in regs.drain(..).zip(polls) {
        let mut k = r.kev;
        let fired = match r.what {
            What::Proc { pidfd, .. } => match child_status(pidfd) {
                Some(st) => {
                    k.data = st;
                    k.flags |= EV_EOF;
                    k.fflags = NOTE_EXIT;
                    true
                }
                None => false,
            },
            What::Timer(t) => {
                k.data = 1;
                now >= t
            }
            What::Fd { host, vnode: true, .. } => {
                if k.filter == EVFILT_READ {
                    // filt_vfsread(): size - offset; NOTE_FILE_POLL: ready.
                    // SAFETY: fstat and lseek on our host descriptor.
                    let (size, off) = unsafe {
                        let mut st: libc::stat = std::mem::zeroed();
                        libc::fstat(host, &mut st);
                        (st.st_size, libc::lseek(host, 0, libc::SEEK_CUR).max(0))
                    };
                    k.data = size - off;
                    k.fflags & NOTE_FILE_POLL != 0 || k.data != 0
                } else {
                    k.data = 0;
                    true
                }
            }
            What::Fd { host, vnode: false, .. } => {
                let rev = p.revents;
                if rev & (libc::POLLHUP | libc::POLLRDHUP | libc::POLLERR) != 0 {
                    k.flags |= EV_EOF;
                }
                if k.filter == EVFILT_READ {
                    k.data = queued(host);
                    rev & (libc::POLLIN | libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
                } else {
                    k.data = room(host);
                    rev & (libc::POLLOUT | libc::POLLHUP | libc::POLLERR) != 0
                }
            }
        };
        if fired {
            out.push(k);
            if k.flags & EV_ONESHOT != 0 {
                if let What::Fd { fp, .. } | What::Proc { fp, .. } = r.what {
                    files::fdrop(fp);
                }
                continue;
            }
        }
        keep.push(r);
    }
    *regs = keep;
    out
}

/// `kern_kevent_anonymous(9)`.
///
/// # Safety
/// `k_ops` holds the caller's copy operations and their argument.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_kevent_anonymous(
    td: *mut Thread,
    nevents: c_int,
    k_ops: *mut KeventCopyops,
) -> c_int {
    if nevents < 0 {
        return EINVAL;
    }
    // SAFETY: caller contract.
    let ops = unsafe { &*k_ops };
    let (Some(copyin), Some(copyout)) = (ops.k_copyin, ops.k_copyout) else { return EINVAL };
    let (mut nchanges, mut nev, mut nerrors) = (nevents as usize, nevents as usize, 0u64);
    let mut regs = Vec::new();
    while nchanges > 0 {
        let n = nchanges.min(KQ_NEVENTS);
        let mut keva = [zero_kevent(); KQ_NEVENTS];
        // SAFETY: the caller's copyin fills `n` kevents.
        let e = unsafe { copyin(ops.arg, keva.as_mut_ptr(), n as c_int) };
        if e != 0 {
            release(regs);
            return e;
        }
        for kev in keva.iter_mut().take(n) {
            if kev.filter == 0 {
                continue;
            }
            match register(kev) {
                Ok(r) => regs.push(r),
                Err(error) => {
                    if nev == 0 {
                        release(regs);
                        return error;
                    }
                    kev.flags = EV_ERROR;
                    kev.data = i64::from(error);
                    // SAFETY: the caller's copyout of one kevent.
                    unsafe { copyout(ops.arg, kev, 1) };
                    nev -= 1;
                    nerrors += 1;
                }
            }
        }
        nchanges -= n;
    }
    if nerrors > 0 {
        release(regs);
        // SAFETY: the current thread's results.
        unsafe { (*td_retval(td))[0] = nerrors };
        return 0;
    }
    // kqueue_scan() without a timeout: until something is ready.
    let mut events = Vec::new();
    while events.is_empty() {
        if crate::proc::exiting() {
            release(regs);
            return ERESTART;
        }
        if regs.is_empty() {
            super::unimplemented_kpi("kern_kevent_anonymous waiting forever (no registration)");
        }
        events = ready(&mut regs, true);
    }
    events.truncate(nev);
    release(regs);
    for chunk in events.chunks_mut(KQ_NEVENTS) {
        // SAFETY: the caller's copyout of `chunk.len()` kevents.
        let e = unsafe { copyout(ops.arg, chunk.as_mut_ptr(), chunk.len() as c_int) };
        if e != 0 {
            return e;
        }
    }
    // SAFETY: as above.
    unsafe { (*td_retval(td))[0] = events.len() as u64 };
    0
}

/// Keeps `c_void` in use.
#[allow(dead_code)]
fn _unused(_: *mut c_void) {}
