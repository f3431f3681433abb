//! What a `!fd`, `!file` or `!socket` asks for, parsed from its text.

use std::fmt;
use std::net::Ipv6Addr;
use std::os::fd::RawFd;

use crate::argdata::Value;
use crate::scalar;

/// How a `!file` is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileMode {
    /// No `mode`: what the original cloudabi-run did (it had no modes).
    /// Opened read-only; a directory gets every directory right, a
    /// regular file can only be read.
    Unspecified,
    Read,
    Write,
    Append,
    ReadWrite,
    Directory,
}

impl FileMode {
    pub const NAMES: &[&str] = &["read", "write", "append", "readwrite", "directory"];

    pub fn parse(text: &str) -> Option<FileMode> {
        Some(match text {
            "read" => FileMode::Read,
            "write" => FileMode::Write,
            "append" => FileMode::Append,
            "readwrite" => FileMode::ReadWrite,
            "directory" => FileMode::Directory,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FileMode::Unspecified => "no mode",
            FileMode::Read => "read",
            FileMode::Write => "write",
            FileMode::Append => "append",
            FileMode::ReadWrite => "readwrite",
            FileMode::Directory => "directory",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    pub path: String,
    pub mode: FileMode,
}

impl fmt::Display for FileSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "!file {} ({})", self.path, self.mode.name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    Stream,
    Dgram,
    /// Sequenced packets (the original cloudabi-run's `seqpacket`):
    /// listening, like a stream socket.
    Seqpacket,
}

impl SocketKind {
    pub const NAMES: &[&str] = &["stream", "dgram", "seqpacket"];

    pub fn parse(text: &str) -> Option<SocketKind> {
        match text {
            "stream" => Some(SocketKind::Stream),
            "dgram" => Some(SocketKind::Dgram),
            "seqpacket" => Some(SocketKind::Seqpacket),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SocketKind::Stream => "stream",
            SocketKind::Dgram => "dgram",
            SocketKind::Seqpacket => "seqpacket",
        }
    }

    /// Whether a socket of this kind listens for connections.
    pub fn listens(self) -> bool {
        self != SocketKind::Dgram
    }
}

/// The address family an early `!socket` named with `domain` (the
/// original cloudabi-run's `inet` and `inet6`; `unix` for a path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketDomain {
    Inet,
    Inet6,
    Unix,
}

impl SocketDomain {
    pub const NAMES: &[&str] = &["inet", "inet6", "unix"];

    pub fn parse(text: &str) -> Option<SocketDomain> {
        match text {
            "inet" => Some(SocketDomain::Inet),
            "inet6" => Some(SocketDomain::Inet6),
            "unix" => Some(SocketDomain::Unix),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SocketDomain::Inet => "inet",
            SocketDomain::Inet6 => "inet6",
            SocketDomain::Unix => "unix",
        }
    }
}

/// Where a `!socket` is bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindAddr {
    /// A host name or address literal (IPv6 without brackets) and a port.
    Inet { host: String, port: u16 },
    /// A UNIX-domain socket path.
    Unix(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketSpec {
    /// The address as written in the configuration.
    pub text: String,
    pub bind: BindAddr,
    pub kind: SocketKind,
    /// Only addresses of this family, if `domain` was given.
    pub domain: Option<SocketDomain>,
}

impl fmt::Display for SocketSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "!socket {} ({})", self.text, self.kind.name())
    }
}

/// `HOST:PORT`, `[IPV6]:PORT` or an absolute path (a UNIX socket, as in
/// the original cloudabi-run). IPv6 addresses need brackets, so that
/// `::1` is not read as host `:` and port 1.
pub fn parse_bind(text: &str) -> Result<BindAddr, String> {
    let bad = || format!("bad socket address `{text}`: expected HOST:PORT, [IPV6]:PORT or an absolute path");
    if text.starts_with('/') {
        return Ok(BindAddr::Unix(text.to_owned()));
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:").ok_or_else(bad)?;
        host.parse::<Ipv6Addr>().map_err(|_| bad())?;
        (host, port)
    } else {
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() || host.contains(':') {
            return Err(bad());
        }
        (host, port)
    };
    let port = match port.parse::<u16>() {
        Ok(port) => port,
        Err(_) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!("port {port} in `{text}` is out of range (0 to 65535)"));
        }
        Err(_) => return Err(bad()),
    };
    Ok(BindAddr::Inet { host: host.to_owned(), port })
}

