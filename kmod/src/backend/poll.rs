//! Event `poll` through an anonymous kqueue (`kern_kevent_anonymous`),
//! as FreeBSD's CloudABI did: the subscriptions are fed to kqueue as
//! one-shot changes by the `k_copyin` callback as it asks for them, and
//! its events come back through `k_copyout`:
//! - clock: `EVFILT_TIMER` in nanoseconds, one timer per subscription;
//!   absolute timeouts are turned into relative ones by reading their
//!   clock once, relative ones run on the uptime clock whatever clock they
//!   name; precision is not used;
//! - `fd_read`: `EVFILT_READ` with `NOTE_FILE_POLL` (regular files are
//!   always readable), `fd_write`: `EVFILT_WRITE`;
//! - `proc_terminate`: `EVFILT_PROCDESC` with `NOTE_EXIT`.
//!
//! kqueue checks each descriptor's Capsicum rights (`CAP_EVENT`) itself.
//! A subscription the core already failed becomes a change kqueue rejects
//! (an invalid filter), so its error comes back in order like kqueue's
//! own registration errors, and, as for those, nothing is waited for.

use core::ffi::{c_int, c_void};

use abi::*;
use sys::backend::*;

use super::{FileRef, FreeBsd};
use crate::convert::{self, KeventFields};
use crate::errno;
use crate::ffi::kern::{Kevent, KeventCopyops};
use crate::ffi::kpi;

/// The state the kqueue callbacks work on.
struct Poll<'a> {
    backend: *mut FreeBsd,
    subs: &'a mut dyn Subscriptions<FileRef>,
    out: &'a mut dyn Events,
    /// Identifier of the next timer.
    timers: u64,
    /// The CloudABI error a callback failed with.
    error: Option<Errno>,
}

impl Poll<'_> {
    /// The change for the next subscription.
    fn change(&mut self) -> Result<KeventFields, Errno> {
        // SAFETY: the backend outlives the kevent call and is not used
        // by anything else while the callbacks run.
        let b = unsafe { &mut *self.backend };
        let Some(sub) = self.subs.next(b)? else {
            // The cursor yields exactly `len` subscriptions.
            return Ok(convert::failed_change(Userdata::new(0), 0, Errno::INVAL));
        };
        Ok(match sub {
            Sub::Clock { userdata, deadline } => {
                let now = if deadline.absolute { b.clock_time(deadline.clock, 0) } else { Ok(0) };
                match now {
                    Ok(now) => {
                        self.timers += 1;
                        convert::timer_change(self.timers, userdata, convert::timer_ns(&deadline, now))
                    }
                    Err(e) => convert::failed_change(userdata, Eventtype::CLOCK.raw(), e),
                }
            }
            Sub::FdRead { userdata, file } => convert::fd_change(file.fd(), userdata, Eventtype::FD_READ),
            Sub::FdWrite { userdata, file } => convert::fd_change(file.fd(), userdata, Eventtype::FD_WRITE),
            Sub::ProcTerminate { userdata, file } => {
                convert::fd_change(file.fd(), userdata, Eventtype::PROC_TERMINATE)
            }
            Sub::Failed { userdata, ty, error } => convert::failed_change(userdata, ty, error),
        })
    }

    fn fail(&mut self, e: Errno) -> c_int {
        self.error = Some(e);
        errno::to_native(e)
    }
}

fn to_kevent(f: &KeventFields) -> Kevent {
    Kevent {
        ident: f.ident as usize,
        filter: f.filter,
        flags: f.flags,
        fflags: f.fflags,
        data: f.data,
        udata: f.udata as usize as *mut c_void,
        ext: f.ext,
    }
}

fn from_kevent(k: &Kevent) -> KeventFields {
    KeventFields {
        ident: k.ident as u64,
        filter: k.filter,
        flags: k.flags,
        fflags: k.fflags,
        data: k.data,
        udata: k.udata as usize as u64,
        ext: k.ext,
    }
}

/// `k_copyin`: fills `count` changes from the next subscriptions.
///
/// # Safety
/// Called by kqueue with our `Poll` and room for `count` kevents.
unsafe extern "C" fn copyin(arg: *mut c_void, kevp: *mut Kevent, count: c_int) -> c_int {
    // SAFETY: `arg` is the Poll of the running poll_events call.
    let p = unsafe { &mut *arg.cast::<Poll<'_>>() };
    for i in 0..usize::try_from(count).unwrap_or(0) {
        match p.change() {
            // SAFETY: `i < count`: inside kqueue's change array.
            Ok(f) => unsafe { kevp.add(i).write(to_kevent(&f)) },
            Err(e) => return p.fail(e),
        }
    }
    0
}

/// `k_copyout`: stores `count` events (registration errors, then
/// triggered subscriptions).
///
/// # Safety
/// Called by kqueue with our `Poll` and `count` kevents.
unsafe extern "C" fn copyout(arg: *mut c_void, kevp: *mut Kevent, count: c_int) -> c_int {
    // SAFETY: `arg` is the Poll of the running poll_events call.
    let p = unsafe { &mut *arg.cast::<Poll<'_>>() };
    for i in 0..usize::try_from(count).unwrap_or(0) {
        // SAFETY: `i < count`: inside kqueue's event array.
        let k = from_kevent(unsafe { &*kevp.add(i) });
        if p.out.room() == 0 {
            break;
        }
        // SAFETY: as in `change`.
        let b = unsafe { &mut *p.backend };
        if let Err(e) = p.out.push(b, convert::ready(&k)) {
            return p.fail(e);
        }
    }
    0
}

impl PollOps for FreeBsd {
    fn poll_events(
        &mut self,
        subs: &mut dyn Subscriptions<FileRef>,
        out: &mut dyn Events,
    ) -> Result<(), Errno> {
        let n = c_int::try_from(subs.len()).map_err(|_| Errno::INVAL)?;
        if n == 0 {
            return Ok(());
        }
        let td = self.td;
        let mut p = Poll { backend: self, subs, out, timers: 0, error: None };
        let mut ops = KeventCopyops {
            arg: (&mut p as *mut Poll<'_>).cast(),
            k_copyout: Some(copyout),
            k_copyin: Some(copyin),
            kevent_size: size_of::<Kevent>(),
        };
        // SAFETY: registers `n` changes on a temporary kqueue and waits
        // (no timeout) until at least one event, through our callbacks,
        // which only run during this call.
        let e = unsafe { kpi::kern_kevent_anonymous(td, n, &mut ops) };
        let error = p.error;
        if let Some(err) = error {
            return Err(err);
        }
        self.check(e)
    }
}
