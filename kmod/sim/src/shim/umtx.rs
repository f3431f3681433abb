//! The umtx primitives the module's lock/condvar protocol runs on
//! (sys/kern/kern_umtx.c, sys/sys/umtxvar.h): keys, hash chains with a
//! mutex and a busy flag, wait queues of `struct umtx_q` entries, sleeps
//! with absolute timeouts, `casueword32`.
//!
//! A key is the user address (one process: `THREAD_SHARE` and
//! `AUTO_SHARE` meet on the same address), or, for a word in a
//! `MAP_SHARED` page with `AUTO_SHARE`/`PROCESS_SHARE`, the shared memory
//! object and offset, as FreeBSD's `umtx_key_get` keys such words by VM
//! object and offset (`key->shared = 1`, `info.shared.object/offset`):
//! the host's shmem inode and the page's offset in it, so processes
//! forked from one another meet on them. Private keys use per-process
//! chains; shared keys use chains, busy flags and a wait table in memory
//! shared by every process of the run (created before the first fork).
//! The chain is picked by hash; a queued entry has `UQF_UMTXQ` in
//! `uq_flags` until it is removed (by `umtxq_signal_mask` or the waiter;
//! a waiter in another process notices its wake-up in the shared table
//! and clears its own flag). `umtxq_sleep` is entered and
//! left with the chain locked; it returns 0 as soon as the entry is no
//! longer queued, `ETIMEDOUT` when the deadline passes, `ERESTART` when
//! the process is exiting (another thread's exit1 single-threads it).
//! Held chain mutexes, busy flags and key references are counted per
//! thread and must balance at the end of every syscall.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::account;
use crate::kernel::{get, put};

const CHAINS: usize = 512;
const CHAIN_SIZE: usize = 64;
/// `MTX_UNOWNED` (sys/mutex.h).
const MTX_UNOWNED: usize = 0x4;

/// The chains: lock word at the module's `UMTXQ_CHAIN_LOCK_COOKIE`.
struct Chains {
    mem: usize,
    busy: Vec<bool>,
    /// Queued entries: (chain, key address, uq).
    queue: Vec<(usize, usize, usize)>,
}

static STATE: Mutex<Option<Chains>> = Mutex::new(None);
/// Sleepers wait here; every wakeup and every busy release notifies all.
static SLEEPQ: Mutex<()> = Mutex::new(());
static WAKE: Condvar = Condvar::new();
static SERIAL: AtomicUsize = AtomicUsize::new(1);

fn with<R>(f: impl FnOnce(&mut Chains) -> R) -> R {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let c = g.get_or_insert_with(|| {
        let mem = crate::kernel::kzalloc(CHAINS * CHAIN_SIZE) as usize;
        for i in 0..CHAINS {
            // SAFETY: inside the fresh chain array.
            unsafe { put((mem + i * CHAIN_SIZE) as *mut u8, UMTXQ_CHAIN_LOCK_COOKIE, MTX_UNOWNED) };
        }
        Chains { mem, busy: vec![false; CHAINS], queue: Vec::new() }
    });
    f(c)
}

fn chain_of(addr: usize) -> usize {
    (addr >> 2) % CHAINS
}

fn notify() {
    let _g = SLEEPQ.lock().unwrap_or_else(|e| e.into_inner());
    WAKE.notify_all();
}

/// The owner a held chain mutex records: the host thread ID, unique
/// across the run's processes (a forked child's `curthread` is its
/// parent's address).
fn owner() -> usize {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as usize }
}

/// Waiters queued on shared keys, at most (the run stops beyond).
const MAX_WAITERS: usize = 256;

/// A waiter on a shared key: `state` 0 free, 1 queued, 2 woken (by
/// `umtxq_signal_mask`, possibly in another process; the waiter frees it).
#[repr(C)]
struct Waiter {
    state: AtomicU32,
    bitset: u32,
    pid: i32,
    chain: u32,
    object: u64,
    offset: u64,
    uq: u64,
    seq: u64,
}

