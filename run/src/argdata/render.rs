//! A one-line, YAML-like rendering of a value for `--dump-argdata`:
//! `{"root": !fd 0, "port": 8080}`.

use super::Value;
use crate::scalar::{base64, timestamp};

pub fn render(value: &Value) -> String {
    let mut out = String::new();
    render_into(value, &mut out);
    out
}

fn render_into(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Binary(bytes) => out.push_str(&format!("!!binary \"{}\"", base64::encode(bytes))),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Fd(index) => out.push_str(&format!("!fd {index}")),
        Value::Float(f) => out.push_str(&float(*f)),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Map(pairs) => {
            out.push('{');
            for (i, (key, value)) in pairs.iter().enumerate() {
                out.push_str(if i == 0 { "" } else { ", " });
                render_into(key, out);
                out.push_str(": ");
                render_into(value, out);
            }
            out.push('}');
        }
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "" } else { ", " });
                render_into(item, out);
            }
            out.push(']');
        }
        Value::Str(s) => out.push_str(&format!("{s:?}")),
        Value::Timestamp(ns) => match timestamp::format(*ns) {
            Some(text) => out.push_str(&format!("!!timestamp {text}")),
            // Outside what YAML can write: nanoseconds since the epoch.
            None => out.push_str(&format!("!!timestamp {ns}ns")),
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
