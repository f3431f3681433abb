//! The kernel side of CloudABI's userspace locks and condition variables,
//! written once over a backend's wait queues ([`FutexOps`]).
//!
//! The lock word (u32): bit 31 `KERNEL_MANAGED` ("threads are waiting:
//! unlock through the kernel"), bit 30 `WRLOCKED`, bits 0..29 the owner's
//! thread id when write-locked, else the number of read locks. The C
//! library takes and releases uncontended locks with atomic operations on
//! the word alone and only calls the kernel when it sees contention:
//! `poll` with a lock subscription to wait, `lock_unlock` when
//! `KERNEL_MANAGED` is set.
//!
//! The condition variable word is 0 (`CONDVAR_HAS_NO_WAITERS`) exactly
//! when no thread is blocked on it; cloudlibc's `pthread_cond_destroy`
//! asserts it, and `pthread_cond_signal` only calls the kernel when it is
//! not 0.
//!
//! Both words are kept exact with one wait queue per word (address and
//! scope), as FreeBSD's in-tree `cloudabi_futex.c` kept `fc_waiters`,
//! `fl_readers` and `fl_writers`: every change of a word that depends on
//! who waits happens under the word's queue lock, and the invariants,
//! whenever no queue lock is held, are
//!
//! - condvar word ≠ 0 ⇔ its queue is not empty;
//! - lock word has `KERNEL_MANAGED` ⇔ its queue is not empty (the C
//!   library never sets the bit itself);
//!
//! with one transient exception: a thread woken from a lock queue as its
//! last waiter sees the lock unlocked and unmanaged, and competes for it
//! like a newcomer. Waking is FIFO per queue, but a woken lock waiter is
//! not handed the lock (see docs/semantics.md): it competes with
//! newcomers, and queues again if it loses. The observable rules match
//! FreeBSD's: `EDEADLK` for a write lock the caller already holds,
//! `EPERM` for an unlock of a managed lock by a thread that does not own
//! it, no ownership check for an unmanaged one.
//!
//! A condition variable waiter is queued before it releases the lock, so
//! a signal sent by the next owner of the lock finds it; a signal dequeues
//! up to n waiters (those that were waiting at the time: no wakeup can be
//! stolen by a later waiter) and clears the word when the queue is empty.
//! A waiter that times out or is interrupted removes itself and clears the
//! word if it was the last. Either way it takes the lock again before it
//! returns.

use abi::*;

use crate::backend::{Deadline, FutexOps, Sleeper, Wait, WaitUntil};

const WRLOCKED: u32 = Lock::WRLOCKED.raw();
const MANAGED: u32 = Lock::KERNEL_MANAGED.raw();
/// Owner id or reader count.
const VALUE: u32 = !(WRLOCKED | MANAGED);
/// What a condition variable word holds while threads wait (FreeBSD
/// stores `~CLOUDABI_CONDVAR_HAS_NO_WAITERS`).
const CONDVAR_HAS_WAITERS: u32 = !0;

/// How a blocking wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Acquired,
    /// The deadline passed (for a condition variable: with the lock held
    /// again).
    TimedOut,
}

/// The address of a lock or condition variable word: 4-byte aligned.
fn word<T>(p: UserPtr<T>) -> Result<u64, Errno> {
    let a = p.addr();
    if !a.is_multiple_of(4) { Err(Errno::INVAL) } else { Ok(a) }
}

fn load<B: FutexOps + ?Sized>(b: &mut B, addr: u64) -> Result<u32, Errno> {
    // A compare-and-swap of 0 with 0 reads the word atomically.
    b.futex_cas(addr, 0, 0)
}

/// Stores `f(word)` into the word atomically; returns the new value.
fn update<B: FutexOps + ?Sized>(b: &mut B, addr: u64, f: impl Fn(u32) -> u32) -> Result<u32, Errno> {
    let mut v = load(b, addr)?;
    loop {
        let new = f(v);
        if new == v {
            return Ok(v);
        }
        match b.futex_cas(addr, v, new)? {
            seen if seen == v => return Ok(new),
            seen => v = seen,
        }
    }
}

