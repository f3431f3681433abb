//! The TLS-free fast path: a few hot system calls answered without
//! switching `%fs` to the host's, and descriptor lookups that take no lock.
//!
//! The entry code (`arch.rs`) switches `%fs` to the host's for every call
//! because Rust and glibc keep thread-local state behind it (`errno`, the
//! allocator, the normal path's caches). That switch (`rdfsbase`, two
//! `wrfsbase`; three `arch_prctl` calls without FSGSBASE) is the largest
//! part of the entry's cost. The calls in [`FAST_CALLS`] need none of that
//! state, so the entry first offers them to [`cloudabi_linux_fast`] on the
//! host stack with the guest's `%fs` still in place:
//!
//! - they run through the same `sys::dispatch` and the same `Linux`
//!   backend methods as every other call (the semantics are written once),
//!   with the backend in its fast mode;
//! - every Linux call on their way is a raw system call
//!   (`fault::raw_syscall`: no `errno`), guest memory is copied by the
//!   fault-safe assembly routine, and nothing allocates, locks, frees or
//!   panics;
//! - the descriptor comes from [`lookup`] in the calling thread's own
//!   lookup cache, which lives in a [`PinSlot`] of host memory the fast
//!   path finds through `%gs` (the thread's `ThreadCtx`), never through
//!   TLS. When the cache cannot answer (a miss, a thread without a slot),
//!   the backend asks for a fallback before doing anything, and the entry
//!   runs the normal path, which repeats the whole call with the host's
//!   `%fs` and fills the cache.
//!
//! # Reclamation: why a cached lookup is safe with several threads
//!
//! The invariant: **a fast-path call uses a file only while holding its own
//! strong reference, taken while the file was in the table, and never drops
//! the last reference** (dropping closes the host descriptor and frees
//! memory, which needs TLS).
//!
//! - A cache entry is a raw pointer to the `Arc` the table held at that
//!   number in table generation `g` ([`GENERATION`], read under the table's
//!   read lock when the entry is stored). Entries hold no reference, so a
//!   cache never keeps a closed file open, and a thread that ends leaks
//!   nothing.
//! - A writer ([`begin_change`], called by the backend's `table_mut` with
//!   the write lock held) bumps [`GENERATION`] *before* it changes anything,
//!   then waits until no thread is pinned at an older generation; only then
//!   may it change the table and drop the `Arc`s it removes.
//! - A lookup publishes "pinned at `g`" in its slot's pin word with a
//!   sequentially consistent swap (a locked `xchg` on x86-64, so the store
//!   is ordered before the next load), re-reads [`GENERATION`], and only if
//!   it is still `g` takes its reference (`Arc::increment_strong_count`),
//!   then unpins. Either its re-read sees the writer's bump (no reference is
//!   taken), or the writer's scan of the pin words sees the pin and waits
//!   until the reference is taken: the file is still in the table then.
//!   The pinned window is a few instructions, never a blocking call.
//! - The fast call takes two references: one for the core, which drops it
//!   at the end of the call, and one the backend holds, so that the core's
//!   drop is never the last. At the end the held one is given up under a
//!   pin again, if the generation is unchanged (the table still holds the
//!   file, so that drop cannot be the last either). If the table changed
//!   during the call, the reference goes to the normal path instead: the
//!   fast path returns [`FALLBACK`] with the call's result parked in the
//!   slot and the pseudo call [`DEFERRED_NR`] in place of the number, and
//!   `cloudabi_linux_dispatch` drops the reference with the host's `%fs`
//!   and returns the parked result ([`finish_deferred`]).
//! - While a single thread runs guest code ([`single_threaded`]) no writer
//!   can run during a lookup, so neither the pins nor the held reference
//!   are needed, and writers skip the scan.
//! - Pin slots are a fixed array ([`SLOTS`]): claimed when a thread is
//!   attached, released at `thread_exit`; a thread that finds none uses the
//!   normal path for every call. A forked child keeps only its own slot.
//!
//! The tests below run every fast call with the `%fs` base pointing at an
//! unmapped page, with one thread and with a second one present: a
//! thread-local access anywhere on the path would crash the test.
//! `reclamation_under_random_interleavings` checks the invariant with
//! threads looking up while others close, replace and dup, and
//! `reclamation_check_catches_broken_writers` shows that it catches a
//! writer that does not wait for pins or bumps the generation late.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use abi::{Errno, Fd, Filetype, Rights};
use sys::backend::{FdInfo, FdRights};

use super::backend::Linux;
use super::fdtable::HostFile;

/// The calls the entry offers to the fast path: descriptor I/O, `fstat`
/// and `fd_stat_get` (which cloudlibc's `openat` makes before every
/// open). A bit per syscall number.
pub const FAST_CALLS: u64 = {
    let calls = [abi::nr::FD_READ, abi::nr::FD_WRITE, abi::nr::FILE_STAT_FGET, abi::nr::FD_STAT_GET];
    let mut mask = 0u64;
    let mut i = 0;
    while i < calls.len() {
        assert!(calls[i] < 64);
        mask |= 1 << calls[i];
        i += 1;
    }
    mask
};

/// What [`cloudabi_linux_fast`] returns to ask for the normal path (not an
/// errno: those fit in 16 bits).
pub const FALLBACK: u64 = 0x1_0000;

/// The number the fast path puts in place of the call's when it hands a
/// finished call to the normal path to drop a reference
/// ([`finish_deferred`]). Not a CloudABI syscall number; a guest that
/// issues it itself gets what any unknown number gets.
pub const DEFERRED_NR: u64 = 0xc1ab_0001;

/// Whether the entry offers calls to the fast path: on unless `--trace`
/// (which must see every call) or `CLOUDABI_RUN_NO_FAST_PATH`. Read by the
/// entry code.
#[unsafe(no_mangle)]
pub static cloudabi_linux_fast_on: AtomicBool = AtomicBool::new(false);

