//! The wait queues `sys::sync` builds locks and condition variables on
//! (`FutexOps`), with exact accounting of who waits on each word.
//!
//! A queue is a set of slots in a table, one slot per waiting thread: the
//! word it waits on, its arrival number (FIFO order), and a state word the
//! thread sleeps on with a Linux futex (queued → woken, set by the waker).
//! One lock per table serializes every queue operation, as FreeBSD's
//! in-tree CloudABI futexes (`cloudabi_futex.c`) used one global lock.
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

use std::cell::Cell;
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

const FREE: u32 = 0;
const QUEUED: u32 = 1;
const WOKEN: u32 = 2;

#[repr(C)]
struct Slot {
    /// `FREE`, `QUEUED` or `WOKEN`; the owner sleeps on it.
    state: AtomicU32,
    /// The owner's host process (for dropping ended waiters).
    pid: AtomicI32,
    addr: AtomicU64,
    seq: AtomicU64,
}

#[repr(C)]
struct Table {
    /// 0 free, 1 locked, 2 locked with sleepers.
    lock: AtomicU32,
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
// its lock (or by the owner of a slot through its state).
unsafe impl Send for Mapped {}
// SAFETY: as above.
unsafe impl Sync for Mapped {}

static PRIVATE: OnceLock<Mapped> = OnceLock::new();
static SHARED: OnceLock<Mapped> = OnceLock::new();

thread_local! {
    /// The slot the calling thread holds: (shared table?, index).
    static MINE: Cell<Option<(bool, usize)>> = const { Cell::new(None) };
}

fn map(shared: bool) -> Result<Mapped, String> {
    let size = std::mem::size_of::<Table>();
    let flags = libc::MAP_ANONYMOUS | if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
    // SAFETY: a fresh anonymous mapping (zero-filled: an unlocked table of
    // free slots); a shared one is inherited by fork children.
    let p =
        unsafe { libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(format!("wait queue table: {}", std::io::Error::last_os_error()));
    }
    Ok(Mapped { table: p.cast(), shared })
}

/// Maps both tables (once per cloudabi-run instance).
pub fn init() -> Result<(), String> {
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

impl Mapped {
    fn t(&self) -> &Table {
        // SAFETY: the mapping lives as long as the process; shared access
        // goes through atomics or under the lock.
        unsafe { &*self.table }
    }

    /// The slots in use so far (lock held).
    fn slots(&self) -> &[Slot] {
        let hi = (self.t().hi.load(Ordering::Relaxed) as usize).min(SLOTS);
        &self.t().slots[..hi]
    }

    fn lock(&self) {
        let word = &self.t().lock;
        if word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            while word.swap(2, Ordering::Acquire) != 0 {
                let _ = wait_word(self, word, 2, None);
            }
        }
    }

    fn unlock(&self) {
        let word = &self.t().lock;
        if word.swap(0, Ordering::Release) == 2 {
            wake_word(self, word, 1);
        }
    }

    /// Lock held: the queued slots of `addr`, dropping those whose process
    /// has ended (shared table only).
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
}

/// Whether host process `pid` still exists.
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() != libc::ESRCH }
}

/// Before `fork`: holds the private table's lock, so that the child's copy
/// is consistent.
pub fn before_fork() {
    if let Some(m) = PRIVATE.get() {
        m.lock();
    }
}

/// After `fork`, in the parent: releases what `before_fork` took.
pub fn after_fork_parent() {
    if let Some(m) = PRIVATE.get() {
        m.unlock();
    }
}

/// After `fork`, in the child: its only thread waits nowhere, so its
/// private queues are empty.
pub fn after_fork_child() {
    if let Some(m) = PRIVATE.get() {
        for s in m.slots().iter() {
            s.state.store(FREE, Ordering::Relaxed);
        }
        m.t().hi.store(0, Ordering::Relaxed);
        m.t().lock.store(0, Ordering::Release);
    }
    MINE.with(|c| c.set(None));
}

impl FutexOps for Linux {
    fn current_tid(&mut self) -> Tid {
        Tid::new(thread::current_tid())
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        fault::cas32(addr, old, new).map_err(|()| Errno::FAULT)
    }

    fn queue_lock(&mut self, _: u64, scope: Scope) -> Result<(), Errno> {
        table(scope).lock();
        Ok(())
    }

    fn queue_unlock(&mut self, _: u64, scope: Scope) {
        table(scope).unlock();
    }

    fn queue_insert(&mut self, addr: u64, scope: Scope) -> Result<(), Errno> {
        let m = table(scope);
        let free = m.slots().iter().position(|s| s.state.load(Ordering::Acquire) == FREE);
        let i = match free {
            Some(i) => i,
            None => {
                // Lock held: one more slot comes into use.
                let hi = m.t().hi.load(Ordering::Relaxed) as usize;
                if hi >= SLOTS {
                    return Err(Errno::AGAIN);
                }
                m.t().hi.store(hi as u32 + 1, Ordering::Relaxed);
                hi
            }
        };
        let seq = m.t().seq.fetch_add(1, Ordering::Relaxed);
        let s = &m.slots()[i];
        // SAFETY: getpid has no arguments.
        s.pid.store(unsafe { libc::getpid() }, Ordering::Relaxed);
        s.addr.store(addr, Ordering::Relaxed);
        s.seq.store(seq, Ordering::Relaxed);
        s.state.store(QUEUED, Ordering::Release);
        MINE.with(|c| c.set(Some((m.shared, i))));
        Ok(())
    }

    fn queue_remove(&mut self, _: u64, scope: Scope) -> bool {
        let m = table(scope);
        let Some((shared, i)) = MINE.with(|c| c.take()) else { return false };
        debug_assert_eq!(shared, m.shared);
        m.slots()[i].state.swap(FREE, Ordering::AcqRel) == QUEUED
    }

    fn queue_count(&mut self, addr: u64, scope: Scope) -> u32 {
        table(scope).queued(addr).count() as u32
    }

    fn queue_wake(&mut self, addr: u64, scope: Scope, n: u32) -> u32 {
        let m = table(scope);
        let mut q: Vec<(u64, usize)> =
            m.queued(addr).map(|i| (m.slots()[i].seq.load(Ordering::Relaxed), i)).collect();
        q.sort_unstable();
        let mut woken = 0;
        for &(_, i) in q.iter().take(n as usize) {
            let s = &m.slots()[i];
            s.state.store(WOKEN, Ordering::Release);
            wake_word(m, &s.state, 1);
            woken += 1;
        }
        woken
    }

    fn queue_sleep(
        &mut self,
        _: u64,
        scope: Scope,
        until: Option<WaitUntil>,
        _: Sleeper,
    ) -> Result<Wait, Errno> {
        let m = table(scope);
        let Some((_, i)) = MINE.with(|c| c.get()) else { return Ok(Wait::Woken) };
        let state = &m.slots()[i].state;
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
