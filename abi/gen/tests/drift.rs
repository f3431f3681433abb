//! Generated files must be exactly what the spec produces: a hand edit, or a
//! spec change without `scripts/gen`, fails here.

use std::path::Path;

#[test]
fn generated_files_match_the_spec() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let outputs = abi_gen::generate(root).unwrap_or_else(|e| panic!("{e}"));
    let mut stale = Vec::new();
    for o in &outputs {
        let on_disk = std::fs::read_to_string(root.join(o.path)).unwrap_or_default();
        if on_disk != o.text {
            let line = on_disk
                .lines()
                .zip(o.text.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| on_disk.lines().count().min(o.text.lines().count()) + 1, |i| i + 1);
            stale.push(format!("{}: differs from the spec's output from line {line}", o.path));
        }
    }
    println!("checked {} generated files", outputs.len());
    assert!(stale.is_empty(), "generated files are out of date (run scripts/gen):\n{}", stale.join("\n"));
}

#[test]
fn status_tables_are_checked() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let text = std::fs::read_to_string(root.join("abi/cloudabi.spec")).unwrap();
    let spec = abi_gen::parse::parse_spec("abi/cloudabi.spec", &text).unwrap();
    let b = abi_gen::status::BACKENDS[1];
    let full: String = spec.syscalls.iter().map(|s| format!("{} enosys\n", s.name)).collect();
    assert!(abi_gen::status::parse(b, &full, &spec).is_ok());
    let e =
        abi_gen::status::parse(b, &full.replace("fd_close enosys", "fd_closed enosys"), &spec).unwrap_err();
    assert_eq!(e.to_string(), "run/syscall-status.txt:4:1: unknown syscall `fd_closed`");
    let e = abi_gen::status::parse(b, &full.replace("fd_close enosys", "fd_close maybe"), &spec).unwrap_err();
    assert_eq!(
        e.to_string(),
        "run/syscall-status.txt:4:10: unknown status `maybe` (expected supported, partial, unverified or enosys)"
    );
    let e =
        abi_gen::status::parse(b, &full.replace("fd_close enosys", "fd_close partial"), &spec).unwrap_err();
    assert_eq!(
        e.to_string(),
        "run/syscall-status.txt:4:10: `partial` needs a note saying what is missing for `fd_close`"
    );
    let e = abi_gen::status::parse(b, &full.replace("fd_close enosys\n", ""), &spec).unwrap_err();
    assert_eq!(e.to_string(), "run/syscall-status.txt:48:1: syscall `fd_close` is missing from the table");
    let e = abi_gen::status::parse(b, &format!("{full}fd_close enosys\n"), &spec).unwrap_err();
    assert_eq!(e.to_string(), "run/syscall-status.txt:50:1: `fd_close` is listed twice (first at line 4)");
}
