//! The kernel side of CloudABI's userspace locks and condition variables,
//! written once over a backend's futex primitive ([`FutexOps`]).
//!
//! The lock word (u32): bit 31 `KERNEL_MANAGED` ("threads may be waiting:
//! unlock through the kernel"), bit 30 `WRLOCKED`, bits 0..29 the owner's
//! thread id when write-locked, else the number of read locks. The C
//! library takes and releases uncontended locks with atomic operations on
//! the word alone and only calls the kernel when it sees contention:
//! `poll` with a lock subscription to wait, `lock_unlock` when
//! `KERNEL_MANAGED` is set.
//!
//! The historical kernels kept a queue per lock and handed ownership
//! directly to the next waiter. Here the waiters sleep on the word itself
//! (a futex), which works the same for process-private and process-shared
//! locks and needs no kernel memory: a thread that must wait sets
//! `KERNEL_MANAGED` and sleeps while the word is unchanged; an unlock
//! stores "unlocked but managed", wakes one waiter, and clears the bit
//! again when nobody was waiting. Woken threads compete for the lock like
//! new ones, and a thread that acquires after sleeping keeps
//! `KERNEL_MANAGED` set, because others may still sleep. The observable
//! rules match FreeBSD's (docs/semantics.md): `EDEADLK` for a write lock
//! the caller already holds, `EPERM` for an unlock of a managed lock by a
//! thread that does not own it, no ownership check for an unmanaged one.
//!
//! Condition variables: the word is 0 when nobody waits; a waiter stores
//! `!0`, releases the lock, and sleeps while the word is `!0`. A signal
//! stores 0, wakes up to n sleepers, and stores `!0` again when it woke n
//! (more may sleep). A waiter that has not fallen asleep yet when a signal
//! comes sees the 0 and returns, so no wakeup is lost; spurious wakeups
//! are allowed, as POSIX allows them. On wakeup or timeout the waiter takes
//! the lock again before it returns.

use abi::*;

use crate::backend::{Deadline, FutexOps, Wait, WaitUntil};

const WRLOCKED: u32 = Lock::WRLOCKED.raw();
const MANAGED: u32 = Lock::KERNEL_MANAGED.raw();
/// Owner id or reader count.
const VALUE: u32 = !(WRLOCKED | MANAGED);
const CONDVAR_WAITING: u32 = !0;

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

/// Turns a subscription's timeout into an absolute deadline on a clock a
/// futex wait understands, once, so that waiting again after a spurious
/// wakeup does not restart it. `None`: no deadline.
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

/// Acquires `lock` for writing on behalf of the calling thread.
pub fn wrlock<B: FutexOps + ?Sized>(
    b: &mut B,
    lock: UserPtr<Lock>,
    scope: Scope,
    until: Option<WaitUntil>,
) -> Result<Outcome, Errno> {
    let addr = word(lock)?;
    let me = b.current_tid().raw() & VALUE;
    let mut slept = false;
    let mut v = load(b, addr)?;
    loop {
        if v & !MANAGED == 0 {
            // Free. Keep KERNEL_MANAGED if it was set or if we waited:
            // others may still be asleep and must be woken by our unlock.
            let new = me | WRLOCKED | if slept { MANAGED } else { v & MANAGED };
            match b.futex_cas(addr, v, new)? {
                seen if seen == v => return Ok(Outcome::Acquired),
                seen => v = seen,
            }
            continue;
        }
        if v & !MANAGED == me | WRLOCKED {
            return Err(Errno::DEADLK);
        }
        match sleep_on(b, addr, scope, v, until)? {
            Some(seen) => v = seen,
            None => return Ok(Outcome::TimedOut),
        }
        slept = true;
    }
}

