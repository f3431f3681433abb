//! kmod-sim: runs the cloudabi64 kernel module's own code in a Linux
//! x86-64 process, over a user-space implementation of the FreeBSD KPI it
//! uses (src/shim/), with the kernel records laid out at the 14.x amd64
//! offsets the module was compiled with. See docs/kmod.md, "kmod-sim".
//!
//! ```text
//! kmod-sim --load-only                 kldload + self-check + kldunload
//! kmod-sim PROGRAM < config.yaml       run a CloudABI x86-64 program
//! kmod-sim --config FILE PROGRAM
//! kmod-sim --fuzz CALLS SEED           random registers into the syscall entry
//! ```
//!
//! Exit statuses: the program's own (128 + the signal when it was killed);
//! those of cloudabi-run for configuration and input errors (65, 66, 78);
//! 64 bad usage; 70 (EX_SOFTWARE) when
//! the module failed in the simulated kernel: kldload refused, a panic, a
//! KPI call the shim does not reproduce, an unbalanced resource, or
//! `kmod-sim: <N> leaked` with N > 0.

mod account;
mod config;
mod fuzz;
mod kernel;
mod linker;
mod proc;
mod shim;
mod signal;
mod trap;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `EX_SOFTWARE` (sysexits(3)): the module failed in the simulated kernel.
pub const EX_SOFTWARE: i32 = 70;

/// Prints a console line of the simulated kernel (the module's printf).
pub fn console_line(s: &str) {
    let _ = std::io::stderr().write_all(s.as_bytes());
}

/// Stops the simulation: a module failure the shim detected.
pub fn fatal(msg: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "kmod-sim: fatal: {msg}");
    std::process::exit(EX_SOFTWARE)
}

/// Prints the leak line (and one line per leaked resource); the count.
fn report_leaks() -> usize {
    let out = account::outstanding();
    let mut err = std::io::stderr().lock();
    if std::env::var_os("KMOD_SIM_STATS").is_some() {
        use std::sync::atomic::Ordering::Relaxed;
        let (s, u) = (shim::files::SX_SLOCKS.load(Relaxed), shim::files::SX_SUNLOCKS.load(Relaxed));
        let hits = shim::files::FD_LIMIT_HITS.load(Relaxed);
        let shared = shim::umtx::SHARED_WAITS.load(Relaxed);
        let _ = writeln!(
            err,
            "kmod-sim: stats: fd_sx taken shared {s} times, released {u} times; {hits} EMFILE at the --fd-limit; {shared} umtx waits on shared keys"
        );
    }
    let _ = writeln!(err, "kmod-sim: {} leaked", out.len());
    for (kind, what) in &out {
        let _ = writeln!(err, "kmod-sim:   leaked {kind}: {what}");
    }
    out.len()
}

struct Options {
    load_only: bool,
    /// Test hook: a kernel whose sys_kldload() does not preset
    /// td_retval[0] (the module's self-check must refuse it).
    no_kldload_preset: bool,
    config: Option<PathBuf>,
    program: Option<PathBuf>,
    /// `--fuzz N SEED`: random registers into the syscall entry.
    fuzz: Option<(u64, u64)>,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: kmod-sim [--fd-limit N] [--config FILE] PROGRAM < config.yaml\n       kmod-sim --load-only\n       kmod-sim --fuzz CALLS SEED"
    );
    ExitCode::from(64)
}

