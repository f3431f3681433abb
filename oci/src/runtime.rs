//! The pieces of `cloudabi-oci-runtime` that touch the host: finding the
//! real runc and cloudabi-run, rewriting a bundle's `config.json` in place,
//! and reporting an error where containerd's runc shim looks for it.
//!
//! Environment (set on containerd, whose shims and their runc inherit it):
//! - `CLOUDABI_OCI_RUNC`: the runc to exec (default: the first `runc` on
//!   `PATH` that is not this program, which may sit on `PATH` as `runc`);
//! - `CLOUDABI_OCI_CLOUDABI_RUN`: the cloudabi-run to bind-mount (default:
//!   `cloudabi-run` in this program's directory).

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::io;
use crate::spec::{self, Outcome};
use crate::{Error, elf};

/// The real runc: `configured` (`CLOUDABI_OCI_RUNC`), or the first `runc` on
/// `path` that is not `own` (this program, canonicalised).
pub fn find_runc(configured: Option<OsString>, path: Option<OsString>, own: &Path) -> Result<PathBuf, Error> {
    if let Some(runc) = configured {
        let runc = PathBuf::from(runc);
        if !runc.is_absolute() {
            return Err(Error::new(format!("CLOUDABI_OCI_RUNC={} is not an absolute path", runc.display())));
        }
        return Ok(runc);
    }
    for dir in std::env::split_paths(&path.unwrap_or_default()) {
        let candidate = dir.join("runc");
        if !candidate.is_file() {
            continue;
        }
        if fs::canonicalize(&candidate).is_ok_and(|c| c == own) {
            continue;
        }
        return Ok(candidate);
    }
    Err(Error::new("no runc on PATH besides this wrapper (install runc or set CLOUDABI_OCI_RUNC)"))
}

/// The host's cloudabi-run for containers: `configured`
/// (`CLOUDABI_OCI_CLOUDABI_RUN`) or `cloudabi-run` beside `own`; it must be
/// a statically linked executable, since a CloudABI image's root holds no
/// dynamic linker or libc.
pub fn find_runner(configured: Option<OsString>, own: &Path) -> Result<String, Error> {
    let path = match configured {
        Some(p) => PathBuf::from(p),
        None => own.parent().unwrap_or(Path::new("/")).join("cloudabi-run"),
    };
    let path = fs::canonicalize(&path).map_err(|e| io(format!("cloudabi-run at {}", path.display()), e))?;
    let data = fs::read(&path).map_err(|e| io(path.display(), e))?;
    let dynamic = elf::has_interpreter(&data).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    if dynamic {
        return Err(Error::new(format!(
            "{} is dynamically linked, and a CloudABI container's root holds no dynamic linker: \
             use a statically linked cloudabi-run (RUSTFLAGS='-C target-feature=+crt-static' \
             cargo build --release -p cloudabi-run --target x86_64-unknown-linux-gnu; see docs/cluster.md)",
            path.display()
        )));
    }
    path.into_os_string()
        .into_string()
        .map_err(|p| Error::new(format!("the path of cloudabi-run {p:?} is not UTF-8")))
}

/// Rewrites `bundle/config.json` for a CloudABI container (see
/// [`spec::rewrite`]), replacing the file atomically.
pub fn prepare(bundle: &Path, runner: impl FnOnce() -> Result<String, Error>) -> Result<Outcome, Error> {
    let file = bundle.join("config.json");
    let text = fs::read(&file).map_err(|e| io(file.display(), e))?;
    let mut spec: Value =
        serde_json::from_slice(&text).map_err(|e| Error::new(format!("{}: {e}", file.display())))?;
    let outcome = spec::rewrite(&mut spec, runner)?;
    if let Outcome::Rewritten { .. } = outcome {
        let tmp = bundle.join(".config.json.cloudabi");
        let bytes = serde_json::to_vec(&spec).map_err(|e| Error::new(format!("{}: {e}", file.display())))?;
        let written = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, &file));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io(file.display(), e));
        }
    }
    Ok(outcome)
}

