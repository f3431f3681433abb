//! `cloudabi-run --trace`: one line per syscall on standard error, decoded
//! from the spec's descriptor tables (`abi::SYSCALLS`, `abi::TYPES`), so
//! every syscall and every argument is covered without code per syscall:
//!
//! ```text
//! [4711:2] file_open(dirfd=3 follow, path="www/index.html", path_len=14, oflags=0, fds=0x7ffd5a10) = 4
//! [4711:2] fd_read(fd=4, iovs=0x7ffd5a40, iovs_len=1) = 512
//! [4711:2] file_open(dirfd=3, path="../secret", path_len=9, oflags=0, fds=0x7ffd5a10) = ENOTCAPABLE
//! ```
//!
//! A first line says which descriptor is which
//! (`[4711:0] start: fd 0 is !socket 127.0.0.1:8080 (stream), fd 1 is ...`);
//! a descriptor of all ones is shown as -1, errnos with their `E`.
//!
//! Enum and flags values are shown by name, descriptors in decimal,
//! addresses in hex, and paths (character pointers with a length) as
//! strings read from the guest (at most 128 bytes, never faulting).

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use abi::{Errno, ParamDesc, ParamKind, SyscallDesc, TypeDesc, TypeKind};

use super::fault;

static ENABLED: AtomicBool = AtomicBool::new(false);

pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Longest string shown for a path argument.
const SHOW_MAX: u64 = 128;

/// A register decoded at `width` bytes.
fn narrow(v: u64, width: u8) -> u64 {
    if width >= 8 { v } else { v & ((1u64 << (u32::from(width) * 8)) - 1) }
}

/// `v` as a value of the spec type `ty`: names for enums and flags.
fn value(ty: &str, v: u64) -> String {
    if ty == "void" {
        return format!("{v:#x}");
    }
    let Some(t) = TypeDesc::by_name(ty) else { return v.to_string() };
    match t.kind {
        TypeKind::Opaque | TypeKind::Alias => match t.values.iter().find(|c| c.value == v) {
            Some(c) => c.name.to_string(),
            None => v.to_string(),
        },
        TypeKind::Enum => match t.values.iter().find(|c| c.value == v) {
            Some(c) => c.name.to_string(),
            None => format!("{v:#x}?"),
        },
        TypeKind::Flags if v == 0 => "0".into(),
        TypeKind::Flags => {
            let mut names: Vec<String> = t
                .values
                .iter()
                .filter(|c| c.value != 0 && v & c.value == c.value)
                .map(|c| c.name.to_string())
                .collect();
            let known = t.values.iter().fold(0, |a, c| a | c.value);
            if v & !known != 0 {
                names.push(format!("{:#x}", v & !known));
            }
            names.join("|")
        }
        _ => v.to_string(),
    }
}

/// The bytes of a guest string, quoted; `None` if they cannot be read.
fn guest_string(addr: u64, len: u64) -> Option<String> {
    let mut buf = vec![0u8; len.min(SHOW_MAX) as usize];
    fault::copy_in(addr, &mut buf).ok()?;
    let mut s = format!("{:?}", String::from_utf8_lossy(&buf));
    if len > SHOW_MAX {
        s.push_str("...");
    }
    Some(s)
}

fn param(p: &ParamDesc, v: u64, next: Option<u64>) -> String {
    let v = narrow(v, p.width);
    match p.kind {
        // A descriptor is 32 bits; all ones is -1 (no descriptor).
        ParamKind::Fd if v as u32 == u32::MAX => "-1".into(),
        ParamKind::Fd => (v as u32).to_string(),
        ParamKind::Length => v.to_string(),
        ParamKind::Lookup => {
            let follow = (v >> 32) & 1 != 0;
            format!("{}{}", v as u32, if follow { " follow" } else { "" })
        }
        ParamKind::Pointer if p.ty == "char" => {
            next.and_then(|len| guest_string(v, len)).unwrap_or_else(|| format!("{v:#x}"))
        }
        ParamKind::Pointer => format!("{v:#x}"),
        ParamKind::Value => value(p.ty, v),
    }
}