/// Whether at most one thread runs guest code (and so calls into the
/// backend). Cleared before the second thread is created; set again only
/// in a forked child. The unit tests share one process between many
/// threads, so there it starts cleared (a test sets it in a forked child).
static SINGLE: AtomicBool = AtomicBool::new(!cfg!(test));

/// The descriptor table's generation: bumped by every writer before it
/// changes the table (see the module comment).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Turns the fast path on, unless `--trace` or the environment says not.
pub fn enable(trace: bool) {
    let on = !trace && std::env::var_os("CLOUDABI_RUN_NO_FAST_PATH").is_none();
    cloudabi_linux_fast_on.store(on, Ordering::SeqCst);
}

/// Called before a second thread is created: from now on lookups pin and
/// writers wait for pins.
pub fn going_multithreaded() {
    SINGLE.store(false, Ordering::SeqCst);
}

pub fn single_threaded() -> bool {
    SINGLE.load(Ordering::Relaxed)
}

/// For the tests: a forked child is single-threaded.
#[cfg(all(test, target_arch = "x86_64"))]
pub fn set_single_threaded_for_test() {
    SINGLE.store(true, Ordering::SeqCst);
    cloudabi_linux_fast_on.store(true, Ordering::SeqCst);
}

/// The current table generation. Stable while the table's read lock is
/// held (writers bump it with the write lock held).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// For the tests: deliberately broken writers, to show that the
/// reclamation test catches them (0: correct; 1: no wait for pins; 2: the
/// generation bumped after the change instead of before).
#[cfg(test)]
pub static BROKEN: AtomicU8 = AtomicU8::new(0);

/// Called by a writer holding the table's write lock, before it changes
/// anything: bumps the generation (every cached lookup is stale from now
/// on) and waits until no lookup is pinned at an older generation, so
/// that no thread is taking a reference to a file the change may drop.
pub fn begin_change() {
    #[cfg(test)]
    if BROKEN.load(Ordering::Relaxed) == 2 {
        test_clock::mark();
        return;
    }
    let g = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    #[cfg(test)]
    {
        test_clock::mark();
        if BROKEN.load(Ordering::Relaxed) == 1 {
            return;
        }
    }
    wait_for_pins(g);
}

/// The broken writer of [`BROKEN`] = 2 bumps (and waits) when the change
/// is done, as the guard is dropped.
#[cfg(test)]
pub fn end_change() {
    if BROKEN.load(Ordering::Relaxed) == 2 {
        // (As a writer that does more work after its change would.)
        test_window();
        let g = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
        wait_for_pins(g);
    }
}

/// For the tests: a global clock, and the time of the last writer's bump
/// (where a correct writer bumps), so that a test can tell whether a
/// lookup's answer was in the table at some instant during the lookup.
#[cfg(test)]
pub mod test_clock {
    use std::sync::atomic::{AtomicU64, Ordering};

    static CLOCK: AtomicU64 = AtomicU64::new(1);
    static BUMPED_AT: AtomicU64 = AtomicU64::new(0);

    pub fn now() -> u64 {
        CLOCK.fetch_add(1, Ordering::SeqCst)
    }

    pub fn mark() {
        BUMPED_AT.store(now(), Ordering::SeqCst);
    }

    pub fn last_bump() -> u64 {
        BUMPED_AT.load(Ordering::SeqCst)
    }
}

