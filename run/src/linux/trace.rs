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
//!
//! Data and message structures are decoded too (at most 64 bytes of data
//! and 8 list elements per argument, read without faulting; what cannot
//! be read is shown as its address):
//!
//! ```text
//! [4711:1] fd_write(fd=1, iovs=["hello", " world\n"], iovs_len=2) = 12
//! [4711:1] fd_read(fd=0, iovs=[{0x7ffd5a40, 512}], iovs_len=1) = 6 "hello\n"
//! [4711:1] sock_send(sock=3, in={data=["ping"], fds=[4], flags=0}, out=0x7ffd5a00) = 0 {datalen=4}
//! [4711:1] sock_recv(sock=3, in={data=[{0x7ffd5a40, 64}], fds=[room 2], flags=peek}, out=0x7ffd5a00) = 0 {datalen=4, fdslen=1, flags=0} "ping" fds=[5]
//! ```

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use abi::{
    Ciovec, Errno, Fd, Iovec, ParamDesc, ParamKind, Pod, RecvIn, RecvOut, SendIn, SendOut, SyscallDesc,
    TypeDesc, TypeKind,
};

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

/// Most bytes of data shown per argument or result.
const DATA_MAX: usize = 64;
/// Most elements of a list (buffers, descriptors) shown per argument.
const LIST_MAX: u64 = 8;

/// A value of type `T` read from the guest at `addr`.
fn read<T: Pod>(addr: u64) -> Option<T> {
    let mut v = T::zeroed();
    fault::copy_in(addr, v.as_bytes_mut()).ok()?;
    Some(v)
}

/// The first (at most [`LIST_MAX`]) of `len` elements at `addr`, and
/// whether there were more.
fn read_list<T: Pod>(addr: u64, len: u64) -> Option<(Vec<T>, bool)> {
    let shown = len.min(LIST_MAX);
    let mut v = Vec::with_capacity(shown as usize);
    for i in 0..shown {
        v.push(read(addr.checked_add(i.checked_mul(size_of::<T>() as u64)?)?)?);
    }
    Some((v, len > shown))
}

/// `bytes` quoted, `...` after it when `more`.
fn quoted(bytes: &[u8], more: bool) -> String {
    let mut s = format!("{:?}", String::from_utf8_lossy(bytes));
    if more {
        s.push_str("...");
    }
    s
}

/// The first `total` bytes of the buffers `bufs` (start, length), in
/// order, quoted as one string, at most `limit` of them shown (`...` after
/// the string when some are not); `None` if a buffer cannot be read.
fn gathered(bufs: &[(u64, u64)], total: u64, limit: usize) -> Option<String> {
    let mut data = Vec::new();
    let mut left = total;
    for &(addr, len) in bufs {
        if left == 0 || data.len() == limit {
            break;
        }
        let n = len.min(left).min((limit - data.len()) as u64) as usize;
        let start = data.len();
        data.resize(start + n, 0);
        fault::copy_in(addr, &mut data[start..]).ok()?;
        left -= len.min(left);
    }
    Some(quoted(&data, total > data.len() as u64))
}

/// A gather list for writing: each buffer's data, quoted, at most
/// [`DATA_MAX`] bytes in all.
fn ciovecs(addr: u64, len: u64) -> Option<String> {
    let (list, mut more) = read_list::<Ciovec>(addr, len)?;
    let mut budget = DATA_MAX;
    let mut shown = Vec::new();
    for c in &list {
        if budget == 0 {
            more = true;
            break;
        }
        shown.push(gathered(&[(c.buf.addr(), c.buf_len)], c.buf_len, budget)?);
        budget -= c.buf_len.min(budget as u64) as usize;
    }
    Some(list_text(shown, more))
}

/// A scatter list for reading: each buffer's address and size.
fn iovecs(addr: u64, len: u64) -> Option<String> {
    let (list, more) = read_list::<Iovec>(addr, len)?;
    Some(list_text(list.iter().map(|i| format!("{{{:#x}, {}}}", i.buf.addr(), i.buf_len)).collect(), more))
}

/// `[a, b]`, or `[a, b, ...]` when more elements were left out.
fn list_text(mut items: Vec<String>, more: bool) -> String {
    if more {
        items.push("...".into());
    }
    format!("[{}]", items.join(", "))
}

fn fds(addr: u64, len: u64) -> Option<String> {
    let (list, more) = read_list::<Fd>(addr, len)?;
    Some(list_text(list.iter().map(|f| fd_text(u64::from(f.raw()))).collect(), more))
}

fn fd_text(v: u64) -> String {
    // A descriptor is 32 bits; all ones is -1 (no descriptor).
    if v as u32 == u32::MAX { "-1".into() } else { (v as u32).to_string() }
}

