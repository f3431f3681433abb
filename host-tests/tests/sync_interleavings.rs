//! The lock and condition variable words under random interleavings:
//! 2–4 simulated threads (the deterministic scheduler of
//! `host_tests::sched`) run random programs of condvar waits (with and
//! without deadlines), signals with nwaiters 1, 2 and "all", lock waits
//! (read and write, with and without deadlines) and unlocks, with the C
//! library's fast paths in front of `sys::sync`, as cloudlibc drives them.
//! After every step, for every word whose queue lock nobody holds:
//!
//! - the condvar word is 0 (`CONDVAR_HAS_NO_WAITERS`) exactly when its
//!   queue is empty (cloudlibc's `pthread_cond_destroy` asserts 0 once no
//!   thread is blocked);
//! - the lock word has `KERNEL_MANAGED` exactly when its queue is not
//!   empty;
//! - at most one thread believes it holds the lock for writing, and then
//!   the word names it; otherwise the word counts the threads that believe
//!   they hold it for reading.
//!
//! At the end every word is 0 and every queue empty; a run where no thread
//! can go on (a lost wakeup) fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use abi::{Clockid, Condvar, Lock, Scope, UserPtr};
use host_tests::sched::{Rng, Sched, SimThread, World};
use sys::backend::WaitUntil;
use sys::sync::{self, Outcome};

const WR: u32 = Lock::WRLOCKED.raw();
const KM: u32 = Lock::KERNEL_MANAGED.raw();
const VALUE: u32 = !(WR | KM);

const LOCK: u64 = 0x1000;
const CV: [u64; 2] = [0x1004, 0x1008];
const SCOPE: Scope = Scope::PRIVATE;
/// "May time out": the scheduler decides when.
const DEADLINE: Option<WaitUntil> = Some(WaitUntil { clock: Clockid::MONOTONIC, at: 0 });

/// What each simulated thread believes it holds (index = thread).
struct Beliefs {
    /// 0 nothing, 1 a read lock, 2 the write lock, 3 releasing the
    /// write lock.
    held: Vec<AtomicU32>,
    /// Inside `sys::sync` (which may take or give up the lock before it
    /// returns): 0 no, 1 in `rdlock`, 2 in a call that may hold the lock
    /// for writing (`wrlock`, `condvar_wait`, a reader's `unlock`).
    inside: Vec<AtomicU32>,
}

fn inside(b: &Beliefs, me: usize, v: u32) {
    b.inside[me].store(v, Ordering::SeqCst);
}

#[derive(Clone, Copy, Debug)]
enum Op {
    /// Lock, wait on a condvar (with or without a deadline), unlock.
    CondWait { cv: usize, deadline: bool },
    /// Signal (cloudlibc: only if the word is not 0), optionally holding
    /// the lock.
    Signal { cv: usize, n: u32, locked: bool },
    /// Write-lock (optionally with a deadline) and unlock.
    Write { deadline: bool },
    /// Read-lock (optionally with a deadline) and unlock.
    Read { deadline: bool },
}

fn random_op(rng: &mut Rng) -> Op {
    let cv = rng.below(2) as usize;
    match rng.below(8) {
        0..=2 => Op::CondWait { cv, deadline: rng.below(4) != 0 },
        3 | 4 => Op::Signal { cv, n: [1, 2, u32::MAX][rng.below(3) as usize], locked: rng.below(2) == 0 },
        5 | 6 => Op::Write { deadline: rng.below(3) == 0 },
        _ => Op::Read { deadline: rng.below(3) == 0 },
    }
}

fn set_held(b: &Beliefs, me: usize, v: u32) {
    b.held[me].store(v, Ordering::SeqCst);
}

/// cloudlibc's write lock: one CAS from unlocked, else the kernel.
fn wrlock(t: &mut SimThread, b: &Beliefs, deadline: bool) -> bool {
    if t.user_cas(LOCK, 0, t.tid | WR) == 0 {
        set_held(b, t.me, 2);
        return true;
    }
    inside(b, t.me, 2);
    let r = sync::wrlock(t, UserPtr::<Lock>::new(LOCK), SCOPE, if deadline { DEADLINE } else { None });
    inside(b, t.me, 0);
    match r {
        Ok(Outcome::Acquired) => {
            set_held(b, t.me, 2);
            true
        }
        Ok(Outcome::TimedOut) if deadline => false,
        other => panic!("wrlock: {other:?}"),
    }
}

fn wrunlock(t: &mut SimThread, b: &Beliefs) {
    set_held(b, t.me, 3);
    if t.user_cas(LOCK, t.tid | WR, 0) != t.tid | WR {
        inside(b, t.me, 2);
        assert_eq!(sync::unlock(t, UserPtr::<Lock>::new(LOCK), SCOPE), Ok(()), "unlock");
        inside(b, t.me, 0);
    }
    set_held(b, t.me, 0);
}