/// Queue lock held: clears `KERNEL_MANAGED` if nobody waits for the lock
/// (FreeBSD's `futex_lock_unmanage`).
fn lock_unmanage<B: FutexOps + ?Sized>(b: &mut B, addr: u64, scope: Scope) -> Result<(), Errno> {
    if b.queue_count(addr, scope) == 0 {
        update(b, addr, |v| v & !MANAGED)?;
    }
    Ok(())
}

/// Queue lock held: clears the condition variable word if nobody waits
/// (FreeBSD's `futex_condvar_unmanage`).
fn condvar_unmanage<B: FutexOps + ?Sized>(b: &mut B, addr: u64, scope: Scope) -> Result<(), Errno> {
    if b.queue_count(addr, scope) == 0 {
        update(b, addr, |_| 0)?;
    }
    Ok(())
}

/// Turns a subscription's timeout into an absolute deadline on a clock a
/// wait understands, once, so that waiting again after a lost race does
/// not restart it. `None`: no deadline.
pub fn until<B: crate::backend::ClockOps + ?Sized>(
    b: &mut B,
    d: Option<Deadline>,
) -> Result<Option<WaitUntil>, Errno> {
    let Some(d) = d else { return Ok(None) };
    if d.timeout == u64::MAX && !d.absolute {
        return Ok(None);
    }
    if d.absolute && (d.clock == Clockid::MONOTONIC || d.clock == Clockid::REALTIME) {
        return Ok(Some(WaitUntil { clock: d.clock, at: d.timeout }));
    }
    let now = b.clock_time(Clockid::MONOTONIC, 0)?;
    let left = if d.absolute { d.timeout.saturating_sub(b.clock_time(d.clock, 0)?) } else { d.timeout };
    Ok(Some(WaitUntil { clock: Clockid::MONOTONIC, at: now.saturating_add(left) }))
}

/// One attempt to take a lock, queue lock held.
enum Try {
    Done(Outcome),
    /// Busy, and `KERNEL_MANAGED` is set: wait.
    Wait,
}

/// Takes a lock, waiting in its queue while `attempt` says it is busy.
/// `attempt(b, word, slept)` runs with the queue lock held.
fn acquire<B: FutexOps + ?Sized>(
    b: &mut B,
    addr: u64,
    scope: Scope,
    until: Option<WaitUntil>,
    attempt: impl Fn(&mut B, bool) -> Result<Try, Errno>,
) -> Result<Outcome, Errno> {
    let mut slept = false;
    b.queue_lock(addr, scope)?;
    loop {
        let step = attempt(b, slept).and_then(|t| match t {
            Try::Wait => b.queue_insert(addr, scope).map(|()| None),
            Try::Done(o) => Ok(Some(o)),
        });
        match step {
            Ok(None) => {}
            Ok(Some(o)) => {
                b.queue_unlock(addr, scope);
                return Ok(o);
            }
            Err(e) => {
                let _ = lock_unmanage(b, addr, scope);
                b.queue_unlock(addr, scope);
                return Err(e);
            }
        }
        b.queue_unlock(addr, scope);
        let r = b.queue_sleep(addr, scope, until, Sleeper::Lock);
        if let Err(e) = b.queue_lock(addr, scope) {
            b.queue_remove(addr, scope);
            return Err(e);
        }
        slept = true;
        if b.queue_remove(addr, scope) {
            // Not woken: the deadline passed, or an interruption.
            let _ = lock_unmanage(b, addr, scope);
            b.queue_unlock(addr, scope);
            return match r {
                Ok(Wait::TimedOut) => Ok(Outcome::TimedOut),
                Err(e) => Err(e),
                // Woken without being dequeued cannot happen; be safe.
                Ok(Wait::Woken) => Err(Errno::INTR),
            };
        }
        // Woken: try again, competing with newcomers.
    }
}

