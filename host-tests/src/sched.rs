//! A model backend for the lock and condition variable protocol with
//! several threads, under a deterministic scheduler.
//!
//! Each simulated thread runs real `sys::sync` code (and the C library's
//! fast paths on the words) on a host thread of its own, but only one runs
//! at a time: every access to a word and every queue operation is a step
//! that waits for the scheduler's turn. The scheduler picks the next
//! thread at random (from a seed) among those that can go on: a thread
//! asking for a queue lock another holds cannot, a thread asleep in a
//! queue can once a wakeup dequeued it, or, if its wait has a deadline, at
//! any time (its deadline then passes). Time is virtual: a deadline is
//! only "this wait may time out". Between two steps the test can look at
//! the whole state (words, queues, locks) and check invariants.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use abi::{Errno, Scope, Tid};
use sys::backend::{FutexOps, Sleeper, Wait, WaitUntil};

/// A small reproducible random number generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// What a thread waits for the scheduler to let it do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// Not at its first step yet.
    Starting,
    /// An ordinary step (a word access, a queue operation).
    Step,
    QueueLock(u64),
    Sleep {
        addr: u64,
        deadline: bool,
    },
    Done,
}

/// The state the scheduler and the invariants see.
#[derive(Debug, Default)]
pub struct World {
    /// Word values by address.
    pub words: HashMap<u64, u32>,
    /// Queue locks held: address → thread index.
    pub busy: HashMap<u64, usize>,
    /// Queues: address → thread indices, head first.
    pub queues: HashMap<u64, VecDeque<usize>>,
    /// Thread ids by index.
    pub tids: Vec<u32>,
    pending: Vec<Pending>,
    /// The thread allowed to run, if any.
    running: Option<usize>,
    /// How a sleep the scheduler let go ended, per thread.
    outcome: Vec<Option<Wait>>,
    /// A simulated thread's panic message.
    pub failure: Option<String>,
    /// Steps taken.
    pub steps: u64,
    /// A thread that runs only when no other can (a rescuer).
    pub lazy: Option<usize>,
    /// Steps taken by threads other than the lazy one.
    pub progress: u64,
}

impl World {
    pub fn word(&self, addr: u64) -> u32 {
        self.words.get(&addr).copied().unwrap_or(0)
    }

    pub fn queue_len(&self, addr: u64) -> usize {
        self.queues.get(&addr).map_or(0, VecDeque::len)
    }

    fn queued(&self, addr: u64, t: usize) -> bool {
        self.queues.get(&addr).is_some_and(|q| q.contains(&t))
    }
}

pub struct Sched {
    world: Mutex<World>,
    turn: Condvar,
}

impl Sched {
    pub fn new(tids: &[u32]) -> Arc<Sched> {
        let n = tids.len();
        Arc::new(Sched {
            world: Mutex::new(World {
                tids: tids.to_vec(),
                pending: vec![Pending::Starting; n],
                outcome: vec![None; n],
                ..World::default()
            }),
            turn: Condvar::new(),
        })
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until it is thread `me`'s turn for `p`; returns the world,
    /// locked, for the step.
    fn step(&self, me: usize, p: Pending) -> MutexGuard<'_, World> {
        let mut w = self.world();
        w.pending[me] = p;
        if w.running == Some(me) {
            w.running = None;
        }
        self.turn.notify_all();
        while w.running != Some(me) {
            w = self.turn.wait(w).unwrap_or_else(|e| e.into_inner());
        }
        w.pending[me] = Pending::Step;
        w
    }

    /// Thread `me` has finished (or failed with `failure`).
    pub fn done(&self, me: usize, failure: Option<String>) {
        let mut w = self.world();
        w.pending[me] = Pending::Done;
        if let Some(f) = failure {
            w.failure.get_or_insert(f);
        }
        if w.running == Some(me) {
            w.running = None;
        }
        self.turn.notify_all();
    }

    /// Waits until no thread runs, then lets one that can go on run one
    /// step, chosen with `rng`. Returns `false` when every thread is done;
    /// `Err` with the stuck threads when none can go on.
    pub fn schedule(&self, rng: &mut Rng) -> Result<bool, String> {
        let mut w = self.world();
        while w.running.is_some() || w.pending.contains(&Pending::Starting) {
            w = self.turn.wait(w).unwrap_or_else(|e| e.into_inner());
        }
        if w.pending.iter().all(|p| *p == Pending::Done) {
            return Ok(false);
        }
        // Candidates: (thread, outcome of a sleep if it is one). Timeouts
        // are offered less often than other steps.
        let mut ready = Vec::new();
        for (t, p) in w.pending.iter().enumerate() {
            match *p {
                Pending::Done | Pending::Starting => {}
                Pending::Step => ready.push((t, None)),
                Pending::QueueLock(a) => {
                    if !w.busy.contains_key(&a) {
                        ready.push((t, None));
                    }
                }
                Pending::Sleep { addr, deadline } => {
                    if !w.queued(addr, t) {
                        ready.push((t, Some(Wait::Woken)));
                    } else if deadline && rng.below(4) == 0 {
                        ready.push((t, Some(Wait::TimedOut)));
                    }
                }
            }
        }
        if ready.is_empty() {
            // Only timeouts left that we chose not to offer? Offer them.
            for (t, p) in w.pending.iter().enumerate() {
                if let Pending::Sleep { deadline: true, .. } = *p {
                    ready.push((t, Some(Wait::TimedOut)));
                }
            }
        }
        if ready.iter().any(|&(t, _)| Some(t) != w.lazy) {
            let lazy = w.lazy;
            ready.retain(|&(t, _)| Some(t) != lazy);
        }
        if ready.is_empty() {
            return Err(format!("no thread can go on: {:?}, queues {:?}", w.pending, w.queues));
        }
        let (t, outcome) = ready[rng.below(ready.len() as u64) as usize];
        w.outcome[t] = outcome;
        w.running = Some(t);
        w.steps += 1;
        if Some(t) != w.lazy {
            w.progress += 1;
        }
        self.turn.notify_all();
        Ok(true)
    }
}

