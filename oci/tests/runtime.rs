//! `cloudabi-oci-runtime` between a caller and a fake runc: every command
//! reaches runc with exactly its arguments and runc's exit status comes
//! back; before `create` and `run`, and only for a CloudABI container, the
//! bundle's config.json is rewritten; a failed rewrite stops before runc
//! and says why on standard error and in runc's log.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

/// A runc that records its arguments and the bundle's config.json as it
/// found them, then exits 7.
fn fake_runc(dir: &Path) -> std::path::PathBuf {
    let runc = dir.join("runc");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > {out}/args\n\
         [ -f config.json ] && cp config.json {out}/seen.json\n\
         for a in \"$@\"; do [ -n \"$next\" ] && cp \"$a/config.json\" {out}/seen.json; next=; \
         [ \"$a\" = --bundle ] && next=1; done\nexit 7\n",
        out = dir.display()
    );
    fs::write(&runc, script).unwrap();
    fs::set_permissions(&runc, fs::Permissions::from_mode(0o755)).unwrap();
    runc
}

/// A statically linked "cloudabi-run": an ELF header without PT_INTERP.
fn static_elf(path: &Path) {
    let mut d = vec![0u8; 64];
    d[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
    d[54] = 56;
    fs::write(path, d).unwrap();
}

fn run(dir: &Path, cwd: &Path, runner: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudabi-oci-runtime"))
        .args(args)
        .current_dir(cwd)
        .env("CLOUDABI_OCI_RUNC", dir.join("runc"))
        .env("CLOUDABI_OCI_CLOUDABI_RUN", runner)
        .output()
        .unwrap()
}

fn bundle(dir: &Path, args: Value) -> std::path::PathBuf {
    let b = dir.join("bundle");
    fs::create_dir_all(b.join("rootfs")).unwrap();
    let spec =
        json!({"ociVersion": "1.0.2", "process": {"args": args, "cwd": "/"}, "root": {"path": "rootfs"}});
    fs::write(b.join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    b
}

fn recorded_args(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("args")).unwrap().lines().map(String::from).collect()
}

#[test]
fn create_rewrites_a_cloudabi_container_then_runs_runc_with_the_same_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fake_runc(dir);
    let runner = dir.join("cloudabi-run");
    static_elf(&runner);
    let b = bundle(dir, json!(["/cloudabi/program"]));
    let log = dir.join("log.json");
    let args = [
        "--root",
        "/run/x",
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--pid-file",
        "/p",
        "web",
    ];
    let out = run(dir, dir, &runner, &args);
    assert_eq!(out.status.code(), Some(7), "runc's status: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(recorded_args(dir), args);
    let seen: Value = serde_json::from_slice(&fs::read(dir.join("seen.json")).unwrap()).unwrap();
    assert_eq!(
        seen["process"]["args"],
        json!(["/.cloudabi-run", "--sandbox", "--config", "/cloudabi/config.yaml", "/cloudabi/program"])
    );
    let canonical = fs::canonicalize(&runner).unwrap();
    assert_eq!(seen["mounts"][0]["source"], json!(canonical.to_str().unwrap()));
    assert!(!log.exists(), "nothing logged on success");
}

#[test]
fn run_without_bundle_flag_uses_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fake_runc(dir);
    let runner = dir.join("cloudabi-run");
    static_elf(&runner);
    let b = bundle(dir, json!(["/cloudabi/program"]));
    let out = run(dir, &b, &runner, &["run", "-d", "web"]);
    assert_eq!(out.status.code(), Some(7));
    let seen: Value = serde_json::from_slice(&fs::read(dir.join("seen.json")).unwrap()).unwrap();
    assert_eq!(seen["process"]["args"][0], "/.cloudabi-run");
}

#[test]
fn other_commands_and_other_containers_pass_through() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fake_runc(dir);
    // No cloudabi-run at all: only a CloudABI container needs one.
    let runner = dir.join("missing");
    for args in [&["--root", "/r", "state", "web"][..], &["kill", "web", "9"], &["--version"]] {
        let out = run(dir, dir, &runner, args);
        assert_eq!(out.status.code(), Some(7));
        assert_eq!(recorded_args(dir), args);
    }
    let b = bundle(dir, json!(["/pause"]));
    let before = fs::read(b.join("config.json")).unwrap();
    let out = run(dir, dir, &runner, &["create", "--bundle", b.to_str().unwrap(), "pause"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(fs::read(b.join("config.json")).unwrap(), before, "byte for byte");
}

#[test]
fn a_failed_rewrite_stops_before_runc_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fake_runc(dir);
    let b = bundle(dir, json!(["/cloudabi/program"]));
    let before = fs::read(b.join("config.json")).unwrap();
    let log = dir.join("log.json");
    // /bin/sh is dynamically linked: useless inside a CloudABI container.
    let out = run(
        dir,
        dir,
        Path::new("/bin/sh"),
        &["--log", log.to_str().unwrap(), "create", "--bundle", b.to_str().unwrap(), "web"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cloudabi-oci-runtime: ") && err.contains("dynamically linked"), "{err}");
    assert!(!dir.join("args").exists(), "runc was not run");
    assert_eq!(fs::read(b.join("config.json")).unwrap(), before);
    let logged: Value = serde_json::from_str(fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(logged["level"], "error");
    assert!(logged["msg"].as_str().unwrap().contains("dynamically linked"));

    let extra = bundle(dir, json!(["/cloudabi/program", "--verbose"]));
    let out = run(dir, dir, Path::new("/bin/sh"), &["create", "-b", extra.to_str().unwrap(), "web"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("takes its arguments from its YAML"));
}

#[test]
fn a_missing_runc_is_an_error_not_a_loop() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cloudabi-oci-runtime"))
        .arg("state")
        .env_remove("CLOUDABI_OCI_RUNC")
        .env("PATH", tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no runc on PATH"));
}