/// Marks a busy lock word managed (queue lock held).
fn mark_managed<B: FutexOps + ?Sized>(b: &mut B, addr: u64, v: u32) -> Result<Option<u32>, Errno> {
    if v & MANAGED != 0 {
        return Ok(None);
    }
    match b.futex_cas(addr, v, v | MANAGED)? {
        seen if seen == v => Ok(None),
        seen => Ok(Some(seen)),
    }
}

/// Acquires `lock` for writing on behalf of the calling thread.
pub fn wrlock<B: FutexOps + ?Sized>(
    b: &mut B,
    lock: UserPtr<Lock>,
    scope: Scope,
    until: Option<WaitUntil>,
) -> Result<Outcome, Errno> {
    let addr = word(lock)?;
    let me = b.current_tid().raw() & VALUE;
    acquire(b, addr, scope, until, |b, _| {
        let mut v = load(b, addr)?;
        loop {
            if v & !MANAGED == 0 {
                // Free. Managed afterwards exactly if others wait.
                let managed = if b.queue_count(addr, scope) > 0 { MANAGED } else { 0 };
                match b.futex_cas(addr, v, me | WRLOCKED | managed)? {
                    seen if seen == v => return Ok(Try::Done(Outcome::Acquired)),
                    seen => v = seen,
                }
                continue;
            }
            if v & !MANAGED == me | WRLOCKED {
                return Err(Errno::DEADLK);
            }
            match mark_managed(b, addr, v)? {
                None => return Ok(Try::Wait),
                Some(seen) => v = seen,
            }
        }
    })
}

/// Acquires `lock` for reading on behalf of the calling thread. New readers
/// wait while others wait (`KERNEL_MANAGED`), so writers are not starved;
/// a reader that has already waited goes ahead and lets the next waiter
/// try as well.
pub fn rdlock<B: FutexOps + ?Sized>(
    b: &mut B,
    lock: UserPtr<Lock>,
    scope: Scope,
    until: Option<WaitUntil>,
) -> Result<Outcome, Errno> {
    let addr = word(lock)?;
    acquire(b, addr, scope, until, |b, slept| {
        let mut v = load(b, addr)?;
        loop {
            let blocked = v & WRLOCKED != 0 || (v & MANAGED != 0 && !slept);
            if !blocked {
                if v & VALUE == VALUE {
                    // As many read locks as the word can count.
                    return Err(Errno::AGAIN);
                }
                // A reader that slept lets the next waiter try as well;
                // the word is managed if any remain queued after that.
                let waiting = b.queue_count(addr, scope);
                let pass_on = slept && waiting > 0;
                let managed = if waiting > u32::from(pass_on) { MANAGED } else { 0 };
                match b.futex_cas(addr, v, ((v & !MANAGED) + 1) | managed)? {
                    seen if seen == v => {
                        if pass_on {
                            b.queue_wake(addr, scope, 1);
                        }
                        return Ok(Try::Done(Outcome::Acquired));
                    }
                    seen => v = seen,
                }
                continue;
            }
            match mark_managed(b, addr, v)? {
                None => return Ok(Try::Wait),
                Some(seen) => v = seen,
            }
        }
    })
}

/// `lock_unlock`: releases a lock the calling thread holds for writing
/// (readers convert their last read lock into a write lock first, as the C
/// library does), waking the first waiter if there is one. The word stays
/// managed only if more threads wait than the one woken.
pub fn unlock<B: FutexOps + ?Sized>(b: &mut B, lock: UserPtr<Lock>, scope: Scope) -> Result<(), Errno> {
    let addr = word(lock)?;
    let me = b.current_tid().raw() & VALUE;
    b.queue_lock(addr, scope)?;
    let r = unlock_locked(b, addr, scope, me);
    b.queue_unlock(addr, scope);
    r
}