/// What processes share: the chains of shared keys (lock word at
/// `UMTXQ_CHAIN_LOCK_COOKIE`), their busy flags and the waiters.
#[repr(C)]
pub(super) struct SharedArea {
    chains: [[u64; CHAIN_SIZE / 8]; CHAINS],
    busy: [AtomicU32; CHAINS],
    table_lock: AtomicU32,
    seq: AtomicU64,
    waiters: [Waiter; MAX_WAITERS],
}

/// Waits queued on shared keys by this process (for the stats line).
pub static SHARED_WAITS: AtomicU32 = AtomicU32::new(0);

static SHARED_AREA: AtomicPtr<SharedArea> = AtomicPtr::new(std::ptr::null_mut());

/// The shared area, made (`MAP_SHARED | MAP_ANONYMOUS`, inherited by
/// forks) on first use; `fork1` makes it before the first fork.
pub(super) fn shared_area() -> &'static SharedArea {
    let mut p = SHARED_AREA.load(Ordering::Acquire);
    if p.is_null() {
        // SAFETY: a new shared anonymous mapping, zeroed, never unmapped.
        let m = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size_of::<SharedArea>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if m == libc::MAP_FAILED {
            crate::fatal("mmap of the shared umtx area failed");
        }
        p = m.cast();
        for i in 0..CHAINS {
            // SAFETY: inside the fresh area.
            unsafe { put((*p).chains[i].as_mut_ptr().cast(), UMTXQ_CHAIN_LOCK_COOKIE, MTX_UNOWNED) };
        }
        SHARED_AREA.store(p, Ordering::Release);
    }
    // SAFETY: the area lives for the rest of the run.
    unsafe { &*p }
}

/// Runs `f` on the waiter table with its spin lock held.
fn with_waiters<R>(f: impl FnOnce(&SharedArea) -> R) -> R {
    let a = shared_area();
    while a.table_lock.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
        std::thread::yield_now();
    }
    let r = f(a);
    a.table_lock.store(0, Ordering::Release);
    r
}

/// Where a key's word is: a private address, or a shared object and
/// offset (the key's `info` words when `shared` is 1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Loc {
    Private(usize),
    Shared(u64, u64),
}

fn loc(key: *const UmtxKey) -> Loc {
    // SAFETY: a key filled by umtx_key_get.
    let k = unsafe { &*key };
    if k.shared == 1 { Loc::Shared(k.info[0] as u64, k.info[1] as u64) } else { Loc::Private(k.info[1]) }
}

fn uq_loc(uq: usize) -> Loc {
    loc((uq + UMTX_Q_UQ_KEY) as *const UmtxKey)
}

/// The chain of a location: (shared?, index).
fn chain_index(l: Loc) -> (bool, usize) {
    match l {
        Loc::Private(a) => (false, chain_of(a)),
        Loc::Shared(o, off) => (true, ((o ^ o >> 17 ^ off >> 2) % CHAINS as u64) as usize),
    }
}

/// The memory object and offset of a user word in a `MAP_SHARED` page
/// (/proc/self/maps: the host shmem inode, with its device, and the
/// mapping's file offset), or `None` if the host cannot tell.
fn shared_object(a: usize) -> Option<(u64, u64)> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (range, perms, off, dev, ino) = (f.first()?, f.get(1)?, f.get(2)?, f.get(3)?, f.get(4)?);
        let (lo, hi) = range.split_once('-')?;
        let (lo, hi) = (usize::from_str_radix(lo, 16).ok()?, usize::from_str_radix(hi, 16).ok()?);
        if !(lo..hi).contains(&a) {
            continue;
        }
        if !perms.ends_with('s') {
            return None;
        }
        let (maj, min) = dev.split_once(':')?;
        let (maj, min) = (u64::from_str_radix(maj, 16).ok()?, u64::from_str_radix(min, 16).ok()?);
        let ino: u64 = ino.parse().ok()?;
        if ino >> 48 != 0 || maj > 0xff || min > 0xff {
            return None;
        }
        let object = maj << 56 | min << 48 | ino;
        return Some((object, u64::from_str_radix(off, 16).ok()? + (a - lo) as u64));
    }
    None
}

