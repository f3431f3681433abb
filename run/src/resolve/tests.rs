//! The resolver against a fake opener that records what it is asked for.

use std::fs::File;
use std::os::fd::OwnedFd;

use proptest::prelude::*;

use super::*;
use crate::config::load;

#[derive(Default)]
struct Fake {
    calls: Vec<String>,
    fail: Option<String>,
}

impl Fake {
    fn open(&mut self, call: String) -> Result<OwnedFd, String> {
        self.calls.push(call);
        match &self.fail {
            Some(message) => Err(message.clone()),
            None => File::open("/dev/null").map(OwnedFd::from).map_err(|e| e.to_string()),
        }
    }
}

impl Opener for Fake {
    fn inherited(&mut self, fd: RawFd) -> Result<OwnedFd, String> {
        self.open(format!("fd {fd}"))
    }
    fn file(&mut self, spec: &FileSpec) -> Result<OwnedFd, String> {
        self.open(format!("file {} {}", spec.path, spec.mode.name()))
    }
    fn socket(&mut self, spec: &SocketSpec) -> Result<OwnedFd, String> {
        self.open(format!("socket {:?} {}", spec.bind, spec.kind.name()))
    }
    fn executable(&mut self) -> Result<OwnedFd, String> {
        self.open("executable".into())
    }
}

fn resolve_with(text: &str, fake: &mut Fake) -> Result<Resolved, String> {
    let tree = load(text).map_err(|e| format!("{}: {}", e.pos, e.message))?;
    resolve(&tree, fake).map_err(|e| format!("{}: {}", e.pos, e.message))
}

fn value(text: &str) -> Value {
    resolve_with(text, &mut Fake::default()).unwrap().value
}

fn error(text: &str) -> String {
    resolve_with(text, &mut Fake::default()).unwrap_err()
}

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

const HEADER: &str = "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n";

#[test]
fn plain_yaml_becomes_argdata() {
    let v = value("name: web\nport: 8080\nratio: 0.5\ndebug: false\nnothing:\nlist: [1, \"2\", ~]\n");
    let expected = Value::Map(vec![
        (s("name"), s("web")),
        (s("port"), Value::Int(8080)),
        (s("ratio"), Value::Float(0.5)),
        (s("debug"), Value::Bool(false)),
        (s("nothing"), Value::Null),
        (s("list"), Value::Seq(vec![Value::Int(1), s("2"), Value::Null])),
    ]);
    assert_eq!(v, expected);
}

#[test]
fn scalar_keys_of_any_type() {
    let v = value("1: a\ntrue: b\n~: c\n");
    assert_eq!(
        v,
        Value::Map(vec![(Value::Int(1), s("a")), (Value::Bool(true), s("b")), (Value::Null, s("c"))])
    );
}

#[test]
fn tags_of_the_core_schema() {
    assert_eq!(value("!!str 12"), s("12"));
    assert_eq!(value("! 12"), s("12"));
    assert_eq!(value("!!binary aGk="), Value::Binary(b"hi".to_vec()));
    assert_eq!(value("!!seq [1]"), Value::Seq(vec![Value::Int(1)]));
    assert_eq!(value("!!map {}"), Value::Map(vec![]));
    assert_eq!(error("!!map [1]"), "1:1: `!!map` does not apply to a sequence");
    assert_eq!(error("a: !!str {}"), "1:4: `!!str` does not apply to a mapping");
    assert_eq!(error("a: !!int x"), "1:4: `x` is not an integer");
}

#[test]
fn descriptors_become_indices_in_order_of_first_appearance() {
    let mut fake = Fake::default();
    let text = format!(
        "{HEADER}- &dir !file {{path: /etc, mode: directory}}\n- !fd stdout\n- *dir\n- !executable\n- !fd 1\n"
    );
    let resolved = resolve_with(&text, &mut fake).unwrap();
    assert_eq!(resolved.value, Value::Seq([0, 1, 0, 2, 1].map(Value::Fd).to_vec()));
    assert_eq!(fake.calls, ["file /etc directory", "fd 1", "executable"]);
    let descriptions: Vec<_> = resolved.fds.entries().iter().map(|d| d.description.as_str()).collect();
    assert_eq!(descriptions, ["!file /etc (directory)", "!fd 1", "!executable"]);
}