fn unlock_locked<B: FutexOps + ?Sized>(b: &mut B, addr: u64, scope: Scope, me: u32) -> Result<(), Errno> {
    let mut v = load(b, addr)?;
    loop {
        if v & MANAGED == 0 {
            // Nobody waits: FreeBSD simply stores "unlocked", without an
            // ownership check.
            match b.futex_cas(addr, v, 0)? {
                seen if seen == v => return Ok(()),
                seen => v = seen,
            }
            continue;
        }
        if v & !MANAGED != me | WRLOCKED {
            return Err(Errno::PERM);
        }
        let waiting = b.queue_count(addr, scope);
        let new = if waiting > 1 { MANAGED } else { 0 };
        match b.futex_cas(addr, v, new)? {
            seen if seen == v => break,
            seen => v = seen,
        }
    }
    b.queue_wake(addr, scope, 1);
    Ok(())
}

/// Waits on `condvar`, releasing `lock` (write-locked by the caller) while
/// waiting and holding it again on return, also after a timeout.
pub fn condvar_wait<B: FutexOps + ?Sized>(
    b: &mut B,
    condvar: UserPtr<Condvar>,
    condvar_scope: Scope,
    lock: UserPtr<Lock>,
    lock_scope: Scope,
    until: Option<WaitUntil>,
) -> Result<Outcome, Errno> {
    let (caddr, cscope) = (word(condvar)?, condvar_scope);
    word(lock)?;
    // Queue up and mark the word before the lock is released, so that a
    // signal sent by the next owner of the lock finds this waiter.
    b.queue_lock(caddr, cscope)?;
    let queued = b.queue_insert(caddr, cscope).and_then(|()| update(b, caddr, |_| CONDVAR_HAS_WAITERS));
    if let Err(e) = queued {
        // Nothing was given up yet: leave as we came.
        b.queue_remove(caddr, cscope);
        let _ = condvar_unmanage(b, caddr, cscope);
        b.queue_unlock(caddr, cscope);
        return Err(e);
    }
    b.queue_unlock(caddr, cscope);
    let unlocked = unlock(b, lock, lock_scope);
    let r = match unlocked {
        Ok(()) => b.queue_sleep(caddr, cscope, until, Sleeper::Condvar),
        Err(_) => Ok(Wait::Woken),
    };
    // Leave the queue (unless a signal already took us out of it).
    let removed = match b.queue_lock(caddr, cscope) {
        Ok(()) => {
            let removed = b.queue_remove(caddr, cscope);
            if removed {
                let _ = condvar_unmanage(b, caddr, cscope);
            }
            b.queue_unlock(caddr, cscope);
            removed
        }
        Err(_) => b.queue_remove(caddr, cscope),
    };
    // The lock could not be released (not the caller's): report it, as
    // FreeBSD does, without taking it.
    unlocked?;
    // Timed out only if no signal dequeued us first; an interrupted
    // sleep is a spurious wakeup (allowed by POSIX).
    let timed_out = removed && r == Ok(Wait::TimedOut);
    // Take the lock again, whatever happened; no deadline for that.
    match wrlock(b, lock, lock_scope, None)? {
        Outcome::Acquired if timed_out => Ok(Outcome::TimedOut),
        other => Ok(other),
    }
}

/// `condvar_signal`: wakes up to `n` of the threads waiting on `condvar`
/// (the longest waiting first), and clears the word once nobody waits.
pub fn condvar_signal<B: FutexOps + ?Sized>(
    b: &mut B,
    condvar: UserPtr<Condvar>,
    scope: Scope,
    n: u32,
) -> Result<(), Errno> {
    if n == 0 {
        return Ok(());
    }
    let addr = word(condvar)?;
    b.queue_lock(addr, scope)?;
    b.queue_wake(addr, scope, n);
    let r = condvar_unmanage(b, addr, scope);
    b.queue_unlock(addr, scope);
    r
}
