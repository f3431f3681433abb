//! Console scripts for `vmctl drive`: what to wait for on the serial
//! console and what to type.
//!
//! ```text
//! # comment
//! fail "panic: "             abort as soon as a console line starts with this
//! wait 600 "login: "         wait (at most 600 s) until the output contains it
//! send "root\r"              type it (escapes: \r \n \t \\ \" \xHH)
//! sleep 2                    let 2 s pass (output is still watched)
//! exit 120                   wait (at most 120 s) for QEMU to exit by itself
//! ```
//!
//! `wait` looks at output after the previous match only, so the same text
//! can be waited for twice. All waits are also bounded by the overall
//! timeout of `vmctl drive`.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Wait { secs: u64, text: Vec<u8> },
    Send(Vec<u8>),
    Sleep(u64),
    Exit(u64),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// Line prefixes that end the run as a failure.
    pub fails: Vec<Vec<u8>>,
    /// The steps with their line numbers.
    pub steps: Vec<(usize, Step)>,
}

/// A double-quoted string with escapes, and what follows it.
fn quoted(text: &str) -> Result<(Vec<u8>, &str), String> {
    let rest = text.strip_prefix('"').ok_or("expected a double-quoted string")?;
    let mut out = Vec::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &rest[i + 1..])),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('r') => out.push(b'\r'),
                Some('n') => out.push(b'\n'),
                Some('t') => out.push(b'\t'),
                Some('\\') => out.push(b'\\'),
                Some('"') => out.push(b'"'),
                Some('x') => {
                    let hex: String = (0..2).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                    out.push(u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?);
                }
                other => {
                    return Err(format!("unknown escape \\{}", other.map(String::from).unwrap_or_default()));
                }
            },
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Err("unterminated string".into())
}

fn seconds(word: &str) -> Result<u64, String> {
    word.parse().map_err(|_| format!("expected a number of seconds, not `{word}`"))
}

pub fn parse(text: &str) -> Result<Script, String> {
    let mut script = Script::default();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |e: String| format!("line {number}: {e}");
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim_start();
        let string = |rest: &str| -> Result<Vec<u8>, String> {
            let (s, tail) = quoted(rest).map_err(at)?;
            if !tail.trim().is_empty() {
                return Err(at(format!("unexpected `{}` after the string", tail.trim())));
            }
            if s.is_empty() {
                return Err(at("empty string".into()));
            }
            Ok(s)
        };
        let step = match word {
            "fail" => {
                script.fails.push(string(rest)?);
                continue;
            }
            "wait" => {
                let (secs, tail) =
                    rest.split_once(char::is_whitespace).ok_or_else(|| at("wait SECONDS \"TEXT\"".into()))?;
                Step::Wait { secs: seconds(secs).map_err(at)?, text: string(tail.trim_start())? }
            }
            "send" => Step::Send(string(rest)?),
            "sleep" => Step::Sleep(seconds(rest).map_err(at)?),
            "exit" => Step::Exit(seconds(rest).map_err(at)?),
            _ => return Err(at(format!("unknown command `{word}`"))),
        };
        script.steps.push((number, step));
    }
    Ok(script)
}

/// The text for messages: printable ASCII as is, the rest escaped.
pub fn show(bytes: &[u8]) -> String {
    bytes.iter().flat_map(|&b| std::ascii::escape_default(b)).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        let script = parse(
            "# boot\nfail \"panic: \"\nwait 600 \"login: \"\nsend \"root\\r\"\nsleep 2\n  send \"a\\\"b\\\\\\x41\\t\\n\"\nexit 120\n",
        )
        .unwrap();
        assert_eq!(script.fails, [b"panic: ".to_vec()]);
        assert_eq!(
            script.steps,
            [
                (3, Step::Wait { secs: 600, text: b"login: ".to_vec() }),
                (4, Step::Send(b"root\r".to_vec())),
                (5, Step::Sleep(2)),
                (6, Step::Send(b"a\"b\\A\t\n".to_vec())),
                (7, Step::Exit(120)),
            ]
        );
    }

    #[test]
    fn refuses_mistakes() {
        for bad in [
            "wait \"x\"",
            "wait 10 x",
            "send \"x",
            "send \"\\q\"",
            "send \"\"",
            "send \"a\" b",
            "sleep soon",
            "type \"x\"",
            "send \"\\xZZ\"",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shows_control_characters() {
        assert_eq!(show(b"root\r\n"), "root\\r\\n");
    }
}
