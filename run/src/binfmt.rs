//! Registration with Linux `binfmt_misc`, so that executing a CloudABI
//! program from a shell runs it through direct execution
//! ([`crate::direct`]): `./ls < /etc`, as on FreeBSD with cloudabi64
//! loaded.
//!
//! One entry per CloudABI architecture matches the ELF identification of a
//! CloudABI executable (64-bit, little-endian, version 1, OS/ABI 17) and
//! its machine; the interpreter is `cloudabi-run-binfmt-P`, a link to
//! cloudabi-run beside it. The `P` flag preserves the caller's argv[0]:
//! the kernel starts the interpreter as
//! `[interpreter, path-as-executed, original-argv0, args...]`, and a name
//! ending in `-binfmt-P` tells cloudabi-run to read its arguments that way
//! (the convention Debian's qemu-user packages use for the same purpose).
//! The `F` flag opens the interpreter at registration, so the entry also
//! works in containers and chroots that do not hold it.
//!
//! Both architectures are registered whatever the host: a CloudABI program
//! of the other architecture then gets cloudabi-run's clear refusal rather
//! than the shell's "Exec format error".

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::exit::{Failure, Status};

/// Where `binfmt_misc` is mounted.
pub const MOUNT: &str = "/proc/sys/fs/binfmt_misc";

/// The name the interpreter link has: argv[0] ending in this selects the
/// binfmt argument layout.
pub const INTERPRETER: &str = "cloudabi-run-binfmt-P";

/// The registration flags: preserve argv[0], open the interpreter now.
const FLAGS: &str = "PF";

/// One registered format: a name and an ELF machine.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub name: &'static str,
    pub machine: u16,
}

pub const ENTRIES: [Entry; 2] =
    [Entry { name: "cloudabi-x86_64", machine: 62 }, Entry { name: "cloudabi-aarch64", machine: 183 }];

/// `e_ident` (16 bytes), `e_type` (2) and `e_machine` (2).
const MATCHED: usize = 20;

/// The bytes an executable of `machine` starts with, where [`MASK`] is set.
pub fn magic(machine: u16) -> [u8; MATCHED] {
    let mut m = [0u8; MATCHED];
    m[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 17]);
    m[18..].copy_from_slice(&machine.to_le_bytes());
    m
}

/// Which bytes are compared: the identification up to OS/ABI and the
/// machine. The ABI version, the padding and `e_type` are not: cloudabi-run
/// refuses a non-PIE itself, with a message that says why.
pub const MASK: [u8; MATCHED] =
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/// Every byte as `\xNN`, the one escape `binfmt_misc` and systemd-binfmt
/// both read (it also keeps `:` and NUL out of the fields).
fn escaped(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "\\x{b:02x}");
        s
    })
}

/// The registration line for `entry` with `interpreter`, as written to
/// `register` and as a line of a binfmt.d(5) file.
pub fn registration(entry: Entry, interpreter: &Path) -> String {
    format!(
        ":{}:M::{}:{}:{}:{FLAGS}",
        entry.name,
        escaped(&magic(entry.machine)),
        escaped(&MASK),
        interpreter.display()
    )
}

/// Whether an executable beginning with `head` matches `entry`, as the
/// kernel decides it.
pub fn matches(entry: Entry, head: &[u8]) -> bool {
    head.len() >= MATCHED
        && magic(entry.machine).iter().zip(&MASK).zip(head).all(|((m, k), h)| h & k == m & k)
}

/// The contents of a binfmt.d(5) file (`/usr/lib/binfmt.d/cloudabi.conf`)
/// for an interpreter at `interpreter`.
pub fn conf(interpreter: &Path) -> String {
    let mut s = String::from("# CloudABI executables run through cloudabi-run (see cloudabi-run(1)).\n");
    for entry in ENTRIES {
        s.push_str(&registration(entry, interpreter));
        s.push('\n');
    }
    s
}

/// Whether cloudabi-run was started by `binfmt_misc` (through the link).
pub fn invoked_as_interpreter(argv0: &std::ffi::OsStr) -> bool {
    Path::new(argv0).file_name().is_some_and(|n| n.as_encoded_bytes().ends_with(b"-binfmt-P"))
}

/// From the interpreter's arguments `[interpreter, path, argv0, args...]`:
/// the executable to open and the program's own argv.
pub fn split_invocation(args: Vec<OsString>) -> Result<(PathBuf, Vec<OsString>), Failure> {
    let mut args = args.into_iter().skip(1);
    match (args.next(), args.next()) {
        (Some(path), Some(argv0)) => Ok((PathBuf::from(path), std::iter::once(argv0).chain(args).collect())),
        _ => Err(Failure::new(
            Status::Usage,
            format!(
                "{INTERPRETER} is started by binfmt_misc with the program and its argv[0]; run cloudabi-run --exec PROGRAM instead"
            ),
        )),
    }
}

/// The interpreter link beside this cloudabi-run.
pub fn interpreter_path() -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(Status::OsError, format!("cannot find cloudabi-run's own path: {e}")))?;
    Ok(exe.with_file_name(INTERPRETER))
}

/// `--register-binfmt`: creates the interpreter link if needed and
/// registers both entries (replacing older ones), printing what it wrote.
pub fn register(out: &mut dyn Write) -> Result<(), Failure> {
    let register = check_mounted()?;
    let interpreter = interpreter_path()?;
    ensure_link(&interpreter, out)?;
    for entry in ENTRIES {
        remove(entry, out)?;
        let line = registration(entry, &interpreter);
        write_control(&register, &line)?;
        say(out, &format!("wrote {line} to {}", register.display()))?;
    }
    Ok(())
}

