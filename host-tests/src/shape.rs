//! A neutral description of the ABI (types with their constants and
//! layouts, syscalls with their numbers) that can be built from our
//! generated crate, from the generator's model of a spec, or from the
//! `cloudabi` crate, and compared field by field.

use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Enum,
    Flags,
    Opaque,
    Alias,
    Struct,
    Function,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeShape {
    pub name: String,
    pub kind: Kind,
    pub size: usize,
    pub align: usize,
    /// `(spec name, raw value)`.
    pub values: Vec<(String, u64)>,
    /// `(path, offset, size)`.
    pub fields: Vec<(String, usize, usize)>,
    /// Parameter sizes of a function type.
    pub params: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallShape {
    pub name: String,
    pub number: u32,
}

/// What a comparison looked at and what differed.
#[derive(Debug, Default)]
pub struct Report {
    pub types: usize,
    pub constants: usize,
    pub fields: usize,
    pub syscalls: usize,
    pub mismatches: Vec<String>,
}

/// Compares `ours` with the `oracle`: every type, constant, size,
/// alignment, field offset and size, function parameter and syscall, in
/// both directions (missing on either side is a mismatch).
pub fn compare(
    ours: &[TypeShape],
    oracle: &[TypeShape],
    our_calls: &[SyscallShape],
    oracle_calls: &[SyscallShape],
) -> Report {
    let mut r = Report::default();
    let ours_by: BTreeMap<&str, &TypeShape> = ours.iter().map(|t| (t.name.as_str(), t)).collect();
    let oracle_by: BTreeMap<&str, &TypeShape> = oracle.iter().map(|t| (t.name.as_str(), t)).collect();
    for name in ours_by.keys().filter(|n| !oracle_by.contains_key(*n)) {
        r.mismatches.push(format!("type `{name}` is not in the original ABI"));
    }
    for (name, o) in &oracle_by {
        let Some(t) = ours_by.get(name) else {
            r.mismatches.push(format!("type `{name}` is missing"));
            continue;
        };
        r.types += 1;
        if t.kind != o.kind {
            r.mismatches.push(format!("{name}: kind {:?}, original {:?}", t.kind, o.kind));
        }
        if t.size != o.size {
            r.mismatches.push(format!("{name}: size {}, original {}", t.size, o.size));
        }
        if t.align != o.align {
            r.mismatches.push(format!("{name}: alignment {}, original {}", t.align, o.align));
        }
        let tv: BTreeMap<&str, u64> = t.values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let ov: BTreeMap<&str, u64> = o.values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        for (vn, v) in &ov {
            r.constants += 1;
            match tv.get(vn) {
                Some(x) if x == v => {}
                Some(x) => r.mismatches.push(format!("{name}.{vn} = {x:#x}, original {v:#x}")),
                None => r.mismatches.push(format!("{name}.{vn} is missing")),
            }
        }
        for vn in tv.keys().filter(|k| !ov.contains_key(*k)) {
            r.mismatches.push(format!("{name}.{vn} is not in the original ABI"));
        }
        let tf: BTreeMap<&str, (usize, usize)> =
            t.fields.iter().map(|(n, o, s)| (n.as_str(), (*o, *s))).collect();
        let of: BTreeMap<&str, (usize, usize)> =
            o.fields.iter().map(|(n, o, s)| (n.as_str(), (*o, *s))).collect();
        for (fnm, (off, size)) in &of {
            r.fields += 1;
            match tf.get(fnm) {
                Some((o2, s2)) if o2 == off && s2 == size => {}
                Some((o2, s2)) => r
                    .mismatches
                    .push(format!("{name}.{fnm}: offset {o2} size {s2}, original offset {off} size {size}")),
                None => r.mismatches.push(format!("{name}.{fnm} is missing")),
            }
        }
        for fnm in tf.keys().filter(|k| !of.contains_key(*k)) {
            r.mismatches.push(format!("{name}.{fnm} is not in the original ABI"));
        }
        if t.params != o.params {
            r.mismatches.push(format!("{name}: parameter sizes {:?}, original {:?}", t.params, o.params));
        }
    }
    let oc: BTreeMap<&str, u32> = oracle_calls.iter().map(|s| (s.name.as_str(), s.number)).collect();
    let tc: BTreeMap<&str, u32> = our_calls.iter().map(|s| (s.name.as_str(), s.number)).collect();
    for (n, num) in &oc {
        r.syscalls += 1;
        match tc.get(n) {
            Some(x) if x == num => {}
            Some(x) => r.mismatches.push(format!("syscall {n}: number {x}, original {num}")),
            None => r.mismatches.push(format!("syscall {n} is missing")),
        }
    }
    for n in tc.keys().filter(|k| !oc.contains_key(*k)) {
        r.mismatches.push(format!("syscall {n} is not in the original ABI"));
    }
    r
}

/// The ABI as the generated `abi` crate describes it (sizes and offsets as
/// laid out by the Rust compiler).
pub fn from_abi() -> (Vec<TypeShape>, Vec<SyscallShape>) {
    let types = abi::TYPES
        .iter()
        .map(|t| TypeShape {
            name: t.name.to_string(),
            kind: match t.kind {
                abi::TypeKind::Enum => Kind::Enum,
                abi::TypeKind::Flags => Kind::Flags,
                abi::TypeKind::Opaque => Kind::Opaque,
                abi::TypeKind::Alias => Kind::Alias,
                abi::TypeKind::Struct => Kind::Struct,
                abi::TypeKind::Function => Kind::Function,
            },
            size: t.size,
            align: t.align,
            values: t.values.iter().map(|v| (v.name.to_string(), v.value)).collect(),
            fields: t.fields.iter().map(|f| (f.path.to_string(), f.offset, f.size)).collect(),
            params: t.params.to_vec(),
        })
        .collect();
    let calls =
        abi::SYSCALLS.iter().map(|s| SyscallShape { name: s.name.to_string(), number: s.number }).collect();
    (types, calls)
}

/// The ABI as the generator's model of a spec describes it (layouts
/// computed by the generator, not by a compiler).
pub fn from_model(spec: &abi_gen::Spec) -> (Vec<TypeShape>, Vec<SyscallShape>) {
    use abi_gen::model::*;
    fn fields(spec: &Spec, prefix: &str, base: u64, ms: &[Member], out: &mut Vec<(String, usize, usize)>) {
        for m in ms {
            match &m.kind {
                MemberKind::Plain(ty) => out.push((
                    format!("{prefix}{}", m.name),
                    (base + m.offset) as usize,
                    spec.size_align(ty).0 as usize,
                )),
                MemberKind::Range { .. } => {
                    out.push((format!("{prefix}{}", m.name), (base + m.offset) as usize, 8));
                    out.push((format!("{prefix}{}_len", m.name), (base + m.offset + 8) as usize, 8));
                }
                MemberKind::Variant(v) => {
                    for c in &v.cases {
                        match &c.body {
                            CaseBody::Struct { name, members, .. } => {
                                fields(spec, &format!("{prefix}{name}."), base + m.offset, members, out)
                            }
                            CaseBody::Single(mem) => {
                                fields(spec, prefix, base + m.offset, std::slice::from_ref(mem), out)
                            }
                        }
                    }
                }
            }
        }
    }
    let types = spec
        .types
        .iter()
        .map(|t| {
            let (kind, size, align, values) = match &t.body {
                TypeBody::IntLike(il) => (
                    match il.kind {
                        IntKind::Enum => Kind::Enum,
                        IntKind::Flags => Kind::Flags,
                        IntKind::Opaque => Kind::Opaque,
                        IntKind::Alias => Kind::Alias,
                    },
                    il.int.size() as usize,
                    il.int.size() as usize,
                    il.values.iter().map(|v| (v.name.clone(), v.value)).collect(),
                ),
                TypeBody::Struct(s) => (Kind::Struct, s.size as usize, s.align as usize, vec![]),
                TypeBody::Function(_) => (Kind::Function, 8, 8, vec![]),
            };
            let mut fl = Vec::new();
            let mut params = Vec::new();
            match &t.body {
                TypeBody::Struct(s) => fields(spec, "", 0, &s.members, &mut fl),
                TypeBody::Function(f) => {
                    for p in &f.params {
                        params.push(match &p.ty {
                            ParamTy::Plain(ty) => spec.size_align(ty).0 as usize,
                            ParamTy::Range { .. } => 16,
                        });
                    }
                }
                TypeBody::IntLike(_) => {}
            }
            TypeShape { name: t.name.clone(), kind, size, align, values, fields: fl, params }
        })
        .collect();
    let calls =
        spec.syscalls.iter().map(|s| SyscallShape { name: s.name.clone(), number: s.number }).collect();
    (types, calls)
}
