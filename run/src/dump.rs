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
//! the tag that asked for it.

use std::io::{self, Write};

use crate::argdata;

pub fn dump<'a>(
    out: &mut dyn Write,
    encoded: &[u8],
    descriptions: impl IntoIterator<Item = &'a str>,
) -> io::Result<()> {
    let hex: String = encoded.iter().map(|b| format!("{b:02x}")).collect();
    let heading = format!("argdata ({} bytes): {hex}", encoded.len());
    writeln!(out, "{}", heading.trim_end())?;
    match argdata::decode(encoded) {
        Ok(value) => writeln!(out, "value: {}", argdata::render(&value))?,
        // Cannot happen for what the encoder produced; shown, not hidden.
        Err(e) => writeln!(out, "value: undecodable ({e})")?,
    }
    for (index, description) in descriptions.into_iter().enumerate() {
        writeln!(out, "fd {index}: {description}")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumped(encoded: &[u8], fds: &[&str]) -> String {
        let mut out = Vec::new();
        dump(&mut out, encoded, fds.iter().copied()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn shows_bytes_value_and_descriptors() {
        let encoded = [0x07, 0x81, 0x05, 0x82, 0x02, 0x01, 0x85, 0x03, 0, 0, 0, 0];
        let expected = "argdata (12 bytes): 078105820201850300000000\nvalue: [0, true, !fd 0]\nfd 0: !fd 1\n";
        assert_eq!(dumped(&encoded, &["!fd 1"]), expected);
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