fn wait_for_pins(g: u64) {
    if single_threaded() {
        return;
    }
    let used = USED.load(Ordering::SeqCst).min(SLOTS);
    for slot in &PINS[..used] {
        let mut spins = 0u32;
        while slot.pin.load(Ordering::SeqCst) < g {
            // The pinned window is a few instructions; a pinned thread
            // that is not running (preempted) needs the CPU back.
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Called by the entry code on the host stack, with the guest's `%fs`:
/// runs call `nr` (one of [`FAST_CALLS`]) like `cloudabi_linux_dispatch`,
/// or returns [`FALLBACK`] having done nothing (or having finished the
/// call, with `out[0]` = [`DEFERRED_NR`]: see the module comment).
#[unsafe(no_mangle)]
extern "C" fn cloudabi_linux_fast(nr: u64, args: *const [u64; 6], out: *mut [u64; 2]) -> u64 {
    if nr >= 64 || FAST_CALLS & (1 << nr) == 0 || !cloudabi_linux_fast_on.load(Ordering::Relaxed) {
        return FALLBACK;
    }
    let Some(slot) = current_slot() else { return FALLBACK };
    // SAFETY: the entry code passes pointers into its own stack frame.
    let (args, out) = unsafe { (&*args, &mut *out) };
    fast_call(slot, nr, args, out)
}

/// The fast call proper, with the calling thread's slot.
pub fn fast_call(slot: &'static PinSlot, nr: u64, args: &[u64; 6], out: &mut [u64; 2]) -> u64 {
    let mut b = Linux::fast(slot);
    let result = sys::dispatch(&mut b, nr, args);
    if b.wants_fallback() {
        // Asked for before anything was done (no fast call asks after its
        // lookup, but a held reference would be given up all the same).
        if let Some(held) = b.take_held() {
            release_held(slot, held);
        }
        return FALLBACK;
    }
    let (code, r) = match result {
        Ok(r) => (0, r),
        Err(e) => (u64::from(e.raw()), [0; 2]),
    };
    if let Some(held) = b.take_held()
        && !release_held(slot, held)
    {
        slot.deferred_result[0].store(code, Ordering::Relaxed);
        slot.deferred_result[1].store(r[0], Ordering::Relaxed);
        slot.deferred_result[2].store(r[1], Ordering::Relaxed);
        slot.parked.store(true, Ordering::Relaxed);
        out[0] = DEFERRED_NR;
        return FALLBACK;
    }
    if code == 0 {
        *out = r;
    }
    code
}

/// The calling thread's slot, from its `ThreadCtx` (`%gs`), without TLS.
#[cfg(target_arch = "x86_64")]
fn current_slot() -> Option<&'static PinSlot> {
    let p = super::thread::pin_slot() as *const PinSlot;
    // SAFETY: the context holds 0 or the address of an element of the
    // static `PINS`, claimed by this thread.
    unsafe { p.as_ref() }
}

#[cfg(not(target_arch = "x86_64"))]
fn current_slot() -> Option<&'static PinSlot> {
    None
}

/// Most threads that get a pin slot (and so the fast path and the
/// lock-free lookup cache); the others use the normal path.
pub const SLOTS: usize = 256;

/// What a pin word holds when its thread is not in a lookup.
const UNPINNED: u64 = u64::MAX;

/// Entries of a thread's lookup cache, indexed by descriptor number.
const WAYS: usize = 8;

/// One cached lookup. Plain relaxed atomics: only the slot's owner reads
/// and writes them, so they compile to plain loads and stores and need no
/// `unsafe` to share.
struct Entry {
    /// The table generation the lookup was made in, plus one (0: empty).
    generation: AtomicU64,
    fd: AtomicU32,
    file: AtomicPtr<HostFile>,
    filetype: AtomicU8,
    base: AtomicU64,
    inheriting: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Entry = Entry {
    generation: AtomicU64::new(0),
    fd: AtomicU32::new(0),
    file: AtomicPtr::new(std::ptr::null_mut()),
    filetype: AtomicU8::new(0),
    base: AtomicU64::new(0),
    inheriting: AtomicU64::new(0),
};

/// A thread's pin word and lookup cache, in host memory the fast path
/// reaches through `%gs`. A cache line of its own for the pin word, which
/// its thread writes twice per lookup and writers only read.
#[repr(C, align(64))]
pub struct PinSlot {
    /// [`UNPINNED`], or the generation a lookup is pinned at.
    pin: AtomicU64,
    claimed: AtomicBool,
    /// A reference (from `Arc::into_raw`) a fast call handed to the normal
    /// path, and the call's result (errno or 0, two values) if `parked`.
    deferred: AtomicPtr<HostFile>,
    parked: AtomicBool,
    deferred_result: [AtomicU64; 3],
    cache: [Entry; WAYS],
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE_SLOT: PinSlot = PinSlot {
    pin: AtomicU64::new(UNPINNED),
    claimed: AtomicBool::new(false),
    deferred: AtomicPtr::new(std::ptr::null_mut()),
    parked: AtomicBool::new(false),
    deferred_result: [const { AtomicU64::new(0) }; 3],
    cache: [EMPTY; WAYS],
};

static PINS: [PinSlot; SLOTS] = [FREE_SLOT; SLOTS];
/// One more than the highest slot ever claimed: writers scan that many.
static USED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The calling thread's slot, for the normal path.
    static MINE: Cell<Option<&'static PinSlot>> = const { Cell::new(None) };
}

/// Claims a pin slot for the calling thread (at attach), or `None` when
/// all are taken.
pub fn claim() -> Option<&'static PinSlot> {
    for (i, slot) in PINS.iter().enumerate() {
        if slot.claimed.compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed).is_ok() {
            slot.pin.store(UNPINNED, Ordering::SeqCst);
            for e in &slot.cache {
                e.generation.store(0, Ordering::Relaxed);
            }
            USED.fetch_max(i + 1, Ordering::SeqCst);
            MINE.with(|m| m.set(Some(slot)));
            return Some(slot);
        }
    }
    None
}

/// The calling thread's slot, from TLS (the normal path).
pub fn my_slot() -> Option<&'static PinSlot> {
    MINE.with(|m| m.get())
}

/// Releases the calling thread's slot (at `thread_exit`). Its cache holds
/// no references, so nothing is left to free.
pub fn release() {
    if let Some(slot) = MINE.with(|m| m.take()) {
        slot.pin.store(UNPINNED, Ordering::SeqCst);
        slot.claimed.store(false, Ordering::SeqCst);
    }
}

/// In a forked child, whose only thread is the caller: the other threads'
/// slots are free (a pin copied from a thread that does not exist here
/// would stop every writer), and one thread runs guest code again.
pub fn after_fork_child() {
    let mine = my_slot().map(|s| s as *const PinSlot);
    for slot in &PINS {
        if Some(slot as *const PinSlot) != mine {
            // A reference another thread had parked for its normal path,
            // which will never run here.
            let file = slot.deferred.swap(std::ptr::null_mut(), Ordering::Relaxed);
            if !file.is_null() {
                // SAFETY: a reference `lookup` took for a `Held` and parked
                // in `release_held`; nobody else will give it up.
                drop(unsafe { Arc::from_raw(file) });
            }
            slot.parked.store(false, Ordering::Relaxed);
            slot.pin.store(UNPINNED, Ordering::SeqCst);
            slot.claimed.store(false, Ordering::SeqCst);
        }
    }
    SINGLE.store(true, Ordering::SeqCst);
}

/// A reference the fast path holds across a call (see the module comment):
/// the file, and the generation of the cache entry it came from.
pub struct Held(*const HostFile, u64);

/// The file and rights at `fd` if this thread's cache has a lookup of it
/// from the current generation, with a strong reference for the caller
/// and, if `hold`, a second one (the [`Held`]) while several threads run.
#[inline(always)]
pub fn lookup(slot: &PinSlot, fd: Fd, hold: bool) -> Option<(Arc<HostFile>, FdInfo, Option<Held>)> {
    let e = &slot.cache[fd.raw() as usize % WAYS];
    let tag = e.generation.load(Ordering::Relaxed);
    if tag == 0 || e.fd.load(Ordering::Relaxed) != fd.raw() {
        return None;
    }
    let g = tag - 1;
    if GENERATION.load(Ordering::Acquire) != g {
        return None;
    }
    let file = e.file.load(Ordering::Relaxed);
    let filetype = Filetype::new(e.filetype.load(Ordering::Relaxed))?;
    let rights = FdRights {
        base: Rights::from_bits_truncate(e.base.load(Ordering::Relaxed)),
        inheriting: Rights::from_bits_truncate(e.inheriting.load(Ordering::Relaxed)),
    };
    let info = FdInfo { filetype, rights };
    if single_threaded() {
        // SAFETY: the entry was stored from an `Arc` the table held in
        // generation `g`, which is current, and no other thread can change
        // the table meanwhile: the table holds that `Arc`. The increment
        // gives the caller its own reference, as `Arc::clone` would.
        let file = unsafe {
            Arc::increment_strong_count(file);
            Arc::from_raw(file)
        };
        return Some((file, info, None));
    }
    slot.pin.swap(g, Ordering::SeqCst);
    let current = GENERATION.load(Ordering::SeqCst) == g;
    if current {
        #[cfg(test)]
        test_window();
        // SAFETY: generation `g` is still current after the pin was
        // published: no writer has begun a change since the entry was
        // stored from the table's `Arc`, and any writer that begins one now
        // waits for this pin before dropping anything. The table holds the
        // `Arc`; the increments give the caller its own reference (and the
        // held one).
        unsafe {
            Arc::increment_strong_count(file);
            if hold {
                Arc::increment_strong_count(file);
            }
        }
    }
    slot.pin.store(UNPINNED, Ordering::Release);
    if !current {
        return None;
    }
    // SAFETY: the reference taken above.
    let arc = unsafe { Arc::from_raw(file) };
    Some((arc, info, hold.then_some(Held(file, g))))
}

