//! A one-line, YAML-like rendering of a value for `--dump-argdata`:
//! `{"root": !fd 0, "port": 8080}`.

use std::fmt;

use super::Value;
use crate::scalar::{base64, timestamp};

pub fn render(value: &Value) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = render_to(value, &mut out);
    out
}

/// Renders into `out` as it goes, without building the whole text first
/// (`--dump-argdata` of a huge configuration).
pub fn render_to(value: &Value, out: &mut dyn fmt::Write) -> fmt::Result {
    match value {
        Value::Null => out.write_str("null"),
        Value::Binary(bytes) => write!(out, "!!binary \"{}\"", base64::encode(bytes)),
        Value::Bool(b) => write!(out, "{b}"),
        Value::Fd(index) => write!(out, "!fd {index}"),
        Value::Float(f) => out.write_str(&float(*f)),
        Value::Int(i) => write!(out, "{i}"),
        Value::Map(pairs) => {
            out.write_char('{')?;
            for (i, (key, value)) in pairs.iter().enumerate() {
                out.write_str(if i == 0 { "" } else { ", " })?;
                render_to(key, out)?;
                out.write_str(": ")?;
                render_to(value, out)?;
            }
            out.write_char('}')
        }
        Value::Seq(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                out.write_str(if i == 0 { "" } else { ", " })?;
                render_to(item, out)?;
            }
            out.write_char(']')
        }
        Value::Str(s) => write!(out, "{s:?}"),
        Value::Timestamp(ns) => match timestamp::format(*ns) {
            Some(text) => write!(out, "!!timestamp {text}"),
            // Outside what YAML can write: nanoseconds since the epoch.
            None => write!(out, "!!timestamp {ns}ns"),
        },
    }
}

/// YAML spellings for the values Rust prints differently.
fn float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.into()
    } else {
        format!("{f:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_type() {
        let v = Value::Map(vec![
            (Value::Str("a\"b".into()), Value::Seq(vec![Value::Null, Value::Bool(true), Value::Int(-3)])),
            (Value::Int(1), Value::Binary(b"hi".to_vec())),
            (Value::Fd(2), Value::Float(1.5)),
            (Value::Float(f64::NEG_INFINITY), Value::Float(f64::NAN)),
            (Value::Timestamp(1_500_000_000), Value::Timestamp(i128::MAX)),
        ]);
        let expected = concat!(
            r#"{"a\"b": [null, true, -3], 1: !!binary "aGk=", !fd 2: 1.5, -.inf: .nan, "#,
            r#"!!timestamp 1970-01-01T00:00:01.5Z: !!timestamp 170141183460469231731687303715884105727ns}"#
        );
        assert_eq!(render(&v), expected);
    }
}