/// `umtx_key_get`: the key of a user word (`EFAULT` unless it is mapped);
/// counted until `umtx_key_release`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtx_key_get(
    addr: *const c_void,
    ty: c_int,
    share: c_int,
    key: *mut UmtxKey,
) -> c_int {
    let a = addr as usize;
    if !crate::kernel::is_user_range(a, 4) || !super::uvm::check(a, 4, libc::PROT_READ) {
        return EFAULT;
    }
    // PROCESS_SHARE, or AUTO_SHARE of a word in an inherit-shared
    // mapping: keyed by object and offset (kern_umtx.c umtx_key_get).
    let object = if share != THREAD_SHARE && super::uvm::is_shared(a) {
        match shared_object(a) {
            Some(o) => Some(o),
            None => super::unimplemented_kpi("umtx_key_get of a shared word the host cannot name"),
        }
    } else {
        None
    };
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the caller's key.
    unsafe {
        *key = match object {
            Some((o, off)) => {
                UmtxKey { hash: serial as c_int, type_: ty, shared: 1, info: [o as usize, off as usize] }
            }
            None => UmtxKey { hash: serial as c_int, type_: ty, shared: 0, info: [0, a] },
        };
    }
    account::take("umtx key", serial & 0x7fff_ffff, format!("a umtx key for {a:#x}"));
    0
}

/// `umtx_key_release`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtx_key_release(key: *mut UmtxKey) {
    // SAFETY: a key from umtx_key_get.
    let serial = unsafe { (*key).hash } as usize;
    account::give("umtx key", serial & 0x7fff_ffff);
}

/// The chain of `l`.
fn chain_ptr(l: Loc) -> *mut c_void {
    match chain_index(l) {
        (false, i) => with(|c| (c.mem + i * CHAIN_SIZE) as *mut c_void),
        (true, i) => shared_area().chains[i].as_ptr().cast_mut().cast(),
    }
}

/// `umtxq_getchain`: the key's hash chain (a shared key's in the shared
/// area).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_getchain(key: *mut UmtxKey) -> *mut c_void {
    chain_ptr(loc(key))
}

fn word(cookie: *mut usize) -> &'static AtomicUsize {
    // SAFETY: a chain's lock word (module contract).
    unsafe { &*(cookie as *const AtomicUsize) }
}

/// `__mtx_lock_flags` (`mtx_lock`): spins until the mutex is free;
/// recursion panics (the chain mutexes are not recursive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __mtx_lock_flags(c: *mut usize, _opts: c_int, _file: *const c_char, _line: c_int) {
    let me = owner();
    loop {
        match word(c).compare_exchange(MTX_UNOWNED, me, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => break,
            Err(o) if o == me => crate::fatal("panic: __mtx_lock_flags: recursed on a non-recursive mutex"),
            Err(_) => std::thread::yield_now(),
        }
    }
    account::take("mtx held", c as usize, "a held umtx chain mutex");
}

/// `__mtx_unlock_flags` (`mtx_unlock`): the owner releases it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __mtx_unlock_flags(c: *mut usize, _opts: c_int, _file: *const c_char, _line: c_int) {
    let me = owner();
    account::give("mtx held", c as usize);
    if word(c).compare_exchange(me, MTX_UNOWNED, Ordering::Release, Ordering::Relaxed).is_err() {
        crate::fatal("panic: __mtx_unlock_flags: not owned by curthread");
    }
}

fn assert_locked(l: Loc) {
    // SAFETY: the chain's lock word.
    if word(chain_cookie(l)).load(Ordering::Relaxed) != owner() {
        crate::fatal("panic: umtxq: chain not locked by curthread (UMTXQ_LOCKED_ASSERT)");
    }
}

fn chain_cookie(l: Loc) -> *mut usize {
    (chain_ptr(l) as usize + UMTXQ_CHAIN_LOCK_COOKIE) as *mut usize
}

/// Sets the chain's busy flag; whether it was clear.
fn try_busy(l: Loc) -> bool {
    match chain_index(l) {
        (false, i) => with(|c| !std::mem::replace(&mut c.busy[i], true)),
        (true, i) => shared_area().busy[i].swap(1, Ordering::AcqRel) == 0,
    }
}