/// `name(arg=value, ...)` for syscall `nr` with argument registers `args`.
pub fn call(nr: u64, args: &[u64; 6]) -> String {
    let Some(d) = SyscallDesc::by_number(nr) else { return format!("syscall_{nr}(...)") };
    let mut s = format!("{}(", d.name);
    for (i, p) in d.params.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let next = args.get(i + 1).copied();
        let _ = write!(s, "{}={}", p.name, param(p, args.get(i).copied().unwrap_or(0), next));
    }
    s.push(')');
    s
}

/// An errno as C spells it: `ENOTCAPABLE` (the spec names the constants
/// without the `E`, except `E2BIG`, which cannot start with a digit).
pub fn errno_name(e: Errno) -> String {
    match e.name() {
        Some(n) if n.starts_with("E2") => n.to_owned(),
        Some(n) => format!("E{n}"),
        None => format!("errno {}", e.raw()),
    }
}

/// The start line: which descriptor of the program is which, as the
/// configuration described them (`fd 0: !file www (directory)`).
pub fn start(names: &[String]) {
    if names.is_empty() {
        line(0, "start: no descriptors");
        return;
    }
    let list: Vec<String> = names.iter().enumerate().map(|(i, n)| format!("fd {i} is {n}")).collect();
    line(0, &format!("start: {}", list.join(", ")));
}

/// ` = result` for syscall `nr`.
pub fn result(nr: u64, r: &Result<[u64; 2], Errno>) -> String {
    match r {
        Err(e) => format!(" = {}", errno_name(*e)),
        Ok(regs) => {
            let Some(d) = SyscallDesc::by_number(nr) else { return format!(" = {:#x}", regs[0]) };
            if d.results.is_empty() {
                return " = 0".into();
            }
            let shown: Vec<String> =
                d.results.iter().zip(regs).map(|(res, &v)| value(res.ty, narrow(v, res.width))).collect();
            format!(" = {}", shown.join(", "))
        }
    }
}

/// Writes one line to standard error in one `write`, so that lines of
/// different threads do not mix.
pub fn line(tid: u32, text: &str) {
    // SAFETY: getpid has no arguments.
    let pid = unsafe { libc::getpid() };
    let line = format!("[{pid}:{tid}] {text}\n");
    // SAFETY: a write of our own buffer to descriptor 2.
    unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_results_are_decoded_from_the_spec() {
        let open = u64::from(abi::nr::FILE_OPEN);
        let path = b"www/index.html";
        let args = [3 | (1 << 32), path.as_ptr() as u64, 14, 0x1 | 0x8, 0x1000, 0];
        assert_eq!(
            call(open, &args),
            "file_open(dirfd=3 follow, path=\"www/index.html\", path_len=14, oflags=creat|trunc, fds=0x1000)"
        );
        assert_eq!(result(open, &Ok([4, 0])), " = 4");
        assert_eq!(result(open, &Err(Errno::NOTCAPABLE)), " = ENOTCAPABLE");
        assert_eq!(result(open, &Err(Errno::E2BIG)), " = E2BIG");
        let close = u64::from(abi::nr::FD_CLOSE);
        assert_eq!(call(close, &[0xffff_ffff, 0, 0, 0, 0, 0]), "fd_close(fd=-1)");
        assert_eq!(call(close, &[0x1_0000_0004, 0, 0, 0, 0, 0]), "fd_close(fd=4)");
        let clock = u64::from(abi::nr::CLOCK_TIME_GET);
        assert_eq!(call(clock, &[1, 0, 0, 0, 0, 0]), "clock_time_get(clock_id=monotonic, precision=0)");
        assert_eq!(call(99, &[0; 6]), "syscall_99(...)");
        let fork = u64::from(abi::nr::PROC_FORK);
        assert_eq!(result(fork, &Ok([0xffff_ffff, 3])), " = process_child, 3");
    }
}
