//! `kmod-sim --fuzz N SEED`: random registers into the module's syscall
//! entry. A CloudABI process is set up (the module's sysentvec, capability
//! mode, a scratch directory, a socket pair and a file, a few pages of
//! user memory), then N times: random syscall number and argument
//! registers, drawn from values that matter (small integers and
//! descriptor numbers, pointers into the scratch pages, at their edges,
//! into unmapped user memory, into kernel memory, NULL, huge values), and
//! scratch memory refilled the same way (so iovecs, descriptor lists and
//! subscriptions point somewhere interesting); the trap frame is filled
//! and the same `syscallenter` path as a real trap runs (fetch, sysent
//! call, set_syscall_retval, the per-syscall resource balance).
//!
//! Checked: the simulated kernel never faults (a fault in it ends the run,
//! trap.rs), every resource a syscall takes it gives back (proc.rs), every
//! result is success with the carry clear or a CloudABI errno with the
//! carry set. (That a bad pointer gives EFAULT is checked by the shim's
//! copyin/copyout, which refuse anything outside mapped user pages, and
//! counted; which argument of which syscall must fault is not modelled.)
//! Syscalls that end the process or block
//! (proc_exit, thread_exit, proc_raise, poll, lock and condvar waits) and
//! those whose KPI the shim does not reproduce yet are not drawn.

use std::collections::BTreeMap;
use std::os::fd::{FromRawFd, OwnedFd};

use abi::nr;
use cloudabi64::consts::*;
use cloudabi64::sim_api::*;

use crate::kernel::{self, USER_BASE};
use crate::shim::{files, module, uvm};

const SCRATCH: usize = USER_BASE + (8 << 30);
const SCRATCH_PAGES: usize = 16;
const PAGE: usize = 4096;

/// Syscalls drawn (see the module documentation for the exclusions).
const DRAWN: [u32; 37] = [
    nr::CLOCK_RES_GET,
    nr::CLOCK_TIME_GET,
    nr::FD_CLOSE,
    nr::FD_CREATE2,
    nr::FD_DATASYNC,
    nr::FD_DUP,
    nr::FD_PREAD,
    nr::FD_PWRITE,
    nr::FD_READ,
    nr::FD_REPLACE,
    nr::FD_SEEK,
    nr::FD_STAT_GET,
    nr::FD_STAT_PUT,
    nr::FD_SYNC,
    nr::FD_WRITE,
    nr::FILE_ADVISE,
    nr::FILE_ALLOCATE,
    nr::FILE_CREATE,
    nr::FILE_LINK,
    nr::FILE_OPEN,
    nr::FILE_READLINK,
    nr::FILE_RENAME,
    nr::FILE_STAT_FGET,
    nr::FILE_STAT_FPUT,
    nr::FILE_STAT_GET,
    nr::FILE_STAT_PUT,
    nr::FILE_SYMLINK,
    nr::FILE_UNLINK,
    nr::MEM_ADVISE,
    nr::MEM_MAP,
    nr::MEM_PROTECT,
    nr::MEM_SYNC,
    nr::MEM_UNMAP,
    nr::RANDOM_GET,
    nr::SOCK_SEND,
    nr::SOCK_SHUTDOWN,
    nr::THREAD_YIELD,
];

/// xorshift64*: reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A value that matters as an argument or a word of memory.
    fn value(&mut self) -> u64 {
        let scratch = SCRATCH as u64;
        match self.below(12) {
            0 => self.below(8), // descriptors, small counts
            1 => self.below(64),
            2 => 1 << self.below(64), // flags, sizes
            3 => scratch + 8 * self.below((SCRATCH_PAGES * PAGE / 8) as u64),
            4 => scratch + (SCRATCH_PAGES * PAGE) as u64 - self.below(64), // the end of the mapping
            5 => USER_BASE as u64 + 0x1000 * self.below(1 << 20),          // unmapped user memory
            6 => kernel::pcpu() as u64,                                    // a kernel address
            7 => 0,
            8 => u64::MAX - self.below(16),
            9 => (scratch + 0x100) | (self.below(2) << 63),
            10 => self.below(1 << 32),
            _ => self.next(),
        }
    }
}