fn main() -> ExitCode {
    let mut opts =
        Options { load_only: false, no_kldload_preset: false, config: None, program: None, fuzz: None };
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--load-only") => opts.load_only = true,
            Some("--test-kernel-without-kldload-preset") => opts.no_kldload_preset = true,
            Some("--config") => match args.next() {
                Some(f) => opts.config = Some(f.into()),
                None => return usage(),
            },
            Some("--fd-limit") => match args.next().and_then(|n| n.to_str()?.parse().ok()) {
                Some(n) => shim::files::FD_LIMIT.store(n, std::sync::atomic::Ordering::Relaxed),
                None => return usage(),
            },
            Some("--fuzz") => match (args.next(), args.next()) {
                (Some(n), Some(seed)) => match (
                    n.to_str().and_then(|n| n.parse().ok()),
                    seed.to_str().and_then(|s| s.parse().ok()),
                ) {
                    (Some(n), Some(seed)) => opts.fuzz = Some((n, seed)),
                    _ => return usage(),
                },
                _ => return usage(),
            },
            Some("-h" | "--help") => {
                let _ = usage();
                return ExitCode::SUCCESS;
            }
            Some(s) if s.starts_with('-') => return usage(),
            _ if opts.program.is_none() => opts.program = Some(a.into()),
            _ => return usage(),
        }
    }
    if [opts.load_only, opts.program.is_some(), opts.fuzz.is_some()].iter().filter(|&&b| b).count() != 1 {
        return usage();
    }
    // SAFETY: reading the auxiliary vector.
    if unsafe { libc::getauxval(libc::AT_HWCAP2) } & 2 == 0 {
        eprintln!("kmod-sim: this CPU or kernel does not allow FSGSBASE in user mode, which kmod-sim needs");
        return ExitCode::from(69);
    }
    // The program and its configuration first, as cloudabi-run does: a
    // configuration error is reported before anything runs.
    let program = match &opts.program {
        Some(path) => match config::program(path, opts.config.as_deref()) {
            Ok(p) => Some(p),
            Err(f) => {
                eprintln!("kmod-sim: {}", f.message);
                return ExitCode::from(f.status.code());
            }
        },
        None => None,
    };
    if let Err(e) = kernel::reserve_user_space() {
        eprintln!("kmod-sim: {e}");
        return ExitCode::from(71);
    }
    let code = run(&opts, program);
    let leaked = report_leaks();
    if leaked > 0 {
        return ExitCode::from(EX_SOFTWARE as u8);
    }
    ExitCode::from(code)
}

fn run(opts: &Options, program: Option<proc::Program>) -> u8 {
    // The process that runs kldload(8): native, pid 1234.
    let native = shim::exec::native_sysvec();
    let top = kernel::USER_BASE + kernel::USER_SIZE - (1 << 20);
    let loader = kernel::new_proc(native, 1234, top, top);
    shim::module::SYSVEC_USERS.lock().unwrap_or_else(|e| e.into_inner()).push(native as usize);
    let td = kernel::new_thread(&loader, 100_234);
    kernel::set_curthread(td.td);
    // SAFETY: `td` is now curthread.
    let error = unsafe { linker::kldload(&td, !opts.no_kldload_preset) };
    if error != 0 {
        eprintln!("kmod-sim: kldload: cloudabi64.ko: error {error} (the module refused to load)");
        return EX_SOFTWARE as u8;
    }
    let mut code = 0;
    if let Some((calls, seed)) = opts.fuzz {
        if fuzz::run(calls, seed) > 0 {
            code = EX_SOFTWARE as u8;
        }
    }
    if let Some(program) = program {
        let name = opts.program.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
        code = match proc::exec(program) {
            Ok(process) => {
                let status = proc::run(&process) as i32;
                // Back in the loading process for kldunload.
                // SAFETY: this host thread's per-CPU area.
                unsafe { (*kernel::pcpu()).curthread = td.td };
                if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status) as u8
                } else {
                    // The exit status cloudabi-run gives on this host:
                    // 128 + the host's number of the signal.
                    let (sig_name, host) = signal::host(libc::WTERMSIG(status));
                    eprintln!("kmod-sim: {name}: killed by {sig_name}");
                    (128 + host) as u8
                }
            }
            Err(proc::ExecError(e, why)) => {
                eprintln!("kmod-sim: {name}: exec failed: {why} (errno {e})");
                65
            }
        };
    }
    // SAFETY: as above.
    let error = unsafe { linker::kldunload(&td) };
    if error != 0 {
        eprintln!("kmod-sim: kldunload: cloudabi64.ko: error {error}");
        return EX_SOFTWARE as u8;
    }
    code
}
