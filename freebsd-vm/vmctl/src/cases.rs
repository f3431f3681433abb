//! `vmctl cases`: the conformance specs as the in-VM runner's case list.
//!
//! For every `<name>.yaml` (guest/conformance/README.md) this checks the
//! directives, replaces `@TMPDIR@` with the scratch directory the test will
//! have *inside the VM*, and asks `cloudabi-run --dump-argdata` for the
//! argument data and the descriptor list. The runner in the VM has no
//! cloudabi-run: it starts the program itself, passing the argument data
//! as the argument vector (split at its NULs, as cloudabi-run's native
//! launch does) and opening each descriptor with a shell redirection, in
//! order, as descriptors 0..n-1.
//!
//! cloudabi-run opens what the tags name, so the in-VM paths are created
//! on this machine too (under the same absolute base, which must not
//! exist yet) and removed afterwards.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::shenc;

/// Descriptors the runner opens with shell redirections (fds 7, 8 and 9 are
/// its own while it sets them up, so at most 7 fit).
pub const MAX_FDS: usize = 7;

/// Signal names a spec may use (the set run/tests/conformance.rs knows).
pub const SIGNALS: &[&str] = &[
    "SIGABRT", "SIGBUS", "SIGFPE", "SIGILL", "SIGKILL", "SIGPIPE", "SIGSEGV", "SIGSYS", "SIGTERM", "SIGUSR1",
    "SIGUSR2",
];

/// The directives of one spec.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    pub exit: Option<i32>,
    /// Without the `SIG` prefix, as `kill -l` prints it.
    pub signal: Option<String>,
    pub timeout: u64,
    pub requires: Vec<String>,
    /// `#% stdout: LINE`, repeated: the program's whole output, line by
    /// line (bare-kernel mode: `output_case`); `None` judges `ok` lines.
    pub stdout: Option<Vec<String>>,
    /// `#% file: NAME TEXT`: files (TEXT and a newline) the runner puts in
    /// the case's scratch directory (`@TMPDIR@`) before the program runs.
    pub files: Vec<(String, String)>,
    /// `#% request: METHOD PATH`, repeated: the runner is the client of
    /// the program's listening socket (its first stream `!socket`, on
    /// 127.0.0.1), sends each as an HTTP/1.0 request and takes the status
    /// line of each response as the output to judge.
    pub requests: Vec<String>,
}

impl Spec {
    /// `output_case`'s two words before the descriptors: the expected
    /// output (each `stdout` line and a newline) and the files, one
    /// `NAME<tab>TEXT` per line.
    pub fn output_words(&self) -> (String, String) {
        let expected = self.stdout.iter().flatten().map(|l| format!("{l}\n")).collect();
        let files = self.files.iter().map(|(n, t)| format!("{n}\t{t}\n")).collect();
        (expected, files)
    }

    /// What the runner expects: `exit N` or `signal NAME`.
    pub fn expect(&self) -> String {
        match (&self.exit, &self.signal) {
            (Some(code), _) => format!("exit {code}"),
            (_, Some(sig)) => format!("signal {sig}"),
            _ => unreachable!("checked by parse_spec"),
        }
    }
}

