//! The two programs CloudABI was introduced with, run through
//! `cloudabi-run` as the README shows: `ls` lists exactly the directory it
//! is handed, and the web server serves files from a read-only root
//! through a listening socket, logs to an append-only file and cannot read
//! anything outside its root. Pages are fetched with curl, a real HTTP
//! client. Both programs are built by `scripts/build-guest`.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::{guest as example, spawn as start};

const HEADER: &str = "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n";

fn quoted(p: &Path) -> String {
    format!("{:?}", p.to_str().unwrap())
}

#[test]
fn ls_lists_exactly_the_directory_it_was_given() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("listed");
    fs::create_dir(&dir).unwrap();
    for name in ["b", "a", "with space", "ünïcode", ".hidden", "Z"] {
        fs::write(dir.join(name), name).unwrap();
    }
    fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("link")).unwrap();
    // Something next to the directory that ls must not show.
    fs::write(tmp.path().join("sibling"), "x").unwrap();

    // The expectation comes from the host's own view of the directory.
    let mut expected: Vec<Vec<u8>> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::os::unix::ffi::OsStrExt::as_bytes(e.unwrap().file_name().as_os_str()).to_vec())
        .collect();
    expected.sort();

    for mode in ["directory", "read"] {
        let config =
            format!("{HEADER}dir: !file {{path: {}, mode: {mode}}}\nout: !fd stdout\n", quoted(&dir));
        let out = start(&example("ls"), &config).wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "ls ({mode}): {}", String::from_utf8_lossy(&out.stderr));
        let listed: Vec<Vec<u8>> =
            out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
        assert_eq!(listed, expected, "ls ({mode})");
    }
    println!("ls: {} names listed, in byte order, nothing else", expected.len());
}

#[test]
fn ls_without_a_directory_reports_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f");
    fs::write(&file, "x").unwrap();
    let config = format!("{HEADER}dir: !file {{path: {}}}\nout: !fd stdout\n", quoted(&file));
    let out = start(&example("ls"), &config).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ls: "), "{out:?}");
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn curl(port: u16, path: &str) -> Output {
    Command::new("curl")
        .args(["-sS", "--path-as-is", "--max-time", "10", "-w", "\n%{http_code}"])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl (scripts/setup installs it)")
}

/// Body and status of one request.
fn get(port: u16, path: &str) -> (String, u16) {
    let out = curl(port, path);
    assert!(out.status.success(), "curl {path}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (body.to_string(), code.parse().unwrap())
}

/// Waits until something accepts connections on `port`.
fn wait_listening(port: u16, server: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = server.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the web server exited early: {status:?}: {err}");
        }
        assert!(Instant::now() < deadline, "the web server did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn webserver_serves_its_root_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    fs::create_dir_all(www.join("sub")).unwrap();
    fs::write(www.join("index.html"), "<h1>home</h1>\n").unwrap();
    fs::write(www.join("page.txt"), "a page\n").unwrap();
    fs::write(www.join("sub/index.html"), "sub index\n").unwrap();
    fs::write(tmp.path().join("secret.txt"), "TOP SECRET\n").unwrap();
    std::os::unix::fs::symlink("../secret.txt", www.join("escape")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", www.join("passwd")).unwrap();
    let log = tmp.path().join("access.log");
    fs::write(&log, "earlier line\n").unwrap();

    // The wait_listening probe is one connection the server answers too.
    let requests = [
        "/",
        "/page.txt",
        "/sub/",
        "/missing",
        "/../secret.txt",
        "/escape",
        "/passwd",
        "/sub/../../secret.txt",
    ];
    let port = free_port();
    let config = format!(
        "{HEADER}root: !file {{path: {}, mode: read}}\nlog: !file {{path: {}, mode: append}}\n\
         socket: !socket {{bind: \"127.0.0.1:{port}\"}}\nmax_requests: {}\n",
        quoted(&www),
        quoted(&log),
        requests.len() + 1
    );
    let mut server = start(&example("webserver"), &config);
    wait_listening(port, &mut server);

    assert_eq!(get(port, "/"), ("<h1>home</h1>\n".into(), 200));
    assert_eq!(get(port, "/page.txt"), ("a page\n".into(), 200));
    assert_eq!(get(port, "/sub/"), ("sub index\n".into(), 200));
    assert_eq!(get(port, "/missing").1, 404);
    // Every way out of the root is refused by the kernel side (ENOTCAPABLE,
    // answered as 403): `..`, a symbolic link out, an absolute link.
    for path in ["/../secret.txt", "/escape", "/passwd", "/sub/../../secret.txt"] {
        let (body, code) = get(port, path);
        assert_eq!(code, 403, "{path}");
        assert!(!body.contains("SECRET") && !body.contains("root:"), "{path} leaked: {body}");
    }

    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(0), "the server exits 0 after max_requests");
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "earlier line", "the log was only appended to");
    let served: Vec<(&str, &str)> = lines[2..]
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[1], f[2])
        })
        .collect();
    let expected_codes = ["200", "200", "200", "404", "403", "403", "403", "403"];
    let expected: Vec<(&str, &str)> = requests.iter().copied().zip(expected_codes).collect();
    assert_eq!(served, expected, "log:\n{text}");
    println!("webserver: {} requests served and logged; 4 escape attempts refused with 403", requests.len());
}