/// cloudlibc's read lock: count up unless write-locked or managed.
fn rdlock(t: &mut SimThread, b: &Beliefs, deadline: bool) -> bool {
    let v = t.user_load(LOCK);
    if v & (WR | KM) == 0 && t.user_cas(LOCK, v, v + 1) == v {
        set_held(b, t.me, 1);
        return true;
    }
    inside(b, t.me, 1);
    let r = sync::rdlock(t, UserPtr::<Lock>::new(LOCK), SCOPE, if deadline { DEADLINE } else { None });
    inside(b, t.me, 0);
    match r {
        Ok(Outcome::Acquired) => {
            set_held(b, t.me, 1);
            true
        }
        Ok(Outcome::TimedOut) if deadline => false,
        other => panic!("rdlock: {other:?}"),
    }
}

/// cloudlibc's read unlock: the last reader of a managed lock makes it a
/// write lock of its own and unlocks through the kernel.
fn rdunlock(t: &mut SimThread, b: &Beliefs) {
    loop {
        let v = t.user_load(LOCK);
        if v == 1 | KM {
            if t.user_cas(LOCK, v, t.tid | WR | KM) == v {
                set_held(b, t.me, 0);
                inside(b, t.me, 2);
                assert_eq!(sync::unlock(t, UserPtr::<Lock>::new(LOCK), SCOPE), Ok(()), "reader unlock");
                inside(b, t.me, 0);
                return;
            }
        } else if t.user_cas(LOCK, v, v - 1) == v {
            set_held(b, t.me, 0);
            return;
        }
    }
}

fn run_op(t: &mut SimThread, b: &Beliefs, op: Op) {
    match op {
        Op::CondWait { cv, deadline } => {
            wrlock(t, b, false);
            // The wait gives the lock up, and holds it again on return.
            set_held(b, t.me, 0);
            inside(b, t.me, 2);
            let r = sync::condvar_wait(
                t,
                UserPtr::<Condvar>::new(CV[cv]),
                SCOPE,
                UserPtr::<Lock>::new(LOCK),
                SCOPE,
                if deadline { DEADLINE } else { None },
            );
            match r {
                Ok(Outcome::Acquired) => {}
                Ok(Outcome::TimedOut) if deadline => {}
                other => panic!("condvar_wait: {other:?}"),
            }
            set_held(b, t.me, 2);
            inside(b, t.me, 0);
            let v = t.user_load(LOCK);
            assert_eq!(v & !KM, t.tid | WR, "lock not held after condvar_wait");
            wrunlock(t, b);
        }
        Op::Signal { cv, n, locked } => {
            if locked {
                wrlock(t, b, false);
            }
            if t.user_load(CV[cv]) != 0 {
                sync::condvar_signal(t, UserPtr::<Condvar>::new(CV[cv]), SCOPE, n).expect("condvar_signal");
            }
            if locked {
                wrunlock(t, b);
            }
        }
        Op::Write { deadline } => {
            if wrlock(t, b, deadline) {
                wrunlock(t, b);
            }
        }
        Op::Read { deadline } => {
            if rdlock(t, b, deadline) {
                rdunlock(t, b);
            }
        }
    }
}

fn check(w: &World, b: &Beliefs, when: &str) {
    for cv in CV {
        if !w.busy.contains_key(&cv) {
            assert_eq!(
                w.word(cv) != 0,
                w.queue_len(cv) > 0,
                "{when}: condvar word {:#x} with {} waiters",
                w.word(cv),
                w.queue_len(cv)
            );
        }
    }
    let v = w.word(LOCK);
    if !w.busy.contains_key(&LOCK) {
        assert_eq!(
            v & KM != 0,
            w.queue_len(LOCK) > 0,
            "{when}: lock word {v:#x} with {} waiters",
            w.queue_len(LOCK)
        );
    }
    let held: Vec<u32> = b.held.iter().map(|h| h.load(Ordering::SeqCst)).collect();
    let ins: Vec<u32> = b.inside.iter().map(|h| h.load(Ordering::SeqCst)).collect();
    let writers: Vec<usize> = (0..held.len()).filter(|&i| held[i] == 2).collect();
    let readers = held.iter().filter(|&&h| h == 1).count() as u32;
    let reading = ins.iter().filter(|&&h| h == 1).count() as u32;
    assert!(writers.len() <= 1, "{when}: two writers {writers:?}");
    if let [t] = writers[..] {
        assert_eq!(readers, 0, "{when}: readers with a writer");
        assert_eq!(v & !KM, w.tids[t] | WR, "{when}: writer {} but word {v:#x}", w.tids[t]);
    } else if v & WR != 0 {
        // Taken (or being given up) inside sys::sync by its owner.
        let owner = (0..held.len()).find(|&i| w.tids[i] == v & VALUE);
        assert!(
            owner.is_some_and(|i| ins[i] == 2 || held[i] == 3),
            "{when}: word {v:#x} names a writer that neither holds it nor is inside sys::sync (held {held:?}, inside {ins:?})"
        );
        assert_eq!(readers, 0, "{when}: readers with a writer");
    } else {
        // Readers that sys::sync counted in have not returned yet.
        let n = v & VALUE;
        assert!(
            readers <= n && n <= readers + reading,
            "{when}: {readers} readers (+{reading} in rdlock) but word {v:#x}"
        );
    }
}