/// Reads the `#% key: value` directives, with the rules of
/// guest/conformance/README.md and run/tests/conformance.rs: unknown
/// directives, unknown placeholders and anything but exactly one of `exit`
/// and `signal` are errors.
pub fn parse_spec(text: &str) -> Result<Spec, String> {
    let mut spec = Spec {
        exit: None,
        signal: None,
        timeout: 30,
        requires: Vec::new(),
        stdout: None,
        files: Vec::new(),
        requests: Vec::new(),
    };
    for (number, line) in text.lines().enumerate() {
        let Some(directive) = line.strip_prefix("#% ") else {
            if line.starts_with("#%") {
                return Err(format!("line {}: bad directive `{line}`", number + 1));
            }
            continue;
        };
        let (key, value) = directive
            .split_once(':')
            .ok_or_else(|| format!("line {}: bad directive `{line}`", number + 1))?;
        let value = value.trim();
        let at = |what: &str| format!("line {}: {what}", number + 1);
        match key {
            "exit" => {
                if spec.exit.is_some() {
                    return Err(at("two `exit` directives"));
                }
                spec.exit = Some(value.parse().map_err(|_| at(&format!("bad exit status `{value}`")))?)
            }
            "signal" => {
                if !SIGNALS.contains(&value) {
                    return Err(at(&format!("unknown signal `{value}` (one of {})", SIGNALS.join(" "))));
                }
                if spec.signal.is_some() {
                    return Err(at("two `signal` directives"));
                }
                spec.signal = Some(value["SIG".len()..].to_string());
            }
            "timeout" => {
                spec.timeout = value
                    .parse()
                    .ok()
                    .filter(|&t| t > 0)
                    .ok_or_else(|| at(&format!("bad timeout `{value}`")))?
            }
            "requires" => spec.requires = value.split_whitespace().map(String::from).collect(),
            "stdout" => {
                // The value after the first space as it is (no trimming).
                let line = directive["stdout:".len()..].strip_prefix(' ').unwrap_or("");
                if line.contains('\t') {
                    return Err(at("a tab in a `stdout` line"));
                }
                spec.stdout.get_or_insert_with(Vec::new).push(line.to_string());
            }
            "request" => {
                if value.is_empty() || value.contains('\t') {
                    return Err(at("a `request` needs METHOD PATH, no tab"));
                }
                spec.requests.push(value.to_string());
            }
            "file" => {
                let (name, text) = value.split_once(' ').unwrap_or((value, ""));
                let bad_name = name.is_empty() || name.contains('/') || name == "." || name == "..";
                if bad_name || text.contains('\t') {
                    return Err(at(&format!("bad file `{value}` (NAME TEXT; a plain name, no tab)")));
                }
                spec.files.push((name.to_string(), text.to_string()));
            }
            _ => return Err(at(&format!("unknown directive `{key}`"))),
        }
    }
    if spec.exit.is_some() == spec.signal.is_some() {
        return Err("needs exactly one of `#% exit: N` and `#% signal: SIGNAME`".into());
    }
    for placeholder in placeholders(text) {
        if placeholder != "@TMPDIR@" {
            return Err(format!("unknown placeholder {placeholder}"));
        }
    }
    Ok(spec)
}

/// Every `@NAME@` in the text.
fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'@' {
            let rest = &bytes[i + 1..];
            let len = rest.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            if len > 0 && rest.get(len) == Some(&b'@') {
                found.push(&text[i..i + len + 2]);
                i += len + 2;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// A support table (`kmod/syscall-status.txt`): syscall name to status.
pub fn parse_status(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.to_string()))
        })
        .collect()
}

/// How the runner opens one descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fd {
    /// The runner's standard input (`/dev/null`), output or error
    /// (captured per case).
    Inherited(u8),
    /// `N<path`, a directory (cloudabi-run's `mode: directory`).
    Dir(String),
    /// `N<path`, a file opened for reading.
    Read(String),
    /// `N>>path`.
    Append(String),
    /// `N<>path`.
    ReadWrite(String),
    /// `N<program`.
    Executable,
    /// A socket made by the runner's argv-exec helper: `stream` or
    /// `dgram`, and the address as cloudabi-run's `!socket` takes it.
    Socket { kind: String, address: String },
}

impl Fd {
    /// The runner's word for it (`kind:encoded-path`).
    pub fn word(&self) -> String {
        match self {
            Fd::Inherited(n) => format!("fd:{n}"),
            Fd::Dir(p) => format!("dir:{}", shenc::encode(p.as_bytes())),
            Fd::Read(p) => format!("read:{}", shenc::encode(p.as_bytes())),
            Fd::Append(p) => format!("append:{}", shenc::encode(p.as_bytes())),
            Fd::ReadWrite(p) => format!("readwrite:{}", shenc::encode(p.as_bytes())),
            Fd::Executable => "exec:".into(),
            Fd::Socket { kind, address } => {
                format!("sock:{}", shenc::encode(format!("{kind}:{address}").as_bytes()))
            }
        }
    }
}

