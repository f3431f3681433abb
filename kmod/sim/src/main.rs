//! kmod-sim: runs the cloudabi64 kernel module's own code in a Linux
//! x86-64 process, over a user-space implementation of the FreeBSD KPI it
//! uses (src/shim/), with the kernel records laid out at the 14.x amd64
//! offsets the module was compiled with. See docs/kmod.md, "kmod-sim".
//!
//! ```text
//! kmod-sim --load-only                 kldload + self-check + kldunload
//! kmod-sim PROGRAM < config.yaml       (not yet: see docs/kmod.md)
//! ```
//!
//! Exit statuses: the program's own; 64 bad usage; 70 (EX_SOFTWARE) when
//! the module failed in the simulated kernel: kldload refused, a panic, a
//! KPI call the shim does not reproduce, an unbalanced resource, or
//! `kmod-sim: <N> leaked` with N > 0.

mod account;
mod kernel;
mod linker;
mod shim;

use std::io::Write;
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
}

fn usage() -> ExitCode {
    eprintln!("usage: kmod-sim --load-only");
    ExitCode::from(64)
}

fn main() -> ExitCode {
    let mut opts = Options { load_only: false, no_kldload_preset: false };
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--load-only" => opts.load_only = true,
            "--test-kernel-without-kldload-preset" => opts.no_kldload_preset = true,
            "-h" | "--help" => {
                let _ = usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    if !opts.load_only {
        eprintln!("kmod-sim: running programs is not implemented yet; use --load-only");
        return ExitCode::from(64);
    }
    // SAFETY: reading the auxiliary vector.
    if unsafe { libc::getauxval(libc::AT_HWCAP2) } & 2 == 0 {
        eprintln!("kmod-sim: this CPU or kernel does not allow FSGSBASE in user mode, which kmod-sim needs");
        return ExitCode::from(69);
    }
    if let Err(e) = kernel::reserve_user_space() {
        eprintln!("kmod-sim: {e}");
        return ExitCode::from(71);
    }
    let code = run(&opts);
    let leaked = report_leaks();
    if leaked > 0 {
        return ExitCode::from(EX_SOFTWARE as u8);
    }
    ExitCode::from(code)
}

fn run(opts: &Options) -> u8 {
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
    eprintln!("kmod-sim: kldload cloudabi64.ko: loaded");
    // SAFETY: as above.
    let error = unsafe { linker::kldunload(&td) };
    if error != 0 {
        eprintln!("kmod-sim: kldunload: cloudabi64.ko: error {error}");
        return EX_SOFTWARE as u8;
    }
    eprintln!("kmod-sim: kldunload cloudabi64.ko: unloaded");
    0
}
