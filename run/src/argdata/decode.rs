//! The argdata decoder, for `--dump-argdata` and round-trip tests.

use std::fmt;

use super::{Value, tag};

/// Decoding refuses nesting deeper than this (the encoder's input never
/// exceeds [`crate::config::MAX_DEPTH`]).
const MAX_DEPTH: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    UnknownTag(u8),
    /// The payload of a fixed-size or bounded type has the wrong size.
    BadLength(&'static str),
    BadBool,
    BadString,
    /// A container's subfields do not add up.
    BadSubfield,
    OddMap,
    TooDeep,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownTag(t) => write!(f, "unknown type tag {t}"),
            DecodeError::BadLength(what) => write!(f, "{what} of the wrong length"),
            DecodeError::BadBool => f.write_str("boolean that is neither 0 nor 1"),
            DecodeError::BadString => f.write_str("string that is not NUL-terminated UTF-8"),
            DecodeError::BadSubfield => f.write_str("subfield length beyond the end of its container"),
            DecodeError::OddMap => f.write_str("map with a key but no value"),
            DecodeError::TooDeep => f.write_str("nesting too deep"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes one value that fills all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    decode_at(bytes, 0)
}

fn decode_at(bytes: &[u8], depth: usize) -> Result<Value, DecodeError> {
    let Some((&t, payload)) = bytes.split_first() else { return Ok(Value::Null) };
    match t {
        tag::BINARY => Ok(Value::Binary(payload.to_vec())),
        tag::BOOL => match payload {
            [] => Ok(Value::Bool(false)),
            [1] => Ok(Value::Bool(true)),
            _ => Err(DecodeError::BadBool),
        },
        tag::FD => fixed(payload, "descriptor").map(|b| Value::Fd(u32::from_be_bytes(b))),
        tag::FLOAT => fixed(payload, "float").map(|b| Value::Float(f64::from_bits(u64::from_be_bytes(b)))),
        tag::INT => {
            let i = int(payload, 8, "integer")?;
            i64::try_from(i).map(Value::Int).map_err(|_| DecodeError::BadLength("integer"))
        }
        tag::MAP => map(payload, depth),
        tag::SEQ => subfields(payload, depth).map(Value::Seq),
        tag::STR => string(payload).map(Value::Str),
        tag::TIMESTAMP => int(payload, 16, "timestamp").map(Value::Timestamp),
        other => Err(DecodeError::UnknownTag(other)),
    }
}

fn fixed<const N: usize>(payload: &[u8], what: &'static str) -> Result<[u8; N], DecodeError> {
    payload.try_into().map_err(|_| DecodeError::BadLength(what))
}

/// A big-endian two's complement integer of at most `max` bytes.
fn int(payload: &[u8], max: usize, what: &'static str) -> Result<i128, DecodeError> {
    if payload.len() > max {
        return Err(DecodeError::BadLength(what));
    }
    let negative = payload.first().is_some_and(|b| b & 0x80 != 0);
    let start = if negative { -1 } else { 0 };
    Ok(payload.iter().fold(start, |acc: i128, &b| (acc << 8) | i128::from(b)))
}

fn string(payload: &[u8]) -> Result<String, DecodeError> {
    let Some((&0, text)) = payload.split_last() else { return Err(DecodeError::BadString) };
    String::from_utf8(text.to_vec()).map_err(|_| DecodeError::BadString)
}

fn map(payload: &[u8], depth: usize) -> Result<Value, DecodeError> {
    let mut items = subfields(payload, depth)?.into_iter();
    let mut pairs = Vec::new();
    while let Some(key) = items.next() {
        let value = items.next().ok_or(DecodeError::OddMap)?;
        pairs.push((key, value));
    }
    Ok(Value::Map(pairs))
}

fn subfields(mut payload: &[u8], depth: usize) -> Result<Vec<Value>, DecodeError> {
    if depth >= MAX_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    let mut items = Vec::new();
    while !payload.is_empty() {
        let (len, rest) = length(payload)?;
        if len > rest.len() {
            return Err(DecodeError::BadSubfield);
        }
        let (field, rest) = rest.split_at(len);
        items.push(decode_at(field, depth + 1)?);
        payload = rest;
    }
    Ok(items)
}

/// A subfield length and the bytes after it.
fn length(bytes: &[u8]) -> Result<(usize, &[u8]), DecodeError> {
    let mut len: usize = 0;
    for (i, &b) in bytes.iter().enumerate() {
        len = len.checked_mul(128).ok_or(DecodeError::BadSubfield)? | usize::from(b & 0x7f);
        if b & 0x80 != 0 {
            return Ok((len, &bytes[i + 1..]));
        }
    }
    Err(DecodeError::BadSubfield)
}

#[cfg(test)]
mod tests {
    use super::super::encode;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_the_readme_example() {
        let bytes = [0x07, 0x81, 0x05, 0x82, 0x02, 0x01, 0x83, 0x08, 0x41, 0x00];
        let expected = Value::Seq(vec![Value::Int(0), Value::Bool(true), Value::Str("A".into())]);
        assert_eq!(decode(&bytes), Ok(expected));
    }

    #[test]
    fn integers_are_sign_extended() {
        assert_eq!(decode(&[5, 0xff]), Ok(Value::Int(-1)));
        assert_eq!(decode(&[5, 0x00, 0xff]), Ok(Value::Int(255)));
        assert_eq!(decode(&[5]), Ok(Value::Int(0)));
        assert_eq!(decode(&[9, 0x80]), Ok(Value::Timestamp(-128)));
    }

    #[test]
    fn malformed_input_is_an_error() {
        let cases: [(&[u8], DecodeError); 9] = [
            (&[0], DecodeError::UnknownTag(0)),
            (&[10], DecodeError::UnknownTag(10)),
            (&[2, 2], DecodeError::BadBool),
            (&[3, 0, 0, 1], DecodeError::BadLength("descriptor")),
            (&[4, 0], DecodeError::BadLength("float")),
            (&[5, 1, 2, 3, 4, 5, 6, 7, 8, 9], DecodeError::BadLength("integer")),
            (&[8, b'a'], DecodeError::BadString),
            (&[7, 0x85, 8, 0], DecodeError::BadSubfield),
            (&[6, 0x80], DecodeError::OddMap),
        ];
        for (bytes, error) in cases {
            assert_eq!(decode(bytes), Err(error), "{bytes:?}");
        }
        assert_eq!(decode(&[7, 0x01]), Err(DecodeError::BadSubfield));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut bytes = Vec::new();
        for _ in 0..2000 {
            let mut outer = vec![tag::SEQ];
            outer.extend(encode::encode_length(bytes.len()));
            outer.extend(bytes);
            bytes = outer;
        }
        assert_eq!(decode(&bytes), Err(DecodeError::TooDeep));
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Binary),
            any::<bool>().prop_map(Value::Bool),
            any::<u32>().prop_map(Value::Fd),
            any::<f64>().prop_map(Value::Float),
            any::<i64>().prop_map(Value::Int),
            "[^\u{0}]{0,12}".prop_map(Value::Str),
            any::<i128>().prop_map(Value::Timestamp),
        ];
        leaf.prop_recursive(5, 200, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Seq),
                proptest::collection::vec((inner.clone(), inner), 0..6).prop_map(Value::Map),
            ]
        })
    }

    /// Equality with floats compared by their bits, so NaN equals itself.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::Seq(x), Value::Seq(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
            }
            _ => a == b,
        }
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(v in value()) {
            let decoded = decode(&encode::encode(&v)).unwrap();
            prop_assert!(same(&decoded, &v), "{:?} became {:?}", v, decoded);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(v) = decode(&bytes) {
                // Whatever decodes re-encodes to something that decodes
                // to the same value.
                let again = decode(&encode::encode(&v)).unwrap();
                prop_assert!(same(&again, &v));
            }
        }
    }
}
