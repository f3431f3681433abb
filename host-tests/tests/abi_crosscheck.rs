//! The generated `abi` crate against the original CloudABI ABI (the
//! `cloudabi` crate 0.1.0): every type, constant, size, alignment, field
//! offset and syscall number.

use std::path::Path;

use host_tests::oracle;
use host_tests::shape::{compare, from_abi, from_model};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn generated_crate_matches_the_original_abi() {
    let (types, calls) = from_abi();
    let report = compare(&types, &oracle::types(), &calls, &oracle::syscalls());
    println!(
        "compared {} types ({} constants, {} struct fields) and {} syscalls: {} mismatches",
        report.types,
        report.constants,
        report.fields,
        report.syscalls,
        report.mismatches.len()
    );
    for m in &report.mismatches {
        println!("mismatch: {m}");
    }
    assert!(report.mismatches.is_empty(), "{} mismatches", report.mismatches.len());
    assert_eq!(report.types, 57, "the ABI has 57 types");
    assert_eq!(report.syscalls, 49, "the ABI has 49 syscalls");
    assert_eq!(abi::SYSCALL_COUNT, 49);
}

#[test]
fn siflags_has_no_flags_like_the_original() {
    // The original crate needs a zero placeholder constant for an empty
    // bitflags type; ours simply defines none.
    assert_eq!(oracle::siflags_placeholder_bits(), 0);
    assert_eq!(abi::Siflags::ALL.bits(), 0);
    assert!(abi::Siflags::from_bits(1).is_none());
}

#[test]
fn generator_model_matches_the_generated_crate() {
    // The generator lays structs out itself; the crate is laid out by rustc.
    // They must agree exactly, or the crate's assertions and the C header
    // would describe different layouts.
    let text = std::fs::read_to_string(root().join("abi/cloudabi.spec")).unwrap();
    let spec = abi_gen::parse::parse_spec("abi/cloudabi.spec", &text).unwrap();
    let (model_types, model_calls) = from_model(&spec);
    let (crate_types, crate_calls) = from_abi();
    assert_eq!(model_types, crate_types);
    assert_eq!(model_calls, crate_calls);
}

/// Every number written in the spec is part of the ABI: changing any one
/// of them must either make the spec invalid or make the cross-check fail.
#[test]
fn changing_any_number_in_the_spec_is_caught() {
    let text = std::fs::read_to_string(root().join("abi/cloudabi.spec")).unwrap();
    let oracle_types = oracle::types();
    let oracle_calls = oracle::syscalls();
    let mut tried = 0;
    let mut rejected = 0;
    for (line_no, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with('#') || code.starts_with("///") {
            continue;
        }
        for (start, token) in numeric_tokens(line) {
            let mutated_token = mutate(token);
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines[line_no] = format!("{}{}{}", &line[..start], mutated_token, &line[start + token.len()..]);
            let mutated = lines.join("\n");
            tried += 1;
            match abi_gen::parse::parse_spec("mutated.spec", &mutated) {
                Err(_) => rejected += 1,
                Ok(spec) => {
                    let (types, calls) = from_model(&spec);
                    let report = compare(&types, &oracle_types, &calls, &oracle_calls);
                    assert!(
                        !report.mismatches.is_empty(),
                        "line {}: changing `{token}` to `{mutated_token}` went unnoticed",
                        line_no + 1
                    );
                }
            }
        }
    }
    println!(
        "mutated {tried} numbers in the spec: {rejected} made it invalid, {} failed the cross-check, 0 went unnoticed",
        tried - rejected
    );
    // 224 constants and 3 array lengths.
    assert!(tried >= 227, "expected every constant and array length of the spec, found {tried} numbers");
}

/// Byte offset and text of every integer literal token in a line.
fn numeric_tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for tok in line.split(' ') {
        if !tok.is_empty()
            && tok.starts_with(|c: char| c.is_ascii_digit())
            && !tok.contains(|c: char| c.is_ascii_lowercase() && c != 'x' && !c.is_ascii_hexdigit())
        {
            // Value names such as `2big` contain letters outside hex.
            if tok.starts_with("0x") || tok.chars().all(|c| c.is_ascii_digit() || c == '_') {
                out.push((offset, tok));
            }
        }
        offset += tok.len() + 1;
    }
    out
}

/// A different literal of the same form: the value plus one (minus one for
/// the largest value of a width).
fn mutate(tok: &str) -> String {
    let clean: String = tok.chars().filter(|&c| c != '_').collect();
    let (v, hex) = match clean.strip_prefix("0x") {
        Some(h) => (u64::from_str_radix(h, 16).unwrap(), true),
        None => (clean.parse::<u64>().unwrap(), false),
    };
    let nv = if matches!(v, 0xff | 0xffff | 0xffff_ffff | u64::MAX) { v - 1 } else { v + 1 };
    if hex { format!("{nv:#x}") } else { nv.to_string() }
}
