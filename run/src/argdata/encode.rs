//! The argdata encoder.

use super::{Value, tag};

/// Encodes `value`; null is the empty buffer.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

fn encode_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => {}
        Value::Binary(bytes) => {
            out.push(tag::BINARY);
            out.extend_from_slice(bytes);
        }
        Value::Bool(b) => {
            out.push(tag::BOOL);
            if *b {
                out.push(1);
            }
        }
        Value::Fd(index) => {
            out.push(tag::FD);
            out.extend_from_slice(&index.to_be_bytes());
        }
        Value::Float(f) => {
            out.push(tag::FLOAT);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Int(i) => {
            out.push(tag::INT);
            out.extend_from_slice(&encode_int(i128::from(*i)));
        }
        Value::Map(pairs) => {
            out.push(tag::MAP);
            for (key, value) in pairs {
                subfield(key, out);
                subfield(value, out);
            }
        }
        Value::Seq(items) => {
            out.push(tag::SEQ);
            for item in items {
                subfield(item, out);
            }
        }
        Value::Str(s) => {
            out.push(tag::STR);
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        Value::Timestamp(ns) => {
            out.push(tag::TIMESTAMP);
            out.extend_from_slice(&encode_int(*ns));
        }
    }
}

/// A container element: its length, then its encoding.
fn subfield(value: &Value, out: &mut Vec<u8>) {
    let encoded = encode(value);
    out.extend_from_slice(&encode_length(encoded.len()));
    out.extend_from_slice(&encoded);
}

/// Big-endian two's complement in as few bytes as hold the value; zero is
/// no bytes at all.
pub fn encode_int(value: i128) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    // Drop a leading byte while it only repeats the sign of the next one.
    let mut start = 0;
    while start < bytes.len() - 1 {
        let (lead, next_negative) = (bytes[start], bytes[start + 1] & 0x80 != 0);
        if (lead == 0x00 && !next_negative) || (lead == 0xff && next_negative) {
            start += 1;
        } else {
            break;
        }
    }
    if value == 0 { Vec::new() } else { bytes[start..].to_vec() }
}

/// A subfield length: big-endian base 128, the high bit set on the last
/// byte only.
pub fn encode_length(len: usize) -> Vec<u8> {
    let mut groups = vec![0x80 | (len & 0x7f) as u8];
    let mut rest = len >> 7;
    while rest != 0 {
        groups.push((rest & 0x7f) as u8);
        rest >>= 7;
    }
    groups.reverse();
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn the_readme_example() {
        let seq = Value::Seq(vec![Value::Int(0), Value::Bool(true), Value::Str("A".into())]);
        assert_eq!(hex(&encode(&seq)), "07810582020183084100");
    }

    #[test]
    fn the_readme_integer_table() {
        let table: [(i128, &str); 9] = [
            (0, ""),
            (1, "01"),
            (127, "7f"),
            (-128, "80"),
            (-1, "ff"),
            (255, "00ff"),
            (1000, "03e8"),
            (-1000, "fc18"),
            ((1 << 32) - 1, "00ffffffff"),
        ];
        for (value, bytes) in table {
            assert_eq!(hex(&encode_int(value)), bytes, "{value}");
        }
        assert_eq!(hex(&encode_int(i128::from(i64::MIN))), "8000000000000000");
        assert_eq!(hex(&encode_int(i128::from(i64::MAX))), "7fffffffffffffff");
        assert_eq!(hex(&encode_int(-129)), "ff7f");
        assert_eq!(hex(&encode_int(128)), "0080");
    }

    #[test]
    fn subfield_lengths() {
        assert_eq!(encode_length(0), [0x80]);
        assert_eq!(encode_length(6), [0x86]);
        assert_eq!(encode_length(127), [0xff]);
        assert_eq!(encode_length(128), [0x01, 0x80]);
        assert_eq!(encode_length(16_383), [0x7f, 0xff]);
        assert_eq!(encode_length(16_384), [0x01, 0x00, 0x80]);
    }

    #[test]
    fn every_type() {
        let cases: [(Value, &str); 12] = [
            (Value::Null, ""),
            (Value::Binary(vec![0xde, 0xad]), "01dead"),
            (Value::Bool(false), "02"),
            (Value::Bool(true), "0201"),
            (Value::Fd(2), "0300000002"),
            (Value::Float(1.5), "043ff8000000000000"),
            (Value::Float(-0.0), "048000000000000000"),
            (Value::Int(-1000), "05fc18"),
            (Value::Str(String::new()), "0800"),
            (Value::Str("123".into()), "0831323300"),
            (Value::Timestamp(1_000_000_000), "093b9aca00"),
            (Value::Map(vec![(Value::Str("a".into()), Value::Null)]), "068308610080"),
        ];
        for (value, bytes) in cases {
            assert_eq!(hex(&encode(&value)), bytes, "{value:?}");
        }
    }

    #[test]
    fn long_subfields_take_two_length_bytes() {
        let seq = Value::Seq(vec![Value::Binary(vec![7; 127])]);
        let encoded = encode(&seq);
        assert_eq!(encoded[..4], [tag::SEQ, 0x01, 0x80, tag::BINARY]);
        assert_eq!(encoded.len(), 1 + 2 + 128);
    }
}
