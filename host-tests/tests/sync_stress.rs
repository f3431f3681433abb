//! The lock and condition variable protocol of `sys::sync` under real
//! contention: host threads play guest threads, with the C library's fast
//! paths (compare-and-swap on the word, as cloudlibc does) in front of the
//! kernel side, over real Linux futexes on host memory. Checks mutual
//! exclusion, reader/writer exclusion, and that no wakeup is lost (every
//! run must finish; a lost wakeup hangs and the test's watchdog fails it).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use abi::{Condvar, Errno, Lock, Scope, Tid, UserPtr};
use sys::backend::{FutexOps, Wait, WaitUntil};
use sys::sync::{self, Outcome};

const WR: u32 = Lock::WRLOCKED.raw();
const KM: u32 = Lock::KERNEL_MANAGED.raw();

/// A backend for one thread: guest addresses are host addresses.
struct Thread {
    tid: u32,
}

fn word(addr: u64) -> &'static AtomicU32 {
    // SAFETY: the tests only pass addresses of live `AtomicU32`s that
    // outlive every thread using them (leaked or joined before drop).
    unsafe { &*(addr as *const AtomicU32) }
}

impl FutexOps for Thread {
    fn current_tid(&mut self) -> Tid {
        Tid::new(self.tid)
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        Ok(match word(addr).compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(v) | Err(v) => v,
        })
    }

    fn futex_wait(
        &mut self,
        addr: u64,
        _: Scope,
        expected: u32,
        until: Option<WaitUntil>,
    ) -> Result<Wait, Errno> {
        let ts = until.map(|u| libc::timespec {
            tv_sec: (u.at / 1_000_000_000) as i64,
            tv_nsec: (u.at % 1_000_000_000) as i64,
        });
        let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: FUTEX_WAIT_BITSET (absolute, monotonic) on a live word.
        let r = unsafe { libc::syscall(libc::SYS_futex, addr, 9 | 128, expected, tsp, 0usize, !0u32) };
        if r == 0 {
            return Ok(Wait::Woken);
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ETIMEDOUT) => Ok(Wait::TimedOut),
            _ => Ok(Wait::Woken),
        }
    }

    fn futex_wake(&mut self, addr: u64, _: Scope, n: u32) -> Result<u32, Errno> {
        // SAFETY: FUTEX_WAKE on a live word.
        let r = unsafe {
            libc::syscall(libc::SYS_futex, addr, 1 | 128, n.min(i32::MAX as u32), 0usize, 0usize, 0u32)
        };
        Ok(r.max(0) as u32)
    }
}

fn ptr<T>(w: &AtomicU32) -> UserPtr<T> {
    UserPtr::new(w as *const AtomicU32 as u64)
}

/// cloudlibc-style write lock: one CAS, then the kernel.
fn wrlock(t: &mut Thread, w: &AtomicU32) {
    if w.compare_exchange(0, t.tid | WR, Ordering::Acquire, Ordering::Relaxed).is_err() {
        assert_eq!(sync::wrlock(t, ptr(w), Scope::PRIVATE, None), Ok(Outcome::Acquired));
    }
}

fn wrunlock(t: &mut Thread, w: &AtomicU32) {
    if w.compare_exchange(t.tid | WR, 0, Ordering::Release, Ordering::Relaxed).is_err() {
        assert_eq!(sync::unlock(t, ptr(w), Scope::PRIVATE), Ok(()));
    }
}

/// cloudlibc-style read lock: count up unless write-locked or managed.
fn rdlock(t: &mut Thread, w: &AtomicU32) {
    let v = w.load(Ordering::Relaxed);
    if v & (WR | KM) == 0 && w.compare_exchange(v, v + 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
        return;
    }
    assert_eq!(sync::rdlock(t, ptr(w), Scope::PRIVATE, None), Ok(Outcome::Acquired));
}

