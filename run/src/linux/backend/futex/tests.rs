//! The wait-queue table under real contention: host threads play guest
//! threads, with cloudlibc's fast paths (a compare-and-swap on the word)
//! in front of `sys::sync`, over the real bucketed table (private scope).
//! A checker thread takes each word's bucket lock, over and over, and
//! checks `sys::sync`'s invariants there (they hold whenever the word's
//! queue lock is free): a condition variable word is not 0 exactly when
//! its queue is not empty; a lock word has `KERNEL_MANAGED` exactly when
//! its queue is not empty. The workers check mutual exclusion, and every
//! run must end (a lost wakeup hangs, and the watchdog fails the test).
//! At the end every word is 0, no slot is queued and no wakeup is left
//! pending.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use abi::{Clockid, Condvar, Errno, Lock, Scope, Tid, UserPtr};
use sys::backend::{FutexOps, Sleeper, Wait, WaitUntil};
use sys::sync::{self, Outcome};

use super::{PENDING, PRIVATE, QUEUED, queue};

const WR: u32 = Lock::WRLOCKED.raw();
const KM: u32 = Lock::KERNEL_MANAGED.raw();
const SCOPE: Scope = Scope::PRIVATE;

/// The backend's set-up (which maps the tables), once per test process
/// for every test that needs it.
fn setup() {
    crate::linux::backend::path_diff::init_backend();
}

/// A backend for one host thread: guest addresses are host addresses.
struct Host {
    tid: u32,
}

fn word(addr: u64) -> &'static AtomicU32 {
    // SAFETY: the tests only pass addresses of leaked `AtomicU32`s.
    unsafe { &*(addr as *const AtomicU32) }
}

impl FutexOps for Host {
    fn current_tid(&mut self) -> Tid {
        Tid::new(self.tid)
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        Ok(match word(addr).compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(v) | Err(v) => v,
        })
    }

    queue_methods!();
}

fn leak() -> u64 {
    Box::leak(Box::new(AtomicU32::new(0))) as *const AtomicU32 as u64
}

fn wrlock(t: &mut Host, w: u64) {
    if word(w).compare_exchange(0, t.tid | WR, Ordering::Acquire, Ordering::Relaxed).is_err() {
        assert_eq!(sync::wrlock(t, UserPtr::<Lock>::new(w), SCOPE, None), Ok(Outcome::Acquired));
    }
}

fn wrunlock(t: &mut Host, w: u64) {
    if word(w).compare_exchange(t.tid | WR, 0, Ordering::Release, Ordering::Relaxed).is_err() {
        assert_eq!(sync::unlock(t, UserPtr::<Lock>::new(w), SCOPE), Ok(()));
    }
}