/// Acquires `lock` for reading on behalf of the calling thread. New readers
/// wait while a writer waits (`KERNEL_MANAGED`), so writers are not
/// starved; a reader that has already waited goes ahead.
pub fn rdlock<B: FutexOps + ?Sized>(
    b: &mut B,
    lock: UserPtr<Lock>,
    scope: Scope,
    until: Option<WaitUntil>,
) -> Result<Outcome, Errno> {
    let addr = word(lock)?;
    let mut slept = false;
    let mut v = load(b, addr)?;
    loop {
        let blocked = v & WRLOCKED != 0 || (v & MANAGED != 0 && !slept);
        if !blocked {
            if v & VALUE == VALUE {
                // As many read locks as the word can count.
                return Err(Errno::AGAIN);
            }
            match b.futex_cas(addr, v, v + 1)? {
                seen if seen == v => {
                    if slept {
                        // Let the next sleeper (possibly another reader)
                        // try as well.
                        b.futex_wake(addr, scope, 1)?;
                    }
                    return Ok(Outcome::Acquired);
                }
                seen => v = seen,
            }
            continue;
        }
        match sleep_on(b, addr, scope, v, until)? {
            Some(seen) => v = seen,
            None => return Ok(Outcome::TimedOut),
        }
        slept = true;
    }
}

/// Marks the lock word `v` managed and sleeps while it stays that way.
/// Returns the word seen afterwards, or `None` when the deadline passed.
fn sleep_on<B: FutexOps + ?Sized>(
    b: &mut B,
    addr: u64,
    scope: Scope,
    v: u32,
    until: Option<WaitUntil>,
) -> Result<Option<u32>, Errno> {
    if v & MANAGED == 0 {
        let seen = b.futex_cas(addr, v, v | MANAGED)?;
        if seen != v {
            return Ok(Some(seen));
        }
    }
    match b.futex_wait(addr, scope, v | MANAGED, until)? {
        Wait::Woken => Ok(Some(load(b, addr)?)),
        Wait::TimedOut => Ok(None),
    }
}

/// `lock_unlock`: releases a lock the calling thread holds for writing
/// (readers convert their last read lock into a write lock first, as the C
/// library does), waking a waiter if there may be one.
pub fn unlock<B: FutexOps + ?Sized>(b: &mut B, lock: UserPtr<Lock>, scope: Scope) -> Result<(), Errno> {
    let addr = word(lock)?;
    let me = b.current_tid().raw() & VALUE;
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
        match b.futex_cas(addr, v, MANAGED)? {
            seen if seen == v => break,
            seen => v = seen,
        }
    }
    if b.futex_wake(addr, scope, 1)? == 0 {
        // Nobody was asleep: drop the managed bit unless someone has taken
        // the lock or started to wait in the meantime (then the CAS fails
        // and the bit stays, which only costs a later unlock a syscall).
        b.futex_cas(addr, MANAGED, 0)?;
    }
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
    let caddr = word(condvar)?;
    word(lock)?;
    // Announce the waiter before the lock is released, so that a signal
    // sent by the next owner of the lock sees it.
    let mut c = load(b, caddr)?;
    while c != CONDVAR_WAITING {
        match b.futex_cas(caddr, c, CONDVAR_WAITING)? {
            seen if seen == c => break,
            seen => c = seen,
        }
    }
    unlock(b, lock, lock_scope)?;
    let timed_out = b.futex_wait(caddr, condvar_scope, CONDVAR_WAITING, until)? == Wait::TimedOut;
    // Take the lock again, whatever happened; no deadline for that.
    match wrlock(b, lock, lock_scope, None)? {
        Outcome::Acquired if timed_out => Ok(Outcome::TimedOut),
        other => Ok(other),
    }
}

/// `condvar_signal`: wakes up to `n` waiters.
///
/// The word is cleared before the wakeup and set again when there may be
/// more sleepers than were woken. Clearing it afterwards instead could
/// hide a thread that started to sleep in between, and the C library only
/// signals when the word is non-zero.
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
    let c = load(b, addr)?;
    if c != 0 {
        // A waiter that announced itself but is not asleep yet sees 0 and
        // returns: it counts as woken by this signal.
        b.futex_cas(addr, c, 0)?;
    }
    if b.futex_wake(addr, scope, n)? == n {
        // Others may still sleep.
        b.futex_cas(addr, 0, CONDVAR_WAITING)?;
    }
    Ok(())
}
