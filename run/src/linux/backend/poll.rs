//! Event `poll` with `ppoll`: clock subscriptions become a timeout,
//! descriptor subscriptions `pollfd` entries.
//!
//! Timeouts follow FreeBSD's CloudABI: a relative timeout is measured on
//! the monotonic clock whatever clock it names; an absolute one is turned
//! into a relative one by reading its clock once at the start.

use std::sync::Arc;

use abi::*;
use sys::backend::*;

use super::Linux;
use super::misc::now;
use crate::linux::fdtable::HostFile;

enum Watch {
    Clock { userdata: Userdata, due: u64 },
    Fd { userdata: Userdata, file: Arc<HostFile>, what: FdWatch },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FdWatch {
    Read,
    Write,
    /// A process descriptor (pidfd): readable once the process ended.
    Exit,
}

/// When (on the monotonic clock) a clock subscription is due.
fn due(start: u64, d: &Deadline) -> Result<u64, Errno> {
    if !d.absolute {
        return Ok(start.saturating_add(d.timeout));
    }
    let current = now(d.clock)?;
    Ok(start.saturating_add(d.timeout.saturating_sub(current)))
}

/// Bytes ready to read (`FIONREAD`), 0 if unknown.
fn readable(fd: i32) -> u64 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } == 0 { n.max(0) as u64 } else { 0 }
}

/// Room to write without blocking, as FreeBSD reports it: the free space
/// of a socket's send buffer or of a pipe; 0 if unknown.
fn writable(fd: i32) -> u64 {
    let mut queued: libc::c_int = 0;
    let mut size: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt/fcntl/ioctl below each write at most one int.
    unsafe {
        if libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&mut size as *mut libc::c_int).cast(),
            &mut len,
        ) == 0
        {
            // SIOCOUTQ: bytes in the send queue.
            if libc::ioctl(fd, libc::TIOCOUTQ, &mut queued) != 0 {
                return 0;
            }
        } else {
            size = libc::fcntl(fd, libc::F_GETPIPE_SZ);
            if size < 0 || libc::ioctl(fd, libc::FIONREAD, &mut queued) != 0 {
                return 0;
            }
        }
    }
    (size.max(0) as u64).saturating_sub(queued.max(0) as u64)
}

impl PollOps for Linux {
    fn poll_events(
        &mut self,
        subs: &mut dyn Subscriptions<Arc<HostFile>>,
        out: &mut dyn Events,
    ) -> Result<(), Errno> {
        let start = now(Clockid::MONOTONIC)?;
        let mut watches = Vec::new();
        let mut failed = Vec::new();
        while let Some(s) = subs.next(self)? {
            match s {
                Sub::Clock { userdata, deadline } => match due(start, &deadline) {
                    Ok(due) => watches.push(Watch::Clock { userdata, due }),
                    Err(error) => failed.push(Ready::Error { userdata, ty: Eventtype::CLOCK.raw(), error }),
                },
                Sub::FdRead { userdata, file } => {
                    watches.push(Watch::Fd { userdata, file, what: FdWatch::Read })
                }
                Sub::FdWrite { userdata, file } => {
                    watches.push(Watch::Fd { userdata, file, what: FdWatch::Write })
                }
                Sub::ProcTerminate { userdata, file } if file.filetype() == Filetype::PROCESS => {
                    watches.push(Watch::Fd { userdata, file, what: FdWatch::Exit })
                }
                Sub::ProcTerminate { userdata, .. } => failed.push(Ready::Error {
                    userdata,
                    ty: Eventtype::PROC_TERMINATE.raw(),
                    error: Errno::INVAL,
                }),
                Sub::Failed { userdata, ty, error } => failed.push(Ready::Error { userdata, ty, error }),
            }
        }
        if !failed.is_empty() {
            return push_all(self, out, failed);
        }
        let mut pfds: Vec<libc::pollfd> = watches
            .iter()
            .filter_map(|w| match w {
                Watch::Fd { file, what, .. } => Some(libc::pollfd {
                    fd: file.raw(),
                    events: match what {
                        FdWatch::Write => libc::POLLOUT,
                        FdWatch::Read => libc::POLLIN | libc::POLLRDHUP,
                        FdWatch::Exit => libc::POLLIN,
                    },
                    revents: 0,
                }),
                Watch::Clock { .. } => None,
            })
            .collect();
        loop {
            let t = now(Clockid::MONOTONIC)?;
            let next = watches
                .iter()
                .filter_map(|w| if let Watch::Clock { due, .. } = w { Some(*due) } else { None })
                .min();
            // Every revents bit turns into an event, so being woken with
            // nothing to report only happens on a signal or an early timer.
            wait(&mut pfds, next.map(|d| d.saturating_sub(t)))?;
            let t = now(Clockid::MONOTONIC)?;
            let events = collect(&watches, &pfds, t);
            if !events.is_empty() {
                return push_all(self, out, events);
            }
        }
    }
}

/// `ppoll` for at most `timeout` nanoseconds (forever if `None`); a signal
/// just ends the wait early. Returns whether any descriptor is ready.
fn wait(pfds: &mut [libc::pollfd], timeout: Option<u64>) -> Result<bool, Errno> {
    let ts = timeout.map(|ns| libc::timespec {
        tv_sec: (ns / 1_000_000_000).min(i64::MAX as u64) as i64,
        tv_nsec: (ns % 1_000_000_000) as i64,
    });
    let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: ppoll reads and updates `pfds`; `tsp` is null or valid.
    let r = unsafe { libc::ppoll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, tsp, std::ptr::null()) };
    if r < 0 {
        return match super::last_errno() {
            Errno::INTR => Ok(false),
            e => Err(e),
        };
    }
    Ok(r > 0)
}

fn collect(watches: &[Watch], pfds: &[libc::pollfd], t: u64) -> Vec<Ready> {
    let mut events = Vec::new();
    let mut fds = pfds.iter();
    for w in watches {
        match w {
            Watch::Clock { userdata, due } => {
                if *due <= t {
                    events.push(Ready::Clock { userdata: *userdata });
                }
            }
            Watch::Fd { userdata, file, what } => {
                let Some(p) = fds.next() else { continue };
                let r = p.revents;
                if r == 0 {
                    continue;
                }
                let ty = match what {
                    FdWatch::Read => Eventtype::FD_READ,
                    FdWatch::Write => Eventtype::FD_WRITE,
                    FdWatch::Exit => Eventtype::PROC_TERMINATE,
                };
                if r & libc::POLLNVAL != 0 {
                    events.push(Ready::Error { userdata: *userdata, ty: ty.raw(), error: Errno::BADF });
                    continue;
                }
                let hangup = r & (libc::POLLHUP | libc::POLLRDHUP | libc::POLLERR) != 0;
                events.push(match what {
                    FdWatch::Write => {
                        Ready::FdWrite { userdata: *userdata, nbytes: writable(file.raw()), hangup }
                    }
                    FdWatch::Read => {
                        Ready::FdRead { userdata: *userdata, nbytes: readable(file.raw()), hangup }
                    }
                    FdWatch::Exit => match super::proc::exit_status(file.raw()) {
                        Some((signal, exitcode)) => {
                            Ready::ProcTerminate { userdata: *userdata, signal, exitcode }
                        }
                        // Readable but not (yet) waitable: look again.
                        None => continue,
                    },
                });
            }
        }
    }
    events
}

fn push_all(b: &mut Linux, out: &mut dyn Events, events: Vec<Ready>) -> Result<(), Errno> {
    for ev in events {
        if out.room() == 0 {
            break;
        }
        out.push(b, ev)?;
    }
    Ok(())
}