/// What `cloudabi-run --dump-argdata` printed.
#[derive(Debug, PartialEq, Eq)]
pub struct Dump {
    pub argdata: Vec<u8>,
    pub fds: Vec<String>,
    /// Per descriptor, the native limits of `--dump-limits` (Capsicum
    /// words, exact base and inheriting rights), if it has any.
    pub limits: Vec<Option<Limits>>,
}

/// Native Capsicum limits of one descriptor, as `cloudabi-run
/// --dump-limits` prints them: the two `cap_rights_t` words and the exact
/// CloudABI base and inheriting rights its ioctl list carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits(pub [u64; 4]);

impl Limits {
    /// Reads `capsicum W0 W1 rights BASE INHERITING` (hexadecimal, `0x`).
    fn parse(text: &str) -> Option<Limits> {
        let w: Vec<&str> = text.split(' ').collect();
        if w.len() != 6 || w[0] != "capsicum" || w[3] != "rights" {
            return None;
        }
        let hex = |s: &str| u64::from_str_radix(s.strip_prefix("0x")?, 16).ok();
        Some(Limits([hex(w[1])?, hex(w[2])?, hex(w[4])?, hex(w[5])?]))
    }

    /// The prefix of the runner's descriptor word: `lim:W0:W1:BASE:INH:`
    /// (16 hex digits each), which ca64-init applies with
    /// cap_rights_limit(2) and cap_ioctls_limit(2).
    pub fn prefix(&self) -> String {
        let [a, b, c, d] = self.0;
        format!("lim:{a:016x}:{b:016x}:{c:016x}:{d:016x}:")
    }
}

/// Reads the `argdata (N bytes): HEX`, `fd I: DESCRIPTION` and `limits I:
/// ...` lines.
pub fn parse_dump(text: &str) -> Result<Dump, String> {
    let mut argdata = None;
    let mut fds = Vec::new();
    let mut limits = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("argdata (") {
            let (count, hex) =
                rest.split_once(" bytes):").ok_or_else(|| format!("bad dump line `{line}`"))?;
            let count: usize = count.parse().map_err(|_| format!("bad dump line `{line}`"))?;
            let bytes = parse_hex(hex.trim()).ok_or_else(|| format!("bad hex in `{line}`"))?;
            if bytes.len() != count {
                return Err(format!("dump says {count} bytes but has {}", bytes.len()));
            }
            argdata = Some(bytes);
        } else if let Some(rest) = line.strip_prefix("fd ") {
            let (index, description) =
                rest.split_once(": ").ok_or_else(|| format!("bad dump line `{line}`"))?;
            if index.parse::<usize>().ok() != Some(fds.len()) {
                return Err(format!("descriptor lines out of order at `{line}`"));
            }
            fds.push(description.to_string());
            limits.push(None);
        } else if let Some(rest) = line.strip_prefix("limits ") {
            let (index, text) = rest.split_once(": ").ok_or_else(|| format!("bad dump line `{line}`"))?;
            let i = index.parse::<usize>().ok().filter(|&i| i + 1 == fds.len());
            let slot = i
                .and_then(|i| limits.get_mut(i))
                .ok_or_else(|| format!("limits of no descriptor at `{line}`"))?;
            *slot = Some(Limits::parse(text).ok_or_else(|| format!("bad limits line `{line}`"))?);
        }
    }
    Ok(Dump { argdata: argdata.ok_or("no `argdata` line in the dump")?, fds, limits })
}

