//! The futex primitive under CloudABI's locks and condition variables
//! (`sys::sync` holds the protocol): compare-and-swap on the user word
//! with `casueword32`, and sleep/wakeup on wait queues keyed by the word's
//! address as FreeBSD's own umtx code and its Linux futex emulation do
//! (`umtx_key_get`, `umtxq_*`). Process-private words use a
//! `THREAD_SHARE` key (address space + address); process-shared ones an
//! `AUTO_SHARE` key (the VM object + offset for shared mappings), so
//! waits and wakeups meet across processes mapping the same memory.
//!
//! Signals. A sleep interrupted by a signal must return to the user
//! boundary so that the signal can act (kill, stop, single-threading for
//! exit or exec); looping here would hang the process. `sys::sync` treats
//! every error as fatal, so:
//! - a lock wait (nothing given up yet) records `ERESTART`: the syscall is
//!   restarted from scratch once the signal has been handled;
//! - the sleep on a condition variable itself reports a spurious wakeup
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

/// The value a condition variable word holds while threads wait
/// (`sys::sync`): a futex wait expecting it is a condvar wait.
const CONDVAR_WAITING: u32 = !0;

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

    fn futex_wait(
        &mut self,
        addr: u64,
        scope: Scope,
        expected: u32,
        until: Option<WaitUntil>,
    ) -> Result<Wait, Errno> {
        let is_condvar = expected == CONDVAR_WAITING;
        // A deadline already passed times out without sleeping (the kernel
        // would wait forever on some of them: convert::deadline_passed).
        if let Some(u) = until
            && convert::deadline_passed(u.at, self.clock_time(u.clock, 0)?)
        {
            return Ok(Wait::TimedOut);
        }
        // SAFETY: the current thread's queue entry, used by this wait only.
        let uq = unsafe { access::td_umtxq(self.td) };
        // SAFETY: as above.
        let key = unsafe { access::uq_key(uq) };
        // SAFETY: umtx_key_get fills the entry's key for the user address
        // (EFAULT if a shared one is not mapped).
        let e = unsafe { kpi::umtx_key_get(addr as *const c_void, TYPE_SIMPLE_WAIT, share(scope), key) };
        self.check(e)?;
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
        let mut value: i32 = 0;
        // The kernel's own wait (do_wait): queue first, then look at the
        // word, so a wakeup between the look and the sleep is not lost.
        // SAFETY: the key is filled; the entry is queued and removed under
        // the chain lock as umtxq_insert/umtxq_remove require; the word is
        // read with fueword32 (-1 on a fault).
        let (fault, error) = unsafe {
            access::set_uq_bitset(uq, u32::MAX);
            chain_lock(key, true);
            kpi::umtxq_insert_queue(uq, UMTX_SHARED_QUEUE);
            chain_lock(key, false);
            let fault = kpi::fueword32(addr as *const c_void, &mut value) != 0;
            chain_lock(key, true);
            let mut error = 0;
            if !fault && value as u32 == expected {
                error = kpi::umtxq_sleep(uq, c"cabiwait".as_ptr(), timo_ptr);
            }
            if access::uq_flags(uq) & UQF_UMTXQ == 0 {
                // Woken (possibly racing a timeout or signal): a wakeup.
                error = 0;
            } else {
                kpi::umtxq_remove_queue(uq, UMTX_SHARED_QUEUE);
            }
            chain_lock(key, false);
            kpi::umtx_key_release(key);
            (fault, error)
        };
        if is_condvar {
            self.condvar_slept = true;
        }
        if fault {
            return Err(Errno::FAULT);
        }
        match error {
            0 => Ok(Wait::Woken),
            ETIMEDOUT | EWOULDBLOCK => Ok(Wait::TimedOut),
            EINTR | ERESTART if is_condvar => Ok(Wait::Woken),
            EINTR | ERESTART if self.condvar_slept => Err(Errno::INTR),
            EINTR | ERESTART => self.check(ERESTART).map(|()| Wait::Woken),
            e => self.check(e).map(|()| Wait::Woken),
        }
    }

    fn futex_wake(&mut self, addr: u64, scope: Scope, n: u32) -> Result<u32, Errno> {
        if n == 0 {
            return Ok(0);
        }
        let mut key = UmtxKey { hash: 0, type_: 0, shared: 0, info: [0; 2] };
        // SAFETY: umtx_key_get fills `key` for the user address.
        let e = unsafe { kpi::umtx_key_get(addr as *const c_void, TYPE_SIMPLE_WAIT, share(scope), &mut key) };
        self.check(e)?;
        // SAFETY: `key` is filled; umtxq_signal_mask runs under the chain
        // lock and dequeues and wakes up to `n` waiters (every waiter here
        // set all bits of its mask).
        let woken = unsafe {
            chain_lock(&mut key, true);
            let woken = kpi::umtxq_signal_mask(&mut key, n.min(i32::MAX as u32) as c_int, u32::MAX);
            chain_lock(&mut key, false);
            kpi::umtx_key_release(&mut key);
            woken
        };
        Ok(woken.max(0) as u32)
    }
}
