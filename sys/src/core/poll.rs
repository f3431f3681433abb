//! `poll`: waiting for events.
//!
//! Two shapes, as in CloudABI's kernel implementations:
//! - a lock or condition-variable subscription first, alone or followed by
//!   exactly one clock subscription (its timeout): the thread blocks in
//!   [`crate::sync`] and exactly one event comes back;
//! - anything else: clocks, descriptor readiness and process termination,
//!   waited for by [`PollOps::poll_events`]. Subscriptions are read and
//!   validated one at a time as the backend consumes them; one that cannot
//!   be waited on (bad descriptor, missing right, invalid values, a lock
//!   anywhere else than first) becomes an event carrying its error.

use abi::*;

use crate::backend::*;
use crate::user::{UserMemory, UserReader, UserSlice, UserWriter};
use crate::{rights, sync};

pub(super) fn poll<B: Backend + ?Sized>(b: &mut B, a: args::Poll) -> Result<u64, Errno> {
    let n = a.nsubscriptions;
    let mut input = UserSlice::of(a.r#in, n)?.reader();
    let output = UserSlice::of(a.out, n)?.writer();
    if n == 0 {
        return Ok(0);
    }
    let first: Subscription = input.read(b)?;
    let blocking =
        matches!(first.r#type(), Some(Eventtype::CONDVAR | Eventtype::LOCK_RDLOCK | Eventtype::LOCK_WRLOCK));
    let mut second = None;
    if blocking && n <= 2 {
        second = if n == 2 { Some(input.read(b)?) } else { None };
        if second.is_none_or(|s: Subscription| s.r#type() == Some(Eventtype::CLOCK)) {
            return block(b, first, second, output);
        }
    }
    // Whatever was already read goes first, then the rest of the array.
    let read = 1 + u64::from(second.is_some());
    let mut subs =
        UserSubscriptions { pending: [Some(first), second], rest: input, left: n - read, total: n };
    let mut events = UserEvents { out: output, stored: 0 };
    b.poll_events(&mut subs, &mut events)?;
    Ok(events.stored)
}

/// The blocking shape: one lock/condvar subscription, maybe a clock.
fn block<B: Backend + ?Sized>(
    b: &mut B,
    first: Subscription,
    clock: Option<Subscription>,
    mut out: UserWriter,
) -> Result<u64, Errno> {
    let ty = first.r#type;
    let deadline = match clock.map(|c| (c.userdata, deadline(&c.clock()))) {
        Some((userdata, None)) => {
            let ev = Ready::Error { userdata, ty: Eventtype::CLOCK.raw(), error: Errno::INVAL };
            return push(b, &mut out, ev);
        }
        Some((_, Some(d))) => Some(d),
        None => None,
    };
    let outcome = match blocking_request(&first) {
        None => Err(Errno::INVAL),
        Some(what) => sync::until(b, deadline).and_then(|until| wait(b, what, until)),
    };
    let ev = match outcome {
        Ok(sync::Outcome::Acquired) => Ready::Error { userdata: first.userdata, ty, error: Errno::SUCCESS },
        Ok(sync::Outcome::TimedOut) => match clock {
            Some(c) => Ready::Clock { userdata: c.userdata },
            // Without a clock there is no deadline to pass.
            None => Ready::Error { userdata: first.userdata, ty, error: Errno::TIMEDOUT },
        },
        Err(error) => Ready::Error { userdata: first.userdata, ty, error },
    };
    push(b, &mut out, ev)
}

/// What a blocking `poll` waits for.
enum Block {
    /// Acquire `lock` for reading or writing.
    Lock { lock: UserPtr<Lock>, scope: Scope, write: bool },
    /// Release `lock`, wait on `condvar`, then reacquire `lock` for writing.
    Condvar { condvar: UserPtr<Condvar>, condvar_scope: Scope, lock: UserPtr<Lock>, lock_scope: Scope },
}

fn wait<B: Backend + ?Sized>(
    b: &mut B,
    what: Block,
    until: Option<WaitUntil>,
) -> Result<sync::Outcome, Errno> {
    match what {
        Block::Lock { lock, scope, write: true } => sync::wrlock(b, lock, scope, until),
        Block::Lock { lock, scope, write: false } => sync::rdlock(b, lock, scope, until),
        Block::Condvar { condvar, condvar_scope, lock, lock_scope } => {
            sync::condvar_wait(b, condvar, condvar_scope, lock, lock_scope, until)
        }
    }
}

fn push<B: Backend + ?Sized>(b: &mut B, out: &mut UserWriter, ev: Ready) -> Result<u64, Errno> {
    out.write(b, &encode(ev))?;
    Ok(1)
}

/// The wait a lock or condvar subscription asks for; `None` if a scope is
/// invalid.
fn blocking_request(s: &Subscription) -> Option<Block> {
    match s.r#type()? {
        Eventtype::CONDVAR => {
            let c = s.condvar();
            Some(Block::Condvar {
                condvar: c.condvar,
                condvar_scope: c.condvar_scope()?,
                lock: c.lock,
                lock_scope: c.lock_scope()?,
            })
        }
        t @ (Eventtype::LOCK_RDLOCK | Eventtype::LOCK_WRLOCK) => {
            let l = s.lock();
            Some(Block::Lock { lock: l.lock, scope: l.lock_scope()?, write: t == Eventtype::LOCK_WRLOCK })
        }
        _ => None,
    }
}

/// A clock subscription's deadline; `None` if its clock or flags are
/// invalid.
fn deadline(c: &SubscriptionClock) -> Option<Deadline> {
    Some(Deadline {
        clock: c.clock_id()?,
        timeout: c.timeout.raw(),
        precision: c.precision.raw(),
        absolute: c.flags()?.contains(Subclockflags::ABSTIME),
    })
}

/// The subscriptions of an event `poll`, read from user memory one at a
/// time (the first one or two were already read to pick the shape).
struct UserSubscriptions {
    /// Subscriptions already read to pick the shape, in order.
    pending: [Option<Subscription>; 2],
    rest: UserReader,
    /// How many are still to be read from `rest`.
    left: u64,
    total: u64,
}

impl<F> Subscriptions<F> for UserSubscriptions {
    fn len(&self) -> u64 {
        self.total
    }

    fn next(&mut self, files: &mut dyn FdLookup<F>) -> Result<Option<Sub<F>>, Errno> {
        let pending = self.pending.iter_mut().find_map(Option::take);
        let raw = match pending {
            Some(s) => s,
            None if self.left == 0 => return Ok(None),
            None => {
                self.left -= 1;
                self.rest.read::<Subscription, _>(files)?
            }
        };
        Ok(Some(decode(&raw, files)))
    }
}

/// Validates one subscription of an event `poll`.
fn decode<F>(s: &Subscription, files: &mut dyn FdLookup<F>) -> Sub<F> {
    let userdata = s.userdata;
    let failed = |error| Sub::Failed { userdata, ty: s.r#type, error };
    match s.r#type() {
        Some(Eventtype::CLOCK) => match deadline(&s.clock()) {
            Some(deadline) => Sub::Clock { userdata, deadline },
            None => failed(Errno::INVAL),
        },
        Some(t @ (Eventtype::FD_READ | Eventtype::FD_WRITE)) => {
            let rw = s.fd_readwrite();
            if rw.flags().is_none() {
                return failed(Errno::INVAL);
            }
            let need = Rights::POLL_FD_READWRITE
                | if t == Eventtype::FD_READ { Rights::FD_READ } else { Rights::FD_WRITE };
            match watch(files, rw.fd, need) {
                Ok(file) if t == Eventtype::FD_READ => Sub::FdRead { userdata, file },
                Ok(file) => Sub::FdWrite { userdata, file },
                Err(e) => failed(e),
            }
        }
        Some(Eventtype::PROC_TERMINATE) => {
            match watch(files, s.proc_terminate().fd, Rights::POLL_PROC_TERMINATE) {
                Ok(file) => Sub::ProcTerminate { userdata, file },
                Err(e) => failed(e),
            }
        }
        // Locks and condition variables only in the blocking shape; unknown
        // types never.
        _ => failed(Errno::INVAL),
    }
}

fn watch<F>(files: &mut dyn FdLookup<F>, fd: Fd, need: Rights) -> Result<F, Errno> {
    let (file, info) = files.lookup_fd(fd)?;
    rights::require(&info, need)?;
    Ok(file)
}

/// The caller's event array.
struct UserEvents {
    out: UserWriter,
    stored: u64,
}

impl Events for UserEvents {
    fn room(&self) -> u64 {
        self.out.len() / core::mem::size_of::<Event>() as u64
    }

    fn push(&mut self, mem: &mut dyn UserMemory, ev: Ready) -> Result<(), Errno> {
        self.out.write(mem, &encode(ev))?;
        self.stored += 1;
        Ok(())
    }
}

/// The ABI form of an event.
fn encode(r: Ready) -> Event {
    let mut ev = Event::ZERO;
    let rw = |nbytes: u64, hangup: bool| {
        let mut c = EventFdReadwrite::ZERO;
        c.nbytes = Filesize::new(nbytes);
        c.set_flags(if hangup { Eventrwflags::HANGUP } else { Eventrwflags::EMPTY });
        c
    };
    match r {
        Ready::Clock { userdata } => {
            ev.userdata = userdata;
            ev.set_type(Eventtype::CLOCK);
        }
        Ready::FdRead { userdata, nbytes, hangup } => {
            ev.userdata = userdata;
            ev.set_type(Eventtype::FD_READ);
            ev.set_fd_readwrite(rw(nbytes, hangup));
        }
        Ready::FdWrite { userdata, nbytes, hangup } => {
            ev.userdata = userdata;
            ev.set_type(Eventtype::FD_WRITE);
            ev.set_fd_readwrite(rw(nbytes, hangup));
        }
        Ready::ProcTerminate { userdata, signal, exitcode } => {
            ev.userdata = userdata;
            ev.set_type(Eventtype::PROC_TERMINATE);
            let mut c = EventProcTerminate::ZERO;
            c.signal = signal.map_or(0, Signal::raw);
            c.exitcode = Exitcode::new(exitcode);
            ev.set_proc_terminate(c);
        }
        Ready::Error { userdata, ty, error } => {
            ev.userdata = userdata;
            ev.r#type = ty;
            ev.set_error(error);
        }
    }
    ev
}
