//! Bytes as `printf` format strings for the in-VM runner.
//!
//! The runner turns each encoded word back into bytes with
//! `v=$(printf "$word"X); v=${v%X}` (the `X` keeps trailing newlines).
//! Every byte outside a small safe set becomes a three-digit octal escape,
//! so an encoded word never contains a quote, a space, a backslash that is
//! not an escape, a `%` or a leading `-`, and can be written between single
//! quotes and split on spaces. NUL cannot be encoded: shell words cannot
//! hold it (the argument data is split at its NULs before encoding).

/// Bytes written as themselves.
fn safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b':' | b',' | b'+' | b'=' | b'@')
}

/// The printf-format encoding of `bytes` (which must not contain NUL).
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        assert_ne!(b, 0, "NUL cannot travel in a shell word");
        if safe(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

/// What `printf` makes of an encoded word (the inverse of [`encode`], for
/// tests and for reading generated files back).
pub fn decode(word: &str) -> Result<Vec<u8>, String> {
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let digits = bytes.get(i + 1..i + 4).ok_or_else(|| format!("truncated escape in {word:?}"))?;
            let text = std::str::from_utf8(digits).map_err(|_| format!("bad escape in {word:?}"))?;
            let value = u16::from_str_radix(text, 8).map_err(|_| format!("bad escape in {word:?}"))?;
            out.push(u8::try_from(value).map_err(|_| format!("escape out of range in {word:?}"))?);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The pieces the argument data travels as: split at every NUL, keeping
/// empty pieces and the (possibly empty) last one, so that the kernel,
/// which stores every argument string followed by its NUL, rebuilds exactly
/// `argdata` plus one NUL (the same split as cloudabi-run's native launch).
pub fn argv_pieces(argdata: &[u8]) -> Vec<&[u8]> {
    argdata.split(|&b| b == 0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte_but_nul() {
        let all: Vec<u8> = (1..=255).collect();
        let word = encode(&all);
        assert!(!word.contains(['\'', '"', ' ', '%', '\n', '$', '`', '-']), "{word}");
        assert_eq!(decode(&word).unwrap(), all);
    }

    #[test]
    fn safe_bytes_stay_readable() {
        assert_eq!(encode(b"/tmp/ca64.x/fd_read/scratch"), "/tmp/ca64.x/fd_read/scratch");
        assert_eq!(encode(b"-a b"), "\\055a\\040b");
        assert_eq!(encode(b"\x06\x88\x08tmpdir"), "\\006\\210\\010tmpdir");
    }

    #[test]
    fn pieces_rejoin_to_the_argument_data() {
        for argdata in [&b""[..], b"a", b"\0", b"a\0\0b", b"\x06\x88\x08tmpdir\0\x85\x03\0\0\0\0"] {
            let pieces = argv_pieces(argdata);
            // The kernel's view: every piece followed by its NUL.
            let mut joined = Vec::new();
            for p in &pieces {
                joined.extend_from_slice(p);
                joined.push(0);
            }
            let mut expected = argdata.to_vec();
            expected.push(0);
            assert_eq!(joined, expected);
        }
        assert_eq!(argv_pieces(b"a\0\0b").len(), 3);
        assert_eq!(argv_pieces(b"").len(), 1);
    }
}
