//! The wait queues `sys::sync` builds locks and condition variables on
//! (`FutexOps`), with exact accounting of who waits on each word.
//!
//! A queue is a set of slots in a table, one slot per waiting thread: the
//! word it waits on, its arrival number (FIFO order), and a state word the
//! thread sleeps on with a Linux futex (queued → woken, set by the waker).
//! Queue operations on a word are serialized by one of `BUCKETS` locks,
//! chosen by the word's address (as Linux hashes futexes into buckets),
//! so that the queues of unrelated words (a mutex and the condition
//! variable used with it) do not wait for each other; FreeBSD's in-tree
//! CloudABI futexes (`cloudabi_futex.c`) used one global lock. Slots are
//! claimed with a compare-and-swap (free → claimed), so that claims under
//! different bucket locks cannot take the same slot; a slot becomes queued
//! on a word, and leaves that state, only under the word's bucket lock.
//!
//! Two things keep the bucket locks short and uncontended (measured with
//! `scripts/bench`'s mixed workload: Linux `futex` calls per condition
//! variable handoff went from ~19 to ~4, as many as glibc makes;
//! docs/ARCHITECTURE.md): a waker
//! sets a waiter's state under the lock but makes the `FUTEX_WAKE` only
//! after releasing it (the woken thread's first step is to take the same
//! lock), and a thread that finds a bucket lock taken spins briefly before
//! it sleeps (the lock is held for a few hundred nanoseconds, never across
//! a blocking call).
//!
//! - Process-private words (`Scope::PRIVATE`): a table private to the
//!   process, keyed by address; after `fork` the child empties its copy
//!   (its other threads do not exist there).
//! - Process-shared words (`Scope::SHARED`): a table in shared memory made
//!   when cloudabi-run starts the program, inherited by `proc_fork`
//!   children, keyed by address. `fork` keeps every mapping at the same
//!   address, so memory shared across `proc_fork` holds its words at the
//!   same address in every process of the tree. A process started by
//!   `proc_exec` has a new address space and starts a new table (its
//!   mappings are new too). Each slot records its process, and a slot
//!   whose process has ended (killed while waiting) is dropped when its
//!   queue is next looked at, so an ended waiter does not keep a word
//!   non-zero. Words at the same address in different processes' private
//!   memory that a program nevertheless marks shared would share a queue:
//!   their waiters could then see spurious wakeups (docs/semantics.md).

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use abi::{Clockid, Errno, Scope, Tid};
use sys::backend::{FutexOps, Sleeper, Wait, WaitUntil};

use super::{Linux, last_errno};
use crate::linux::{fault, thread};

const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAKE: i32 = 1;
const FUTEX_PRIVATE_FLAG: i32 = 128;
const FUTEX_CLOCK_REALTIME: i32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = !0;

/// Waiting threads a table holds at most (per process for private words,
/// per process tree for shared ones). A wait beyond it fails with
/// `EAGAIN` rather than lose count.
pub const SLOTS: usize = 4096;

/// Bucket locks per table (a power of two).
const BUCKETS: usize = 64;

/// Times a thread that finds a bucket lock taken checks it again before
/// it sleeps on it, where more than one CPU can run this process (see
/// [`SPIN_LIMIT`]).
const SPINS: u32 = 200;

/// [`SPINS`], or 0 where this process can use only one CPU (then the
/// holder cannot run while another thread spins). Set by [`init`].
static SPIN_LIMIT: AtomicU32 = AtomicU32::new(0);

const FREE: u32 = 0;
const QUEUED: u32 = 1;
const WOKEN: u32 = 2;
/// Taken by a thread that is about to queue on a word (not yet queued).
const CLAIMED: u32 = 3;

#[repr(C)]
struct Slot {
    /// `FREE`, `CLAIMED`, `QUEUED` or `WOKEN`; the owner sleeps on it.
    state: AtomicU32,
    /// The owner's host process (for dropping ended waiters).
    pid: AtomicI32,
    addr: AtomicU64,
    seq: AtomicU64,
}

/// A bucket lock: 0 free, 1 locked, 2 locked with sleepers. One per
/// cache line, so that threads on different buckets do not share one.
#[repr(C, align(64))]
struct Bucket {
    lock: AtomicU32,
}

#[repr(C)]
struct Table {
    buckets: [Bucket; BUCKETS],
    /// Slots ever used: scans stop here (slots are reused lowest first,
    /// so this stays near the most threads that ever waited at once).
    hi: AtomicU32,
    seq: AtomicU64,
    slots: [Slot; SLOTS],
}