/// Clears the chain's busy flag; whether it was set.
fn unbusy(l: Loc) -> bool {
    match chain_index(l) {
        (false, i) => with(|c| std::mem::replace(&mut c.busy[i], false)),
        (true, i) => shared_area().busy[i].swap(0, Ordering::AcqRel) == 1,
    }
}

/// The accounting key of a chain's busy flag.
fn busy_id(l: Loc) -> usize {
    match chain_index(l) {
        (false, i) => i,
        (true, i) => CHAINS + i,
    }
}

/// `umtxq_busy`: with the chain locked, waits (dropping the lock) until
/// the chain is not busy, then marks it busy.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_busy(key: *mut UmtxKey) {
    let l = loc(key);
    assert_locked(l);
    loop {
        if try_busy(l) {
            break;
        }
        let cookie = chain_cookie(l);
        let g = SLEEPQ.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: our own chain lock, released while waiting.
        unsafe { __mtx_unlock_flags(cookie, 0, std::ptr::null(), 0) };
        drop(WAKE.wait_timeout(g, Duration::from_millis(10)));
        // SAFETY: as above.
        unsafe { __mtx_lock_flags(cookie, 0, std::ptr::null(), 0) };
    }
    account::take("umtx chain busy", busy_id(l), "a busied umtx chain");
}

/// `umtxq_unbusy_unlocked`: clears the busy flag (taking the chain lock)
/// and wakes whoever waits for it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_unbusy_unlocked(key: *mut UmtxKey) {
    let l = loc(key);
    let cookie = chain_cookie(l);
    // SAFETY: the chain lock.
    unsafe { __mtx_lock_flags(cookie, 0, std::ptr::null(), 0) };
    if !unbusy(l) {
        crate::fatal("panic: umtxq_unbusy: chain not busy");
    }
    account::give("umtx chain busy", busy_id(l));
    // SAFETY: as above.
    unsafe { __mtx_unlock_flags(cookie, 0, std::ptr::null(), 0) };
    notify();
}

fn uq_flags(uq: usize) -> &'static AtomicU32 {
    // SAFETY: a thread's umtx_q block.
    unsafe { &*((uq + UMTX_Q_UQ_FLAGS) as *const AtomicU32) }
}

/// `umtxq_insert_queue`: queues the thread's entry (its key is in
/// `uq_key`); sets `UQF_UMTXQ`. Chain locked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_insert_queue(uq: *mut c_void, q: c_int) {
    if q != UMTX_SHARED_QUEUE {
        super::unimplemented_kpi("umtxq_insert_queue of the exclusive queue");
    }
    let l = uq_loc(uq as usize);
    assert_locked(l);
    if uq_flags(uq as usize).load(Ordering::Relaxed) & UQF_UMTXQ as u32 != 0 {
        crate::fatal("panic: umtxq_insert_queue: already queued");
    }
    uq_flags(uq as usize).fetch_or(UQF_UMTXQ as u32, Ordering::Relaxed);
    match l {
        Loc::Private(a) => with(|c| c.queue.push((chain_of(a), a, uq as usize))),
        Loc::Shared(object, offset) => {
            // SAFETY: the thread's umtx_q; its bitset is set before it is
            // queued (the module's futex code, access::set_uq_bitset).
            let bitset: u32 = unsafe { get(uq as *const u8, UMTX_Q_UQ_BITSET) };
            // SAFETY: our own pid.
            let pid = unsafe { libc::getpid() };
            let placed = with_waiters(|a| {
                let w = a.waiters.iter().find(|w| w.state.load(Ordering::Relaxed) == 0)?;
                let seq = a.seq.fetch_add(1, Ordering::Relaxed);
                let w = (w as *const Waiter).cast_mut();
                // SAFETY: a free entry, written under the table lock.
                unsafe {
                    (*w).bitset = bitset;
                    (*w).pid = pid;
                    (*w).chain = chain_index(l).1 as u32;
                    (*w).object = object;
                    (*w).offset = offset;
                    (*w).uq = uq as u64;
                    (*w).seq = seq;
                    (*w).state.store(1, Ordering::Release);
                }
                Some(())
            });
            SHARED_WAITS.fetch_add(1, Ordering::Relaxed);
            if placed.is_none() {
                super::unimplemented_kpi("umtxq_insert_queue beyond 256 waiters on shared keys");
            }
        }
    }
}

