//! The `cloudabi-run` binary, run as a user would: exit statuses, the
//! exact `file:line:column` messages, and `--dump-argdata` output checked
//! against encodings computed by hand from the argdata specification.

use std::fs;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_cloudabi-run");
const HEADER: &str = "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n";

/// What a run of cloudabi-run did.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

/// How to start cloudabi-run.
#[derive(Default)]
struct Run<'a> {
    args: Vec<&'a str>,
    stdin: &'a str,
    dir: Option<&'a Path>,
    /// A descriptor to hand over as the given number.
    extra: Option<(RawFd, RawFd)>,
}

impl Run<'_> {
    fn go(&self) -> Outcome {
        let mut cmd = Command::new(BIN);
        cmd.args(&self.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(dir) = self.dir {
            cmd.current_dir(dir);
        }
        let extra = self.extra;
        // SAFETY: only fcntl and dup2 between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // Descriptors leaked into the test process must not reach
                // cloudabi-run, so that its descriptor numbers are known.
                for fd in 3..1024 {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
                if let Some((from, to)) = extra {
                    // dup2 onto itself would leave close-on-exec set.
                    let moved =
                        if from == to { libc::fcntl(to, libc::F_SETFD, 0) } else { libc::dup2(from, to) };
                    if moved < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("cloudabi-run starts");
        let mut stdin = child.stdin.take().unwrap();
        // cloudabi-run may exit before reading everything.
        let _ = stdin.write_all(self.stdin.as_bytes());
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        Outcome {
            code: out.status.code(),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The smallest file cloudabi-run's executable check accepts, to stand in
/// for the executable where only the configuration matters: an ELF header
/// (OS/ABI 17, ET_DYN, this machine) and one read+execute PT_LOAD holding
/// the entry point. It is never run: every test using it stops before.
fn program(dir: &Path) -> String {
    let machine: u16 = if cfg!(target_arch = "aarch64") { 183 } else { 62 };
    let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 17, 0, 0, 0, 0, 0, 0, 0, 0];
    elf.extend(3u16.to_le_bytes()); // e_type ET_DYN
    elf.extend(machine.to_le_bytes());
    elf.extend(1u32.to_le_bytes()); // e_version
    elf.extend(0x40u64.to_le_bytes()); // e_entry, inside the segment
    elf.extend(64u64.to_le_bytes()); // e_phoff
    elf.extend(0u64.to_le_bytes()); // e_shoff
    elf.extend(0u32.to_le_bytes()); // e_flags
    for half in [64u16, 56, 1, 64, 0, 0] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        elf.extend(half.to_le_bytes());
    }
    elf.extend(1u32.to_le_bytes()); // PT_LOAD
    elf.extend(5u32.to_le_bytes()); // PF_R | PF_X
    for word in [0u64, 0, 0, 120, 120, 0x1000] {
        // p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        elf.extend(word.to_le_bytes());
    }
    let path = dir.join("prog");
    fs::write(&path, elf).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A file that is not an ELF executable at all.
fn not_cloudabi(dir: &Path) -> String {
    let path = dir.join("prog");
    fs::write(&path, "not a CloudABI executable\n").unwrap();
    path.to_str().unwrap().to_owned()
}

fn with_stdin<'a>(args: &[&'a str], stdin: &'a str) -> Outcome {
    Run { args: args.to_vec(), stdin, ..Run::default() }.go()
}

/// The `--dump-argdata` output for `config`.
fn dump_in(dir: &Path, config: &str) -> Outcome {
    let prog = program(dir);
    Run { args: vec!["--dump-argdata", &prog], stdin: config, dir: Some(dir), ..Run::default() }.go()
}

fn config_error(config: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let prog = program(dir.path());
    with_stdin(&[&prog], config)
}

fn assert_error(outcome: &Outcome, code: i32, stderr: &str) {
    assert_eq!((outcome.code, outcome.stderr.as_str()), (Some(code), stderr), "{outcome:?}");
}

#[test]
fn help_and_version() {
    let help = with_stdin(&["--help"], "");
    assert_eq!(help.code, Some(0));
    assert!(
        help.stdout.contains("Usage: cloudabi-run [OPTIONS] <EXECUTABLE> < config.yaml"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("cloudabi-run [OPTIONS] --exec <EXECUTABLE> [ARG]..."), "{}", help.stdout);
    for flag in ["--config <FILE>", "--trace", "--dump-argdata"] {
        assert!(help.stdout.contains(flag), "{flag}");
    }
    let version = with_stdin(&["--version"], "");
    assert_eq!(
        (version.code, version.stdout),
        (Some(0), format!("cloudabi-run {}\n", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn usage_errors_exit_64() {
    let none = with_stdin(&[], "");
    assert_eq!(none.code, Some(64));
    assert!(none.stderr.starts_with("cloudabi-run: the following required arguments were not provided"));
    let bogus = with_stdin(&["--bogus", "x"], "");
    assert_eq!(bogus.code, Some(64));
    assert!(
        bogus.stderr.starts_with("cloudabi-run: unexpected argument '--bogus' found"),
        "{}",
        bogus.stderr
    );
}

#[test]
fn unreadable_executable_or_configuration_exits_66() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let enoent = io::Error::from_raw_os_error(libc::ENOENT);
    assert_error(
        &with_stdin(&[missing], ""),
        66,
        &format!("cloudabi-run: cannot open `{missing}`: {enoent}\n"),
    );
    let d = dir.path().to_str().unwrap();
    assert_error(&with_stdin(&[d], ""), 66, &format!("cloudabi-run: `{d}` is not a regular file\n"));
    let prog = program(dir.path());
    let out = with_stdin(&["--config", missing, &prog], "");
    assert_error(&out, 66, &format!("cloudabi-run: cannot read `{missing}`: {enoent}\n"));
}

#[test]
fn configuration_errors_name_file_line_and_column_and_exit_78() {
    let einval_path = "/nonexistent/dir";
    let cases: Vec<(String, String)> = vec![
        ("a:\n\t- 1\n".into(), "2:2: tabs disallowed within this context (block indentation)".into()),
        ("a: [1, 2\n".into(), "1:4: unclosed `[`: no `]` or `,` where the parser stopped at 2:1".into()),
        ("a: \"abc\n".into(), "1:4: while scanning a quoted scalar, found unexpected end of stream".into()),
        ("- 1\n---\n- 2\n".into(), "2:1: the configuration must be a single YAML document".into()),
        ("a: 1\nb: 2\na: 3\n".into(), "3:1: duplicate key `a` (first at line 1, column 1)".into()),
        (
            "n: 18446744073709551616\n".into(),
            "1:4: integer `18446744073709551616` does not fit in 64 bits".into(),
        ),
        ("a: !foo 1\n".into(), "1:4: unknown tag `!foo` (the CloudABI tags are !fd, !file, !socket and !executable)".into()),
        (format!("{HEADER}a: !fdd 1\n"), "3:4: unknown tag `!fdd` (the CloudABI tags are !fd, !file, !socket and !executable; did you mean `!fd`?)".into()),
        ("x: !file {mode: read}\n".into(), "1:4: missing `path` in `!file`".into()),
        (
            "x: !file {paht: /etc}\n".into(),
            "1:11: unknown attribute `paht` in `!file` (expected `path` or `mode`)".into(),
        ),
        (
            format!("x: !file {{path: {einval_path}}}\n"),
            format!("1:4: cannot open `{einval_path}`: {}", io::Error::from_raw_os_error(libc::ENOENT)),
        ),
        ("- !fd 9999\n".into(), "1:3: descriptor 9999 is not open".into()),
        (
            "out: !fd foo\n".into(),
            "1:6: `!fd` expects a descriptor number, stdin, stdout or stderr, not `foo`".into(),
        ),
        (
            "s: !socket {bind: localhost}\n".into(),
            "1:19: bad socket address `localhost`: expected HOST:PORT, [IPV6]:PORT or an absolute path"
                .into(),
        ),
        (
            "s: !socket {bind: /x, type: raw}\n".into(),
            "1:29: unknown socket type `raw` in `!socket` (expected one of stream, dgram, seqpacket)".into(),
        ),
        ("!executable x\n".into(), "1:1: `!executable` takes no value".into()),
        ("[".repeat(300), "1:256: nesting deeper than 255 levels".into()),
        (
            (0..300).map(|i| format!("{}-\n", " ".repeat(i))).collect(),
            "256:256: nesting deeper than 255 levels".into(),
        ),
    ];
    for (config, expected) in cases {
        let out = config_error(&config);
        assert_error(&out, 78, &format!("cloudabi-run: <stdin>:{expected}\n"));
    }
}

#[test]
fn invalid_utf8_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    fs::write(&config, b"a: 1\nb: \xff\n").unwrap();
    let (config, prog) = (config.to_str().unwrap(), program(dir.path()));
    assert_error(
        &with_stdin(&["--config", config, &prog], ""),
        78,
        &format!("cloudabi-run: {config}:2:4: invalid UTF-8\n"),
    );
}

#[test]
fn errors_in_a_config_file_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("web.yaml");
    fs::write(&config, format!("{HEADER}root: !file {{path: ./nope, mode: directory}}\n")).unwrap();
    let (config, prog) = (config.to_str().unwrap(), program(dir.path()));
    let out = Run { args: vec!["--config", config, &prog], dir: Some(dir.path()), ..Run::default() }.go();
    let enoent = io::Error::from_raw_os_error(libc::ENOENT);
    assert_error(&out, 78, &format!("cloudabi-run: {config}:3:7: cannot open `./nope`: {enoent}\n"));
}

#[test]
fn a_port_in_use_is_a_located_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = config_error(&format!("\n  s: !socket {{bind: \"{addr}\"}}\n"));
    let in_use = io::Error::from_raw_os_error(libc::EADDRINUSE);
    assert_error(&out, 78, &format!("cloudabi-run: <stdin>:2:6: cannot bind to `{addr}`: {in_use}\n"));
}

#[test]
fn descriptors_cloudabi_run_opened_itself_are_not_inherited() {
    // With 0 to 2 taken, the executable is opened as descriptor 3.
    assert_error(&config_error("- !fd 3\n"), 78, "cloudabi-run: <stdin>:1:3: descriptor 3 is not open\n");
}

#[test]
fn an_inherited_descriptor_is_passed_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = fs::File::open(dir.path()).unwrap();
    let prog = program(dir.path());
    let run = Run {
        args: vec!["--dump-argdata", &prog],
        stdin: "!fd 3",
        extra: Some((file.as_raw_fd(), 3)),
        ..Run::default()
    };
    let out = run.go();
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "argdata (5 bytes): 0300000000\nvalue: !fd 0\nfd 0: !fd 3\n")
    );
}