struct Mapped {
    table: *mut Table,
    shared: bool,
}

// SAFETY: the table is only accessed through atomics, and changed under
// a bucket lock (or by the owner of a slot through its state).
unsafe impl Send for Mapped {}
// SAFETY: as above.
unsafe impl Sync for Mapped {}

static PRIVATE: OnceLock<Mapped> = OnceLock::new();
static SHARED: OnceLock<Mapped> = OnceLock::new();

/// This host process (`getpid`), kept up to date across `fork` so that
/// queueing does not make a system call for it.
static PID: AtomicI32 = AtomicI32::new(0);

thread_local! {
    /// The slot the calling thread holds: (shared table?, index).
    static MINE: Cell<Option<(bool, usize)>> = const { Cell::new(None) };
    /// Slots woken under a bucket lock whose `FUTEX_WAKE` is still to be
    /// made, once the lock is released: (shared table?, index). Its
    /// capacity is kept, so waking allocates only the first time.
    static PENDING: RefCell<Vec<(bool, usize)>> = const { RefCell::new(Vec::new()) };
}

fn map(shared: bool) -> Result<Mapped, String> {
    let size = std::mem::size_of::<Table>();
    let flags = libc::MAP_ANONYMOUS | if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
    // SAFETY: a fresh anonymous mapping (zero-filled: unlocked buckets and
    // free slots); a shared one is inherited by fork children.
    let p =
        unsafe { libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(format!("wait queue table: {}", std::io::Error::last_os_error()));
    }
    Ok(Mapped { table: p.cast(), shared })
}

fn getpid() -> i32 {
    // SAFETY: getpid has no arguments.
    unsafe { libc::getpid() }
}

/// The CPUs this process may run on (its affinity mask: one system call,
/// where `available_parallelism` also reads cgroup files), 1 if unknown.
fn usable_cpus() -> u32 {
    // SAFETY: an all-zero cpu_set_t is a valid empty set, which
    // sched_getaffinity fills.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the size is the set's own.
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        return 1;
    }
    // SAFETY: CPU_COUNT only reads the set.
    unsafe { libc::CPU_COUNT(&set) as u32 }
}

/// Maps both tables (once per cloudabi-run instance).
pub fn init() -> Result<(), String> {
    PID.store(getpid(), Ordering::Relaxed);
    SPIN_LIMIT.store(if usable_cpus() > 1 { SPINS } else { 0 }, Ordering::Relaxed);
    PRIVATE.set(map(false)?).map_err(|_| "wait queues set up twice".to_string())?;
    SHARED.set(map(true)?).map_err(|_| "wait queues set up twice".to_string())
}

fn table(scope: Scope) -> &'static Mapped {
    let t = if scope == Scope::SHARED { &SHARED } else { &PRIVATE };
    // `init` runs before the guest's first instruction.
    t.get().expect("wait queues not set up")
}

fn futex_op(m: &Mapped, base: i32) -> i32 {
    if m.shared { base } else { base | FUTEX_PRIVATE_FLAG }
}

fn wake_word(m: &Mapped, word: &AtomicU32, n: i32) {
    // SAFETY: FUTEX_WAKE on a word of our table.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), futex_op(m, FUTEX_WAKE), n, 0usize, 0usize, 0u32)
    };
}

fn wait_word(m: &Mapped, word: &AtomicU32, expected: u32, until: Option<WaitUntil>) -> Result<(), Errno> {
    let mut o = futex_op(m, FUTEX_WAIT_BITSET);
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
    // SAFETY: FUTEX_WAIT_BITSET on a word of our table with an absolute
    // timeout (or none).
    let r = unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), o, expected, tsp, 0usize, FUTEX_BITSET_MATCH_ANY)
    };
    if r == 0 { Ok(()) } else { Err(last_errno()) }
}

/// The bucket of the word at `addr` (words are 4-byte aligned).
fn bucket_of(addr: u64) -> usize {
    ((addr >> 2).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - BUCKETS.trailing_zeros())) as usize
}

impl Mapped {
    fn t(&self) -> &Table {
        // SAFETY: the mapping lives as long as the process; shared access
        // goes through atomics or under a bucket lock.
        unsafe { &*self.table }
    }

    /// The slots in use so far.
    fn slots(&self) -> &[Slot] {
        let hi = (self.t().hi.load(Ordering::Acquire) as usize).min(SLOTS);
        &self.t().slots[..hi]
    }