/// This process's entry for `uq` in the shared table (any state).
fn my_waiter(a: &SharedArea, uq: usize) -> Option<&Waiter> {
    // SAFETY: our own pid.
    let pid = unsafe { libc::getpid() };
    a.waiters.iter().find(|w| w.state.load(Ordering::Acquire) != 0 && w.pid == pid && w.uq == uq as u64)
}

/// `umtxq_remove_queue`: dequeues the entry; clears `UQF_UMTXQ`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_remove_queue(uq: *mut c_void, _q: c_int) {
    let l = uq_loc(uq as usize);
    assert_locked(l);
    match l {
        Loc::Private(_) => with(|c| c.queue.retain(|&(_, _, u)| u != uq as usize)),
        Loc::Shared(..) => with_waiters(|a| {
            if let Some(w) = my_waiter(a, uq as usize) {
                w.state.store(0, Ordering::Release);
            }
        }),
    }
    uq_flags(uq as usize).fetch_and(!(UQF_UMTXQ as u32), Ordering::Relaxed);
}

/// `umtxq_count`: entries queued on the key. Chain locked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_count(key: *mut UmtxKey) -> c_int {
    let l = loc(key);
    assert_locked(l);
    match l {
        Loc::Private(a) => with(|c| c.queue.iter().filter(|&&(_, k, _)| k == a).count() as c_int),
        Loc::Shared(o, off) => with_waiters(|a| {
            a.waiters
                .iter()
                .filter(|w| w.state.load(Ordering::Acquire) == 1 && w.object == o && w.offset == off)
                .count() as c_int
        }),
    }
}

/// `umtxq_signal_mask`: dequeues and wakes up to `n` entries of the key
/// whose `uq_bitset` meets `bitset`, from the head; returns how many.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_signal_mask(key: *mut UmtxKey, n: c_int, bitset: u32) -> c_int {
    let l = loc(key);
    assert_locked(l);
    let Loc::Private(a) = l else {
        return signal_shared(l, n, bitset);
    };
    let woken: Vec<usize> = with(|c| {
        let mut out = Vec::new();
        c.queue.retain(|&(_, k, uq)| {
            // SAFETY: a queued thread's umtx_q.
            let bits: u32 = unsafe { get(uq as *const u8, UMTX_Q_UQ_BITSET) };
            if k == a && out.len() < n.max(0) as usize && bits & bitset != 0 {
                out.push(uq);
                false
            } else {
                true
            }
        });
        out
    });
    for &uq in &woken {
        uq_flags(uq).fetch_and(!(UQF_UMTXQ as u32), Ordering::Relaxed);
    }
    notify();
    woken.len() as c_int
}

/// `umtxq_signal_mask` of a shared key: up to `n` queued waiters of any
/// process, oldest first, marked woken; this process's own are also
/// dequeued here (the others notice the mark in `umtxq_sleep`).
fn signal_shared(l: Loc, n: c_int, bitset: u32) -> c_int {
    let Loc::Shared(o, off) = l else { return 0 };
    // SAFETY: our own pid.
    let pid = unsafe { libc::getpid() };
    let (woken, mine) = with_waiters(|a| {
        let mut queued: Vec<&Waiter> = a
            .waiters
            .iter()
            .filter(|w| {
                w.state.load(Ordering::Acquire) == 1
                    && w.object == o
                    && w.offset == off
                    && w.bitset & bitset != 0
            })
            .collect();
        queued.sort_by_key(|w| w.seq);
        queued.truncate(n.max(0) as usize);
        let mut mine = Vec::new();
        for w in &queued {
            if w.pid == pid {
                w.state.store(0, Ordering::Release);
                mine.push(w.uq as usize);
            } else {
                w.state.store(2, Ordering::Release);
            }
        }
        (queued.len(), mine)
    });
    for &uq in &mine {
        uq_flags(uq).fetch_and(!(UQF_UMTXQ as u32), Ordering::Relaxed);
    }
    notify();
    woken as c_int
}

