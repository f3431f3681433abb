//! The TLS-free fast path: a few hot system calls answered without
//! switching `%fs` to the host's, and descriptor lookups that take no lock.
//!
//! The entry code (`arch.rs`) switches `%fs` to the host's for every call
//! because Rust and glibc keep thread-local state behind it (the lookup
//! cache, `errno`, the allocator). That switch (`rdfsbase`, two
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
//!   fault-safe assembly routine, and nothing allocates, locks or panics;
//! - the descriptor comes from [`lookup`], a process-wide cache that is
//!   used only while the process has a single thread running guest code:
//!   no other thread can then change the table during the call, so an
//!   entry made in the current table generation is exact and the file it
//!   names is kept open by the table itself. When the cache cannot answer
//!   (a miss, a second thread), the backend asks for a fallback before
//!   doing anything, and the entry runs the normal path, which repeats the
//!   whole call with the host's `%fs`.
//!
//! `run/src/linux/backend/tests` runs every fast call with the `%fs` base
//! pointing at an unmapped page: a thread-local access anywhere on the
//! path would crash the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, Ordering};

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

/// Whether the entry offers calls to the fast path: on unless `--trace`
/// (which must see every call) or `CLOUDABI_RUN_NO_FAST_PATH`, and off for
/// good once a second guest thread exists. Read by the entry code.
#[unsafe(no_mangle)]
pub static cloudabi_linux_fast_on: AtomicBool = AtomicBool::new(false);

/// Whether at most one thread runs guest code (and so calls into the
/// backend). Cleared before the second thread is created, never set again.
/// The unit tests share one process between many threads, so there it
/// starts cleared (a test sets it in a forked child).
static SINGLE: AtomicBool = AtomicBool::new(!cfg!(test));

/// Turns the fast path on, unless `--trace` or the environment says not.
pub fn enable(trace: bool) {
    let on = !trace && std::env::var_os("CLOUDABI_RUN_NO_FAST_PATH").is_none();
    cloudabi_linux_fast_on.store(on && single_threaded(), Ordering::SeqCst);
}