#[test]
fn the_same_path_twice_is_two_descriptors() {
    let mut fake = Fake::default();
    let resolved = resolve_with("[!file {path: a}, !file {path: a}]", &mut fake).unwrap();
    assert_eq!(resolved.value, Value::Seq(vec![Value::Fd(0), Value::Fd(1)]));
    assert_eq!(resolved.fds.len(), 2);
}

#[test]
fn all_spellings_of_the_tags_are_accepted() {
    let text = format!("{HEADER}[!fd 0, !<tag:nuxi.nl,2015:cloudabi/fd> 1]");
    assert_eq!(value(&text), Value::Seq(vec![Value::Fd(0), Value::Fd(1)]));
    assert_eq!(
        value("[!fd 0, !<tag:nuxi.nl,2015:cloudabi/fd> 0]"),
        Value::Seq(vec![Value::Fd(0), Value::Fd(0)])
    );
}

#[test]
fn socket_specs() {
    let mut fake = Fake::default();
    let text = "[!socket {bind: \"127.0.0.1:80\"}, !socket {bind: /tmp/s, type: dgram}]";
    resolve_with(text, &mut fake).unwrap();
    assert_eq!(
        fake.calls,
        ["socket Inet { host: \"127.0.0.1\", port: 80 } stream", "socket Unix(\"/tmp/s\") dgram"]
    );
}

#[test]
fn tag_errors_are_located() {
    let cases = [
        ("a: !foo 1", "1:4: unknown tag `!foo` (the CloudABI tags are !fd, !file, !socket and !executable)"),
        (
            "a: !<tag:example.com,2000:x> 1",
            "1:4: unknown tag `!<tag:example.com,2000:x>` (the CloudABI tags are !fd, !file, !socket and !executable)",
        ),
        (
            "%TAG !e! tag:example.com,2000:\n---\n!e!x 1",
            "3:1: unknown tag `!<tag:example.com,2000:x>` (the CloudABI tags are !fd, !file, !socket and !executable)",
        ),
        ("\n  x: !fd foo", "2:6: `!fd` expects a descriptor number, stdin, stdout or stderr, not `foo`"),
        ("!fd [1]", "1:1: `!fd` expects a descriptor number, stdin, stdout or stderr, not a collection"),
        ("[!fd ]", "1:2: `!fd` expects a descriptor number, stdin, stdout or stderr"),
        ("!fd -3", "1:1: descriptor number `-3` is out of range"),
        ("!executable 1", "1:1: `!executable` takes no value"),
        ("!file {mode: read}", "1:1: missing `path` in `!file`"),
        ("!file {paht: x}", "1:8: unknown attribute `paht` in `!file` (expected `path` or `mode`)"),
        ("!file {path: \"\"}", "1:14: `path` in `!file` must not be empty"),
        (
            "!file {path: x, mode: rw}",
            "1:23: unknown mode `rw` in `!file` (expected one of read, write, append, readwrite, directory)",
        ),
        ("!file /etc", "1:1: `!file` expects a mapping like {path: ..., mode: read}"),
        ("!socket {type: stream}", "1:1: missing `bind` in `!socket`"),
        (
            "!socket {bind: foo}",
            "1:16: bad socket address `foo`: expected HOST:PORT, [IPV6]:PORT or an absolute path",
        ),
        (
            "!socket {bind: /s, type: raw}",
            "1:26: unknown socket type `raw` in `!socket` (expected one of stream, dgram, seqpacket)",
        ),
        (
            "!socket {bind: /s, domain: ipx}",
            "1:28: unknown domain `ipx` in `!socket` (expected one of inet, inet6, unix)",
        ),
        (
            "!socket {bind: /s, domain: inet}",
            "1:28: domain `inet` does not match the address `/s` in `!socket`",
        ),
        (
            "!socket {bind: \"127.0.0.1:1\", domain: unix}",
            "1:39: domain `unix` does not match the address `127.0.0.1:1` in `!socket`",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), expected, "{text}");
    }
}

#[test]
fn nothing_is_opened_for_a_tag_with_bad_attributes() {
    let mut fake = Fake::default();
    assert!(resolve_with("[!file {path: a, mode: bad}]", &mut fake).is_err());
    assert!(fake.calls.is_empty());
}

