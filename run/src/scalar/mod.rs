//! Scalar values: the YAML 1.2 core schema (null, bool, int, float, str)
//! for plain scalars and `!!` tags, plus `!!binary` and `!!timestamp`.
//!
//! Implemented here rather than taken from saphyr so that an integer that
//! does not fit in 64 bits is an error (saphyr would make it a float or a
//! string) and so that the rules are exactly the core schema's.

pub mod base64;
pub mod timestamp;

use crate::argdata::Value;

/// The value of an untagged plain scalar, resolved by the core schema.
pub fn plain(text: &str) -> Result<Value, String> {
    if is_null(text) {
        return Ok(Value::Null);
    }
    if let Some(b) = boolean(text) {
        return Ok(Value::Bool(b));
    }
    if let Some(i) = integer(text)? {
        return Ok(Value::Int(i));
    }
    match float(text) {
        Some(f) => Ok(Value::Float(f)),
        None => string(text),
    }
}

/// The value of a scalar tagged `!!name`.
pub fn core(name: &str, text: &str) -> Result<Value, String> {
    let not = |what: &str| format!("`{text}` is not {what}");
    match name {
        "str" => string(text),
        "null" if is_null(text) => Ok(Value::Null),
        "null" => Err(not("null")),
        "bool" => boolean(text).map(Value::Bool).ok_or_else(|| not("a boolean")),
        "int" => integer(text)?.map(Value::Int).ok_or_else(|| not("an integer")),
        "float" => float(text).map(Value::Float).ok_or_else(|| not("a floating-point number")),
        "binary" => base64::decode(text).map(Value::Binary).map_err(|e| format!("invalid `!!binary`: {e}")),
        "timestamp" => {
            timestamp::parse(text).map(Value::Timestamp).map_err(|e| format!("invalid `!!timestamp`: {e}"))
        }
        "seq" | "map" => Err(format!("`!!{name}` does not apply to a scalar")),
        _ => Err(format!("unsupported tag `!!{name}`")),
    }
}

/// A string value; argdata strings are NUL-terminated, so a NUL inside
/// would cut them short for C readers.
pub fn string(text: &str) -> Result<Value, String> {
    if text.contains('\0') {
        return Err("strings cannot contain NUL characters (use `!!binary`)".into());
    }
    Ok(Value::Str(text.to_owned()))
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `Ok(None)` if `text` is not written as an integer (decimal with an
/// optional sign, `0o` octal or `0x` hexadecimal); an error if it is one
/// but does not fit in 64 bits.
fn integer(text: &str) -> Result<Option<i64>, String> {
    let (sign, digits, radix) = if let Some(hex) = text.strip_prefix("0x") {
        ("", hex, 16)
    } else if let Some(oct) = text.strip_prefix("0o") {
        ("", oct, 8)
    } else if let Some(dec) = text.strip_prefix('-') {
        ("-", dec, 10)
    } else {
        ("", text.strip_prefix('+').unwrap_or(text), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Ok(None);
    }
    // The digits are valid, so overflow is the only possible failure.
    i64::from_str_radix(&format!("{sign}{digits}"), radix)
        .map(Some)
        .map_err(|_| format!("integer `{text}` does not fit in 64 bits"))
}

fn float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ if is_float_syntax(text) => text.parse().ok(),
        _ => None,
    }
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_float_syntax(text: &str) -> bool {
    let rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (rest, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, f),
        None => (mantissa, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| !e.is_empty() && digits(e));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        plain(text).unwrap()
    }

    #[test]
    fn core_schema_nulls_and_booleans() {
        for null in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(v(null), Value::Null);
        }
        assert_eq!(v("True"), Value::Bool(true));
        assert_eq!(v("FALSE"), Value::Bool(false));
        // YAML 1.1 spellings are strings in the core schema.
        assert_eq!(v("yes"), Value::Str("yes".into()));
        assert_eq!(v("nULL"), Value::Str("nULL".into()));
    }

    #[test]
    fn core_schema_integers() {
        assert_eq!(v("0"), Value::Int(0));
        assert_eq!(v("-17"), Value::Int(-17));
        assert_eq!(v("+17"), Value::Int(17));
        assert_eq!(v("0x1F"), Value::Int(31));
        assert_eq!(v("0o17"), Value::Int(15));
        assert_eq!(v("9223372036854775807"), Value::Int(i64::MAX));
        assert_eq!(v("-9223372036854775808"), Value::Int(i64::MIN));
        // Not integers: no sign after a prefix, no digits of another base.
        assert_eq!(v("0x-1"), Value::Str("0x-1".into()));
        assert_eq!(v("0o8"), Value::Str("0o8".into()));
        assert_eq!(v("1_000"), Value::Str("1_000".into()));
    }

    #[test]
    fn integers_beyond_64_bits_are_errors() {
        let e = plain("9223372036854775808").unwrap_err();
        assert_eq!(e, "integer `9223372036854775808` does not fit in 64 bits");
        assert!(plain("-9223372036854775809").is_err());
        assert!(plain("0x10000000000000000").is_err());
        assert!(core("int", "0xFFFFFFFFFFFFFFFF").is_err());
    }

    #[test]
    fn core_schema_floats() {
        assert_eq!(v("1.5"), Value::Float(1.5));
        assert_eq!(v("-.5"), Value::Float(-0.5));
        assert_eq!(v("1."), Value::Float(1.0));
        assert_eq!(v("1e3"), Value::Float(1000.0));
        assert_eq!(v("+2.5E-1"), Value::Float(0.25));
        assert_eq!(v(".inf"), Value::Float(f64::INFINITY));
        assert_eq!(v("-.INF"), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(v(".NaN"), Value::Float(f) if f.is_nan()));
        // Rust would parse these; the core schema does not.
        for s in ["inf", "NaN", "infinity", ".", "e3", "1e", "1.5.2", "0x1p3"] {
            assert_eq!(v(s), Value::Str(s.into()), "{s}");
        }
    }

    #[test]
    fn core_tags_force_a_type() {
        assert_eq!(core("str", "12").unwrap(), Value::Str("12".into()));
        assert_eq!(core("int", "12").unwrap(), Value::Int(12));
        assert_eq!(core("float", "12").unwrap(), Value::Float(12.0));
        assert_eq!(core("bool", "true").unwrap(), Value::Bool(true));
        assert_eq!(core("null", "~").unwrap(), Value::Null);
        assert_eq!(core("binary", "aGk=").unwrap(), Value::Binary(b"hi".to_vec()));
        assert_eq!(core("timestamp", "1970-01-01T00:00:01Z").unwrap(), Value::Timestamp(1_000_000_000));
    }

    #[test]
    fn core_tags_reject_what_they_cannot_hold() {
        assert_eq!(core("int", "ten").unwrap_err(), "`ten` is not an integer");
        assert_eq!(core("bool", "yes").unwrap_err(), "`yes` is not a boolean");
        assert_eq!(core("null", "0").unwrap_err(), "`0` is not null");
        assert_eq!(core("float", "x").unwrap_err(), "`x` is not a floating-point number");
        assert_eq!(core("set", "x").unwrap_err(), "unsupported tag `!!set`");
        assert_eq!(core("seq", "x").unwrap_err(), "`!!seq` does not apply to a scalar");
        assert!(core("binary", "a*").unwrap_err().starts_with("invalid `!!binary`"));
    }

    #[test]
    fn strings_cannot_hold_nul() {
        assert!(string("a\0b").is_err());
        assert_eq!(string("ab").unwrap(), Value::Str("ab".into()));
    }
}