fn rdlock(t: &mut Host, w: u64) {
    let v = word(w).load(Ordering::Relaxed);
    if v & (WR | KM) == 0 && word(w).compare_exchange(v, v + 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
    {
        return;
    }
    assert_eq!(sync::rdlock(t, UserPtr::<Lock>::new(w), SCOPE, None), Ok(Outcome::Acquired));
}

/// The last reader of a managed lock makes it a write lock of its own and
/// unlocks through the kernel, as cloudlibc does.
fn rdunlock(t: &mut Host, w: u64) {
    loop {
        let v = word(w).load(Ordering::Relaxed);
        if v == 1 | KM {
            if word(w).compare_exchange(v, t.tid | WR | KM, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                assert_eq!(sync::unlock(t, UserPtr::<Lock>::new(w), SCOPE), Ok(()));
                return;
            }
        } else if word(w).compare_exchange(v, v - 1, Ordering::Release, Ordering::Relaxed).is_ok() {
            return;
        }
    }
}

fn now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime fills `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// xorshift: a different sequence per thread.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The words of one run.
struct Words {
    mutex: u64,
    cond: [u64; 2],
    rw: u64,
    /// Threads inside the mutex / writers inside `rw` / readers inside.
    in_mutex: AtomicU32,
    writers: AtomicU32,
    readers: AtomicU32,
    /// Condition-variable waits that returned (with the mutex held).
    turn: AtomicU32,
}

fn worker(t: &mut Host, w: &Words, seed: u64, steps: u32) {
    let mut rng = Rng(seed | 1);
    for _ in 0..steps {
        match rng.next(5) {
            // Wait on a condition variable (with a deadline, so that a
            // thread left without signallers does not wait for ever).
            0 | 1 => {
                let cv = w.cond[rng.next(2) as usize];
                wrlock(t, w.mutex);
                assert_eq!(w.in_mutex.fetch_add(1, Ordering::SeqCst), 0, "two threads inside the mutex");
                let until =
                    WaitUntil { clock: Clockid::MONOTONIC, at: now() + 200_000 + rng.next(2_000_000) };
                w.in_mutex.fetch_sub(1, Ordering::SeqCst);
                let r = sync::condvar_wait(
                    t,
                    UserPtr::<Condvar>::new(cv),
                    SCOPE,
                    UserPtr::<Lock>::new(w.mutex),
                    SCOPE,
                    Some(until),
                );
                assert!(matches!(r, Ok(Outcome::Acquired) | Ok(Outcome::TimedOut)), "condvar_wait: {r:?}");
                assert_eq!(w.in_mutex.fetch_add(1, Ordering::SeqCst), 0, "two threads inside the mutex");
                w.turn.fetch_add(1, Ordering::SeqCst);
                w.in_mutex.fetch_sub(1, Ordering::SeqCst);
                wrunlock(t, w.mutex);
            }
            // Signal one or all (cloudlibc only calls the kernel when the
            // word is not 0), with or without the mutex held.
            2 => {
                let cv = w.cond[rng.next(2) as usize];
                let n = [1, 2, u32::MAX][rng.next(3) as usize];
                let locked = rng.next(2) == 0;
                if locked {
                    wrlock(t, w.mutex);
                }
                if word(cv).load(Ordering::Relaxed) != 0 {
                    assert_eq!(sync::condvar_signal(t, UserPtr::<Condvar>::new(cv), SCOPE, n), Ok(()));
                }
                if locked {
                    wrunlock(t, w.mutex);
                }
            }
            3 => {
                wrlock(t, w.rw);
                assert_eq!(w.writers.fetch_add(1, Ordering::SeqCst), 0, "two writers");
                assert_eq!(w.readers.load(Ordering::SeqCst), 0, "a writer with readers");
                std::hint::spin_loop();
                w.writers.fetch_sub(1, Ordering::SeqCst);
                wrunlock(t, w.rw);
            }
            _ => {
                rdlock(t, w.rw);
                w.readers.fetch_add(1, Ordering::SeqCst);
                assert_eq!(w.writers.load(Ordering::SeqCst), 0, "a reader with a writer");
                w.readers.fetch_sub(1, Ordering::SeqCst);
                rdunlock(t, w.rw);
            }
        }
    }
    PENDING.with(|p| assert!(p.borrow().is_empty(), "wakeups left pending after a call"));
}

fn count_locked(addr: u64) -> u32 {
    queue::lock(addr, SCOPE);
    let n = queue::count(addr, SCOPE);
    queue::unlock(addr, SCOPE);
    n
}

/// Under the word's bucket lock: `sys::sync`'s invariants for it.
fn check_word(addr: u64, condvar: bool) {
    queue::lock(addr, SCOPE);
    let v = word(addr).load(Ordering::SeqCst);
    let queued = queue::count(addr, SCOPE);
    queue::unlock(addr, SCOPE);
    if condvar {
        assert_eq!(v != 0, queued > 0, "condvar word {v:#x} with {queued} queued");
    } else {
        assert_eq!(v & KM != 0, queued > 0, "lock word {v:#x} with {queued} queued");
    }
}

#[test]
fn bucketed_queues_keep_the_words_exact_under_contention() {
    setup();
    let threads = 4u32;
    let steps = 3000;
    let w = Arc::new(Words {
        mutex: leak(),
        cond: [leak(), leak()],
        rw: leak(),
        in_mutex: AtomicU32::new(0),
        writers: AtomicU32::new(0),
        readers: AtomicU32::new(0),
        turn: AtomicU32::new(0),
    });
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(threads as usize + 1));
    let mut handles = Vec::new();
    for k in 0..threads {
        let (w, done, start) = (w.clone(), done.clone(), start.clone());
        handles.push(std::thread::spawn(move || {
            start.wait();
            worker(&mut Host { tid: 100 + k }, &w, 0x9e37_79b9 * (u64::from(k) + 1), steps);
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let checker = {
        let (w, stop, start) = (w.clone(), stop.clone(), start.clone());
        std::thread::spawn(move || {
            start.wait();
            let mut checks = 0u64;
            while !stop.load(Ordering::SeqCst) {
                check_word(w.mutex, false);
                check_word(w.rw, false);
                check_word(w.cond[0], true);
                check_word(w.cond[1], true);
                checks += 4;
            }
            checks
        })
    };
    let t0 = Instant::now();
    while done.load(Ordering::SeqCst) < threads as usize {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "only {} of {threads} threads finished: a wakeup was lost",
            done.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::SeqCst);
    let checks = checker.join().unwrap();
    for h in handles {
        h.join().unwrap();
    }
    assert!(checks > 0, "the checker never ran");
    for addr in [w.mutex, w.rw, w.cond[0], w.cond[1]] {
        assert_eq!(word(addr).load(Ordering::SeqCst), 0, "word {addr:#x} not released");
        assert_eq!(queue::count(addr, SCOPE), 0);
    }
    let m = PRIVATE.get().unwrap();
    let queued = m.slots().iter().filter(|s| s.state.load(Ordering::SeqCst) == QUEUED).count();
    assert_eq!(queued, 0, "slots left queued");
    println!("bucketed queues: {threads} threads x {steps} steps, {checks} invariant checks");
}

/// Slots claimed from many threads at once are never shared: every thread
/// queues on a word of its own and must find itself, alone, in its queue.
#[test]
fn concurrent_claims_never_share_a_slot() {
    setup();
    let threads = 8;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let start = start.clone();
            std::thread::spawn(move || {
                let addr = leak();
                start.wait();
                for _ in 0..2000 {
                    queue::lock(addr, SCOPE);
                    queue::insert(addr, SCOPE).unwrap();
                    assert_eq!(queue::count(addr, SCOPE), 1, "another thread's slot on my word");
                    assert!(queue::remove(SCOPE), "my slot was taken from me");
                    assert_eq!(queue::count(addr, SCOPE), 0);
                    queue::unlock(addr, SCOPE);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// A wake decided under the bucket lock reaches a sleeping thread once the
/// lock is released, and wakes the oldest waiter first.
#[test]
fn wakeups_are_fifo_and_made_after_unlock() {
    setup();
    let addr = leak();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for k in 0..3u32 {
        let order = order.clone();
        handles.push(std::thread::spawn(move || {
            queue::lock(addr, SCOPE);
            queue::insert(addr, SCOPE).unwrap();
            queue::unlock(addr, SCOPE);
            assert_eq!(queue::sleep(SCOPE, None), Ok(Wait::Woken));
            queue::lock(addr, SCOPE);
            assert!(!queue::remove(SCOPE), "woken but still queued");
            queue::unlock(addr, SCOPE);
            order.lock().unwrap().push(k);
        }));
        // Queue in order 0, 1, 2.
        let t0 = Instant::now();
        while count_locked(addr) < k + 1 {
            assert!(t0.elapsed() < Duration::from_secs(60));
            std::thread::yield_now();
        }
    }
    for k in 0..3u32 {
        queue::lock(addr, SCOPE);
        assert_eq!(queue::wake(addr, SCOPE, 1), 1);
        PENDING.with(|p| assert_eq!(p.borrow().len(), 1, "the wake is made after the unlock"));
        queue::unlock(addr, SCOPE);
        PENDING.with(|p| assert!(p.borrow().is_empty()));
        let t0 = Instant::now();
        while order.lock().unwrap().len() < k as usize + 1 {
            assert!(t0.elapsed() < Duration::from_secs(60), "a woken thread did not wake up");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2], "not woken oldest first");
}
