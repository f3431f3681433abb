//! Direct execution: CloudABI programs run from a shell like ordinary
//! commands, with descriptors 0 to 2 and no configuration, as the seed ran
//! `./ls < /etc` on FreeBSD. Through `cloudabi-run --exec`, and through a
//! `binfmt_misc` registration in a private user and mount namespace
//! (Linux 6.7 and later give each user namespace its own `binfmt_misc`),
//! so that the test neither needs nor changes the machine's registrations.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

use common::{BIN, guest};

/// The names in `dir` as the host sees them, sorted, without . and ..
fn host_listing(dir: &Path) -> Vec<u8> {
    let mut names: Vec<Vec<u8>> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().as_bytes().to_vec()).collect();
    names.sort();
    names.iter().flat_map(|n| n.iter().copied().chain([b'\n'])).collect()
}

fn tree() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("listed");
    fs::create_dir(&dir).unwrap();
    for name in ["b", "a", "with space", ".hidden"] {
        fs::write(dir.join(name), name).unwrap();
    }
    fs::create_dir(dir.join("sub")).unwrap();
    fs::write(tmp.path().join("sibling"), "not listed").unwrap();
    (tmp, dir)
}

fn sh(script: &str, vars: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).stdin(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(0), "{what}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn ls_lists_the_directory_on_its_standard_input() {
    let (_tmp, dir) = tree();
    let out =
        sh(r#""$RUN" --exec "$LS" < "$DIR""#, &[("RUN", BIN.as_ref()), ("LS", &guest("ls")), ("DIR", &dir)]);
    ok(&out, "ls < dir");
    assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&host_listing(&dir)));
    println!(
        "--exec ls < dir: {} names, as the host lists them",
        out.stdout.split(|&b| b == b'\n').count() - 1
    );
}

#[test]
fn a_pipeline_of_filters_with_redirections() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let output = tmp.path().join("out");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&input, &data).unwrap();
    let out = sh(
        r#""$RUN" --exec "$CAT" < "$IN" | "$RUN" --exec "$CAT" > "$OUT""#,
        &[("RUN", BIN.as_ref()), ("CAT", &guest("cat")), ("IN", &input), ("OUT", &output)],
    );
    ok(&out, "cat < in | cat > out");
    assert!(fs::read(&output).unwrap() == data, "the output differs from the input");
}