/// `umtx_abs_timeout_init`: an absolute (or relative, made absolute now)
/// deadline on `clockid`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtx_abs_timeout_init(
    t: *mut UmtxAbsTimeout,
    clockid: c_int,
    absolute: c_int,
    ts: *const Timespec,
) {
    let mut now = Timespec::default();
    // SAFETY: the caller's records.
    unsafe {
        super::proc::kern_clock_gettime(std::ptr::null_mut(), clockid, &mut now);
        let d = *ts;
        let end = if absolute != 0 {
            d
        } else {
            let ns = now.tv_nsec + d.tv_nsec;
            Timespec { tv_sec: now.tv_sec + d.tv_sec + ns / 1_000_000_000, tv_nsec: ns % 1_000_000_000 }
        };
        *t = UmtxAbsTimeout {
            clockid,
            is_abs_real: absolute != 0 && clockid == CLOCK_REALTIME,
            cur: now,
            end,
        };
    }
}

/// `umtxq_sleep`: sleeps (chain lock dropped) until the entry is no
/// longer queued (0), the deadline passes (`ETIMEDOUT`) or the process
/// exits (`ERESTART`). Entered and left with the chain locked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_sleep(
    uq: *mut c_void,
    _wmesg: *const c_char,
    timo: *mut UmtxAbsTimeout,
) -> c_int {
    let l = uq_loc(uq as usize);
    assert_locked(l);
    let cookie = chain_cookie(l);
    let shared = matches!(l, Loc::Shared(..));
    loop {
        if shared {
            // Woken from another process: the entry is ours to free.
            with_waiters(|a| {
                if let Some(w) = my_waiter(a, uq as usize)
                    && w.state.load(Ordering::Acquire) == 2
                {
                    w.state.store(0, Ordering::Release);
                    uq_flags(uq as usize).fetch_and(!(UQF_UMTXQ as u32), Ordering::Relaxed);
                }
            });
        }
        if uq_flags(uq as usize).load(Ordering::Relaxed) & UQF_UMTXQ as u32 == 0 {
            return 0;
        }
        // A waker in another process cannot notify this one: poll.
        let mut wait = Duration::from_millis(if shared { 2 } else { 20 });
        if !timo.is_null() {
            let mut now = Timespec::default();
            // SAFETY: the module's timeout record.
            let end = unsafe {
                super::proc::kern_clock_gettime(std::ptr::null_mut(), (*timo).clockid, &mut now);
                (*timo).end
            };
            let left =
                (end.tv_sec - now.tv_sec) as i128 * 1_000_000_000 + (end.tv_nsec - now.tv_nsec) as i128;
            if left <= 0 {
                return ETIMEDOUT;
            }
            wait = wait.min(Duration::from_nanos(left as u64));
        }
        if crate::proc::exiting() {
            return ERESTART;
        }
        let g = SLEEPQ.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: our chain lock, released while asleep.
        unsafe { __mtx_unlock_flags(cookie, 0, std::ptr::null(), 0) };
        drop(WAKE.wait_timeout(g, wait));
        // SAFETY: as above.
        unsafe { __mtx_lock_flags(cookie, 0, std::ptr::null(), 0) };
    }
}

/// `casueword32(9)`: compare-and-swap of a user word; -1 when it is not
/// mapped writable, else 0 with the value found in `*oldp` (amd64 has no
/// spurious failure).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn casueword32(base: *mut u32, old: u32, oldp: *mut u32, new: u32) -> c_int {
    let a = base as usize;
    if a % 4 != 0
        || !crate::kernel::is_user_range(a, 4)
        || !super::uvm::check(a, 4, libc::PROT_READ | libc::PROT_WRITE)
    {
        return -1;
    }
    // SAFETY: a mapped, writable, aligned user word.
    let w = unsafe { &*(base as *const AtomicU32) };
    let seen = match w.compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(v) | Err(v) => v,
    };
    // SAFETY: the caller's out-parameter.
    unsafe { *oldp = seen };
    0
}