/// What `!fd` wants.
pub const FD_EXPECTS: &str = "`!fd` expects a descriptor number, stdin, stdout or stderr";

/// The descriptor number of `!fd N`, `!fd stdin`, `!fd stdout` or
/// `!fd stderr`.
pub fn parse_fd(text: &str) -> Result<RawFd, String> {
    let expected = || match text {
        "" => FD_EXPECTS.to_owned(),
        _ => format!("{FD_EXPECTS}, not `{text}`"),
    };
    match text {
        "stdin" => return Ok(0),
        "stdout" => return Ok(1),
        "stderr" => return Ok(2),
        _ => {}
    }
    match scalar::plain(text) {
        Ok(Value::Int(n)) => RawFd::try_from(n)
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("descriptor number `{text}` is out of range")),
        Err(_) => Err(format!("descriptor number `{text}` is out of range")),
        Ok(_) => Err(expected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inet(host: &str, port: u16) -> BindAddr {
        BindAddr::Inet { host: host.into(), port }
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(parse_bind("127.0.0.1:8080"), Ok(inet("127.0.0.1", 8080)));
        assert_eq!(parse_bind("localhost:0"), Ok(inet("localhost", 0)));
        assert_eq!(parse_bind("[::1]:80"), Ok(inet("::1", 80)));
        assert_eq!(parse_bind("[::]:443"), Ok(inet("::", 443)));
        assert_eq!(parse_bind("/run/app.sock"), Ok(BindAddr::Unix("/run/app.sock".into())));
    }

    #[test]
    fn bad_bind_addresses() {
        for text in ["foo", "::1", "::1:80", ":80", "host:", "host:x", "host:-1", "[::1]80", "[nope]:80", ""]
        {
            let err = parse_bind(text).unwrap_err();
            assert!(err.starts_with(&format!("bad socket address `{text}`")), "{err}");
        }
        for text in ["host:65536", "[::1]:99999"] {
            let port = text.rsplit(':').next().unwrap();
            assert_eq!(
                parse_bind(text),
                Err(format!("port {port} in `{text}` is out of range (0 to 65535)"))
            );
        }
    }

    #[test]
    fn descriptor_numbers() {
        assert_eq!(parse_fd("stdin"), Ok(0));
        assert_eq!(parse_fd("stdout"), Ok(1));
        assert_eq!(parse_fd("stderr"), Ok(2));
        assert_eq!(parse_fd("7"), Ok(7));
        assert_eq!(parse_fd("0x10"), Ok(16));
        assert_eq!(
            parse_fd("foo"),
            Err("`!fd` expects a descriptor number, stdin, stdout or stderr, not `foo`".into())
        );
        assert_eq!(
            parse_fd("1.5").unwrap_err(),
            "`!fd` expects a descriptor number, stdin, stdout or stderr, not `1.5`"
        );
        assert_eq!(parse_fd(""), Err("`!fd` expects a descriptor number, stdin, stdout or stderr".into()));
        assert_eq!(parse_fd("-1"), Err("descriptor number `-1` is out of range".into()));
        assert_eq!(parse_fd("2147483648"), Err("descriptor number `2147483648` is out of range".into()));
        assert_eq!(
            parse_fd("99999999999999999999"),
            Err("descriptor number `99999999999999999999` is out of range".into())
        );
    }

    #[test]
    fn modes_and_kinds_round_trip_through_their_names() {
        for name in FileMode::NAMES {
            assert_eq!(FileMode::parse(name).map(FileMode::name), Some(*name));
        }
        for name in SocketKind::NAMES {
            assert_eq!(SocketKind::parse(name).map(SocketKind::name), Some(*name));
        }
        for name in SocketDomain::NAMES {
            assert_eq!(SocketDomain::parse(name).map(SocketDomain::name), Some(*name));
        }
        assert_eq!(FileMode::parse("rw"), None);
    }
}