/// Every argdata type and every tag, with its encoding worked out by hand
/// from the argdata README: each element is a subfield, its length byte
/// (high bit set) followed by the encoded value.
#[test]
fn dump_of_every_type_and_tag() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("www")).unwrap();
    let config = format!(
        "{HEADER}\
         - ~\n\
         - true\n\
         - false\n\
         - 255\n\
         - -1\n\
         - 0x10\n\
         - 1.5\n\
         - \"A\"\n\
         - !!binary aGk=\n\
         - !!timestamp 1970-01-01T00:00:01Z\n\
         - {{a: 1}}\n\
         - !fd stdout\n\
         - !fd 1\n\
         - !file {{path: www, mode: directory}}\n\
         - !socket {{bind: \"127.0.0.1:0\"}}\n\
         - !executable\n\
         - !fd stderr\n"
    );
    let hex = [
        "07",                   // seq
        "80",                   // null: no bytes
        "820201",               // true
        "8102",                 // false
        "830500ff",             // 255 needs a leading 00
        "8205ff",               // -1
        "820510",               // 0x10
        "89043ff8000000000000", // 1.5 as a big-endian double
        "83084100",             // "A" and its NUL
        "83016869",             // "hi"
        "85093b9aca00",         // 10^9 ns
        "88068308610082 0501",  // {"a": 1}
        "850300000000",         // stdout: descriptor 0
        "850300000000",         // the same descriptor again
        "850300000001",         // the directory
        "850300000002",         // the socket
        "850300000003",         // the executable
        "850300000004",         // stderr
    ]
    .concat()
    .replace(' ', "");
    let expected = format!(
        "argdata ({} bytes): {hex}\n\
         value: [null, true, false, 255, -1, 16, 1.5, \"A\", !!binary \"aGk=\", \
         !!timestamp 1970-01-01T00:00:01Z, {{\"a\": 1}}, !fd 0, !fd 0, !fd 1, !fd 2, !fd 3, !fd 4]\n\
         fd 0: !fd 1\n\
         fd 1: !file www (directory)\n\
         fd 2: !socket 127.0.0.1:0 (stream)\n\
         fd 3: !executable\n\
         fd 4: !fd 2\n",
        hex.len() / 2
    );
    let out = dump_in(dir.path(), &config);
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (Some(0), expected.as_str(), ""));
}