pub fn parse_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A descriptor description as the runner opens it. `cwd` is where
/// relative paths were opened on this machine (to tell directories from
/// files for `mode: read`).
pub fn descriptor(description: &str, cwd: &Path, limited: bool) -> Result<Fd, String> {
    let refuse = |why: &str| Err(format!("`{description}`: {why}"));
    if description == "!executable" {
        return Ok(Fd::Executable);
    }
    if let Some(n) = description.strip_prefix("!fd ") {
        return match n {
            "0" | "1" | "2" => Ok(Fd::Inherited(n.parse().unwrap())),
            _ => refuse("the in-VM runner passes only its descriptors 0, 1 and 2"),
        };
    }
    if let Some(rest) = description.strip_prefix("!socket ") {
        let (address, kind) = rest
            .rsplit_once(" (")
            .and_then(|(a, k)| Some((a, k.strip_suffix(')')?)))
            .ok_or_else(|| format!("`{description}`: cannot read the address and type"))?;
        if !matches!(kind, "stream" | "dgram") {
            return refuse(&format!("unknown socket type `{kind}`"));
        }
        return Ok(Fd::Socket { kind: kind.into(), address: address.into() });
    }
    let Some(rest) = description.strip_prefix("!file ") else {
        return refuse("unknown kind of descriptor");
    };
    let (path, mode) = rest
        .rsplit_once(" (")
        .and_then(|(p, m)| Some((p, m.strip_suffix(')')?)))
        .ok_or_else(|| format!("`{description}`: cannot read the path and mode"))?;
    let path = path.to_string();
    match mode {
        "directory" => Ok(Fd::Dir(path)),
        "read" if !limited && cwd.join(&path).is_dir() => refuse(
            "a read-only directory tree needs a Capsicum rights limit, which a shell redirection cannot apply",
        ),
        "read" => Ok(Fd::Read(path)),
        "append" => Ok(Fd::Append(path)),
        "readwrite" => Ok(Fd::ReadWrite(path)),
        "write" => refuse("a shell cannot open a file write-only without truncating or appending"),
        _ => refuse(&format!("unknown mode `{mode}`")),
    }
}

pub struct Options {
    pub cloudabi_run: PathBuf,
    pub specs: PathBuf,
    pub programs: PathBuf,
    pub status: Option<PathBuf>,
    pub base: PathBuf,
    pub function: String,
    pub only: Option<Vec<String>>,
    /// The runner applies native Capsicum limits (ca64-init, the
    /// bare-kernel mode): descriptor words carry them (`Limits::prefix`).
    pub limits: bool,
}

/// The names of the specs in `dir`, sorted.
fn spec_names(dir: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".yaml").map(String::from))
        .collect();
    names.sort();
    Ok(names)
}

/// Generates the case list (`run_case`/`skip_case` calls) for every spec.
pub fn generate(opts: &Options) -> Result<String, String> {
    // cloudabi-run runs in each case's directory: absolute paths only.
    let absolute = |p: &Path| fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()));
    let opts = &Options {
        cloudabi_run: absolute(&opts.cloudabi_run)?,
        specs: absolute(&opts.specs)?,
        programs: absolute(&opts.programs)?,
        status: opts.status.clone(),
        base: opts.base.clone(),
        function: opts.function.clone(),
        limits: opts.limits,
        only: opts.only.clone(),
    };
    if !opts.base.is_absolute() {
        return Err(format!("the scratch base {} is not absolute", opts.base.display()));
    }
    let base_text = opts.base.to_str().ok_or("the scratch base is not UTF-8")?;
    if base_text.contains(['"', '\\']) {
        return Err("the scratch base must not contain `\"` or `\\` (it goes into a YAML string)".into());
    }
    let status = match &opts.status {
        Some(path) => Some(parse_status(
            &fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        )),
        None => None,
    };
    let mut names = spec_names(&opts.specs)?;
    if let Some(only) = &opts.only {
        for n in only {
            if !names.contains(n) {
                return Err(format!("no spec {n}.yaml in {}", opts.specs.display()));
            }
        }
        names.retain(|n| only.contains(n));
    }
    if names.is_empty() {
        return Err(format!("no specs in {}", opts.specs.display()));
    }
    // The in-VM paths, made here for cloudabi-run to open.
    fs::create_dir_all(opts.base.parent().unwrap_or(Path::new("/")))
        .map_err(|e| format!("cannot create the parent of {}: {e}", opts.base.display()))?;
    fs::create_dir(&opts.base).map_err(|e| format!("cannot create {}: {e}", opts.base.display()))?;
    let result =
        names.iter().map(|name| one_case(opts, status.as_ref(), name)).collect::<Result<Vec<_>, _>>();
    let _ = fs::remove_dir_all(&opts.base);
    let cases = result?;
    let mut out = String::new();
    out.push_str(&format!(
        "# Generated by freebsd-vm/vmctl cases from {}; do not edit.\n\
         # {} NAME PROGRAM EXPECT TIMEOUT DESCRIPTOR... -- ARGUMENT...\n\
         # (words are printf formats: freebsd-vm/vmctl/src/shenc.rs)\n",
        opts.specs.display(),
        opts.function
    ));
    for case in cases {
        out.push_str(&case);
    }
    Ok(out)
}

