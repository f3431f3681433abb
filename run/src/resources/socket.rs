//! `!socket {bind, type, domain}`: a socket bound to an address, listening
//! if it is a stream or seqpacket socket, as in CloudABI's original
//! web-server setup. `domain` (the original cloudabi-run's first version
//! required it) limits the addresses a host name may resolve to.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::OwnedFd;

use socket2::{Domain, SockAddr, Socket, Type};

use crate::resolve::{BindAddr, SocketDomain, SocketKind, SocketSpec};

/// The listen backlog of stream sockets.
pub const BACKLOG: i32 = 128;

pub fn open_socket(spec: &SocketSpec) -> Result<OwnedFd, String> {
    match &spec.bind {
        BindAddr::Inet { host, port } => bind_inet(host, *port, spec),
        BindAddr::Unix(path) => bind_unix(path, spec.kind),
    }
}

/// Binds to the first address `host` resolves to that accepts the bind
/// (a name may resolve to IPv6 and IPv4 addresses).
fn bind_inet(host: &str, port: u16, spec: &SocketSpec) -> Result<OwnedFd, String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
        .filter(|a| match spec.domain {
            Some(SocketDomain::Inet) => a.is_ipv4(),
            Some(SocketDomain::Inet6) => a.is_ipv6(),
            _ => true,
        })
        .collect();
    let mut last_error = None;
    for addr in addrs {
        // SO_REUSEADDR so that a server can be restarted while old
        // connections linger in TIME_WAIT.
        match bound(Domain::for_address(addr), spec.kind, &SockAddr::from(addr), true) {
            Ok(fd) => return Ok(fd),
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) => format!("cannot bind to `{}`: {e}", spec.text),
        None => match spec.domain {
            Some(d) => format!("cannot resolve `{host}`: no {} addresses", d.name()),
            None => format!("cannot resolve `{host}`: no addresses"),
        },
    })
}

/// Binds a UNIX-domain socket; an existing file at `path` is an error, not
/// something to delete.
fn bind_unix(path: &str, kind: SocketKind) -> Result<OwnedFd, String> {
    let fail = |e: io::Error| match e.kind() {
        io::ErrorKind::AddrInUse => format!("cannot bind to `{path}`: the path already exists"),
        _ => format!("cannot bind to `{path}`: {e}"),
    };
    let addr = SockAddr::unix(path).map_err(fail)?;
    bound(Domain::UNIX, kind, &addr, false).map_err(fail)
}

fn bound(domain: Domain, kind: SocketKind, addr: &SockAddr, reuse: bool) -> io::Result<OwnedFd> {
    let ty = match kind {
        SocketKind::Stream => Type::STREAM,
        SocketKind::Dgram => Type::DGRAM,
        SocketKind::Seqpacket => Type::from(libc::SOCK_SEQPACKET),
    };
    // socket2 creates sockets close-on-exec.
    let socket = Socket::new(domain, ty, None)?;
    if reuse {
        socket.set_reuse_address(true)?;
    }
    socket.bind(addr)?;
    if kind.listens() {
        socket.listen(BACKLOG)?;
    }
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream, UdpSocket};

    use super::*;
    use crate::resolve::parse_bind;

    fn spec(text: &str, kind: SocketKind) -> SocketSpec {
        SocketSpec { text: text.into(), bind: parse_bind(text).unwrap(), kind, domain: None }
    }

    #[test]
    fn seqpacket_sockets_listen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let fd = open_socket(&spec(path.to_str().unwrap(), SocketKind::Seqpacket)).unwrap();
        let s = Socket::from(fd);
        assert_eq!(s.r#type().unwrap(), Type::from(libc::SOCK_SEQPACKET));
        let peer = Socket::new(Domain::UNIX, Type::from(libc::SOCK_SEQPACKET), None).unwrap();
        peer.connect(&SockAddr::unix(&path).unwrap()).unwrap();
        assert!(s.accept().is_ok());
    }

    #[test]
    fn a_domain_limits_the_addresses() {
        let mut only6 = spec("127.0.0.1:0", SocketKind::Dgram);
        only6.domain = Some(SocketDomain::Inet6);
        assert_eq!(open_socket(&only6).unwrap_err(), "cannot resolve `127.0.0.1`: no inet6 addresses");
        let mut only4 = spec("127.0.0.1:0", SocketKind::Dgram);
        only4.domain = Some(SocketDomain::Inet);
        assert!(open_socket(&only4).is_ok());
    }

    #[test]
    fn stream_sockets_listen() {
        let listener = TcpListener::from(open_socket(&spec("127.0.0.1:0", SocketKind::Stream)).unwrap());
        let addr = listener.local_addr().unwrap();
        TcpStream::connect(addr).unwrap();
        assert!(listener.accept().is_ok());
    }

    #[test]
    fn datagram_sockets_are_bound() {
        let socket = UdpSocket::from(open_socket(&spec("127.0.0.1:0", SocketKind::Dgram)).unwrap());
        assert_ne!(socket.local_addr().unwrap().port(), 0);
    }

    #[test]
    fn a_port_in_use_is_reported() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let text = taken.local_addr().unwrap().to_string();
        let err = open_socket(&spec(&text, SocketKind::Stream)).unwrap_err();
        let in_use = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(err, format!("cannot bind to `{text}`: {in_use}"));
    }

    #[test]
    fn unix_sockets_refuse_existing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let text = path.to_str().unwrap();
        open_socket(&spec(text, SocketKind::Stream)).unwrap();
        assert!(path.exists());
        let err = open_socket(&spec(text, SocketKind::Dgram)).unwrap_err();
        assert_eq!(err, format!("cannot bind to `{text}`: the path already exists"));
    }

    #[test]
    fn overlong_unix_paths_are_reported() {
        let path = format!("/{}", "x".repeat(200));
        assert!(
            open_socket(&spec(&path, SocketKind::Stream))
                .unwrap_err()
                .starts_with(&format!("cannot bind to `{path}`"))
        );
    }
}
