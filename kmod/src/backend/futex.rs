//! The wait queues under CloudABI's locks and condition variables
//! (`sys::sync` holds the protocol and its accounting): FreeBSD's own umtx
//! queues, used the way `do_cv_wait` in `sys/kern/kern_umtx.c` uses them.
//! A queue is keyed by the word (`umtx_key_get`): process-private words by
//! a `THREAD_SHARE` key (address space + address), process-shared ones by
//! an `AUTO_SHARE` key (the VM object + offset for shared mappings), so
//! waits and wakeups meet across processes mapping the same memory, as
//! FreeBSD's in-tree `cloudabi_futex.c` (`futex_address_create`) keyed
//! them. The queue lock is the key's busy flag (`umtxq_busy`), under which
//! user memory may be accessed; a waiter is the thread's own `td_umtxq`
//! entry, inserted and removed under the chain lock, and `umtxq_sleep`
//! returns once a wakeup (`umtxq_signal_mask`) has dequeued it. The count
//! is the queue's length (`umtxq_count`).
//!
//! Signals. A sleep interrupted by a signal must return to the user
//! boundary so that the signal can act (kill, stop, single-threading for
//! exit or exec); looping here would hang the process. `sys::sync` leaves
//! the queue (and so clears the word if this was the last waiter), then:
//! - a lock wait (nothing given up yet) records `ERESTART`: the syscall is
//!   restarted from scratch once the signal has been handled;
//! - the sleep on a condition variable itself is a spurious wakeup
//!   (allowed by POSIX): the core then takes the lock again;
//! - a lock wait after that (the lock was released, so the call cannot be
//!   restarted) fails with `EINTR` in the event. In practice only a
//!   terminating or stopping signal, or another thread's exit/exec,
//!   interrupts a CloudABI process (there are no handlers), and all of
//!   them stop the thread at the boundary before it sees the error.

use core::ffi::{c_int, c_void};

use abi::*;
use sys::backend::*;

use super::FreeBsd;
use crate::consts::*;
use crate::convert;
use crate::ffi::access;
use crate::ffi::kern::{Timespec, UmtxAbsTimeout, UmtxKey};
use crate::ffi::kpi;

/// File name `mtx_lock` records for lock debugging.
const LOCK_FILE: &core::ffi::CStr = c"cloudabi64/futex";

fn share(scope: Scope) -> c_int {
    if scope == Scope::SHARED { AUTO_SHARE } else { THREAD_SHARE }
}

/// `umtxq_lock(key)` / `umtxq_unlock(key)`: the hash chain's mutex.
///
/// # Safety
/// `key` was filled by `umtx_key_get`.
unsafe fn chain_lock(key: *mut UmtxKey, lock: bool) {
    // SAFETY: caller contract; the chain is a static kernel object.
    unsafe {
        let cookie = access::umtxq_chain_lock_cookie(kpi::umtxq_getchain(key));
        if lock {
            kpi::__mtx_lock_flags(cookie, 0, LOCK_FILE.as_ptr(), 0);
        } else {
            kpi::__mtx_unlock_flags(cookie, 0, LOCK_FILE.as_ptr(), 0);
        }
    }
}

impl FutexOps for FreeBsd {
    fn current_tid(&mut self) -> Tid {
        // SAFETY: the current thread. FreeBSD thread ids lie above PID_MAX
        // and far below 2^30 (checked at load for the loading thread).
        Tid::new(unsafe { access::td_tid(self.td) } as u32)
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        loop {
            let mut seen: u32 = 0;
            // SAFETY: casueword32 accesses user memory and returns -1 on a
            // fault, 0 when it ran the compare-and-swap, 1 when it did not
            // swap; the word's value goes to `seen` either way. A 1 with
            // `seen == old` is a spurious LL/SC failure (arm64): retry.
            match unsafe { kpi::casueword32(addr as *mut u32, old, &mut seen, new) } {
                -1 => return Err(Errno::FAULT),
                0 => return Ok(seen),
                _ if seen != old => return Ok(seen),
                _ => {}
            }
        }
    }

    fn queue_lock(&mut self, addr: u64, scope: Scope) -> Result<(), Errno> {
        let mut key = UmtxKey { hash: 0, type_: 0, shared: 0, info: [0; 2] };
        // SAFETY: umtx_key_get fills `key` for the user address (EFAULT if
        // a shared one is not mapped), taking a reference we release in
        // queue_unlock.
        let e = unsafe { kpi::umtx_key_get(addr as *const c_void, TYPE_SIMPLE_WAIT, share(scope), &mut key) };
        self.check(e)?;
        let key = self.qkey.insert(key);
        // SAFETY: the key is filled; umtxq_busy runs under the chain lock
        // (it may sleep until no other thread has the key busy, dropping
        // the chain lock meanwhile; FreeBSD 14 has no umtxq_busy_unlocked).
        unsafe {
            chain_lock(key, true);
            kpi::umtxq_busy(key);
            chain_lock(key, false);
        }
        Ok(())
    }

    fn queue_unlock(&mut self, _: u64, _: Scope) {
        if let Some(mut key) = self.qkey.take() {
            // SAFETY: we made the key busy in queue_lock and hold its
            // reference.
            unsafe {
                kpi::umtxq_unbusy_unlocked(&mut key);
                kpi::umtx_key_release(&mut key);
            }
        }
    }

