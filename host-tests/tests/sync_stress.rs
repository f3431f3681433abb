//! The lock and condition variable protocol of `sys::sync` under real
//! contention: host threads play guest threads, with the C library's fast
//! paths (compare-and-swap on the word, as cloudlibc does) in front of the
//! kernel side, over wait queues kept the way a kernel keeps them. Checks mutual
//! exclusion, reader/writer exclusion, and that no wakeup is lost (every
//! run must finish; a lost wakeup hangs and the test's watchdog fails it).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Condvar as StdCondvar, Mutex};
use std::time::{Duration, Instant};

use abi::{Condvar, Errno, Lock, Scope, Tid, UserPtr};
use sys::backend::{FutexOps, Sleeper, Wait, WaitUntil};
use sys::sync::{self, Outcome};

const WR: u32 = Lock::WRLOCKED.raw();
const KM: u32 = Lock::KERNEL_MANAGED.raw();

/// The wait queues of every word, shared by all threads of the process
/// (as a kernel's): queue locks, FIFO queues of thread ids, and the
/// threads a wakeup has dequeued.
#[derive(Default)]
struct Inner {
    busy: HashSet<u64>,
    queues: HashMap<u64, VecDeque<u32>>,
}

struct Queues {
    inner: Mutex<Inner>,
    changed: StdCondvar,
}

fn queues() -> &'static Queues {
    static Q: std::sync::OnceLock<Queues> = std::sync::OnceLock::new();
    Q.get_or_init(|| Queues { inner: Mutex::new(Inner::default()), changed: StdCondvar::new() })
}

/// A backend for one thread: guest addresses are host addresses.
struct Thread {
    tid: u32,
}

fn word(addr: u64) -> &'static AtomicU32 {
    // SAFETY: the tests only pass addresses of live `AtomicU32`s that
    // outlive every thread using them (leaked or joined before drop).
    unsafe { &*(addr as *const AtomicU32) }
}

fn queued(i: &Inner, addr: u64, tid: u32) -> bool {
    i.queues.get(&addr).is_some_and(|q| q.contains(&tid))
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

    fn queue_lock(&mut self, addr: u64, _: Scope) -> Result<(), Errno> {
        let q = queues();
        let mut i = q.inner.lock().unwrap();
        while i.busy.contains(&addr) {
            i = q.changed.wait(i).unwrap();
        }
        i.busy.insert(addr);
        Ok(())
    }

    fn queue_unlock(&mut self, addr: u64, _: Scope) {
        let q = queues();
        assert!(q.inner.lock().unwrap().busy.remove(&addr), "queue unlocked twice");
        q.changed.notify_all();
    }

    fn queue_insert(&mut self, addr: u64, _: Scope) -> Result<(), Errno> {
        queues().inner.lock().unwrap().queues.entry(addr).or_default().push_back(self.tid);
        Ok(())
    }

    fn queue_remove(&mut self, addr: u64, _: Scope) -> bool {
        let mut i = queues().inner.lock().unwrap();
        let q = i.queues.entry(addr).or_default();
        let before = q.len();
        q.retain(|&t| t != self.tid);
        before != q.len()
    }

    fn queue_count(&mut self, addr: u64, _: Scope) -> u32 {
        queues().inner.lock().unwrap().queues.get(&addr).map_or(0, |q| q.len() as u32)
    }

    fn queue_wake(&mut self, addr: u64, _: Scope, n: u32) -> u32 {
        let q = queues();
        let mut i = q.inner.lock().unwrap();
        let queue = i.queues.entry(addr).or_default();
        let k = queue.len().min(n as usize);
        queue.drain(..k);
        q.changed.notify_all();
        k as u32
    }

    fn queue_sleep(
        &mut self,
        addr: u64,
        _: Scope,
        until: Option<WaitUntil>,
        _: Sleeper,
    ) -> Result<Wait, Errno> {
        let q = queues();
        let mut i = q.inner.lock().unwrap();
        loop {
            if !queued(&i, addr, self.tid) {
                return Ok(Wait::Woken);
            }
            match until {
                None => i = q.changed.wait(i).unwrap(),
                Some(u) => {
                    let t = now();
                    if t >= u.at {
                        return Ok(Wait::TimedOut);
                    }
                    i = q.changed.wait_timeout(i, Duration::from_nanos(u.at - t)).unwrap().0;
                }
            }
        }
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
    assert_eq!(lock.load(Ordering::SeqCst), 0, "unlocked and unmanaged at the end");
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
    assert_eq!(lock.load(Ordering::SeqCst), 0, "unlocked and unmanaged at the end");
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
    assert_eq!(cv.load(Ordering::SeqCst), 0, "no waiters: the condvar word is 0");
    assert_eq!(lock.load(Ordering::SeqCst), 0, "unlocked and unmanaged at the end");
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
    assert_eq!(cv.load(Ordering::SeqCst), 0, "no waiters: the condvar word is 0");
    println!("sync: lone waiter woke {} times for {ITEMS} items", waits.load(Ordering::Relaxed));
}
