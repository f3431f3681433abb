//! Base64 (RFC 4648, standard alphabet) for `!!binary`.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes base64, ignoring whitespace (YAML block scalars wrap lines);
/// padding is optional, but nothing may follow it.
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut count, mut padding) = (0u32, 0u32, 0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii_whitespace()) {
        if c == '=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return Err("data after `=` padding".into());
        }
        let digit = sextet(c).ok_or_else(|| format!("unexpected character `{c}`"))?;
        acc = (acc << 6) | digit;
        bits += 6;
        count += 1;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if count % 4 == 1 {
        return Err("truncated data".into());
    }
    if padding > 0 && (padding > 2 || (count + padding) % 4 != 0) {
        return Err("wrong amount of `=` padding".into());
    }
    Ok(out)
}

fn sextet(c: char) -> Option<u32> {
    let pos = ALPHABET.iter().position(|&a| char::from(a) == c)?;
    u32::try_from(pos).ok()
}

/// Encodes with padding.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode("Zm9vYmFy").unwrap(), b"foobar");
    }

    #[test]
    fn whitespace_is_ignored_and_padding_optional() {
        assert_eq!(decode("Zm9v\n  YmE\n").unwrap(), b"fooba");
        assert_eq!(decode("Zg").unwrap(), b"f");
    }

    #[test]
    fn malformed_input_is_rejected() {
        assert_eq!(decode("Zm9v*").unwrap_err(), "unexpected character `*`");
        assert_eq!(decode("Z").unwrap_err(), "truncated data");
        assert_eq!(decode("Zg=Zg==").unwrap_err(), "data after `=` padding");
        assert_eq!(decode("Zg===").unwrap_err(), "wrong amount of `=` padding");
        assert_eq!(decode("Zm8==").unwrap_err(), "wrong amount of `=` padding");
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decode(&encode(&data)).unwrap(), data);
        }
    }
}