    fn queue_insert(&mut self, addr: u64, scope: Scope) -> Result<(), Errno> {
        // SAFETY: the current thread's queue entry, used by this syscall
        // only (one wait at a time).
        let uq = unsafe { access::td_umtxq(self.td) };
        // SAFETY: as above.
        let key = unsafe { access::uq_key(uq) };
        // SAFETY: a key of its own for the entry (a second reference,
        // released in queue_remove).
        let e = unsafe { kpi::umtx_key_get(addr as *const c_void, TYPE_SIMPLE_WAIT, share(scope), key) };
        self.check(e)?;
        // SAFETY: the entry is queued under the chain lock as
        // umtxq_insert requires; every waiter sets all bits of its mask.
        unsafe {
            access::set_uq_bitset(uq, u32::MAX);
            chain_lock(key, true);
            kpi::umtxq_insert_queue(uq, UMTX_SHARED_QUEUE);
            chain_lock(key, false);
        }
        self.queued = true;
        Ok(())
    }

    fn queue_remove(&mut self, _: u64, _: Scope) -> bool {
        if !core::mem::take(&mut self.queued) {
            return false;
        }
        // SAFETY: the entry was inserted by queue_insert with its own key;
        // it is removed (if a wakeup has not dequeued it) under the chain
        // lock, then the key's reference is released.
        unsafe {
            let uq = access::td_umtxq(self.td);
            let key = access::uq_key(uq);
            chain_lock(key, true);
            let still = access::uq_flags(uq) & UQF_UMTXQ != 0;
            if still {
                kpi::umtxq_remove_queue(uq, UMTX_SHARED_QUEUE);
            }
            chain_lock(key, false);
            kpi::umtx_key_release(key);
            still
        }
    }

    fn queue_count(&mut self, _: u64, _: Scope) -> u32 {
        let Some(key) = self.qkey.as_mut() else { return 0 };
        // SAFETY: the key is filled and busy; umtxq_count runs under the
        // chain lock.
        let n = unsafe {
            chain_lock(key, true);
            let n = kpi::umtxq_count(key);
            chain_lock(key, false);
            n
        };
        n.max(0) as u32
    }

    fn queue_wake(&mut self, _: u64, _: Scope, n: u32) -> u32 {
        let Some(key) = self.qkey.as_mut() else { return 0 };
        if n == 0 {
            return 0;
        }
        // SAFETY: the key is filled and busy; umtxq_signal_mask runs under
        // the chain lock and dequeues and wakes up to `n` waiters from the
        // head (every waiter here set all bits of its mask).
        let woken = unsafe {
            chain_lock(key, true);
            let woken = kpi::umtxq_signal_mask(key, n.min(i32::MAX as u32) as c_int, u32::MAX);
            chain_lock(key, false);
            woken
        };
        woken.max(0) as u32
    }

    fn queue_sleep(
        &mut self,
        _: u64,
        _: Scope,
        until: Option<WaitUntil>,
        what: Sleeper,
    ) -> Result<Wait, Errno> {
        if !self.queued {
            return Ok(Wait::Woken);
        }
        // A deadline already passed times out without sleeping (the kernel
        // would wait forever on some of them: convert::deadline_passed).
        // The waiter has given up what it holds either way.
        if let Some(u) = until
            && convert::deadline_passed(u.at, self.clock_time(u.clock, 0)?)
        {
            if what == Sleeper::Condvar {
                self.condvar_slept = true;
            }
            return Ok(Wait::TimedOut);
        }
        let mut timo = UmtxAbsTimeout {
            clockid: 0,
            is_abs_real: false,
            cur: Timespec::default(),
            end: Timespec::default(),
        };
        let timo_ptr = match until {
            Some(u) => {
                let clock = convert::clock_id(u.clock).unwrap_or(CLOCK_MONOTONIC);
                let (tv_sec, tv_nsec) = convert::umtx_deadline(u.at);
                // SAFETY: initializes `timo` for an absolute deadline.
                unsafe { kpi::umtx_abs_timeout_init(&mut timo, clock, 1, &Timespec { tv_sec, tv_nsec }) };
                &mut timo as *mut UmtxAbsTimeout
            }
            None => core::ptr::null_mut(),
        };
        // SAFETY: the entry was queued by queue_insert; umtxq_sleep runs
        // under the chain lock and returns 0 at once if a wakeup already
        // dequeued it (UQF_UMTXQ clear).
        let error = unsafe {
            let uq = access::td_umtxq(self.td);
            let key = access::uq_key(uq);
            chain_lock(key, true);
            let error = kpi::umtxq_sleep(uq, c"cabiwait".as_ptr(), timo_ptr);
            let dequeued = access::uq_flags(uq) & UQF_UMTXQ == 0;
            chain_lock(key, false);
            if dequeued { 0 } else { error }
        };
        if what == Sleeper::Condvar {
            self.condvar_slept = true;
        }
        match error {
            0 => Ok(Wait::Woken),
            ETIMEDOUT | EWOULDBLOCK => Ok(Wait::TimedOut),
            EINTR | ERESTART if what == Sleeper::Condvar => Err(Errno::INTR),
            EINTR | ERESTART if self.condvar_slept => Err(Errno::INTR),
            EINTR | ERESTART => self.check(ERESTART).map(|()| Wait::Woken),
            e => self.check(e).map(|()| Wait::Woken),
        }
    }
}