    fn lock_word(&self, word: &AtomicU32) {
        if word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            return;
        }
        for _ in 0..SPIN_LIMIT.load(Ordering::Relaxed) {
            std::hint::spin_loop();
            if word.load(Ordering::Relaxed) == 0
                && word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                return;
            }
        }
        while word.swap(2, Ordering::Acquire) != 0 {
            let _ = wait_word(self, word, 2, None);
        }
    }

    fn unlock_word(&self, word: &AtomicU32) {
        if word.swap(0, Ordering::Release) == 2 {
            wake_word(self, word, 1);
        }
    }

    fn lock(&self, addr: u64) {
        self.lock_word(&self.t().buckets[bucket_of(addr)].lock);
    }

    /// Releases the bucket lock, then makes the wakeups decided under it.
    fn unlock(&self, addr: u64) {
        self.unlock_word(&self.t().buckets[bucket_of(addr)].lock);
        PENDING.with(|p| {
            for (shared, i) in p.borrow_mut().drain(..) {
                // The slot may have been freed, or even queued again by
                // another thread, meanwhile: a sleeper rechecks its state
                // after every wakeup, so an extra one is harmless.
                let m = if shared { &SHARED } else { &PRIVATE };
                if let Some(m) = m.get() {
                    wake_word(m, &m.t().slots[i].state, 1);
                }
            }
        });
    }

    /// Bucket lock of `addr` held: the queued slots of `addr`, dropping
    /// those whose process has ended (shared table only). A slot queued on
    /// `addr` stays so while the lock is held; a slot of another word
    /// that changes meanwhile never shows `addr` (it would have to be
    /// queued on `addr`, which takes this lock).
    fn queued(&self, addr: u64) -> impl Iterator<Item = usize> + '_ {
        let shared = self.shared;
        self.slots().iter().enumerate().filter_map(move |(i, s)| {
            if s.state.load(Ordering::Acquire) != QUEUED || s.addr.load(Ordering::Relaxed) != addr {
                return None;
            }
            if shared && !alive(s.pid.load(Ordering::Relaxed)) {
                s.state.store(FREE, Ordering::Release);
                return None;
            }
            Some(i)
        })
    }

    /// Takes a free slot (free → claimed), the lowest one possible.
    fn claim(&self) -> Result<usize, Errno> {
        let t = self.t();
        loop {
            let hi = (t.hi.load(Ordering::Acquire) as usize).min(SLOTS);
            let mine = t.slots[..hi].iter().position(|s| {
                s.state.load(Ordering::Relaxed) == FREE
                    && s.state.compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed).is_ok()
            });
            if let Some(i) = mine {
                return Ok(i);
            }
            if hi >= SLOTS {
                return Err(Errno::AGAIN);
            }
            // One more slot comes into use; others may claim it as well
            // once `hi` shows it, so it is claimed like any other.
            if t.hi.compare_exchange(hi as u32, hi as u32 + 1, Ordering::AcqRel, Ordering::Relaxed).is_ok()
                && t.slots[hi]
                    .state
                    .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Ok(hi);
            }
        }
    }
}

/// Whether host process `pid` still exists.
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() != libc::ESRCH }
}

/// Before `fork`: holds every bucket lock of the private table, so that
/// the child's copy is consistent.
pub fn before_fork() {
    if let Some(m) = PRIVATE.get() {
        for b in &m.t().buckets {
            m.lock_word(&b.lock);
        }
    }
}

/// After `fork`, in the parent: releases what `before_fork` took.
pub fn after_fork_parent() {
    if let Some(m) = PRIVATE.get() {
        for b in &m.t().buckets {
            m.unlock_word(&b.lock);
        }
    }
}

/// After `fork`, in the child: its only thread waits nowhere, so its
/// private queues are empty.
pub fn after_fork_child() {
    PID.store(getpid(), Ordering::Relaxed);
    if let Some(m) = PRIVATE.get() {
        for s in m.slots().iter() {
            s.state.store(FREE, Ordering::Relaxed);
        }
        m.t().hi.store(0, Ordering::Relaxed);
        for b in &m.t().buckets {
            b.lock.store(0, Ordering::Release);
        }
    }
    MINE.with(|c| c.set(None));
    PENDING.with(|p| p.borrow_mut().clear());
}

/// The queue operations of [`FutexOps`], for whichever thread calls them
/// (`Linux` below; the tests drive them from host threads).
mod queue {
    use super::*;

