//! runc's command line, as containerd's runc shim (through go-runc) and
//! people write it: `runc [GLOBAL FLAGS] COMMAND [FLAGS] ID`. Only two
//! things matter to the wrapper: which command it is, and for `create` and
//! `run` the bundle directory (`--bundle`/`-b`, default the working
//! directory). Flags are recognised the way runc's CLI library (urfave/cli
//! v1) does: one or two dashes, the value in the next argument or after
//! `=`; flag parsing ends at the first positional argument or `--`.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// runc's global flags that take a value (runc 1.1 `main.go`: `--log`,
/// `--log-format`, `--root`, `--criu`, `--rootless`). The others
/// (`--debug`, `--systemd-cgroup`, `--help`, `--version`) take none.
const GLOBAL_WITH_VALUE: &[&str] = &["log", "log-format", "root", "criu", "rootless"];

/// Flags of `create` and `run` that take a value besides `--bundle`
/// (runc 1.1 `create.go`, `run.go`).
const CREATE_WITH_VALUE: &[&str] = &["console-socket", "pid-file", "preserve-fds"];

/// What the wrapper needs to know about one runc command line.
#[derive(Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The command (`create`, `start`, `state`, ...), if there is one.
    pub command: Option<String>,
    /// For `create` and `run`: the bundle directory as given (`None`: the
    /// working directory).
    pub bundle: Option<PathBuf>,
    /// The value of the global `--log` flag: where runc logs, and where the
    /// runc shim looks for the reason a command failed.
    pub log: Option<PathBuf>,
}

impl Invocation {
    /// Whether this command creates a container from a bundle.
    pub fn creates(&self) -> bool {
        matches!(self.command.as_deref(), Some("create" | "run"))
    }
}

/// A flag's name without its dashes and its inline value (`--root=/x` →
/// `("root", Some("/x"))`); `None` for what is not a flag.
fn flag(arg: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let name = arg.strip_prefix(b"--").or_else(|| arg.strip_prefix(b"-"))?;
    if name.is_empty() || name.starts_with(b"-") {
        return None;
    }
    Some(match name.iter().position(|&b| b == b'=') {
        Some(eq) => (&name[..eq], Some(&name[eq + 1..])),
        None => (name, None),
    })
}

fn is_one_of(name: &[u8], names: &[&str]) -> bool {
    names.iter().any(|n| n.as_bytes() == name)
}

/// Splits runc's arguments (without argv[0]).
pub fn parse(args: &[OsString]) -> Invocation {
    let mut inv = Invocation { command: None, bundle: None, log: None };
    let mut i = 0;
    // Global flags, up to the command.
    while i < args.len() {
        let arg = args[i].as_bytes();
        if arg == b"--" {
            i += 1;
            break;
        }
        let Some((name, inline)) = flag(arg) else { break };
        i += 1;
        if is_one_of(name, GLOBAL_WITH_VALUE) {
            let value = match inline {
                Some(v) => Some(v.to_vec()),
                None => args.get(i).map(|v| v.as_bytes().to_vec()).inspect(|_| i += 1),
            };
            if name == b"log" {
                inv.log = value.map(|v| PathBuf::from(OsString::from_vec(v)));
            }
        }
    }
    let Some(command) = args.get(i) else { return inv };
    inv.command = Some(command.to_string_lossy().into_owned());
    i += 1;
    if !inv.creates() {
        return inv;
    }
    // The command's flags, up to the container id.
    while i < args.len() {
        let Some((name, inline)) = flag(args[i].as_bytes()) else { break };
        i += 1;
        let takes_value = name == b"bundle" || name == b"b" || is_one_of(name, CREATE_WITH_VALUE);
        let value = match (takes_value, inline) {
            (false, _) => None,
            (true, Some(v)) => Some(v.to_vec()),
            (true, None) => args.get(i).map(|v| v.as_bytes().to_vec()).inspect(|_| i += 1),
        };
        if name == b"bundle" || name == b"b" {
            inv.bundle = value.map(|v| PathBuf::from(OsString::from_vec(v)));
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn the_runc_shims_create_line() {
        // What go-runc builds for containerd 1.6's runc shim.
        let inv = parse(&args(
            "--root /run/containerd/runc/default --log /b/log.json --log-format json create \
             --bundle /b --pid-file /b/init.pid --console-socket /tmp/c.sock web",
        ));
        assert_eq!(inv.command.as_deref(), Some("create"));
        assert_eq!(inv.bundle, Some(PathBuf::from("/b")));
        assert_eq!(inv.log, Some(PathBuf::from("/b/log.json")));
        assert!(inv.creates());
    }

    #[test]
    fn flag_spellings_runc_accepts() {
        let inv = parse(&args("-root=/r --systemd-cgroup --debug run -d -b=/x --no-pivot id"));
        assert_eq!((inv.command.as_deref(), inv.bundle), (Some("run"), Some(PathBuf::from("/x"))));
        let inv = parse(&args("--log=/l create -bundle /y id"));
        assert_eq!(inv.bundle, Some(PathBuf::from("/y")));
        assert_eq!(inv.log, Some(PathBuf::from("/l")));
    }

    #[test]
    fn no_bundle_flag_means_the_working_directory() {
        let inv = parse(&args("create --pid-file /p id"));
        assert_eq!((inv.command.as_deref(), inv.bundle), (Some("create"), None));
    }

    #[test]
    fn a_value_that_looks_like_a_command_is_not_one() {
        // `--root create` names a directory called "create".
        let inv = parse(&args("--root create --log-format json state id"));
        assert_eq!(inv.command.as_deref(), Some("state"));
        assert!(!inv.creates());
    }

    #[test]
    fn flags_after_the_container_id_are_not_runcs() {
        let inv = parse(&args("create id --bundle /nope"));
        assert_eq!(inv.bundle, None);
    }

    #[test]
    fn other_commands_and_no_command() {
        for c in ["start", "kill", "delete", "state", "exec", "features", "ps"] {
            let inv = parse(&args(&format!("--root /r {c} --bundle /x id")));
            assert_eq!(inv.command.as_deref(), Some(c));
            assert!(!inv.creates() && inv.bundle.is_none(), "{c}");
        }
        assert_eq!(parse(&args("--version")).command, None);
        assert_eq!(parse(&[]).command, None);
        assert_eq!(parse(&args("--root")).command, None, "a flag missing its value");
    }
}