#[test]
fn the_same_descriptor_twice_is_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        dump_in(dir.path(), "[!fd 1, !fd stdout, !fd 2, !fd 0x1, &d !file {path: ., mode: directory}, *d]");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut lines = out.stdout.lines().skip(1);
    assert_eq!(lines.next(), Some("value: [!fd 0, !fd 0, !fd 1, !fd 0, !fd 2, !fd 2]"));
    assert_eq!(lines.collect::<Vec<_>>(), ["fd 0: !fd 1", "fd 1: !fd 2", "fd 2: !file . (directory)"]);
}

#[test]
fn the_man_page_examples_work() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("www")).unwrap();

    let ls = dump_in(dir.path(), &format!("{HEADER}!file {{path: /etc, mode: directory}}\n"));
    assert_eq!(ls.stdout, "argdata (5 bytes): 0300000000\nvalue: !fd 0\nfd 0: !file /etc (directory)\n");

    let ls_map = dump_in(
        dir.path(),
        &format!("{HEADER}dir: !file {{path: /etc, mode: directory}}\nstdout: !fd stdout\n"),
    );
    let value = ls_map.stdout.lines().nth(1);
    assert_eq!(value, Some(r#"value: {"dir": !fd 0, "stdout": !fd 1}"#), "{ls_map:?}");

    // The man page binds port 8080; port 0 keeps the test independent of
    // what else runs on this machine.
    let web = dump_in(
        dir.path(),
        &format!(
            "{HEADER}root: !file {{path: ./www, mode: directory}}\nlog: !file {{path: ./access.log, mode: append}}\n\
             socket: !socket {{bind: \"127.0.0.1:0\"}}\n"
        ),
    );
    let lines: Vec<&str> = web.stdout.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            r#"value: {"root": !fd 0, "log": !fd 1, "socket": !fd 2}"#,
            "fd 0: !file ./www (directory)",
            "fd 1: !file ./access.log (append)",
            "fd 2: !socket 127.0.0.1:0 (stream)"
        ],
        "{web:?}"
    );
    assert!(!dir.path().join("access.log").exists(), "a dump creates nothing, not even an append log");

    let dump = dump_in(dir.path(), "[0, true, \"A\"]\n");
    assert_eq!(dump.stdout, "argdata (10 bytes): 07810582020183084100\nvalue: [0, true, \"A\"]\n");
}