    pub fn lock(addr: u64, scope: Scope) {
        table(scope).lock(addr);
    }

    pub fn unlock(addr: u64, scope: Scope) {
        table(scope).unlock(addr);
    }

    pub fn insert(addr: u64, scope: Scope) -> Result<(), Errno> {
        let m = table(scope);
        let i = m.claim()?;
        let seq = m.t().seq.fetch_add(1, Ordering::Relaxed);
        let s = &m.t().slots[i];
        s.pid.store(PID.load(Ordering::Relaxed), Ordering::Relaxed);
        s.addr.store(addr, Ordering::Relaxed);
        s.seq.store(seq, Ordering::Relaxed);
        s.state.store(QUEUED, Ordering::Release);
        MINE.with(|c| c.set(Some((m.shared, i))));
        Ok(())
    }

    pub fn remove(scope: Scope) -> bool {
        let m = table(scope);
        let Some((shared, i)) = MINE.with(|c| c.take()) else { return false };
        debug_assert_eq!(shared, m.shared);
        m.t().slots[i].state.swap(FREE, Ordering::AcqRel) == QUEUED
    }

    pub fn count(addr: u64, scope: Scope) -> u32 {
        table(scope).queued(addr).count() as u32
    }

    pub fn wake(addr: u64, scope: Scope, n: u32) -> u32 {
        let m = table(scope);
        let slot_seq = |i: usize| m.t().slots[i].seq.load(Ordering::Relaxed);
        let mut woken = 0;
        let mut wake_one = |i: usize| {
            m.t().slots[i].state.store(WOKEN, Ordering::Release);
            PENDING.with(|p| p.borrow_mut().push((m.shared, i)));
            woken += 1;
        };
        // Oldest first. One waiter (a signal, an unlock) is the common
        // case: found in one pass, without sorting or allocating.
        if n == 1 {
            if let Some(i) = m.queued(addr).min_by_key(|&i| slot_seq(i)) {
                wake_one(i);
            }
        } else {
            let mut q: Vec<(u64, usize)> = m.queued(addr).map(|i| (slot_seq(i), i)).collect();
            q.sort_unstable();
            q.into_iter().take(n as usize).for_each(|(_, i)| wake_one(i));
        }
        woken
    }

    pub fn sleep(scope: Scope, until: Option<WaitUntil>) -> Result<Wait, Errno> {
        let m = table(scope);
        let Some((_, i)) = MINE.with(|c| c.get()) else { return Ok(Wait::Woken) };
        let state = &m.t().slots[i].state;
        loop {
            if state.load(Ordering::Acquire) != QUEUED {
                return Ok(Wait::Woken);
            }
            match wait_word(m, state, QUEUED, until) {
                Ok(()) | Err(Errno::AGAIN) | Err(Errno::INTR) => {}
                Err(Errno::TIMEDOUT) => return Ok(Wait::TimedOut),
                Err(e) => return Err(e),
            }
        }
    }
}

/// The queue methods of a [`FutexOps`] implementation, all answered by
/// [`queue`] (shared by `Linux` and the tests' host-thread backend, which
/// differ only in the thread id and the compare-and-swap).
macro_rules! queue_methods {
    () => {
        fn queue_lock(&mut self, addr: u64, scope: Scope) -> Result<(), Errno> {
            queue::lock(addr, scope);
            Ok(())
        }

        fn queue_unlock(&mut self, addr: u64, scope: Scope) {
            queue::unlock(addr, scope);
        }

        fn queue_insert(&mut self, addr: u64, scope: Scope) -> Result<(), Errno> {
            queue::insert(addr, scope)
        }

        fn queue_remove(&mut self, _: u64, scope: Scope) -> bool {
            queue::remove(scope)
        }

        fn queue_count(&mut self, addr: u64, scope: Scope) -> u32 {
            queue::count(addr, scope)
        }

        fn queue_wake(&mut self, addr: u64, scope: Scope, n: u32) -> u32 {
            queue::wake(addr, scope, n)
        }

        fn queue_sleep(
            &mut self,
            _: u64,
            scope: Scope,
            until: Option<WaitUntil>,
            _: Sleeper,
        ) -> Result<Wait, Errno> {
            queue::sleep(scope, until)
        }
    };
}

impl FutexOps for Linux {
    fn current_tid(&mut self) -> Tid {
        Tid::new(thread::current_tid())
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        fault::cas32(addr, old, new).map_err(|()| Errno::FAULT)
    }

    queue_methods!();
}

#[cfg(test)]
mod tests;
