//! The futex primitive `sys::sync` builds locks and condition variables
//! on: Linux futexes on the guest's words. Process-private words use the
//! private futex operations; process-shared ones the shared operations,
//! which also meet across processes that map the same memory.

use abi::{Clockid, Errno, Scope, Tid};
use sys::backend::{FutexOps, Wait, WaitUntil};

use super::{Linux, last_errno};
use crate::linux::{fault, thread};

const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAKE: i32 = 1;
const FUTEX_PRIVATE_FLAG: i32 = 128;
const FUTEX_CLOCK_REALTIME: i32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = !0;

fn op(base: i32, scope: Scope) -> i32 {
    if scope == Scope::PRIVATE { base | FUTEX_PRIVATE_FLAG } else { base }
}

impl FutexOps for Linux {
    fn current_tid(&mut self) -> Tid {
        Tid::new(thread::current_tid())
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        fault::cas32(addr, old, new).map_err(|()| Errno::FAULT)
    }

    fn futex_wait(
        &mut self,
        addr: u64,
        scope: Scope,
        expected: u32,
        until: Option<WaitUntil>,
    ) -> Result<Wait, Errno> {
        let mut o = op(FUTEX_WAIT_BITSET, scope);
        let ts = until.map(|u| {
            if u.clock == Clockid::REALTIME {
                o |= FUTEX_CLOCK_REALTIME;
            }
            libc::timespec {
                tv_sec: (u.at / 1_000_000_000).min(i64::MAX as u64) as i64,
                tv_nsec: (u.at % 1_000_000_000) as i64,
            }
        });
        let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: FUTEX_WAIT_BITSET reads the guest word (EFAULT if it is
        // not mapped) and the absolute timeout.
        let r =
            unsafe { libc::syscall(libc::SYS_futex, addr, o, expected, tsp, 0usize, FUTEX_BITSET_MATCH_ANY) };
        if r == 0 {
            return Ok(Wait::Woken);
        }
        match last_errno() {
            // The word changed, or a signal interrupted the sleep: the
            // caller looks at the word again (never an error: see FutexOps).
            Errno::AGAIN | Errno::INTR => Ok(Wait::Woken),
            Errno::TIMEDOUT => Ok(Wait::TimedOut),
            e => Err(e),
        }
    }

    fn futex_wake(&mut self, addr: u64, scope: Scope, n: u32) -> Result<u32, Errno> {
        let n = n.min(i32::MAX as u32);
        // SAFETY: FUTEX_WAKE only uses the address as a key.
        let r =
            unsafe { libc::syscall(libc::SYS_futex, addr, op(FUTEX_WAKE, scope), n, 0usize, 0usize, 0u32) };
        if r < 0 { Err(last_errno()) } else { Ok(r as u32) }
    }
}