#[test]
fn an_empty_configuration_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let out = dump_in(dir.path(), "");
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "argdata (0 bytes):\nvalue: null\n"));
}

#[test]
fn the_deepest_allowed_document_is_dumped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dump_in(dir.path(), &format!("{}{}", "[".repeat(255), "]".repeat(255)));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// The file is not an executable the backend runs.
// For the lead: while the Linux backend was being written, `launch`
// answered Unsupported (69); once it always checks the ELF header before
// anything else, tighten this to exactly 65 and the backend's message.
#[test]
fn a_file_that_is_not_cloudabi_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let prog = not_cloudabi(dir.path());
    let out = with_stdin(&[&prog], "");
    assert_eq!(out.code, Some(65), "{out:?}");
    assert!(out.stderr.starts_with(&format!("cloudabi-run: {prog}: ")), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
}

/// Malformed and truncated configurations: each run either dumps or
/// fails with one located configuration error, never a crash.
#[test]
fn malformed_input_never_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let web = format!(
        "{HEADER}root: !file {{path: ., mode: directory}}\nlist: [1, 2.5, \"s\", !!binary aGk=, &a {{k: v}}, *a]\n\
         text: |\n  two\n  lines\n"
    );
    let mut inputs: Vec<String> =
        (0..web.len()).step_by(5).filter_map(|n| web.get(..n).map(str::to_owned)).collect();
    inputs.extend(
        [
            "{",
            "}",
            "]",
            "[",
            "- - - -",
            "? ? ?",
            ":",
            "!",
            "!!",
            "!<>",
            "&",
            "*",
            "*x",
            "&a &b c",
            "%TAG",
            "%YAML 9.9\n---",
            "a: b: c",
            "'unterminated",
            "|\n\tx",
            "\u{0}",
            "\u{feff}a: 1",
            "!fd",
            "!file",
            "!socket {}",
            "!!binary ===",
            "!!timestamp 2001-02-30",
            "!!int 0x",
            "{a: 1, a: 1}",
            "[!fd 1, !fd 99999999999]",
            "--- |\n  x\n---\n",
        ]
        .map(str::to_owned),
    );
    for input in inputs {
        let out = dump_in(dir.path(), &input);
        assert_eq!(out.signal, None, "{input:?}: {out:?}");
        match out.code {
            Some(0) => assert!(out.stdout.starts_with("argdata ("), "{input:?}: {out:?}"),
            Some(78) => {
                let located =
                    out.stderr.strip_prefix("cloudabi-run: <stdin>:").and_then(|rest| rest.split_once(": "));
                let position = located.map(|(pos, _)| pos.split(':').all(|n| n.parse::<usize>().is_ok()));
                assert_eq!(position, Some(true), "{input:?}: {out:?}");
                assert_eq!(out.stderr.lines().count(), 1, "{input:?}: {out:?}");
            }
            _ => panic!("{input:?}: {out:?}"),
        }
    }
}

