//! `--dump-argdata`: what the program would receive, without running it.
//!
//! ```text
//! argdata (10 bytes): 07810582020183084100
//! value: [0, true, "A"]
//! fd 0: !fd 1
//! ```
//!
//! The hex line is the exact encoding; the value line is that encoding
//! decoded again; each `fd` line is the program's descriptor number and
//! the tag that asked for it. With `--dump-limits`, a `limits` line after
//! an `fd` line gives the Capsicum limits a native launch sets on that
//! descriptor (`native::caps::describe`; none when nothing is limited):
//!
//! ```text
//! fd 0: !file /etc (read)
//! limits 0: capsicum 0x... 0x... rights 0x... 0x...
//! ```

use std::fmt;
use std::io::{self, Write};

use crate::argdata;

/// Writes the dump as it goes: its memory does not grow with the size of
/// the argument data beyond the decoded value (issue 13, D6).
pub fn dump<'a>(
    out: &mut dyn Write,
    encoded: &[u8],
    descriptions: impl IntoIterator<Item = (&'a str, Option<String>)>,
) -> io::Result<()> {
    write!(out, "argdata ({} bytes):", encoded.len())?;
    if !encoded.is_empty() {
        out.write_all(b" ")?;
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 8192];
    for chunk in encoded.chunks(hex.len() / 2) {
        for (i, b) in chunk.iter().enumerate() {
            hex[2 * i] = DIGITS[usize::from(b >> 4)];
            hex[2 * i + 1] = DIGITS[usize::from(b & 15)];
        }
        out.write_all(&hex[..2 * chunk.len()])?;
    }
    out.write_all(b"\n")?;
    match argdata::decode(encoded) {
        Ok(value) => {
            out.write_all(b"value: ")?;
            let mut w = IoWriter { out: &mut *out, error: None };
            if argdata::render_to(&value, &mut w).is_err() {
                return Err(w.error.unwrap_or_else(|| io::Error::other("formatting failed")));
            }
            out.write_all(b"\n")?;
        }
        // Cannot happen for what the encoder produced; shown, not hidden.
        Err(e) => writeln!(out, "value: undecodable ({e})")?,
    }
    for (index, (description, limits)) in descriptions.into_iter().enumerate() {
        writeln!(out, "fd {index}: {description}")?;
        if let Some(limits) = limits {
            writeln!(out, "limits {index}: {limits}")?;
        }
    }
    out.flush()
}

/// `fmt::Write` over an `io::Write`, keeping the first I/O error.
struct IoWriter<'a> {
    out: &'a mut dyn Write,
    error: Option<io::Error>,
}

impl fmt::Write for IoWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.out.write_all(s.as_bytes()).map_err(|e| {
            self.error.get_or_insert(e);
            fmt::Error
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumped(encoded: &[u8], fds: &[&str]) -> String {
        let mut out = Vec::new();
        dump(&mut out, encoded, fds.iter().map(|d| (*d, None))).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn shows_bytes_value_and_descriptors() {
        let encoded = [0x07, 0x81, 0x05, 0x82, 0x02, 0x01, 0x85, 0x03, 0, 0, 0, 0];
        let expected = "argdata (12 bytes): 078105820201850300000000\nvalue: [0, true, !fd 0]\nfd 0: !fd 1\n";
        assert_eq!(dumped(&encoded, &["!fd 1"]), expected);
    }

    #[test]
    fn limits_follow_their_descriptor() {
        let mut out = Vec::new();
        let fds = [("!fd 1", None), ("!file x (read)", Some("capsicum 0x1 0x2 rights 0x3 0x4".to_string()))];
        dump(&mut out, &[], fds).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("fd 0: !fd 1\nfd 1: !file x (read)\nlimits 1: capsicum 0x1 0x2 rights 0x3 0x4\n"),
            "{text}"
        );
    }

    #[test]
    fn null_is_empty() {
        assert_eq!(dumped(&[], &[]), "argdata (0 bytes):\nvalue: null\n");
    }

    #[test]
    fn undecodable_bytes_are_shown_as_such() {
        assert_eq!(dumped(&[0x0a], &[]), "argdata (1 bytes): 0a\nvalue: undecodable (unknown type tag 10)\n");
    }
}