/// Gives up a held reference without dropping the last one: only if the
/// generation it came from is still current (so the table holds the file).
/// Returns false, having kept the reference in the slot, otherwise: the
/// normal path must drop it ([`finish_deferred`]).
pub fn release_held(slot: &PinSlot, held: Held) -> bool {
    let Held(file, g) = held;
    slot.pin.swap(g, Ordering::SeqCst);
    let current = GENERATION.load(Ordering::SeqCst) == g;
    if current {
        // SAFETY: as in `lookup`: the table holds the file while this pin
        // is published and `g` is current, so this is not the last
        // reference; it is the one `lookup` took for the `Held`.
        unsafe { Arc::decrement_strong_count(file) };
    }
    slot.pin.store(UNPINNED, Ordering::Release);
    if !current {
        slot.deferred.store(file.cast_mut(), Ordering::Relaxed);
    }
    current
}

/// Run by `cloudabi_linux_dispatch` first: drops a reference a fast call
/// of this thread handed over (with the host's `%fs`: it may be the last),
/// and for [`DEFERRED_NR`] returns the result that call parked. `None`
/// otherwise (also for a guest that issues the number itself).
pub fn finish_deferred(nr: u64, out: &mut [u64; 2]) -> Option<u64> {
    let slot = my_slot()?;
    if !slot.deferred.load(Ordering::Relaxed).is_null() {
        let file = slot.deferred.swap(std::ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: the reference `lookup` took for a `Held`, given up here.
        drop(unsafe { Arc::from_raw(file) });
    }
    if nr != DEFERRED_NR || !slot.parked.swap(false, Ordering::Relaxed) {
        return None;
    }
    let code = slot.deferred_result[0].load(Ordering::Relaxed);
    if code == 0 {
        out[0] = slot.deferred_result[1].load(Ordering::Relaxed);
        out[1] = slot.deferred_result[2].load(Ordering::Relaxed);
    }
    Some(code)
}

/// Remembers a lookup made in table generation `generation` (read under
/// the table's read lock) in the calling thread's cache.
pub fn store(slot: &PinSlot, fd: Fd, generation: u64, file: &Arc<HostFile>, info: FdInfo) {
    let e = &slot.cache[fd.raw() as usize % WAYS];
    e.generation.store(generation.wrapping_add(1), Ordering::Relaxed);
    e.fd.store(fd.raw(), Ordering::Relaxed);
    e.file.store(Arc::as_ptr(file).cast_mut(), Ordering::Relaxed);
    e.filetype.store(info.filetype.raw(), Ordering::Relaxed);
    e.base.store(info.rights.base.bits(), Ordering::Relaxed);
    e.inheriting.store(info.rights.inheriting.bits(), Ordering::Relaxed);
}

/// For the tests: widens the pinned window (or a broken writer's window
/// between its change and its late bump) at random, so that a broken
/// writer is caught in the act.
#[cfg(test)]
fn test_window() {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58;
    for _ in 0..n * 8 {
        std::hint::spin_loop();
    }
}

/// Whether a failure of the fast path is the fallback it asked for.
pub fn fallback_errno() -> Errno {
    Errno::AGAIN
}

// The test moves `%fs` (rdfsbase/wrfsbase) to prove the fast path uses no
// TLS; the fast path's entry is x86-64 only (aarch64 has none).
#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::process::Command;

    use sys::backend::{FdOps, Files};

    use super::*;

    const CHILD: &str = "CLOUDABI_FASTPATH_TEST_CHILD";

    /// Every fast call, on its success and error paths, with the `%fs` base
    /// pointing at an inaccessible page: a thread-local access anywhere on
    /// the path (Rust's or glibc's, `errno` included) faults and kills the
    /// process. The test harness runs many tests in threads of one process,
    /// so the work happens in a re-executed copy of this test binary that
    /// runs this test alone (the fast path needs a single thread).
    #[test]
    fn fast_calls_touch_no_thread_local_storage() {
        if std::env::var_os(CHILD).is_some() {
            child();
            return;
        }
        let name = concat!(module_path!(), "::fast_calls_touch_no_thread_local_storage");
        let name = name.split_once("::").map_or(name, |(_, rest)| rest);
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "the child failed ({:?}):\n{text}", out.status);
        if text.contains("fast path: skipped") {
            println!("{}", text.lines().find(|l| l.contains("fast path: skipped")).unwrap_or_default());
            return;
        }
        assert!(text.contains("fast path: 9 calls checked"), "the child did not run the checks:\n{text}");
        for line in [
            "fast path: the cache followed",
            "fast path: 9 calls checked with a second thread",
            "fast path: a reference held across a close is dropped by the normal path",
        ] {
            assert!(text.contains(line), "the child did not get to {line:?}:\n{text}");
        }
    }

    fn rdfsbase() -> u64 {
        let v: u64;
        // SAFETY: reads this thread's FS base (FSGSBASE is checked first).
        unsafe { std::arch::asm!("rdfsbase {}", out(reg) v, options(nostack, nomem, preserves_flags)) };
        v
    }

    /// # Safety
    ///
    /// Nothing may use thread-local storage until the old base is back.
    unsafe fn wrfsbase(v: u64) {
        // SAFETY: per the caller's contract.
        unsafe { std::arch::asm!("wrfsbase {}", in(reg) v, options(nostack, nomem, preserves_flags)) };
    }

    fn child() {
        if !crate::linux::thread::has_fsgsbase() {
            println!("fast path: skipped: this CPU or kernel has no FSGSBASE, so the test cannot move %fs");
            return;
        }
        set_single_threaded_for_test();
        crate::linux::fault::install();
        crate::linux::backend::init(Vec::new(), &crate::linux::Options::default()).unwrap();
        // A thread context (`%gs`) with a pin slot, as every guest thread
        // has: the fast path finds its cache through it.
        crate::linux::thread::attach(crate::linux::MAIN_TID).unwrap();
        let slot = my_slot().expect("a pin slot");
        let mut b = Linux::new();
        let all = FdRights { base: Rights::ALL, inheriting: Rights::ALL };
        let (s0, s1) = b.fd_create_socketpair(Filetype::SOCKET_STREAM, all).unwrap();
        let shm = b.fd_create_shm(all).unwrap();
        let read_only = b.fd_create_shm(all).unwrap();
        let (file, _) = b.fd_get(read_only).unwrap();
        b.fd_set_rights(read_only, &file, FdRights { base: Rights::FD_READ, inheriting: Rights::EMPTY })
            .unwrap();
        drop(file);

        let byte = [b'x'; 1];
        // Buffers the calls write to, used through raw pointers only.
        let bufs = Box::into_raw(Box::new(Buffers { got: [0], stat: [0; 64], fdstat: [0; 24] }));
        // SAFETY: a live allocation; no reference to it is made.
        let (gp, sp, fsp) = unsafe {
            (
                std::ptr::addr_of_mut!((*bufs).got) as u64,
                std::ptr::addr_of_mut!((*bufs).stat) as u64,
                std::ptr::addr_of_mut!((*bufs).fdstat) as u64,
            )
        };
        let iov_out: [u64; 2] = [byte.as_ptr() as u64, 1];
        let iov_in: [u64; 2] = [gp, 1];
        let unmapped = 8u64; // the first page is never mapped
        let fd = |f: Fd| u64::from(f.raw());
        let calls: [(u32, [u64; 6]); 9] = [
            (abi::nr::FD_WRITE, [fd(s0), iov_out.as_ptr() as u64, 1, 0, 0, 0]),
            (abi::nr::FD_READ, [fd(s1), iov_in.as_ptr() as u64, 1, 0, 0, 0]),
            (abi::nr::FILE_STAT_FGET, [fd(shm), sp, 0, 0, 0, 0]),
            (abi::nr::FD_STAT_GET, [fd(shm), fsp, 0, 0, 0, 0]),
            // Errors: a bad iovec pointer (the fault handler runs with the
            // poisoned %fs too), a right the descriptor lacks, an output
            // buffer that is not mapped; then a read at the end of a file.
            (abi::nr::FD_READ, [fd(s1), unmapped, 1, 0, 0, 0]),
            (abi::nr::FD_WRITE, [fd(read_only), iov_out.as_ptr() as u64, 1, 0, 0, 0]),
            (abi::nr::FILE_STAT_FGET, [fd(shm), unmapped, 0, 0, 0, 0]),
            (abi::nr::FD_READ, [fd(shm), iov_in.as_ptr() as u64, 1, 0, 0, 0]),
            // Not in the cache: the fallback, with nothing done.
            (abi::nr::FD_STAT_GET, [40, fsp, 0, 0, 0, 0]),
        ];
        // Fill the thread's cache the way the normal path does.
        for (_, a) in &calls[..4] {
            b.fd_get(Fd::new(a[0] as u32)).unwrap();
        }
        b.fd_get(read_only).unwrap();
        check_calls(&calls, bufs, "one thread");
        println!("fast path: 9 calls checked");

        // A second thread present: lookups pin, references are held across
        // the call and given up under a pin; the same calls, the same
        // answers, still without TLS.
        going_multithreaded();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || {
            let _ = rx.recv();
        });
        let mut b = Linux::new();
        for (_, a) in &calls[..4] {
            b.fd_get(Fd::new(a[0] as u32)).unwrap();
        }
        b.fd_get(read_only).unwrap();
        check_calls(&calls, bufs, "two threads");
        println!("fast path: 9 calls checked with a second thread");
        deferred_release_without_tls(slot);
        drop(tx);
        other.join().unwrap();
        // SAFETY: allocated above; the calls are over.
        drop(unsafe { Box::from_raw(bufs) });

        // One thread again (as in a forked child).
        set_single_threaded_for_test();
        cache_follows_random_changes(slot);
    }

    struct Buffers {
        got: [u8; 1],
        stat: [u8; 64],
        fdstat: [u8; 24],
    }

    /// Runs `calls` through the fast entry with `%fs` pointing at an
    /// inaccessible page and checks every answer.
    fn check_calls(calls: &[(u32, [u64; 6]); 9], bufs: *mut Buffers, what: &str) {
        // SAFETY: `bufs` is live, and only raw pointers into it exist.
        unsafe { (*bufs).got[0] = 0 };
        let mut results = [u64::MAX; 9];
        let mut outs = [[0u64; 2]; 9];
        let poison = poison_page();
        let saved = rdfsbase();
        // SAFETY: between the two writes only the fast entry runs, which
        // is what is under test; plain arrays on the stack take the
        // results.
        unsafe {
            wrfsbase(poison + 2048);
            let mut i = 0;
            while i < 9 {
                results[i] = cloudabi_linux_fast(u64::from(calls[i].0), &calls[i].1, &mut outs[i]);
                i += 1;
            }
            wrfsbase(saved);
        }
        // SAFETY: the poison page was mapped by `poison_page`.
        unsafe { libc::munmap(poison as *mut libc::c_void, 4096) };
        // SAFETY: as above; the calls are over.
        let Buffers { got, stat, fdstat } = unsafe { std::ptr::read(bufs) };

        let e = |x: Errno| u64::from(x.raw());
        assert_eq!(results[0], 0, "{what}: fd_write");
        assert_eq!(outs[0][0], 1);
        assert_eq!((results[1], outs[1][0], got[0]), (0, 1, b'x'), "{what}: fd_read");
        assert_eq!(results[2], 0, "{what}: file_stat_fget");
        // cloudabi_filestat_t: st_filetype at 16, st_size at 24.
        assert_eq!(stat[16], Filetype::SHARED_MEMORY.raw(), "{what}: file_stat_fget: type");
        assert_eq!(stat[24..32], 0u64.to_ne_bytes(), "{what}: file_stat_fget: size");
        assert_eq!(results[3], 0, "{what}: fd_stat_get");
        assert_eq!(fdstat[0], Filetype::SHARED_MEMORY.raw(), "{what}: fd_stat_get: type");
        assert_eq!(results[4], e(Errno::FAULT), "{what}: fd_read with an unmapped iovec");
        assert_eq!(results[5], e(Errno::NOTCAPABLE), "{what}: fd_write without the right");
        assert_eq!(results[6], e(Errno::FAULT), "{what}: file_stat_fget into unmapped memory");
        assert_eq!((results[7], outs[7][0]), (0, 0), "{what}: fd_read at the end of an empty shm");
        assert_eq!(results[8], FALLBACK, "{what}: a descriptor the cache does not hold");
    }

    /// An inaccessible page for `%fs` to point at.
    fn poison_page() -> u64 {
        // SAFETY: a fresh anonymous mapping with no access.
        let poison = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(poison, libc::MAP_FAILED);
        poison as u64
    }

    /// With several threads, a file closed while a fast call uses it: the
    /// fast path's lookup and the end of its call (which finds the table
    /// changed and parks its reference) run with a poisoned `%fs`; the
    /// normal path then drops the last reference and the file is gone.
    fn deferred_release_without_tls(slot: &'static PinSlot) {
        let mut b = Linux::new();
        let all = FdRights { base: Rights::ALL, inheriting: Rights::ALL };
        let fd = b.fd_create_shm(all).unwrap();
        let serial = b.fd_get(fd).unwrap().0.serial;
        let poison = poison_page();
        let saved = rdfsbase();
        let mut fast = Linux::fast(slot);
        // SAFETY: only the fast path's own functions run in between.
        let got = unsafe {
            wrfsbase(poison + 2048);
            let got = fast.fd_get(fd).map(|(file, _)| file.serial);
            wrfsbase(saved);
            got
        };
        assert_eq!(got, Ok(serial), "the fast lookup");
        let held = fast.take_held().expect("a held reference with two threads");
        b.fd_close(fd).unwrap();
        assert!(!crate::linux::fdtable::test_drops::was_dropped(serial), "the held reference keeps it");
        // SAFETY: as above.
        let released = unsafe {
            wrfsbase(poison + 2048);
            let released = release_held(slot, held);
            wrfsbase(saved);
            released
        };
        // SAFETY: the poison page was mapped by `poison_page`.
        unsafe { libc::munmap(poison as *mut libc::c_void, 4096) };
        assert!(!released, "the table changed: the reference must go to the normal path");
        assert!(!crate::linux::fdtable::test_drops::was_dropped(serial), "parked, not dropped");
        let mut out = [0; 2];
        assert_eq!(finish_deferred(abi::nr::FD_READ.into(), &mut out), None, "no parked result");
        assert!(crate::linux::fdtable::test_drops::was_dropped(serial), "the normal path dropped it");
        assert_eq!(finish_deferred(DEFERRED_NR, &mut out), None, "nothing parked: a guest's own number");
        println!("fast path: a reference held across a close is dropped by the normal path");
    }

    /// The invariant a thread's cache rests on, checked after every
    /// step of a random sequence of table changes (create, close, dup,
    /// replace, narrowing rights, plain lookups): for every descriptor
    /// number, the fast path's lookup answers exactly what the table holds
    /// (the same file, the same type and rights) or asks for the fallback,
    /// and the normal path's lookup, which fills the cache, agrees with the
    /// table. One thread (several: `reclamation_under_random_interleavings`):
    /// runs in the child.
    fn cache_follows_random_changes(slot: &'static PinSlot) {
        let mut b = Linux::new();
        let all = FdRights { base: Rights::ALL, inheriting: Rights::ALL };
        let narrow = FdRights { base: Rights::FD_READ, inheriting: Rights::EMPTY };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut hits, mut fallbacks) = (0, 0);
        for _ in 0..3000 {
            let fd = Fd::new((next() % 10) as u32);
            let to = Fd::new((next() % 10) as u32);
            let _ = match next() % 6 {
                0 => b.fd_create_shm(all).map(|_| ()),
                1 => b.fd_close(fd),
                2 => b.fd_get(fd).and_then(|(f, i)| b.fd_dup(&f, i)).map(|_| ()),
                3 => b.fd_get(fd).and_then(|(f, i)| b.fd_replace(&f, i, to)),
                4 => b.fd_get(fd).and_then(|(f, _)| b.fd_set_rights(fd, &f, narrow)),
                _ => b.fd_get(fd).map(|_| ()),
            };
            for n in 0..10 {
                let fd = Fd::new(n);
                let truth = b.table_lookup(fd);
                let mut fast = Linux::fast(slot);
                let got = fast.fd_get(fd);
                assert!(fast.take_held().is_none(), "one thread: no reference is held");
                match (got, &truth) {
                    (Ok((f, i)), Ok((tf, ti))) => {
                        assert!(Arc::ptr_eq(&f, tf) && i == *ti, "fd {n}: the cache answers another file");
                        hits += 1;
                    }
                    (Ok(_), Err(e)) => panic!("fd {n}: the cache answers a closed descriptor ({e:?})"),
                    (Err(_), _) => {
                        assert!(fast.wants_fallback(), "fd {n}: the fast path failed without a fallback");
                        fallbacks += 1;
                    }
                }
                match (b.fd_get(fd), truth) {
                    (Ok((f, i)), Ok((tf, ti))) => {
                        assert!(Arc::ptr_eq(&f, &tf) && i == ti, "fd {n}: normal path")
                    }
                    (Err(e), Err(te)) => assert_eq!(e, te, "fd {n}"),
                    (got, want) => panic!("fd {n}: normal path {:?}, table {:?}", got.err(), want.err()),
                }
            }
        }
        assert!(
            hits > 1000 && fallbacks > 100,
            "{hits} hits, {fallbacks} fallbacks: the sequence exercised too little"
        );
        println!(
            "fast path: the cache followed 3000 random table changes ({hits} hits, {fallbacks} fallbacks)"
        );
    }

    const RECLAIM_CHILD: &str = "CLOUDABI_FASTPATH_RECLAIM_CHILD";

    /// Runs the reclamation check in a re-executed copy of this test binary
    /// (its descriptor table is the process's, which other tests share),
    /// with the writers correct (`broken` 0) or deliberately broken.
    fn run_reclaim_child(broken: u8) -> (bool, String) {
        let name = concat!(module_path!(), "::reclamation_under_random_interleavings");
        let name = name.split_once("::").map_or(name, |(_, rest)| rest);
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1", "--nocapture"])
            .env(RECLAIM_CHILD, broken.to_string())
            .output()
            .unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    /// The reclamation invariant under random interleavings: reader threads
    /// look descriptors up through the fast path's own functions
    /// (`Linux::fast(slot).fd_get`, [`release_held`], [`fast_call`],
    /// [`finish_deferred`]) while writer threads close, replace, dup,
    /// create and narrow descriptors at random. After every lookup: the
    /// file handed out has not been dropped (while the reader holds it).
    /// At the end: every answer was the file at that number at some
    /// instant during the lookup (a log of the writers' changes, timed by a
    /// global clock at the point where a writer bumps the generation), and
    /// every file ever in the table was dropped exactly once.
    #[test]
    fn reclamation_under_random_interleavings() {
        if let Some(v) = std::env::var_os(RECLAIM_CHILD) {
            BROKEN.store(v.to_str().and_then(|v| v.parse().ok()).unwrap_or(0), Ordering::SeqCst);
            reclaim_child();
            return;
        }
        let (ok, text) = run_reclaim_child(0);
        assert!(ok, "the child failed:\n{text}");
        let line = text.lines().find(|l| l.contains("fast path: reclamation"));
        assert!(line.is_some(), "the child did not run the check:\n{text}");
        println!("{}", line.unwrap_or_default());
    }

    /// The check above can fail: a writer that does not wait for pins, or
    /// bumps the generation after its change instead of before, is caught.
    #[test]
    fn reclamation_check_catches_broken_writers() {
        if std::env::var_os(RECLAIM_CHILD).is_some() {
            return;
        }
        for (broken, what) in [(1, "a writer that does not wait for pins"), (2, "a late generation bump")] {
            // The races are real ones: on a loaded machine a run may miss
            // them, so up to three runs (each catches them on its own here).
            let mut runs = (0..3).map(|_| run_reclaim_child(broken));
            let caught = runs.find(|(ok, _)| !ok);
            let Some((_, text)) = caught else { panic!("{what} went unnoticed in three runs") };
            let why = text.lines().find(|l| l.contains("fast path: broken") || l.contains("panicked"));
            println!("{what}: caught ({})", why.unwrap_or("the child died").trim());
        }
    }

    const NFDS: u32 = 6;

    /// A change the writers logged: `serial` entered (`true`) or left the
    /// table at `fd` at `time`.
    type Change = (u32, u64, bool, u64);

    fn reclaim_child() {
        use std::sync::Mutex;
        use std::sync::atomic::AtomicBool;

        use crate::linux::fdtable::test_drops;

        crate::linux::backend::init(Vec::new(), &crate::linux::Options::default()).unwrap();
        assert!(!single_threaded());
        let all = FdRights { base: Rights::ALL, inheriting: Rights::ALL };
        let narrow =
            FdRights { base: Rights::FD_READ | Rights::FD_STAT_PUT_FLAGS, inheriting: Rights::EMPTY };
        let serial_at = |b: &Linux, n: u32| b.table_lookup(Fd::new(n)).ok().map(|(f, _)| f.serial);
        let log: Mutex<Vec<Change>> = Mutex::new(Vec::new());
        {
            let mut b = Linux::new();
            for n in 0..NFDS {
                assert_eq!(b.fd_create_shm(all).unwrap(), Fd::new(n));
                log.lock().unwrap().push((n, serial_at(&b, n).unwrap(), true, 0));
            }
        }
        let done = AtomicBool::new(false);
        let seed = u64::from(std::process::id()) | 1;
        let rng = |mut x: u64| {
            move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            }
        };
        let (mut lookups, mut hits, mut deferred, mut calls) = (0u64, 0u64, 0u64, 0u64);
        std::thread::scope(|scope| {
            let writers: Vec<_> = (0..2u64)
                .map(|w| {
                    let (log, serial_at, done) = (&log, &serial_at, &done);
                    scope.spawn(move || {
                        let mut next = rng(seed.wrapping_mul(w + 7));
                        let mut b = Linux::new();
                        while !done.load(Ordering::Relaxed) {
                            let fd = Fd::new((next() % u64::from(NFDS)) as u32);
                            let to = Fd::new((next() % u64::from(NFDS)) as u32);
                            let mut log = log.lock().unwrap();
                            let before: Vec<_> = (0..NFDS).map(|n| serial_at(&b, n)).collect();
                            let start = test_clock::now();
                            let _ = match next() % 6 {
                                0 | 1 => b.fd_close(fd),
                                2 => b.fd_create_shm(all).map(|_| ()),
                                3 => b.fd_get(fd).and_then(|(f, i)| b.fd_dup(&f, i)).map(|_| ()),
                                4 => b.fd_get(fd).and_then(|(f, i)| b.fd_replace(&f, i, to)),
                                _ => b.fd_get(fd).and_then(|(f, _)| b.fd_set_rights(fd, &f, narrow)),
                            };
                            let bump = test_clock::last_bump();
                            for n in 0..NFDS {
                                let after = serial_at(&b, n);
                                if before[n as usize] != after {
                                    if let Some(old) = before[n as usize] {
                                        log.push((n, old, false, bump));
                                    }
                                    if let Some(new) = after {
                                        log.push((n, new, true, start));
                                    }
                                }
                            }
                            // Numbers beyond NFDS are not looked up: close
                            // them so the table stays small (under the log's
                            // lock: no bump times out of order).
                            for n in NFDS..NFDS + 4 {
                                let _ = b.fd_close(Fd::new(n));
                            }
                            drop(log);
                        }
                    })
                })
                .collect();
            let readers: Vec<_> = (0..3u64)
                .map(|r| {
                    scope.spawn(move || {
                        let slot = claim().expect("a pin slot");
                        let mut next = rng(seed.wrapping_mul(r + 101));
                        let mut seen = Vec::new();
                        let (mut lookups, mut hits, mut deferred, mut calls) = (0u64, 0u64, 0u64, 0u64);
                        let mut fdstat = [0u8; 24];
                        for _ in 0..20_000 {
                            if next() % 32 == 0 {
                                // Two cores for five threads: let the
                                // writers run.
                                std::thread::yield_now();
                            }
                            let fd = Fd::new((next() % u64::from(NFDS)) as u32);
                            if next() % 2 == 0 {
                                // The normal path fills this thread's cache.
                                let _ = Linux::new().fd_get(fd);
                            }
                            if next() % 4 == 0 {
                                // The whole fast call.
                                let args = [u64::from(fd.raw()), fdstat.as_mut_ptr() as u64, 0, 0, 0, 0];
                                let mut out = [0u64; 2];
                                let r = fast_call(slot, abi::nr::FD_STAT_GET.into(), &args, &mut out);
                                if r == FALLBACK && out[0] == DEFERRED_NR {
                                    assert_eq!(finish_deferred(DEFERRED_NR, &mut out), Some(0));
                                    deferred += 1;
                                } else if r != FALLBACK {
                                    assert_eq!(r, 0, "fd_stat_get on a cached descriptor");
                                    assert_eq!(fdstat[0], Filetype::SHARED_MEMORY.raw());
                                }
                                calls += 1;
                                continue;
                            }
                            let t0 = test_clock::now();
                            let mut fast = Linux::fast(slot);
                            lookups += 1;
                            match fast.fd_get(fd) {
                                Ok((file, _)) => {
                                    let t1 = test_clock::now();
                                    if test_drops::was_dropped(file.serial) {
                                        println!(
                                            "fast path: broken: fd {} gave dropped file {}",
                                            fd.raw(),
                                            file.serial
                                        );
                                        panic!("a lookup handed out a dropped file");
                                    }
                                    seen.push((fd.raw(), file.serial, t0, t1));
                                    drop(file);
                                    let held = fast.take_held().expect("several threads: a held reference");
                                    if !release_held(slot, held) {
                                        assert_eq!(finish_deferred(0, &mut [0; 2]), None);
                                        deferred += 1;
                                    }
                                    hits += 1;
                                }
                                Err(_) => assert!(fast.wants_fallback(), "a failure that is not a fallback"),
                            }
                        }
                        release();
                        (seen, lookups, hits, deferred, calls)
                    })
                })
                .collect();
            // Stop the writers before a reader's panic is passed on.
            let readers: Vec<_> = readers.into_iter().map(|r| r.join()).collect();
            done.store(true, Ordering::Relaxed);
            let readers: Vec<_> = readers.into_iter().map(|r| r.unwrap()).collect();
            for w in writers {
                w.join().unwrap();
            }
            // Each file's times in and out of the table, per number.
            let mut history: std::collections::HashMap<(u32, u64), Vec<(bool, u64)>> = Default::default();
            for &(n, serial, enter, time) in log.lock().unwrap().iter() {
                history.entry((n, serial)).or_default().push((enter, time));
            }
            for (seen, l, h, d, c) in readers {
                lookups += l;
                hits += h;
                deferred += d;
                calls += c;
                for (fd, serial, t0, t1) in seen {
                    // In the table at `fd` at some instant of [t0, t1]:
                    // entered at or before `t1`, did not leave before `t0`.
                    let mut present = false;
                    let mut entered: Option<u64> = None;
                    for &(enter, time) in history.get(&(fd, serial)).map_or(&[][..], |v| &v[..]) {
                        if enter {
                            entered = Some(time);
                        } else if let Some(e) = entered.take() {
                            present |= e <= t1 && time >= t0;
                        }
                    }
                    if let Some(e) = entered {
                        present |= e <= t1;
                    }
                    if !present {
                        println!(
                            "fast path: broken: fd {fd} gave file {serial}, not there during [{t0}, {t1}]"
                        );
                        panic!("a lookup answered a file that was not in the table during the lookup");
                    }
                }
            }
        });
        let mut b = Linux::new();
        for n in 0..NFDS + 4 {
            let _ = b.fd_close(Fd::new(n));
        }
        let log = log.into_inner().unwrap();
        for &(_, serial, _, _) in &log {
            assert!(test_drops::was_dropped(serial), "file {serial} was never dropped");
        }
        assert_eq!(test_drops::dropped_twice(), 0, "a file was dropped twice");
        assert!(hits > 500 && lookups > hits, "{hits} hits of {lookups}: the run exercised too little");
        println!(
            "fast path: reclamation: {} table changes, {lookups} fast lookups ({hits} hits), {calls} whole fast calls, {deferred} references handed to the normal path; no dropped or stale file handed out",
            log.len()
        );
    }
}