/// A pointer argument whose target the trace decodes, as text.
fn pointee(ty: &str, addr: u64, next: Option<u64>) -> Option<String> {
    match ty {
        "char" => guest_string(addr, next?),
        "ciovec" => ciovecs(addr, next?),
        "iovec" => iovecs(addr, next?),
        "send_in" => {
            let si: SendIn = read(addr)?;
            Some(format!(
                "{{data={}, fds={}, flags={}}}",
                ciovecs(si.si_data.addr(), si.si_data_len)?,
                fds(si.si_fds.addr(), si.si_fds_len)?,
                value("siflags", u64::from(si.si_flags))
            ))
        }
        "recv_in" => {
            let ri: RecvIn = read(addr)?;
            Some(format!(
                "{{data={}, fds=[room {}], flags={}}}",
                iovecs(ri.ri_data.addr(), ri.ri_data_len)?,
                ri.ri_fds_len,
                value("riflags", u64::from(ri.ri_flags))
            ))
        }
        _ => None,
    }
}

fn param(p: &ParamDesc, v: u64, next: Option<u64>) -> String {
    let v = narrow(v, p.width);
    match p.kind {
        ParamKind::Fd => fd_text(v),
        ParamKind::Length => v.to_string(),
        ParamKind::Lookup => {
            let follow = (v >> 32) & 1 != 0;
            format!("{}{}", v as u32, if follow { " follow" } else { "" })
        }
        ParamKind::Pointer => pointee(p.ty, v, next).unwrap_or_else(|| format!("{v:#x}")),
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

/// ` = result` for syscall `nr` called with `args`, followed by what a
/// successful read or receive stored: the data, the `recv_out`/`send_out`
/// structure, the descriptors received.
pub fn result(nr: u64, args: &[u64; 6], r: &Result<[u64; 2], Errno>) -> String {
    match r {
        Err(e) => format!(" = {}", errno_name(*e)),
        Ok(regs) => {
            let Some(d) = SyscallDesc::by_number(nr) else { return format!(" = {:#x}", regs[0]) };
            let mut s = if d.results.is_empty() {
                " = 0".to_string()
            } else {
                let shown: Vec<String> =
                    d.results.iter().zip(regs).map(|(res, &v)| value(res.ty, narrow(v, res.width))).collect();
                format!(" = {}", shown.join(", "))
            };
            if let Some(out) = stored(d.number, args, regs[0]) {
                s.push(' ');
                s.push_str(&out);
            }
            s
        }
    }
}

/// What a successful `fd_read`/`fd_pread` (which returned `n`),
/// `sock_recv` or `sock_send` stored in guest memory.
fn stored(nr: u32, args: &[u64; 6], n: u64) -> Option<String> {
    match nr {
        abi::nr::FD_READ | abi::nr::FD_PREAD => {
            let (list, _) = read_list::<Iovec>(args[1], args[2])?;
            let bufs: Vec<(u64, u64)> = list.iter().map(|i| (i.buf.addr(), i.buf_len)).collect();
            gathered(&bufs, n, DATA_MAX)
        }
        abi::nr::SOCK_SEND => {
            let so: SendOut = read(args[2])?;
            Some(format!("{{datalen={}}}", so.so_datalen))
        }
        abi::nr::SOCK_RECV => {
            let ri: RecvIn = read(args[1])?;
            let ro: RecvOut = read(args[2])?;
            let (list, _) = read_list::<Iovec>(ri.ri_data.addr(), ri.ri_data_len)?;
            let bufs: Vec<(u64, u64)> = list.iter().map(|i| (i.buf.addr(), i.buf_len)).collect();
            let mut s = format!(
                "{{datalen={}, fdslen={}, flags={}}} {}",
                ro.ro_datalen,
                ro.ro_fdslen,
                value("roflags", u64::from(ro.ro_flags)),
                gathered(&bufs, ro.ro_datalen, DATA_MAX)?
            );
            if ro.ro_fdslen > 0 {
                let _ = write!(s, " fds={}", fds(ri.ri_fds.addr(), ro.ro_fdslen.min(ri.ri_fds_len))?);
            }
            Some(s)
        }
        _ => None,
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
        assert_eq!(result(open, &args, &Ok([4, 0])), " = 4");
        assert_eq!(result(open, &args, &Err(Errno::NOTCAPABLE)), " = ENOTCAPABLE");
        assert_eq!(result(open, &args, &Err(Errno::E2BIG)), " = E2BIG");
        let close = u64::from(abi::nr::FD_CLOSE);
        assert_eq!(call(close, &[0xffff_ffff, 0, 0, 0, 0, 0]), "fd_close(fd=-1)");
        assert_eq!(call(close, &[0x1_0000_0004, 0, 0, 0, 0, 0]), "fd_close(fd=4)");
        let clock = u64::from(abi::nr::CLOCK_TIME_GET);
        assert_eq!(call(clock, &[1, 0, 0, 0, 0, 0]), "clock_time_get(clock_id=monotonic, precision=0)");
        assert_eq!(call(99, &[0; 6]), "syscall_99(...)");
        let fork = u64::from(abi::nr::PROC_FORK);
        assert_eq!(result(fork, &[0; 6], &Ok([0xffff_ffff, 3])), " = process_child, 3");
    }

    fn addr<T>(v: &T) -> u64 {
        v as *const T as u64
    }

    fn ciovec(data: &[u8]) -> Ciovec {
        Ciovec { buf: abi::UserPtr::new(data.as_ptr() as u64), buf_len: data.len() as u64 }
    }

    #[test]
    fn written_data_is_shown_and_cut_at_64_bytes() {
        let write = u64::from(abi::nr::FD_WRITE);
        let iovs = [ciovec(b"hello"), ciovec(b" world\n")];
        let args = [1, iovs.as_ptr() as u64, 2, 0, 0, 0];
        assert_eq!(call(write, &args), r#"fd_write(fd=1, iovs=["hello", " world\n"], iovs_len=2)"#);
        let long = [b'a'; 100];
        let iovs = [ciovec(&long), ciovec(b"never shown")];
        let args = [1, iovs.as_ptr() as u64, 2, 0, 0, 0];
        assert_eq!(
            call(write, &args),
            format!("fd_write(fd=1, iovs=[\"{}\"..., ...], iovs_len=2)", "a".repeat(64))
        );
        // A list the guest cannot read is shown as its address (the fault
        // handler turns the fault into an error, as in a real run).
        fault::install();
        assert_eq!(call(write, &[1, 8, 1, 0, 0, 0]), "fd_write(fd=1, iovs=0x8, iovs_len=1)");
    }

    #[test]
    fn read_data_is_shown_after_the_call() {
        let read = u64::from(abi::nr::FD_READ);
        let mut a = *b"hi";
        let mut b = [0u8; 8];
        b[..2].copy_from_slice(b"!\n");
        let iovs = [
            Iovec { buf: abi::UserPtr::new(a.as_mut_ptr() as u64), buf_len: 2 },
            Iovec { buf: abi::UserPtr::new(b.as_mut_ptr() as u64), buf_len: 8 },
        ];
        let args = [0, iovs.as_ptr() as u64, 2, 0, 0, 0];
        let c = call(read, &args);
        assert!(c.starts_with("fd_read(fd=0, iovs=[{0x"), "{c}");
        assert!(c.ends_with(", 8}], iovs_len=2)"), "{c}");
        assert_eq!(result(read, &args, &Ok([4, 0])), r#" = 4 "hi!\n""#);
        assert_eq!(result(read, &args, &Err(Errno::AGAIN)), " = EAGAIN");
    }

    #[test]
    fn messages_are_decoded() {
        let payload = *b"ping";
        let send_fds = [Fd::new(4), Fd::new(u32::MAX)];
        let data = [ciovec(&payload)];
        let mut si = SendIn::ZERO;
        si.si_data = abi::UserPtr::new(data.as_ptr() as u64);
        si.si_data_len = 1;
        si.si_fds = abi::UserPtr::new(send_fds.as_ptr() as u64);
        si.si_fds_len = 2;
        let so = SendOut { so_datalen: 4 };
        let send = u64::from(abi::nr::SOCK_SEND);
        let args = [3, addr(&si), addr(&so), 0, 0, 0];
        let c = call(send, &args);
        assert!(
            c.starts_with(r#"sock_send(sock=3, in={data=["ping"], fds=[4, -1], flags=0}, out=0x"#),
            "{c}"
        );
        assert_eq!(result(send, &args, &Ok([0, 0])), " = 0 {datalen=4}");

        let mut buf = [0u8; 16];
        buf[..4].copy_from_slice(b"pong");
        let iov = [Iovec { buf: abi::UserPtr::new(buf.as_mut_ptr() as u64), buf_len: 16 }];
        let got = [Fd::new(5), Fd::new(0)];
        let mut ri = RecvIn::ZERO;
        ri.ri_data = abi::UserPtr::new(iov.as_ptr() as u64);
        ri.ri_data_len = 1;
        ri.ri_fds = abi::UserPtr::new(got.as_ptr() as u64);
        ri.ri_fds_len = 2;
        ri.ri_flags = abi::Riflags::PEEK.bits();
        let mut ro = RecvOut::ZERO;
        ro.ro_datalen = 4;
        ro.ro_fdslen = 1;
        ro.ro_flags = abi::Roflags::DATA_TRUNCATED.bits();
        let recv = u64::from(abi::nr::SOCK_RECV);
        let args = [3, addr(&ri), addr(&ro), 0, 0, 0];
        let c = call(recv, &args);
        assert!(c.contains(", 16}], fds=[room 2], flags=peek}, out=0x"), "{c}");
        assert_eq!(
            result(recv, &args, &Ok([0, 0])),
            r#" = 0 {datalen=4, fdslen=1, flags=data_truncated} "pong" fds=[5]"#
        );
    }
}