/// The rescuer: runs only when no other thread can (`Sched::lazy`), and
/// then wakes the waiters of a condition variable nobody else will signal
/// (a program may legitimately wait forever). If no condvar word says
/// anybody waits, the threads that cannot go on wait for a lock: a lost
/// wakeup.
fn rescue(t: &mut SimThread, b: &Beliefs, finished: &AtomicU32, others: u32) {
    let (mut idle, mut seen) = (0, 0);
    while finished.load(Ordering::SeqCst) < others {
        let waiting: Vec<usize> = (0..2).filter(|&cv| t.user_load(CV[cv]) != 0).collect();
        for &cv in &waiting {
            run_op(t, b, Op::Signal { cv, n: u32::MAX, locked: true });
        }
        let progress = t.sched.world().progress;
        if !waiting.is_empty() || progress != seen {
            (idle, seen) = (0, progress);
            continue;
        }
        // Nobody else could go on (or it would have run instead), and no
        // condition variable has waiters: unless a timeout is still to
        // come, the others wait for a lock that nobody will give them.
        idle += 1;
        assert!(idle < 1000, "threads cannot go on, and none waits on a condition variable");
    }
}

/// Runs one random sequence; returns the steps taken.
fn sequence(rng: &mut Rng, case: u32) -> u64 {
    let n = 2 + rng.below(3) as usize;
    // Thread n is the rescuer.
    let tids: Vec<u32> = (0..=n as u32).map(|i| 2 + i).collect();
    let programs: Vec<Vec<Op>> =
        (0..n).map(|_| (0..1 + rng.below(4)).map(|_| random_op(rng)).collect()).collect();
    let sched = Sched::new(&tids);
    sched.world().lazy = Some(n);
    let finished = Arc::new(AtomicU32::new(0));
    let beliefs = Arc::new(Beliefs {
        held: (0..=n).map(|_| AtomicU32::new(0)).collect(),
        inside: (0..=n).map(|_| AtomicU32::new(0)).collect(),
    });
    let mut handles = Vec::new();
    for (me, &tid) in tids.iter().enumerate() {
        let program = programs.get(me).cloned();
        let (sched, beliefs, finished) = (sched.clone(), beliefs.clone(), finished.clone());
        handles.push(std::thread::spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut t = SimThread { sched: sched.clone(), me, tid };
                match program {
                    Some(program) => {
                        for op in program {
                            run_op(&mut t, &beliefs, op);
                        }
                        finished.fetch_add(1, Ordering::SeqCst);
                    }
                    None => rescue(&mut t, &beliefs, &finished, n as u32),
                }
            }));
            let failure = r.err().map(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into())
            });
            sched.done(me, failure);
        }));
    }
    let ctx = |w: &World| format!("case {case}, programs {programs:?}, step {}", w.steps);
    loop {
        match sched.schedule(rng) {
            Ok(true) => {}
            Ok(false) => break,
            Err(stuck) => panic!("{}: {stuck}", ctx(&sched.world())),
        }
        // Look once the step has finished.
        let w = sched.settle();
        if let Some(f) = &w.failure {
            panic!("{}: {f}", ctx(&w));
        }
        check(&w, &beliefs, &ctx(&w));
    }
    for h in handles {
        h.join().expect("simulated thread");
    }
    let w = sched.world();
    if let Some(f) = &w.failure {
        panic!("{}: {f}", ctx(&w));
    }
    for a in [LOCK, CV[0], CV[1]] {
        assert_eq!(w.word(a), 0, "{}: word {a:#x} not 0 at the end", ctx(&w));
        assert_eq!(w.queue_len(a), 0, "{}: queue {a:#x} not empty at the end", ctx(&w));
    }
    w.steps
}

#[test]
fn words_stay_exact_under_random_interleavings() {
    const CASES: u32 = 10_000;
    let seed = host_tests::seed::seed();
    println!("sync interleavings: seed {seed} (replay with CLOUDABI_TEST_SEED={seed})");
    let mut rng = Rng(seed);
    let mut steps = 0;
    for case in 0..CASES {
        steps += sequence(&mut rng, case);
    }
    println!("sync interleavings: {CASES} sequences, {steps} steps, invariants checked after each");
}