fn one_case(opts: &Options, status: Option<&BTreeMap<String, String>>, name: &str) -> Result<String, String> {
    let fail = |why: String| format!("{name}.yaml: {why}");
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(fail("the name must be letters, digits, `_` and `-`".into()));
    }
    let text =
        fs::read_to_string(opts.specs.join(format!("{name}.yaml"))).map_err(|e| fail(e.to_string()))?;
    let spec = parse_spec(&text).map_err(fail)?;
    let program = opts.programs.join(name);
    if !program.is_file() {
        return Err(fail(format!("no program {}", program.display())));
    }
    if let Some(status) = status {
        let missing: Vec<&str> = spec
            .requires
            .iter()
            .filter(|s| status.get(*s).is_none_or(|st| st == "enosys"))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let why = format!("needs {} (enosys in kmod/syscall-status.txt)", missing.join(", "));
            return Ok(format!("skip_case '{name}' '{}'\n", shenc::encode(why.as_bytes())));
        }
    }
    let parent = opts.base.join(name);
    let scratch = parent.join("scratch");
    fs::create_dir_all(&scratch).map_err(|e| fail(format!("cannot create {}: {e}", scratch.display())))?;
    // The spec's files, here too: cloudabi-run checks what it would open.
    for (file, contents) in &spec.files {
        let path = scratch.join(file);
        fs::write(&path, format!("{contents}\n"))
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
    }
    let scratch_str = scratch
        .to_str()
        .ok_or_else(|| fail(format!("scratch directory {} is not UTF-8", scratch.display())))?;
    let config = text.replace("@TMPDIR@", scratch_str);
    let mut command = Command::new(&opts.cloudabi_run);
    command.arg("--dump-argdata");
    if opts.limits {
        command.arg("--dump-limits");
    }
    let mut child = command
        .arg(&program)
        .current_dir(&parent)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", opts.cloudabi_run.display())))?;
    child.stdin.take().unwrap().write_all(config.as_bytes()).map_err(|e| fail(e.to_string()))?;
    let output = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        return Err(fail(format!(
            "cloudabi-run --dump-argdata failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let dump = parse_dump(&String::from_utf8_lossy(&output.stdout)).map_err(fail)?;
    if dump.fds.len() > MAX_FDS {
        let why = format!("{} descriptors; the in-VM runner opens at most {MAX_FDS}", dump.fds.len());
        return Ok(format!("skip_case '{name}' '{}'\n", shenc::encode(why.as_bytes())));
    }
    // A descriptor the runner cannot make skips the case (with the reason)
    // rather than failing the payload.
    let fds =
        match dump.fds.iter().map(|d| descriptor(d, &parent, opts.limits)).collect::<Result<Vec<_>, _>>() {
            Ok(fds) => fds,
            Err(why) => {
                let why = format!("the in-VM runner cannot pass {why}");
                return Ok(format!("skip_case '{name}' '{}'\n", shenc::encode(why.as_bytes())));
            }
        };
    let mut line = format!("# argdata {name} {}\n", to_hex(&dump.argdata));
    match &spec.stdout {
        None => line.push_str(&format!(
            "{} '{name}' '{name}' '{}' {}",
            opts.function,
            spec.expect(),
            spec.timeout
        )),
        // ca64-init only (the image mode's vm-run.sh has no output_case).
        Some(_) if !opts.limits => {
            let why = "its output is judged by the bare-kernel mode only";
            return Ok(format!("skip_case '{name}' '{}'\n", shenc::encode(why.as_bytes())));
        }
        Some(_) => {
            let (expected, files) = spec.output_words();
            let requests = match spec.requests.is_empty() {
                true => String::new(),
                false => {
                    let port = fds.iter().find_map(|fd| match fd {
                        Fd::Socket { kind, address } if kind == "stream" => {
                            address.strip_prefix("127.0.0.1:")?.parse::<u16>().ok().filter(|&p| p != 0)
                        }
                        _ => None,
                    });
                    let port = port.ok_or_else(|| {
                        fail("`request` needs a stream !socket bound to 127.0.0.1 and a fixed port".into())
                    })?;
                    spec.requests.iter().fold(format!("{port}\n"), |acc, r| acc + r + "\n")
                }
            };
            line.push_str(&format!(
                "output_case '{name}' '{name}' '{}' {} '{}' '{}' '{}'",
                spec.expect(),
                spec.timeout,
                shenc::encode(expected.as_bytes()),
                shenc::encode(files.as_bytes()),
                shenc::encode(requests.as_bytes())
            ));
        }
    }
    for (fd, limits) in fds.iter().zip(&dump.limits) {
        let prefix = limits.map(|l| l.prefix()).unwrap_or_default();
        line.push_str(&format!(" '{prefix}{}'", fd.word()));
    }
    line.push_str(" --");
    for piece in shenc::argv_pieces(&dump.argdata) {
        line.push_str(&format!(" '{}'", shenc::encode(piece)));
    }
    line.push('\n');
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        let spec = parse_spec("#% exit: 0\n#% timeout: 5\nout: !fd stdout\n").unwrap();
        assert_eq!(
            spec,
            Spec {
                exit: Some(0),
                signal: None,
                timeout: 5,
                requires: vec![],
                stdout: None,
                files: vec![],
                requests: vec![]
            }
        );
        assert_eq!(spec.expect(), "exit 0");
        let spec = parse_spec("#% signal: SIGUSR1\n#% requires: thread_create thread_exit\n").unwrap();
        assert_eq!(spec.expect(), "signal USR1");
        assert_eq!(spec.requires, ["thread_create", "thread_exit"]);
        assert_eq!(spec.timeout, 30);
    }

    #[test]
    fn bad_specs_are_refused() {
        for (text, why) in [
            ("out: 1\n", "exactly one"),
            ("#% exit: 0\n#% signal: SIGUSR1\n", "exactly one"),
            ("#% exit: 0\n#% exit: 1\n", "two"),
            ("#% exit: zero\n", "bad exit"),
            ("#% signal: SIGWINCH\n", "unknown signal"),
            ("#% exit: 0\n#% colour: blue\n", "unknown directive"),
            ("#% exit: 0\n#%timeout: 3\n", "bad directive"),
            ("#% exit: 0\n#% timeout: 0\n", "bad timeout"),
            ("#% exit: 0\nf: !file {path: \"@FILE@\"}\n", "unknown placeholder @FILE@"),
        ] {
            let err = parse_spec(text).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
        assert!(parse_spec("#% exit: 0\nmail: a@b.c\nx: \"@TMPDIR@\"\n").is_ok());
    }

    #[test]
    fn dumps() {
        let dump = parse_dump(
            "argdata (6 bytes): 078105820201\nvalue: [0, true]\nfd 0: !file /tmp/a b (c) (directory)\nfd 1: !fd 1\n",
        )
        .unwrap();
        assert_eq!(dump.argdata, [7, 0x81, 5, 0x82, 2, 1]);
        assert_eq!(dump.fds, ["!file /tmp/a b (c) (directory)", "!fd 1"]);
        assert_eq!(parse_dump("argdata (0 bytes):\nvalue: null\n").unwrap().argdata, b"");
        assert!(parse_dump("argdata (2 bytes): 07\n").is_err());
        assert!(parse_dump("value: null\n").is_err());
        assert!(parse_dump("argdata (0 bytes):\nfd 1: !fd 1\n").is_err());
        assert_eq!(dump.limits, [None, None]);
    }

    #[test]
    fn output_directives() {
        let spec = parse_spec(
            "#% exit: 0\n#% stdout: a.txt\n#% stdout:  two  spaces\n#% stdout:\n#% file: a.txt hello world\n",
        )
        .unwrap();
        assert_eq!(spec.stdout, Some(vec!["a.txt".into(), " two  spaces".into(), "".into()]));
        assert_eq!(spec.files, [("a.txt".to_string(), "hello world".to_string())]);
        assert_eq!(spec.output_words(), ("a.txt\n two  spaces\n\n".into(), "a.txt\thello world\n".into()));
        assert_eq!(parse_spec("#% exit: 0\n").unwrap().stdout, None);
        let web = parse_spec("#% exit: 0\n#% request: GET /index.html\n#% request: HEAD /\n").unwrap();
        assert_eq!(web.requests, ["GET /index.html", "HEAD /"]);
        assert!(parse_spec("#% exit: 0\n#% request:\n").is_err());
        for bad in ["#% file: a/b x\n", "#% file: .. x\n", "#% file:\n", "#% stdout: a\tb\n"] {
            assert!(parse_spec(&format!("#% exit: 0\n{bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn dumps_with_limits() {
        let text = "argdata (0 bytes):\nfd 0: !fd 1\nfd 1: !file x (read)\n\
                    limits 1: capsicum 0x0200000000000001 0x0400000000000080 rights 0x0000000000000002 0x0000008000000000\n";
        let dump = parse_dump(text).unwrap();
        let l = Limits([0x0200_0000_0000_0001, 0x0400_0000_0000_0080, 2, 0x80_0000_0000]);
        assert_eq!(dump.limits, [None, Some(l)]);
        assert_eq!(l.prefix(), "lim:0200000000000001:0400000000000080:0000000000000002:0000008000000000:");
        // Limits of a descriptor not yet (or no longer) listed, or garbled.
        for bad in [
            "argdata (0 bytes):\nlimits 0: capsicum 0x1 0x2 rights 0x3 0x4\n",
            "argdata (0 bytes):\nfd 0: !fd 1\nfd 1: !fd 2\nlimits 0: capsicum 0x1 0x2 rights 0x3 0x4\n",
            "argdata (0 bytes):\nfd 0: !fd 1\nlimits 0: capsicum 0x1 rights 0x3 0x4\n",
            "argdata (0 bytes):\nfd 0: !fd 1\nlimits 0: capsicum 1 2 rights 3 4\n",
        ] {
            assert!(parse_dump(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptors() {
        let cwd = std::env::temp_dir();
        assert_eq!(descriptor("!fd 1", &cwd, false).unwrap(), Fd::Inherited(1));
        assert_eq!(
            descriptor("!file /x y (z) (directory)", &cwd, false).unwrap(),
            Fd::Dir("/x y (z)".into())
        );
        assert_eq!(descriptor("!file f (append)", &cwd, false).unwrap(), Fd::Append("f".into()));
        assert_eq!(descriptor("!file f (readwrite)", &cwd, false).unwrap(), Fd::ReadWrite("f".into()));
        assert_eq!(
            descriptor("!file /nonexistent/f (read)", &cwd, false).unwrap(),
            Fd::Read("/nonexistent/f".into())
        );
        assert_eq!(descriptor("!executable", &cwd, false).unwrap(), Fd::Executable);
        assert_eq!(
            descriptor("!socket 127.0.0.1:0 (dgram)", &cwd, false).unwrap(),
            Fd::Socket { kind: "dgram".into(), address: "127.0.0.1:0".into() }
        );
        assert_eq!(
            Fd::Socket { kind: "stream".into(), address: "[::1]:80".into() }.word(),
            "sock:stream:\\133::1\\135:80"
        );
        for bad in ["!fd 5", "!socket x:1 (seqpacket)", "!file f (write)", "!file / (read)", "!other"] {
            assert!(descriptor(bad, &cwd, false).is_err(), "{bad}");
        }
        // With native limits the runner can make a read-only tree.
        assert_eq!(descriptor("!file / (read)", &cwd, true).unwrap(), Fd::Read("/".into()));
        {}
        assert_eq!(Fd::Dir("/tmp/a b".into()).word(), "dir:/tmp/a\\040b");
        assert_eq!(Fd::Inherited(2).word(), "fd:2");
    }

    #[test]
    fn status_tables() {
        let status = parse_status("# comment\nfd_read   enosys\nfd_write supported note\n\n");
        assert_eq!(status.get("fd_read").unwrap(), "enosys");
        assert_eq!(status.get("fd_write").unwrap(), "supported");
        assert_eq!(status.len(), 2);
    }
}
