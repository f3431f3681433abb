//! Bad spec input: each mistake is rejected with `file:line:column: message`.

use abi_gen::parse::parse_spec;

/// A minimal valid spec the cases below break in one place.
const BASE: &str = "\
/// Errors.
enum errno: u16 cprefix=E
    0 success
    28 inval
    52 nosys

/// A descriptor.
opaque fd: u32

/// A stat.
struct fdstat
    fd fd
    errno error

/// Close.
syscall fd_close
    in fd fd
";

fn err(text: &str) -> String {
    match parse_spec("t.spec", text) {
        Ok(_) => panic!("spec was accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn base_is_valid() {
    let spec = parse_spec("t.spec", BASE).unwrap();
    assert_eq!(spec.types.len(), 3);
    assert_eq!(spec.syscalls.len(), 1);
}

#[test]
fn unknown_keywords() {
    assert_eq!(err("enom a: u8\n"), "t.spec:1:1: unknown keyword `enom`");
    assert_eq!(
        err(&BASE.replace("    in fd fd", "    inn fd fd")),
        "t.spec:17:5: unknown keyword `inn` (expected `in`, `out` or `noreturn`)"
    );
    assert_eq!(err("enum a: u8 prefix=X\n"), "t.spec:1:12: unknown option `prefix=X`");
    // `undefined=` names an errno value, on enums and flags only.
    let flags = |opt: &str| format!("{BASE}\nflags f: u8 {opt}\n    1 a\n");
    assert!(parse_spec("t.spec", &flags("undefined=nosys")).is_ok());
    assert_eq!(
        err(&flags("undefined=bogus")),
        "t.spec:19:13: `undefined=bogus` does not name an `errno` value"
    );
    assert_eq!(err("alias a: u8 undefined=inval\n"), "t.spec:1:13: unknown option `undefined=inval`");
    assert_eq!(err("function f\n    parm u8 x\n"), "t.spec:2:5: unknown keyword `parm` (expected `param`)");
}

#[test]
fn duplicate_names() {
    assert_eq!(
        err(&format!("{BASE}\nalias fd: u32\n")),
        "t.spec:19:7: duplicate name `fd` (first declared at line 8)"
    );
    assert_eq!(
        err(&BASE.replace("    52 nosys", "    52 nosys\n    53 inval")),
        "t.spec:6:8: duplicate value `inval` (first declared at line 4)"
    );
    assert_eq!(
        err(&BASE.replace("    errno error", "    errno error\n    fd fd")),
        "t.spec:14:8: duplicate member `fd` (first declared at line 12)"
    );
    assert_eq!(
        err(&format!("{BASE}syscall fd_close\n")),
        "t.spec:18:9: duplicate syscall `fd_close` (first declared at line 16)"
    );
    assert_eq!(
        err(&BASE.replace("    52 nosys", "    52 nosys\n    28 again")),
        "t.spec:6:5: value 28 is already used by `inval` at line 4"
    );
}

#[test]
fn undefined_types() {
    assert_eq!(
        err(&BASE.replace("    fd fd\n    errno", "    fds fd\n    errno")),
        "t.spec:12:5: undefined type `fds`"
    );
    assert_eq!(
        err(&BASE.replace("    in fd fd", "    in ptr fdstats buf")),
        "t.spec:17:12: undefined type `fdstats`"
    );
    assert_eq!(err("struct s\n    ptr\n"), "t.spec:2:5: expected `TYPE NAME`");
    assert_eq!(err("struct s\n    ptr x\n"), "t.spec:2:5: expected a type after `ptr`");
}

#[test]
fn bad_integer_literals() {
    assert_eq!(err("enum a: u8\n    0x1g one\n"), "t.spec:2:5: bad integer literal `0x1g`");
    assert_eq!(err("enum a: u8\n    12a one\n"), "t.spec:2:5: bad integer literal `12a`");
    assert_eq!(err("enum a: u8\n    1__ one\n"), "t.spec:2:5: bad integer literal `1__`");
    assert_eq!(err("enum a: u8\n    0x one\n"), "t.spec:2:5: bad integer literal `0x`");
    assert_eq!(err("enum a: u8\n    256 one\n"), "t.spec:2:5: `256` does not fit in u8");
    assert_eq!(err("enum a: u16\n    -1 one\n"), "t.spec:2:5: `-1` does not fit in u16");
    assert_eq!(err("struct s\n    array 0 u8 x\n"), "t.spec:2:11: an array needs at least one element");
}

#[test]
fn bad_indentation() {
    assert_eq!(
        err("enum a: u8\n   1 one\n"),
        "t.spec:2:1: indentation must be a multiple of 4 spaces (found 3)"
    );
    assert_eq!(
        err("enum a: u8\n\t1 one\n"),
        "t.spec:2:1: tab in indentation (indent with four spaces per level)"
    );
    assert_eq!(
        err("enum a: u8\n        1 one\n"),
        "t.spec:2:9: line is indented 2 levels deeper than its parent (at most one)"
    );
    assert_eq!(err("    enum a: u8\n"), "t.spec:1:5: indented line has no parent line");
    assert_eq!(
        err("enum a: u8\n    /// Lost.\n"),
        "t.spec:2:5: documentation must be followed by a line at its own indentation"
    );
}

#[test]
fn bad_structure() {
    assert_eq!(err("enum a u8\n"), "t.spec:1:6: expected `a: INT` (a `:` after the name)");
    assert_eq!(err("enum a: u7\n"), "t.spec:1:9: `u7` is not an integer type");
    assert_eq!(err("enum A: u8\n"), "t.spec:1:6: bad name `A` (names are lowercase letters, digits and `_`)");
    assert_eq!(err("alias a: u8\n    1 one\n"), "t.spec:2:5: an alias has no values");
    assert_eq!(err("flags a: u8\n    0 none\n"), "t.spec:2:5: a flag must have at least one bit set");
    assert_eq!(err("struct s\n    void x\n"), "t.spec:2:5: `void` is only allowed behind `ptr` or `cptr`");
    assert_eq!(
        err("struct s\n    atomic u32 x\n"),
        "t.spec:2:5: `atomic` is only allowed behind `ptr` or `cptr`"
    );
    assert_eq!(err("struct s\n    u8 u16 x\n"), "t.spec:2:8: unexpected `u16` after the type");
    assert_eq!(err("struct s\n    s x\n"), "t.spec:1:8: struct `s` contains itself");
    assert_eq!(
        err(&BASE.replace("    in fd fd", "    out fd fd\n    in fd x")),
        "t.spec:18:5: `in` parameters come before `out` results"
    );
    assert_eq!(
        err(&BASE.replace("    in fd fd", "    in fd fd only inval")),
        "t.spec:17:5: `only` needs an enum or flags parameter"
    );
    assert_eq!(
        err(&BASE.replace("    in fd fd", "    in errno e only again")),
        "t.spec:17:21: `again` is not a value of `errno`"
    );
    assert_eq!(
        err(&BASE.replace("    in fd fd", "    noreturn\n    in fd fd")),
        "t.spec:18:5: `noreturn` must be the last line of a syscall"
    );
}

#[test]
fn bad_variants() {
    let s = "enum t: u8\n    1 a\n    2 b\n\nstruct s\n    t tag\n    variant tag\n        a b: u32 x\n        c: u32 y\n";
    assert_eq!(err(s), "t.spec:9:9: `c` is not a value of enum `t`");
    let s =
        "enum t: u8\n    1 a\n\nstruct s\n    t tag\n    variant tag\n        a: u32 x\n        a: u32 y\n";
    assert_eq!(err(s), "t.spec:8:9: tag `a` already has a case at line 7");
    let s = "struct s\n    u8 tag\n    variant tag\n        a: u32 x\n";
    assert_eq!(err(s), "t.spec:3:13: variant tag `tag` must have an enum type");
    let s = "enum t: u8\n    1 a\n\nstruct s\n    variant tag\n";
    assert_eq!(err(s), "t.spec:5:13: `tag` is not an earlier member of this struct");
}

#[test]
fn cli_reports_errors_with_position_and_exit_code() {
    let dir = std::env::temp_dir().join(format!("abi-gen-cli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("abi")).unwrap();
    std::fs::write(dir.join("abi/cloudabi.spec"), "enum a: u8\n    0x1g one\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_abi-gen"))
        .args(["--root", dir.to_str().unwrap(), "--check"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "abi/cloudabi.spec:2:5: bad integer literal `0x1g`"
    );
}
