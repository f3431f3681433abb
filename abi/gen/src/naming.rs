//! Name conversions shared by the emitters.

use crate::model::{IntLike, Spec, Value};

/// `recv_in` → `RecvIn`.
pub fn camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof",
    "unsized", "virtual", "yield",
];

/// A spec name usable as a Rust field or method name.
pub fn rust_ident(name: &str) -> String {
    if RUST_KEYWORDS.contains(&name) { format!("r#{name}") } else { name.to_string() }
}

/// The Rust constant name of a value: upper case; names that start with a
/// digit (`2big`) get the C prefix in front (`E2BIG`).
pub fn rust_const(il: &IntLike, v: &Value) -> String {
    let up = v.name.to_ascii_uppercase();
    if up.starts_with(|c: char| c.is_ascii_digit()) {
        if il.cprefix.is_empty() { format!("_{up}") } else { format!("{}{up}", il.cprefix) }
    } else {
        up
    }
}

/// The C constant name: `CLOUDABI_<PREFIX><NAME>`.
pub fn c_const(il: &IntLike, v: &Value) -> String {
    format!("CLOUDABI_{}{}", il.cprefix, v.name.to_ascii_uppercase())
}

/// The C type name of a declared type: `cloudabi_<name>_t`.
pub fn c_type(spec: &Spec, idx: usize) -> String {
    format!("cloudabi_{}_t", spec.types[idx].name)
}
