//! The umtx primitives the module's lock/condvar protocol runs on
//! (sys/kern/kern_umtx.c, sys/sys/umtxvar.h): keys, hash chains with a
//! mutex and a busy flag, wait queues of `struct umtx_q` entries, sleeps
//! with absolute timeouts, `casueword32`.
//!
//! A key is the user address (one process: `THREAD_SHARE` and
//! `AUTO_SHARE` meet on the same address); the chain is picked by address
//! hash; a queued entry has `UQF_UMTXQ` in `uq_flags` until it is removed
//! (by `umtxq_signal_mask` or the waiter). `umtxq_sleep` is entered and
//! left with the chain locked; it returns 0 as soon as the entry is no
//! longer queued, `ETIMEDOUT` when the deadline passes, `ERESTART` when
//! the process is exiting (another thread's exit1 single-threads it).
//! Held chain mutexes, busy flags and key references are counted per
//! thread and must balance at the end of every syscall.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::account;
use crate::kernel::{current_thread_id, get, put};

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

/// The user address a key stands for.
fn key_addr(key: *const UmtxKey) -> usize {
    // SAFETY: a key filled by umtx_key_get.
    unsafe { (*key).info[1] }
}

fn chain_of(addr: usize) -> usize {
    (addr >> 2) % CHAINS
}

fn notify() {
    let _g = SLEEPQ.lock().unwrap_or_else(|e| e.into_inner());
    WAKE.notify_all();
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
    if share != THREAD_SHARE && super::uvm::is_shared(a) && super::fork::forked() {
        super::unimplemented_kpi("umtx_key_get for a word shared between processes (shared umtx chains)");
    }
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the caller's key.
    unsafe {
        *key = UmtxKey {
            hash: serial as c_int,
            type_: ty,
            shared: i32::from(share != THREAD_SHARE),
            info: [0, a],
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

/// `umtxq_getchain`: the key's hash chain.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_getchain(key: *mut UmtxKey) -> *mut c_void {
    let i = chain_of(key_addr(key));
    with(|c| (c.mem + i * CHAIN_SIZE) as *mut c_void)
}

fn word(cookie: *mut usize) -> &'static AtomicUsize {
    // SAFETY: a chain's lock word (module contract).
    unsafe { &*(cookie as *const AtomicUsize) }
}

/// `__mtx_lock_flags` (`mtx_lock`): spins until the mutex is free;
/// recursion panics (the chain mutexes are not recursive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __mtx_lock_flags(c: *mut usize, _opts: c_int, _file: *const c_char, _line: c_int) {
    let me = current_thread_id();
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
    let me = current_thread_id();
    account::give("mtx held", c as usize);
    if word(c).compare_exchange(me, MTX_UNOWNED, Ordering::Release, Ordering::Relaxed).is_err() {
        crate::fatal("panic: __mtx_unlock_flags: not owned by curthread");
    }
}

fn assert_locked(i: usize) {
    let me = current_thread_id();
    let cookie = with(|c| c.mem + i * CHAIN_SIZE + UMTXQ_CHAIN_LOCK_COOKIE);
    // SAFETY: the chain's lock word.
    if unsafe { *(cookie as *const usize) } != me {
        crate::fatal("panic: umtxq: chain not locked by curthread (UMTXQ_LOCKED_ASSERT)");
    }
}

fn chain_cookie(i: usize) -> *mut usize {
    with(|c| (c.mem + i * CHAIN_SIZE + UMTXQ_CHAIN_LOCK_COOKIE) as *mut usize)
}

/// `umtxq_busy`: with the chain locked, waits (dropping the lock) until
/// the chain is not busy, then marks it busy.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_busy(key: *mut UmtxKey) {
    let i = chain_of(key_addr(key));
    assert_locked(i);
    loop {
        if with(|c| !std::mem::replace(&mut c.busy[i], true)) {
            break;
        }
        let cookie = chain_cookie(i);
        let g = SLEEPQ.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: our own chain lock, released while waiting.
        unsafe { __mtx_unlock_flags(cookie, 0, std::ptr::null(), 0) };
        drop(WAKE.wait_timeout(g, Duration::from_millis(10)));
        // SAFETY: as above.
        unsafe { __mtx_lock_flags(cookie, 0, std::ptr::null(), 0) };
    }
    account::take("umtx chain busy", i, "a busied umtx chain");
}

/// `umtxq_unbusy_unlocked`: clears the busy flag (taking the chain lock)
/// and wakes whoever waits for it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_unbusy_unlocked(key: *mut UmtxKey) {
    let i = chain_of(key_addr(key));
    let cookie = chain_cookie(i);
    // SAFETY: the chain lock.
    unsafe { __mtx_lock_flags(cookie, 0, std::ptr::null(), 0) };
    if !with(|c| std::mem::replace(&mut c.busy[i], false)) {
        crate::fatal("panic: umtxq_unbusy: chain not busy");
    }
    account::give("umtx chain busy", i);
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
    let a = key_addr((uq as usize + UMTX_Q_UQ_KEY) as *const UmtxKey);
    let i = chain_of(a);
    assert_locked(i);
    if uq_flags(uq as usize).load(Ordering::Relaxed) & UQF_UMTXQ as u32 != 0 {
        crate::fatal("panic: umtxq_insert_queue: already queued");
    }
    uq_flags(uq as usize).fetch_or(UQF_UMTXQ as u32, Ordering::Relaxed);
    with(|c| c.queue.push((i, a, uq as usize)));
}

/// `umtxq_remove_queue`: dequeues the entry; clears `UQF_UMTXQ`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_remove_queue(uq: *mut c_void, _q: c_int) {
    let a = key_addr((uq as usize + UMTX_Q_UQ_KEY) as *const UmtxKey);
    assert_locked(chain_of(a));
    with(|c| c.queue.retain(|&(_, _, u)| u != uq as usize));
    uq_flags(uq as usize).fetch_and(!(UQF_UMTXQ as u32), Ordering::Relaxed);
}

/// `umtxq_count`: entries queued on the key. Chain locked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_count(key: *mut UmtxKey) -> c_int {
    let a = key_addr(key);
    assert_locked(chain_of(a));
    with(|c| c.queue.iter().filter(|&&(_, k, _)| k == a).count() as c_int)
}

/// `umtxq_signal_mask`: dequeues and wakes up to `n` entries of the key
/// whose `uq_bitset` meets `bitset`, from the head; returns how many.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn umtxq_signal_mask(key: *mut UmtxKey, n: c_int, bitset: u32) -> c_int {
    let a = key_addr(key);
    assert_locked(chain_of(a));
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
    let a = key_addr((uq as usize + UMTX_Q_UQ_KEY) as *const UmtxKey);
    let i = chain_of(a);
    assert_locked(i);
    let cookie = chain_cookie(i);
    loop {
        if uq_flags(uq as usize).load(Ordering::Relaxed) & UQF_UMTXQ as u32 == 0 {
            return 0;
        }
        let mut wait = Duration::from_millis(20);
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