#[test]
fn open_errors_get_the_position_of_their_tag() {
    let mut fake = Fake { fail: Some("cannot open `x`: denied".into()), ..Fake::default() };
    assert_eq!(
        resolve_with("a:\n  b: !file {path: x}", &mut fake).unwrap_err(),
        "2:6: cannot open `x`: denied"
    );
}

#[test]
fn duplicate_keys_are_errors_at_the_second_key() {
    assert_eq!(error("a: 1\nb: 2\na: 3\n"), "3:1: duplicate key `a` (first at line 1, column 1)");
    // Equal values written differently are the same key.
    assert_eq!(error("{1: x, 0x1: y}"), "1:8: duplicate key `0x1` (first at line 1, column 2)");
    assert_eq!(
        error("? [1, 2]\n: x\n? [1, 2]\n: y\n"),
        "3:3: duplicate key [1, 2] (first at line 1, column 3)"
    );
    // Different types are different keys.
    assert_eq!(value("{1: x, \"1\": y}"), Value::Map(vec![(Value::Int(1), s("x")), (s("1"), s("y"))]));
}

#[test]
fn strings_with_nul_are_refused() {
    assert_eq!(error("a: \"x\\0y\""), "1:4: strings cannot contain NUL characters (use `!!binary`)");
}

#[test]
fn big_integers_are_errors() {
    assert_eq!(
        error("[99999999999999999999]"),
        "1:2: integer `99999999999999999999` does not fit in 64 bits"
    );
}

#[test]
fn the_deepest_allowed_document_goes_through_every_step() {
    let depth = crate::config::MAX_DEPTH;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let resolved = resolve_with(&text, &mut Fake::default()).unwrap();
    let encoded = argdata::encode(&resolved.value);
    assert_eq!(argdata::decode(&encoded).unwrap(), resolved.value);
    assert_eq!(argdata::render(&resolved.value), text);
}

/// Text made of the characters that matter to YAML and to our tags.
fn yamlish() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("!fd "),
        Just("!file "),
        Just("!socket "),
        Just("!executable "),
        Just("!!binary "),
        Just("!!timestamp "),
        Just("%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n"),
        Just("path: "),
        Just("mode: "),
        Just("bind: "),
        Just("domain: "),
        Just("type: "),
        Just("&a "),
        Just("*a"),
        Just("\n"),
        Just("  "),
        Just("\t"),
        Just("- "),
        Just(": "),
        Just("? "),
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(", "),
        Just("\""),
        Just("'"),
        Just("|\n"),
        Just("#"),
        Just("1"),
        Just("stdout"),
        Just("x"),
        Just("0x"),
        Just("99999999999999999999"),
        Just("..."),
        Just("---"),
    ];
    proptest::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

/// Resolves `text`: it must succeed or fail with an error on one of its
/// lines (or just past the end, for a truncated document). YAML breaks
/// lines at LF, CR LF and CR.
fn handled(text: &str) -> Result<(), TestCaseError> {
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
    if let Err(message) = resolve_with(text, &mut Fake::default()) {
        let line: usize = message.split(':').next().unwrap_or_default().parse().unwrap_or(0);
        prop_assert!((1..=lines + 1).contains(&line), "{}", message);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics_and_errors_point_into_it(text in yamlish()) {
        handled(&text)?;
    }

    #[test]
    fn any_characters_are_handled(text in "(\\PC|[\t\r\n\u{0}\u{feff}\u{85}\u{2028}]){0,40}") {
        handled(&text)?;
    }

    #[test]
    fn every_prefix_of_a_valid_config_is_handled(cut in 0usize..200) {
        let text = format!(
            "{HEADER}root: !file {{path: ./www, mode: directory}}\nlog: !file {{path: ./access.log, mode: append}}\n\
             socket: !socket {{bind: \"127.0.0.1:8080\"}}\nlist: [1, 2.5, \"s\", !!binary aGk=]\n"
        );
        let end = text.char_indices().map(|(i, _)| i).chain([text.len()]).nth(cut).unwrap_or(text.len());
        handled(&text[..end])?;
    }
}