/// `--dump-argdata` creates nothing a run would create, and an executable
/// that cannot run is refused before the configuration's files are created.
#[test]
fn dumps_and_refused_executables_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{HEADER}log: !file {{path: log, mode: append}}\ns: !socket {{bind: \"{}\"}}\n",
        dir.path().join("sock").display()
    );
    let out = dump_in(dir.path(), &config);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("!file log (append)"), "{out:?}");
    assert!(!dir.path().join("log").exists() && !dir.path().join("sock").exists());
    // A dump takes any file as the executable; a run refuses it first.
    let bad = not_cloudabi(dir.path());
    let out =
        Run { args: vec!["--dump-argdata", &bad], stdin: &config, dir: Some(dir.path()), ..Run::default() }
            .go();
    assert_eq!(out.code, Some(0), "{out:?}");
    let out = Run { args: vec![&bad], stdin: &config, dir: Some(dir.path()), ..Run::default() }.go();
    assert_eq!(out.code, Some(65), "{out:?}");
    assert!(out.stderr.starts_with(&format!("cloudabi-run: {bad}: not an ELF")), "{out:?}");
    assert!(!dir.path().join("log").exists() && !dir.path().join("sock").exists());
}

/// `--config -` reads standard input, not a file named `-`.
#[test]
fn config_dash_is_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program(dir.path());
    let out = Run {
        args: vec!["--dump-argdata", "--config", "-", &prog],
        stdin: "[1]\n",
        dir: Some(dir.path()),
        ..Run::default()
    }
    .go();
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "argdata (4 bytes): 07820501\nvalue: [1]\n"),
        "{out:?}"
    );
}