impl Sched {
    /// Waits until the step the scheduler allowed has finished (the
    /// thread is at its next step or done), and returns the world.
    pub fn settle(&self) -> MutexGuard<'_, World> {
        let mut w = self.world();
        while w.running.is_some() {
            w = self.turn.wait(w).unwrap_or_else(|e| e.into_inner());
        }
        w
    }
}

/// The backend of one simulated thread.
pub struct SimThread {
    pub sched: Arc<Sched>,
    pub me: usize,
    pub tid: u32,
}

impl SimThread {
    /// A user-space compare-and-swap on a word (the C library's fast
    /// paths): one step.
    pub fn user_cas(&self, addr: u64, old: u32, new: u32) -> u32 {
        let mut w = self.sched.step(self.me, Pending::Step);
        let seen = w.word(addr);
        if seen == old {
            w.words.insert(addr, new);
        }
        seen
    }

    /// A user-space load of a word: one step.
    pub fn user_load(&self, addr: u64) -> u32 {
        self.sched.step(self.me, Pending::Step).word(addr)
    }
}

impl FutexOps for SimThread {
    fn current_tid(&mut self) -> Tid {
        Tid::new(self.tid)
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        Ok(self.user_cas(addr, old, new))
    }

    fn queue_lock(&mut self, addr: u64, _: Scope) -> Result<(), Errno> {
        let mut w = self.sched.step(self.me, Pending::QueueLock(addr));
        assert!(!w.busy.contains_key(&addr), "scheduled into a held queue lock");
        assert!(!w.busy.values().any(|&t| t == self.me), "a second queue lock taken");
        w.busy.insert(addr, self.me);
        Ok(())
    }

    fn queue_unlock(&mut self, addr: u64, _: Scope) {
        let mut w = self.sched.step(self.me, Pending::Step);
        assert_eq!(w.busy.remove(&addr), Some(self.me), "unlocking a queue lock not held");
    }

    fn queue_insert(&mut self, addr: u64, _: Scope) -> Result<(), Errno> {
        let mut w = self.sched.step(self.me, Pending::Step);
        assert_eq!(w.busy.get(&addr), Some(&self.me), "queue_insert without the queue lock");
        assert!(!w.queues.values().any(|q| q.contains(&self.me)), "a thread in two queues");
        w.queues.entry(addr).or_default().push_back(self.me);
        Ok(())
    }

    fn queue_remove(&mut self, addr: u64, _: Scope) -> bool {
        let mut w = self.sched.step(self.me, Pending::Step);
        assert_eq!(w.busy.get(&addr), Some(&self.me), "queue_remove without the queue lock");
        let q = w.queues.entry(addr).or_default();
        let before = q.len();
        q.retain(|&t| t != self.me);
        before != q.len()
    }

    fn queue_count(&mut self, addr: u64, _: Scope) -> u32 {
        let w = self.sched.step(self.me, Pending::Step);
        assert_eq!(w.busy.get(&addr), Some(&self.me), "queue_count without the queue lock");
        w.queue_len(addr) as u32
    }

    fn queue_wake(&mut self, addr: u64, _: Scope, n: u32) -> u32 {
        let mut w = self.sched.step(self.me, Pending::Step);
        assert_eq!(w.busy.get(&addr), Some(&self.me), "queue_wake without the queue lock");
        let q = w.queues.entry(addr).or_default();
        let k = q.len().min(n as usize);
        q.drain(..k);
        k as u32
    }

    fn queue_sleep(
        &mut self,
        addr: u64,
        _: Scope,
        until: Option<WaitUntil>,
        _: Sleeper,
    ) -> Result<Wait, Errno> {
        let w = self.sched.step(self.me, Pending::Sleep { addr, deadline: until.is_some() });
        assert!(!w.busy.values().any(|&t| t == self.me), "asleep holding a queue lock");
        Ok(w.outcome[self.me].expect("a sleep let go without an outcome"))
    }
}
