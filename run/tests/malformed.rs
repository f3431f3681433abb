//! Malformed executables, made from a real CloudABI program (`ls`, built by
//! `scripts/build-guest`) by breaking one thing at a time: each is refused
//! with exit status 65 and one message that names the executable and what
//! is wrong with it, never a crash. Also: a configuration naming an fd
//! that is not open, a missing path and an unknown tag, with a valid
//! program (exit 78 with `file:line:column`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{guest, spawn};

fn good_program() -> Vec<u8> {
    fs::read(guest("ls")).unwrap()
}

/// Where the file contents of the last loadable segment end.
fn loaded_end(elf: &[u8]) -> usize {
    let word = |o: usize, n: usize| elf[o..o + n].iter().rev().fold(0usize, |a, &b| a << 8 | usize::from(b));
    let (phoff, phnum) = (word(32, 8), word(56, 2));
    (0..phnum)
        .map(|i| phoff + i * 56)
        .filter(|&h| word(h, 4) == 1)
        .map(|h| word(h + 8, 8) + word(h + 32, 8))
        .max()
        .expect("a PT_LOAD segment")
}

fn run(program: &Path, config: &str) -> Output {
    spawn(program, config).wait_with_output().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn broken_executables_exit_65_naming_the_problem() {
    let good = good_program();
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "not an ELF file"),
        ("text", b"#!/bin/sh\necho hi\n".to_vec(), "not an ELF file"),
        ("header-only", good[..40].to_vec(), "truncated ELF header"),
        ("truncated", good[..loaded_end(&good) - 1].to_vec(), "truncated ELF file"),
    ];
    let mut osabi = good.clone();
    osabi[7] = 9; // FreeBSD
    cases.push(("wrong-osabi", osabi, "not a CloudABI executable (ELF OS/ABI is 9"));
    let mut exec = good.clone();
    exec[16] = 2; // ET_EXEC
    cases.push(("not-pie", exec, "not a position-independent executable"));
    let mut machine = good.clone();
    machine[18] = 183; // EM_AARCH64
    cases.push(("wrong-machine", machine, "built for aarch64"));
    let mut class = good.clone();
    class[4] = 1; // ELFCLASS32
    cases.push(("32-bit", class, "not a 64-bit ELF file"));

    for (name, bytes, message) in &cases {
        let prog = write(dir.path(), name, bytes);
        let out = run(&prog, "null\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{name}: {stderr}");
        let prefix = format!("cloudabi-run: {}: ", prog.display());
        assert!(stderr.starts_with(&prefix) && stderr.contains(message), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    }
    println!("{} malformed executables refused with exit 65", cases.len());
}

#[test]
fn configuration_mistakes_with_a_valid_program_exit_78_at_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let prog = write(dir.path(), "ls", &good_program());
    let cases = [
        ("dir: !fd 97\n", "<stdin>:1:6: descriptor 97 is not open"),
        ("dir: !file {path: /nonexistent/x}\n", "<stdin>:1:6: cannot open `/nonexistent/x`"),
        ("dir: !frobnicate 3\n", "<stdin>:1:6: unknown tag"),
        ("dir: [1, 2\n", "<stdin>:1:6: unclosed `[`: no `]` or `,` where the parser stopped at 2:1"),
    ];
    for (config, message) in cases {
        let out = run(&prog, config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{config:?}: {stderr}");
        assert!(stderr.starts_with(&format!("cloudabi-run: {message}")), "{config:?}: {stderr}");
    }
}