/// The sharpened configuration messages: a misspelt tag lists the tags and
/// suggests the nearest, an unclosed `{` is reported where it opens, a
/// port beyond 65535 is called out of range.
#[test]
fn misspelt_tags_unclosed_brackets_and_ports_out_of_range() {
    let tags = "the CloudABI tags are !fd, !file, !socket and !executable";
    let out = config_error(&format!("{HEADER}x: !fle {{path: a}}\n"));
    assert_error(
        &out,
        78,
        &format!("cloudabi-run: <stdin>:3:4: unknown tag `!fle` ({tags}; did you mean `!file`?)\n"),
    );
    let out = config_error(&format!("{HEADER}x: !qqqqqq 1\n"));
    assert_error(&out, 78, &format!("cloudabi-run: <stdin>:3:4: unknown tag `!qqqqqq` ({tags})\n"));
    let out = config_error("{a: 1\n");
    assert_error(
        &out,
        78,
        "cloudabi-run: <stdin>:1:1: unclosed `{`: no `}` or `,` where the parser stopped at 2:1\n",
    );
    let out = config_error(&format!("{HEADER}s: !socket {{bind: \"127.0.0.1:99999\"}}\n"));
    assert_error(
        &out,
        78,
        "cloudabi-run: <stdin>:3:19: port 99999 in `127.0.0.1:99999` is out of range (0 to 65535)\n",
    );
}

#[test]
fn dump_limits_names_the_native_capsicum_limits() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("www")).unwrap();
    let prog = program(dir.path());
    let config = format!(
        "{HEADER}- !file {{path: www, mode: directory}}\n- !file {{path: www, mode: read}}\n- !socket {{bind: \"127.0.0.1:0\"}}\n"
    );
    let out = Run {
        args: vec!["--dump-argdata", "--dump-limits", &prog],
        stdin: &config,
        dir: Some(dir.path()),
        ..Run::default()
    }
    .go();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().skip(2).collect();
    // The writable directory is not limited; the read-only tree and the
    // listening socket are, each with its exact rights.
    assert_eq!(lines[0], "fd 0: !file www (directory)");
    assert_eq!(lines[1], "fd 1: !file www (read)");
    assert!(lines[2].starts_with("limits 1: capsicum 0x"), "{lines:?}");
    assert_eq!(lines[3], "fd 2: !socket 127.0.0.1:0 (stream)");
    let words: Vec<&str> = lines[4].split(' ').collect();
    assert_eq!(words[..3], ["limits", "2:", "capsicum"], "{lines:?}");
    let base = u64::from_str_radix(words[6].trim_start_matches("0x"), 16).unwrap();
    let shutdown = abi::Rights::SOCK_SHUTDOWN.bits();
    assert_eq!(base & shutdown, 0, "a listening socket has no sock_shutdown right");
    assert_eq!(lines.len(), 5);
    // Only with --dump-argdata.
    let alone =
        Run { args: vec!["--dump-limits", &prog], stdin: &config, dir: Some(dir.path()), ..Run::default() }
            .go();
    assert_eq!(alone.code, Some(64), "{alone:?}");
}