/// Runs `calls` random syscalls; prints the summary; the number of
/// violations found.
pub fn run(calls: u64, seed: u64) -> u64 {
    crate::shim::sock::set_fuzzing();
    crate::trap::alt_stack();
    if let Err(e) = crate::trap::install() {
        crate::fatal(&e);
    }
    let Some(&brand) = module::BRANDS.lock().unwrap_or_else(|e| e.into_inner()).first() else {
        crate::fatal("fuzz: the module registered no brand")
    };
    // SAFETY: the module's brand.
    let sv = unsafe { (*(brand as *const Brandinfo)).sysvec };
    let proc = kernel::new_proc(sv, 1236, SCRATCH, SCRATCH);
    let thread = kernel::new_thread(&proc, 100_236);
    let td = thread.td;
    // SAFETY: this host thread's per-CPU area.
    let loader = unsafe { std::mem::replace(&mut (*kernel::pcpu()).curthread, td) };
    module::SYSVEC_USERS.lock().unwrap_or_else(|e| e.into_inner()).push(sv as usize);
    crate::shim::proc::sys_cap_enter(td, std::ptr::null_mut());
    if let Err(e) = uvm::map_anon_fixed(SCRATCH, SCRATCH_PAGES * PAGE, libc::PROT_READ | libc::PROT_WRITE) {
        crate::fatal(&format!("fuzz: cannot map scratch memory: {e}"));
    }
    let dir = tempdir();
    install_host(&dir, libc::O_RDONLY | libc::O_DIRECTORY);
    let mut sv2 = [0; 2];
    // SAFETY: host socketpair.
    unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, sv2.as_mut_ptr()) };
    for fd in sv2 {
        crate::shim::sock::limit_blocking(fd);
        // SAFETY: a new descriptor we own.
        files::install(
            files::new_file(unsafe { OwnedFd::from_raw_fd(fd) }),
            crate::shim::filecaps::Caps::unlimited(),
            None,
        );
    }
    install_host(&format!("{dir}/file"), libc::O_RDWR | libc::O_CREAT);

    let mut rng = Rng(seed.wrapping_mul(2).wrapping_add(1));
    let (mut errors, mut violations) = (BTreeMap::<u64, u64>::new(), 0u64);
    for _ in 0..calls {
        // Scratch memory: a fresh mix of interesting words.
        if uvm::check(SCRATCH, SCRATCH_PAGES * PAGE, libc::PROT_WRITE) {
            for i in 0..256 {
                let at = SCRATCH + 8 * rng.below((SCRATCH_PAGES * PAGE / 8) as u64) as usize;
                let v = if i % 4 == 0 { rng.value() } else { rng.below(8) };
                // SAFETY: a writable scratch page (checked).
                unsafe { (at as *mut u64).write(v) };
            }
        }
        // Now and then a number out of range (ENOSYS); never one of the
        // excluded syscalls.
        let wild = rng.value();
        let number = if rng.below(50) == 0 && wild >= abi::SYSCALL_COUNT as u64 {
            wild
        } else {
            u64::from(DRAWN[rng.below(DRAWN.len() as u64) as usize])
        };
        let args: [u64; 6] = std::array::from_fn(|_| rng.value());
        // SAFETY: the fuzz thread's frame, filled as fast_syscall does.
        unsafe {
            let f = &mut *thread.frame;
            f.tf_rax = number;
            f.tf_rdi = args[0];
            f.tf_rsi = args[1];
            f.tf_rdx = args[2];
            f.tf_rcx = args[3];
            f.tf_r8 = args[4];
            f.tf_r9 = args[5];
            f.tf_rflags = 0x202;
            f.tf_err = 2;
            crate::proc::syscallenter(td);
        }
        // SAFETY: as above.
        let (rax, carry) = unsafe { ((*thread.frame).tf_rax, (*thread.frame).tf_rflags & 1 != 0) };
        if carry {
            if !(1..=76).contains(&rax) {
                eprintln!(
                    "kmod-sim fuzz: syscall {number} returned carry with {rax:#x}, not a CloudABI errno"
                );
                violations += 1;
            }
            *errors.entry(rax).or_default() += 1;
        } else {
            *errors.entry(0).or_default() += 1;
        }
    }
    // SAFETY: this host thread's per-CPU area.
    unsafe { (*kernel::pcpu()).curthread = loader };
    files::close_all();
    uvm::unmap_all();
    module::SYSVEC_USERS.lock().unwrap_or_else(|e| e.into_inner()).retain(|&s| s != sv as usize);
    let _ = std::fs::remove_dir_all(&dir);
    let efault = errors.get(&u64::from(abi::Errno::FAULT.raw())).copied().unwrap_or(0);
    let summary: Vec<String> = errors.iter().map(|(e, n)| format!("{}:{n}", errno_name(*e))).collect();
    eprintln!(
        "kmod-sim fuzz: {calls} calls (seed {seed}), 0 crashes, {violations} violations, {efault} EFAULT; results {}",
        summary.join(" ")
    );
    violations
}

fn errno_name(e: u64) -> String {
    if e == 0 { "success".into() } else { format!("errno{e}") }
}

/// A fresh scratch directory on the host.
fn tempdir() -> String {
    let base = std::env::temp_dir().join(format!("kmod-sim-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&base);
    base.display().to_string()
}

/// Opens a host path and installs it, unlimited, at the lowest number.
fn install_host(path: &str, flags: i32) {
    let c = std::ffi::CString::new(path).unwrap_or_default();
    // SAFETY: host open.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, 0o600) };
    if fd < 0 {
        crate::fatal(&format!("fuzz: cannot open {path}"));
    }
    // SAFETY: a new descriptor we own.
    files::install(
        files::new_file(unsafe { OwnedFd::from_raw_fd(fd) }),
        crate::shim::filecaps::Caps::unlimited(),
        None,
    );
}

/// Keeps the import of the constants used.
#[allow(dead_code)]
const _E: i32 = EFAULT;
