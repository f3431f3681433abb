//! The receiving end of `proc_exec` (see `backend/exec.rs`): a cloudabi-run
//! started with `CLOUDABI_RUN_REEXEC` in its environment is not a command
//! line tool but the continuation of a CloudABI process, and starts the
//! program described by the variable with the inherited descriptors.
//!
//! The variable holds `key=value` pairs separated by `;`: `exe` and
//! `argdata` (descriptors: the executable and a memory file with the
//! argument data), `trace` (0 or 1), `sandbox` (`off`, `auto` or `required`), and `fds`: a `,`-separated list of
//! `fd/type/base/inheriting` (the type and rights as CloudABI numbers).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::process::ExitCode;

use abi::{Filetype, Rights};
use sys::backend::FdRights;

use super::backend::Granted;
use super::sandbox::Policy;
use super::{LaunchError, Options};

/// The environment variable.
pub const VAR: &str = "CLOUDABI_RUN_REEXEC";

/// Exit status when the hand-over itself fails (cloudabi-run's "launch
/// failed" status).
const FAILED: u8 = 71;

#[derive(Debug, PartialEq, Eq)]
pub struct SpecFd {
    pub fd: RawFd,
    pub filetype: Filetype,
    pub rights: FdRights,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Spec {
    pub exe: RawFd,
    pub argdata: RawFd,
    pub trace: bool,
    pub sandbox: Option<Policy>,
    pub fds: Vec<SpecFd>,
}

impl Spec {
    pub fn encode(&self) -> String {
        let fds: Vec<String> = self
            .fds
            .iter()
            .map(|f| {
                format!(
                    "{}/{}/{}/{}",
                    f.fd,
                    f.filetype.raw(),
                    f.rights.base.bits(),
                    f.rights.inheriting.bits()
                )
            })
            .collect();
        let sandbox = match self.sandbox {
            None => "off",
            Some(Policy::BestEffort) => "auto",
            Some(Policy::Required) => "required",
        };
        let mut s = format!(
            "exe={};argdata={};trace={};sandbox={sandbox}",
            self.exe,
            self.argdata,
            u8::from(self.trace)
        );
        s.push_str(&format!(";fds={}", fds.join(",")));
        s
    }

    pub fn decode(text: &str) -> Result<Spec, String> {
        let mut spec = Spec::default();
        let (mut exe, mut argdata) = (None, None);
        for pair in text.split(';') {
            let (k, v) = pair.split_once('=').ok_or_else(|| format!("malformed entry `{pair}`"))?;
            let num =
                |v: &str| v.parse::<i32>().map_err(|_| format!("`{k}` is not a descriptor number: `{v}`"));
            match k {
                "exe" => exe = Some(num(v)?),
                "argdata" => argdata = Some(num(v)?),
                "trace" => spec.trace = v == "1",
                "sandbox" => {
                    spec.sandbox = match v {
                        "off" => None,
                        "auto" => Some(Policy::BestEffort),
                        "required" => Some(Policy::Required),
                        _ => return Err(format!("bad sandbox `{v}`")),
                    }
                }
                "fds" => {
                    for f in v.split(',').filter(|f| !f.is_empty()) {
                        spec.fds.push(decode_fd(f)?);
                    }
                }
                _ => return Err(format!("unknown entry `{k}`")),
            }
        }
        spec.exe = exe.ok_or("no `exe`")?;
        spec.argdata = argdata.ok_or("no `argdata`")?;
        Ok(spec)
    }
}

fn decode_fd(f: &str) -> Result<SpecFd, String> {
    let parts: Vec<&str> = f.split('/').collect();
    let [fd, ty, base, inh] = parts[..] else { return Err(format!("malformed descriptor `{f}`")) };
    let bad = || format!("malformed descriptor `{f}`");
    Ok(SpecFd {
        fd: fd.parse().map_err(|_| bad())?,
        filetype: ty.parse().ok().and_then(Filetype::new).ok_or_else(bad)?,
        rights: FdRights {
            base: base.parse().ok().and_then(Rights::from_bits).ok_or_else(bad)?,
            inheriting: inh.parse().ok().and_then(Rights::from_bits).ok_or_else(bad)?,
        },
    })
}

/// If this process is the continuation of a `proc_exec`, runs the new
/// program (returning only on failure, with the exit status); `None`
/// otherwise.
pub fn main() -> Option<ExitCode> {
    let text = std::env::var(VAR).ok()?;
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe { std::env::remove_var(VAR) };
    let error = match Spec::decode(&text) {
        Ok(spec) => run(spec).to_string(),
        Err(e) => format!("bad {VAR}: {e}"),
    };
    eprintln!("cloudabi-run: proc_exec: {error}");
    Some(ExitCode::from(FAILED))
}

fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: the descriptors named by the variable were inherited for this
    // instance alone; each is taken over exactly once.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn run(spec: Spec) -> LaunchError {
    let exe = File::from(own(spec.exe));
    let mut argfile = File::from(own(spec.argdata));
    let mut argdata = Vec::new();
    if let Err(e) = argfile.seek(SeekFrom::Start(0)).and_then(|_| argfile.read_to_end(&mut argdata)) {
        return LaunchError::Setup(format!("reading the argument data: {e}"));
    }
    drop(argfile);
    let fds = spec
        .fds
        .iter()
        .map(|f| Granted {
            fd: own(f.fd),
            rights: f.rights,
            filetype: Some(f.filetype),
            // Descriptions that lived in the previous program may be
            // shared with processes it forked or sent them to.
            private: false,
        })
        .collect();
    let opts = Options { trace: spec.trace, sandbox: spec.sandbox };
    match super::start(exe, argdata, fds, &opts) {
        Err(e) => e,
        Ok(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_round_trips_and_rejects_garbage() {
        let spec = Spec {
            exe: 5,
            argdata: 6,
            trace: true,
            sandbox: Some(Policy::Required),
            fds: vec![SpecFd {
                fd: 8,
                filetype: Filetype::PROCESS,
                rights: FdRights { base: Rights::FILE_STAT_FGET, inheriting: Rights::EMPTY },
            }],
        };
        assert_eq!(Spec::decode(&spec.encode()), Ok(spec));
        assert!(Spec::decode("exe=1").is_err());
        assert!(Spec::decode("exe=1;argdata=2;fds=1/2").is_err());
        assert!(Spec::decode("exe=1;argdata=2;fds=1/99/0/0").is_err(), "undefined file type");
        assert!(Spec::decode("exe=x;argdata=2").is_err());
    }
}