/// Appends `message` to runc's log in runc's JSON form, where containerd's
/// runc shim reads the last error from to report why `create` failed.
pub fn log_error(log: &Path, message: &str) {
    let line = serde_json::json!({"level": "error", "msg": message});
    if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(log) {
        let _ = writeln!(f, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn executable(path: &Path, data: &[u8]) {
        fs::write(path, data).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn runc_is_found_on_path_skipping_this_wrapper() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        let own = tmp.path().join("cloudabi-oci-runtime");
        executable(&own, b"wrapper");
        symlink(&own, a.join("runc")).unwrap();
        executable(&b.join("runc"), b"real");
        let path = std::env::join_paths([&a, &b]).unwrap();
        let own = fs::canonicalize(&own).unwrap();
        assert_eq!(find_runc(None, Some(path.clone()), &own).unwrap(), b.join("runc"));
        assert_eq!(
            find_runc(Some("/opt/runc".into()), Some(path), &own).unwrap(),
            PathBuf::from("/opt/runc")
        );
        assert!(find_runc(Some("runc".into()), None, &own).unwrap_err().0.contains("absolute"));
        let only_me = std::env::join_paths([&a]).unwrap();
        assert!(find_runc(None, Some(only_me), &own).unwrap_err().0.contains("no runc on PATH"));
    }

    #[test]
    fn cloudabi_run_must_be_static() {
        let tmp = tempfile::tempdir().unwrap();
        let own = tmp.path().join("cloudabi-oci-runtime");
        let e = find_runner(None, &own).unwrap_err().0;
        assert!(e.contains("cloudabi-run at") && e.contains("No such file"), "{e}");
        // This test binary is dynamically linked (it has PT_INTERP).
        let me = std::env::current_exe().unwrap();
        let e = find_runner(Some(me.clone().into()), &own).unwrap_err().0;
        assert!(e.contains("dynamically linked"), "{e}");
        executable(&tmp.path().join("cloudabi-run"), b"#!/bin/sh\n");
        assert!(find_runner(None, &own).unwrap_err().0.contains("not an ELF file"));
    }

    #[test]
    fn prepare_rewrites_the_bundle_in_place_and_only_when_needed() {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("config.json");
        fs::write(&config, r#"{"process":{"args":["/pause"]},"root":{"path":"rootfs"}}"#).unwrap();
        assert_eq!(prepare(tmp.path(), || Ok("/r".into())).unwrap(), Outcome::NotCloudabi);
        assert_eq!(
            fs::read_to_string(&config).unwrap(),
            r#"{"process":{"args":["/pause"]},"root":{"path":"rootfs"}}"#
        );

        fs::write(&config, r#"{"process":{"args":["/cloudabi/program"]},"root":{"path":"rootfs"}}"#).unwrap();
        assert!(matches!(prepare(tmp.path(), || Ok("/r".into())).unwrap(), Outcome::Rewritten { .. }));
        let spec: Value = serde_json::from_str(&fs::read_to_string(&config).unwrap()).unwrap();
        assert_eq!(spec["process"]["args"][0], "/.cloudabi-run");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1, "no temporary file left");

        fs::write(&config, "{not json").unwrap();
        let e = prepare(tmp.path(), || Ok("/r".into())).unwrap_err().0;
        assert!(e.contains("config.json: key must be a string at line 1 column 2"), "{e}");
        let e = prepare(&tmp.path().join("missing"), || Ok("/r".into())).unwrap_err().0;
        assert!(e.contains("missing/config.json: No such file"), "{e}");
    }

    #[test]
    fn errors_reach_runcs_log_as_json() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("log.json");
        fs::write(&log, "{\"level\":\"info\",\"msg\":\"earlier\"}\n").unwrap();
        log_error(&log, "it \"broke\"");
        let text = fs::read_to_string(&log).unwrap();
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!((last["level"].as_str(), last["msg"].as_str()), (Some("error"), Some("it \"broke\"")));
        assert_eq!(text.lines().count(), 2);
    }
}