/// `--unregister-binfmt`: removes the entries that are registered.
pub fn unregister(out: &mut dyn Write) -> Result<(), Failure> {
    check_mounted()?;
    for entry in ENTRIES {
        if !remove(entry, out)? {
            say(out, &format!("{} was not registered", entry.name))?;
        }
    }
    Ok(())
}

/// The `register` file, or why `binfmt_misc` cannot be used.
fn check_mounted() -> Result<PathBuf, Failure> {
    let register = Path::new(MOUNT).join("register");
    if !register.exists() {
        return Err(Failure::new(
            Status::Unavailable,
            format!(
                "binfmt_misc is not mounted at {MOUNT} (mount it with `mount -t binfmt_misc binfmt_misc {MOUNT}`, as root)"
            ),
        ));
    }
    Ok(register)
}

/// Removes `entry` if it is registered; whether it was.
fn remove(entry: Entry, out: &mut dyn Write) -> Result<bool, Failure> {
    let path = Path::new(MOUNT).join(entry.name);
    if !path.exists() {
        return Ok(false);
    }
    write_control(&path, "-1")?;
    say(out, &format!("wrote -1 to {} (removed {})", path.display(), entry.name))?;
    Ok(true)
}

/// Creates `link` → `cloudabi-run` (a relative link, beside it) unless it
/// already exists.
fn ensure_link(link: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    if link.symlink_metadata().is_ok() {
        return Ok(());
    }
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(Status::OsError, format!("cannot find cloudabi-run's own path: {e}")))?;
    let target = exe.file_name().map_or_else(|| exe.clone(), PathBuf::from);
    std::os::unix::fs::symlink(&target, link).map_err(|e| {
        Failure::new(Status::OsError, format!("cannot create the interpreter link {}: {e}", link.display()))
    })?;
    say(out, &format!("created {} -> {}", link.display(), target.display()))
}

/// One write of `text` to a `binfmt_misc` control file.
fn write_control(path: &Path, text: &str) -> Result<(), Failure> {
    let denied = |e: io::Error| {
        let hint = if e.kind() == io::ErrorKind::PermissionDenied { " (registering needs root)" } else { "" };
        Failure::new(Status::OsError, format!("cannot write to {}: {e}{hint}", path.display()))
    };
    let mut f = std::fs::OpenOptions::new().write(true).open(path).map_err(denied)?;
    f.write_all(text.as_bytes()).map_err(denied)
}

fn say(out: &mut dyn Write, line: &str) -> Result<(), Failure> {
    writeln!(out, "{line}").map_err(|e| Failure::new(Status::OsError, format!("cannot print: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(osabi: u8, e_type: u16, machine: u16) -> Vec<u8> {
        let mut h = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, osabi, 0, 0, 0, 0, 0, 0, 0, 0];
        h.extend_from_slice(&e_type.to_le_bytes());
        h.extend_from_slice(&machine.to_le_bytes());
        h.extend_from_slice(&[1, 0, 0, 0]);
        h
    }

    #[test]
    fn each_entry_matches_cloudabi_programs_of_its_machine_only() {
        let [x86, arm] = ENTRIES;
        assert!(matches(x86, &header(17, 3, 62)));
        assert!(matches(x86, &header(17, 2, 62)), "e_type is left to cloudabi-run");
        assert!(!matches(x86, &header(17, 3, 183)));
        assert!(matches(arm, &header(17, 3, 183)));
        // Linux and FreeBSD executables are not taken.
        assert!(!matches(x86, &header(0, 3, 62)));
        assert!(!matches(x86, &header(9, 3, 62)));
        assert!(!matches(x86, b"#!/bin/sh\n"));
        let mut be = header(17, 3, 62);
        be[5] = 2;
        assert!(!matches(x86, &be));
    }

    #[test]
    fn the_registration_line_has_seven_fields_and_no_raw_colons() {
        let line = registration(ENTRIES[0], Path::new("/usr/local/bin/cloudabi-run-binfmt-P"));
        let fields: Vec<&str> = line.split(':').collect();
        assert_eq!(fields.len(), 8, "{line}");
        assert_eq!(&fields[..4], ["", "cloudabi-x86_64", "M", ""]);
        assert!(fields[4].starts_with("\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x11"));
        assert_eq!(fields[4].len(), 4 * MATCHED);
        assert_eq!(fields[5].len(), 4 * MATCHED);
        assert!(fields[4].ends_with("\\x3e\\x00"));
        assert_eq!(fields[6], "/usr/local/bin/cloudabi-run-binfmt-P");
        assert_eq!(fields[7], "PF");
    }

    #[test]
    fn binfmt_arguments_give_the_program_and_its_own_argv() {
        let args: Vec<OsString> =
            ["/x/cloudabi-run-binfmt-P", "/home/u/ls", "./ls", "-a"].iter().map(OsString::from).collect();
        assert!(invoked_as_interpreter(&args[0]));
        assert!(!invoked_as_interpreter(std::ffi::OsStr::new("/usr/bin/cloudabi-run")));
        let (path, argv) = split_invocation(args).unwrap();
        assert_eq!(path, Path::new("/home/u/ls"));
        assert_eq!(argv, ["./ls", "-a"]);
        let e = split_invocation(vec!["cloudabi-run-binfmt-P".into()]).unwrap_err();
        assert_eq!(e.status, Status::Usage);
    }

    #[test]
    fn the_conf_file_has_one_line_per_architecture() {
        let conf = conf(Path::new("/usr/local/bin/cloudabi-run-binfmt-P"));
        let lines: Vec<&str> = conf.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].contains(":cloudabi-aarch64:") && lines[1].contains("\\xb7\\x00"));
    }
}