/// cloudlibc-style read unlock: the last reader of a managed lock turns it
/// into a write lock of its own and unlocks through the kernel.
fn rdunlock(t: &mut Thread, w: &AtomicU32) {
    loop {
        let v = w.load(Ordering::Relaxed);
        if v == 1 | KM {
            if w.compare_exchange(v, t.tid | WR | KM, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                assert_eq!(sync::unlock(t, ptr(w), Scope::PRIVATE), Ok(()));
                return;
            }
        } else if w.compare_exchange(v, v - 1, Ordering::Release, Ordering::Relaxed).is_ok() {
            return;
        }
    }
}

/// Runs `f` on `n` threads (tids 2..) and fails if they do not all finish
/// within `limit` (a lost wakeup).
fn run(n: u32, limit: Duration, f: impl Fn(&mut Thread) + Send + Sync + 'static) {
    let f = Arc::new(f);
    let done = Arc::new(AtomicU32::new(0));
    let start = Arc::new(Barrier::new(n as usize));
    for tid in 2..2 + n {
        let (f, done, start) = (f.clone(), done.clone(), start.clone());
        std::thread::spawn(move || {
            start.wait();
            f(&mut Thread { tid });
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
    let t0 = Instant::now();
    while done.load(Ordering::SeqCst) < n {
        assert!(
            t0.elapsed() < limit,
            "only {} of {n} threads finished: a wakeup was lost",
            done.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn writers_exclude_each_other() {
    const THREADS: u32 = 6;
    const ROUNDS: u64 = 20_000;
    let lock: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let counter: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
    let inside: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    run(THREADS, Duration::from_secs(60), move |t| {
        for i in 0..ROUNDS {
            wrlock(t, lock);
            assert!(!inside.swap(true, Ordering::SeqCst), "two writers inside");
            // A non-atomic read-modify-write: only exclusion keeps it right.
            let v = counter.load(Ordering::Relaxed);
            if i % 64 == 0 {
                std::thread::yield_now();
            }
            counter.store(v + 1, Ordering::Relaxed);
            inside.store(false, Ordering::SeqCst);
            wrunlock(t, lock);
        }
    });
    assert_eq!(counter.load(Ordering::SeqCst), u64::from(THREADS) * ROUNDS);
    assert_eq!(lock.load(Ordering::SeqCst) & !KM, 0, "unlocked at the end");
    println!("sync: {THREADS} writers x {ROUNDS} rounds, counter exact");
}

#[test]
fn readers_and_writers_exclude_each_other() {
    const THREADS: u32 = 6;
    const ROUNDS: u32 = 10_000;
    let lock: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let readers: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let writer: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let max_readers: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    run(THREADS, Duration::from_secs(60), move |t| {
        for i in 0..ROUNDS {
            if (i + t.tid) % 4 == 0 {
                wrlock(t, lock);
                assert!(!writer.swap(true, Ordering::SeqCst), "two writers");
                assert_eq!(readers.load(Ordering::SeqCst), 0, "a reader inside with a writer");
                writer.store(false, Ordering::SeqCst);
                wrunlock(t, lock);
            } else {
                rdlock(t, lock);
                let r = readers.fetch_add(1, Ordering::SeqCst) + 1;
                max_readers.fetch_max(r, Ordering::SeqCst);
                assert!(!writer.load(Ordering::SeqCst), "a writer inside with a reader");
                if i % 32 == 0 {
                    std::thread::yield_now();
                }
                readers.fetch_sub(1, Ordering::SeqCst);
                rdunlock(t, lock);
            }
        }
    });
    assert_eq!(lock.load(Ordering::SeqCst) & !KM, 0);
    println!("sync: readers and writers, up to {} readers at once", max_readers.load(Ordering::SeqCst));
}

#[test]
fn condition_variables_lose_no_wakeup() {
    const CONSUMERS: u32 = 4;
    const ITEMS: u32 = 20_000;
    let lock: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let cv: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let queue: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let consumed: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    // Thread 2 produces ITEMS items one by one; the others consume until
    // all are gone. Consumers wait on the condition variable while the
    // queue is empty; the producer signals after each item and broadcasts
    // at the end.
    run(1 + CONSUMERS, Duration::from_secs(60), move |t| {
        if t.tid == 2 {
            for _ in 0..ITEMS {
                wrlock(t, lock);
                queue.fetch_add(1, Ordering::SeqCst);
                wrunlock(t, lock);
                if cv.load(Ordering::SeqCst) != 0 {
                    sync::condvar_signal(t, ptr::<Condvar>(cv), Scope::PRIVATE, 1).unwrap();
                }
            }
            return;
        }
        loop {
            wrlock(t, lock);
            while queue.load(Ordering::SeqCst) == 0 {
                if consumed.load(Ordering::SeqCst) == ITEMS {
                    wrunlock(t, lock);
                    // Wake the others so they see the end too.
                    sync::condvar_signal(t, ptr::<Condvar>(cv), Scope::PRIVATE, u32::MAX).unwrap();
                    return;
                }
                // A timeout keeps a consumer from sleeping forever after
                // the last item; it must still hold the lock on return.
                let until = WaitUntil { clock: abi::Clockid::MONOTONIC, at: now() + 20_000_000 };
                let r = sync::condvar_wait(
                    t,
                    ptr::<Condvar>(cv),
                    Scope::PRIVATE,
                    ptr(lock),
                    Scope::PRIVATE,
                    Some(until),
                );
                assert!(matches!(r, Ok(Outcome::Acquired | Outcome::TimedOut)), "{r:?}");
                assert_eq!(lock.load(Ordering::SeqCst) & !KM, t.tid | WR, "the lock is held again");
            }
            queue.fetch_sub(1, Ordering::SeqCst);
            consumed.fetch_add(1, Ordering::SeqCst);
            wrunlock(t, lock);
        }
    });
    assert_eq!(consumed.load(Ordering::SeqCst), ITEMS);
    println!("sync: {ITEMS} items through a condition variable to {CONSUMERS} consumers");
}

fn now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime fills `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// One consumer, no timeouts: a single lost wakeup leaves it asleep with
/// an item queued after the producer has finished, and the watchdog fails
/// the test.
#[test]
fn a_lone_waiter_is_always_woken() {
    const ITEMS: u32 = 20_000;
    let lock: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let cv: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let queue: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let consumed: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let waits: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    run(2, Duration::from_secs(30), move |t| {
        if t.tid == 2 {
            for i in 0..ITEMS {
                // One item at a time: wait until the last one was taken,
                // so that the consumer has to sleep for nearly every item.
                while consumed.load(Ordering::SeqCst) < i {
                    std::thread::yield_now();
                }
                wrlock(t, lock);
                queue.fetch_add(1, Ordering::SeqCst);
                wrunlock(t, lock);
                // As cloudlibc: only call the kernel when someone waits.
                if cv.load(Ordering::SeqCst) != 0 {
                    sync::condvar_signal(t, ptr::<Condvar>(cv), Scope::PRIVATE, 1).unwrap();
                }
            }
            return;
        }
        while consumed.load(Ordering::SeqCst) < ITEMS {
            wrlock(t, lock);
            while queue.load(Ordering::SeqCst) == 0 {
                waits.fetch_add(1, Ordering::Relaxed);
                let r = sync::condvar_wait(
                    t,
                    ptr::<Condvar>(cv),
                    Scope::PRIVATE,
                    ptr(lock),
                    Scope::PRIVATE,
                    None,
                );
                assert_eq!(r, Ok(Outcome::Acquired));
            }
            queue.fetch_sub(1, Ordering::SeqCst);
            consumed.fetch_add(1, Ordering::SeqCst);
            wrunlock(t, lock);
        }
    });
    println!("sync: lone waiter woke {} times for {ITEMS} items", waits.load(Ordering::Relaxed));
}