#[test]
fn the_program_gets_no_descriptor_beyond_0_to_2() {
    // Descriptor 3 is open in the shell; ls told to list "dir" finds no
    // such key (the argument data is the argv), lists descriptor 0 and
    // never sees 3. With 0 a regular file, readdir is refused.
    let (_tmp, dir) = tree();
    let file = dir.join("a");
    let out = sh(
        r#"exec 3<"$DIR"; "$RUN" --exec "$LS" dir < "$FILE""#,
        &[("RUN", BIN.as_ref()), ("LS", &guest("ls")), ("DIR", &dir), ("FILE", &file)],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // A regular file has no file_readdir right: refused before the kernel
    // is asked.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ls: file_readdir: ENOTCAPABLE\n");
}

#[test]
fn a_read_only_standard_output_cannot_be_written() {
    // Descriptor 1 opened read-only: the program gets it without fd_write
    // (the rights its open mode allows), so its write fails with
    // ENOTCAPABLE, reported on descriptor 2.
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::write(&input, "data").unwrap();
    let out = sh(
        r#""$RUN" --exec "$CAT" < "$IN" 1< "$IN""#,
        &[("RUN", BIN.as_ref()), ("CAT", &guest("cat")), ("IN", &input)],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "cat: fd_write: ENOTCAPABLE\n");
}

#[test]
fn a_closed_standard_descriptor_reads_as_dev_null() {
    // cloudabi-run's runtime opens /dev/null on a standard descriptor the
    // shell closed (as FreeBSD does for set-id programs), so the program
    // finds an empty input rather than a hole.
    let out = sh(r#""$RUN" --exec "$CAT" <&-"#, &[("RUN", BIN.as_ref()), ("CAT", &guest("cat"))]);
    ok(&out, "cat <&-");
    assert!(out.stdout.is_empty(), "{out:?}");
}

/// Whether this kernel gives a user namespace its own `binfmt_misc`.
fn private_binfmt_misc() -> Result<(), String> {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg("mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && test -e /proc/sys/fs/binfmt_misc/register")
        .output()
        .map_err(|e| format!("unshare(1) cannot run: {e}"))?;
    if probe.status.success() {
        Ok(())
    } else {
        Err(format!(
            "no private binfmt_misc in a user namespace (Linux 6.7+ needed): {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ))
    }
}

#[test]
fn the_binfmt_registration_runs_cloudabi_programs_from_the_shell() {
    if let Err(why) = private_binfmt_misc() {
        // The --exec tests above cover the mode itself.
        println!("SKIPPED binfmt_misc registration test: {why}");
        return;
    }
    let (tmp, dir) = tree();
    // cloudabi-run creates its interpreter link beside itself: use a copy
    // in a scratch directory, and a copy of ls that is executable.
    let bin = tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    fs::copy(BIN, bin.join("cloudabi-run")).unwrap();
    fs::copy(guest("ls"), bin.join("ls")).unwrap();
    fs::copy(guest("cat"), bin.join("cat")).unwrap();
    let script = r#"
        set -e
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
        "$BIN/cloudabi-run" --register-binfmt
        cat /proc/sys/fs/binfmt_misc/cloudabi-x86_64 >&2
        cd "$BIN"
        ./ls < "$DIR" > "$TMP/listing"
        echo hello | ./cat | ./cat > "$TMP/copied"
        "$BIN/cloudabi-run" --unregister-binfmt
        if ./ls < "$DIR" 2>/dev/null; then echo "still registered" >&2; exit 1; fi
    "#;
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env("BIN", &bin)
        .env("DIR", &dir)
        .env("TMP", tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    ok(&out, "binfmt registration");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("wrote :cloudabi-x86_64:M::\\x7f\\x45\\x4c\\x46"), "{said}");
    assert!(said.contains("created ") && said.contains("cloudabi-run-binfmt-P -> cloudabi-run"), "{said}");
    let status = String::from_utf8_lossy(&out.stderr);
    assert!(status.contains("enabled") && status.contains("flags: PF"), "{status}");
    assert_eq!(fs::read(tmp.path().join("listing")).unwrap(), host_listing(&dir));
    assert_eq!(fs::read_to_string(tmp.path().join("copied")).unwrap(), "hello\n");
    println!("binfmt_misc: ./ls < dir and echo | ./cat | ./cat ran through the registration");
}

#[test]
fn registering_without_binfmt_misc_is_refused_clearly() {
    // A private mount namespace with nothing mounted on the binfmt_misc
    // directory (the host may or may not have it mounted).
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(r#"umount /proc/sys/fs/binfmt_misc 2>/dev/null; test -e /proc/sys/fs/binfmt_misc/register && exit 99; "$RUN" --register-binfmt"#)
        .env("RUN", BIN)
        .output()
        .unwrap();
    if out.status.code() == Some(99) {
        println!("SKIPPED: binfmt_misc stays mounted in a private mount namespace here");
        return;
    }
    assert_eq!(out.status.code(), Some(69), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("binfmt_misc is not mounted"), "{out:?}");
}

#[test]
fn the_binfmt_entries_match_real_cloudabi_programs_only() {
    let head = |p: &Path| fs::read(p).unwrap()[..64].to_vec();
    let x86 = cloudabi_run::binfmt::ENTRIES[0];
    let arm = cloudabi_run::binfmt::ENTRIES[1];
    let ls = head(&guest("ls"));
    assert!(cloudabi_run::binfmt::matches(x86, &ls));
    assert!(!cloudabi_run::binfmt::matches(arm, &ls));
    let arm_ls = common::guest_dir("aarch64").join("ls");
    assert!(cloudabi_run::binfmt::matches(arm, &head(&arm_ls)));
    assert!(!cloudabi_run::binfmt::matches(x86, &head(&arm_ls)));
    // cloudabi-run itself, a Linux executable, is not taken.
    assert!(!cloudabi_run::binfmt::matches(x86, &head(Path::new(BIN))));
}