/// Called before a second thread is created: the fast path and the
/// process-wide cache are off from now on.
pub fn going_multithreaded() {
    cloudabi_linux_fast_on.store(false, Ordering::SeqCst);
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

/// Called by the entry code on the host stack, with the guest's `%fs`:
/// runs call `nr` (one of [`FAST_CALLS`]) like `cloudabi_linux_dispatch`,
/// or returns [`FALLBACK`] having done nothing.
#[unsafe(no_mangle)]
extern "C" fn cloudabi_linux_fast(nr: u64, args: *const [u64; 6], out: *mut [u64; 2]) -> u64 {
    if nr >= 64 || FAST_CALLS & (1 << nr) == 0 || !cloudabi_linux_fast_on.load(Ordering::Relaxed) {
        return FALLBACK;
    }
    // SAFETY: the entry code passes pointers into its own stack frame.
    let (args, out) = unsafe { (&*args, &mut *out) };
    let mut b = Linux::fast();
    let result = sys::dispatch(&mut b, nr, args);
    if b.wants_fallback() {
        return FALLBACK;
    }
    match result {
        Ok(r) => {
            *out = r;
            0
        }
        Err(e) => u64::from(e.raw()),
    }
}

/// Entries of the process-wide lookup cache, indexed by descriptor number.
const WAYS: usize = 8;

/// One cached lookup. Plain relaxed atomics: only one thread ever uses the
/// cache (see [`SINGLE`]), so they compile to plain loads and stores and
/// need no `unsafe` to share.
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

static CACHE: [Entry; WAYS] = [EMPTY; WAYS];

/// The file and rights at `fd` if a lookup of it was stored in table
/// generation `generation`, which is current. Single-threaded only.
pub fn lookup(fd: Fd, generation: u64) -> Option<(Arc<HostFile>, FdInfo)> {
    debug_assert!(single_threaded());
    let e = &CACHE[fd.raw() as usize % WAYS];
    if e.generation.load(Ordering::Relaxed) != generation.wrapping_add(1)
        || e.fd.load(Ordering::Relaxed) != fd.raw()
    {
        return None;
    }
    let file = e.file.load(Ordering::Relaxed);
    let filetype = Filetype::new(e.filetype.load(Ordering::Relaxed))?;
    let rights = FdRights {
        base: Rights::from_bits_truncate(e.base.load(Ordering::Relaxed)),
        inheriting: Rights::from_bits_truncate(e.inheriting.load(Ordering::Relaxed)),
    };
    // SAFETY: the entry was stored from an `Arc` the table held in this
    // generation; the generation is still current, so the table has not
    // changed and still holds that `Arc`, and no other thread can change
    // it meanwhile (single-threaded). The count increment gives the
    // caller its own reference, as `Arc::clone` would.
    let file = unsafe {
        Arc::increment_strong_count(file);
        Arc::from_raw(file)
    };
    Some((file, FdInfo { filetype, rights }))
}

/// Remembers a lookup made in table generation `generation`.
/// Single-threaded only.
pub fn store(fd: Fd, generation: u64, file: &Arc<HostFile>, info: FdInfo) {
    debug_assert!(single_threaded());
    let e = &CACHE[fd.raw() as usize % WAYS];
    e.generation.store(generation.wrapping_add(1), Ordering::Relaxed);
    e.fd.store(fd.raw(), Ordering::Relaxed);
    e.file.store(Arc::as_ptr(file).cast_mut(), Ordering::Relaxed);
    e.filetype.store(info.filetype.raw(), Ordering::Relaxed);
    e.base.store(info.rights.base.bits(), Ordering::Relaxed);
    e.inheriting.store(info.rights.inheriting.bits(), Ordering::Relaxed);
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
        assert!(
            text.contains("fast path: the cache followed"),
            "the child did not run the invariant:\n{text}"
        );
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
        let mut got = [0u8; 1];
        let iov_out: [u64; 2] = [byte.as_ptr() as u64, 1];
        let iov_in: [u64; 2] = [got.as_mut_ptr() as u64, 1];
        let mut stat = [0u8; 64];
        let mut fdstat = [0u8; 24];
        let (sp, fsp) = (stat.as_mut_ptr() as u64, fdstat.as_mut_ptr() as u64);
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
        // Fill the process-wide cache the way the normal path does.
        for (_, a) in &calls[..4] {
            b.fd_get(Fd::new(a[0] as u32)).unwrap();
        }
        b.fd_get(read_only).unwrap();

        let mut results = [u64::MAX; 9];
        let mut outs = [[0u64; 2]; 9];
        // An inaccessible page for %fs to point at.
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
        let saved = rdfsbase();
        // SAFETY: between the two writes only the fast entry runs, which
        // is what is under test; plain arrays on the stack take the
        // results.
        unsafe {
            wrfsbase(poison as u64 + 2048);
            let mut i = 0;
            while i < 9 {
                results[i] = cloudabi_linux_fast(u64::from(calls[i].0), &calls[i].1, &mut outs[i]);
                i += 1;
            }
            wrfsbase(saved);
        }

        let e = |x: Errno| u64::from(x.raw());
        assert_eq!(results[0], 0, "fd_write");
        assert_eq!(outs[0][0], 1);
        assert_eq!((results[1], outs[1][0], got[0]), (0, 1, b'x'), "fd_read");
        assert_eq!(results[2], 0, "file_stat_fget");
        // cloudabi_filestat_t: st_filetype at 16, st_size at 24.
        assert_eq!(stat[16], Filetype::SHARED_MEMORY.raw(), "file_stat_fget: type");
        assert_eq!(stat[24..32], 0u64.to_ne_bytes(), "file_stat_fget: size");
        assert_eq!(results[3], 0, "fd_stat_get");
        assert_eq!(fdstat[0], Filetype::SHARED_MEMORY.raw(), "fd_stat_get: type");
        assert_eq!(results[4], e(Errno::FAULT), "fd_read with an unmapped iovec");
        assert_eq!(results[5], e(Errno::NOTCAPABLE), "fd_write without the right");
        assert_eq!(results[6], e(Errno::FAULT), "file_stat_fget into unmapped memory");
        assert_eq!((results[7], outs[7][0]), (0, 0), "fd_read at the end of an empty shm");
        assert_eq!(results[8], FALLBACK, "a descriptor the cache does not hold");
        println!("fast path: 9 calls checked");
        cache_follows_random_changes();
    }

    /// The invariant the process-wide cache rests on, checked after every
    /// step of a random sequence of table changes (create, close, dup,
    /// replace, narrowing rights, plain lookups): for every descriptor
    /// number, the fast path's lookup answers exactly what the table holds
    /// (the same file, the same type and rights) or asks for the fallback,
    /// and the normal path's lookup, which fills the cache, agrees with the
    /// table. Single-threaded, like the cache: runs in the child.
    fn cache_follows_random_changes() {
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
                let mut fast = Linux::fast();
                match (fast.fd_get(fd), &truth) {
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
}
