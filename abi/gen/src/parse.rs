//! Reads the line tree of a spec into the checked [`Spec`] model.
//!
//! Pass 1 collects every type and syscall name, so a type may be used before
//! it is declared. Pass 2 parses bodies: integer-like types first, because
//! variant tags and `only` lists name their values, then structs, functions
//! and syscalls. [`crate::layout`] finally computes the LP64 layouts.

use std::collections::HashMap;

use crate::error::{Pos, SpecError};
use crate::model::*;
use crate::tree::{Node, Token};

const TYPE_KEYWORDS: [&str; 6] = ["enum", "flags", "opaque", "alias", "struct", "function"];

/// Parses and checks a spec file.
pub fn parse_spec(file: &str, text: &str) -> Result<Spec, SpecError> {
    let nodes = crate::tree::parse(file, text)?;
    let mut p = Parser { file, type_index: HashMap::new(), types: Vec::new(), keywords: Vec::new() };
    let mut type_nodes: Vec<&Node> = Vec::new();
    let mut syscall_nodes: Vec<&Node> = Vec::new();
    let mut syscall_names: HashMap<String, Pos> = HashMap::new();

    for node in &nodes {
        let kw = &node.tokens[0];
        if kw.text == "syscall" {
            let name = p.decl_name(node, false)?;
            if let Some(first) = syscall_names.get(&name.text) {
                return Err(p.err(
                    name.pos,
                    format!("duplicate syscall `{}` (first declared at line {})", name.text, first.line),
                ));
            }
            syscall_names.insert(name.text.clone(), name.pos);
            syscall_nodes.push(node);
        } else if TYPE_KEYWORDS.contains(&kw.text.as_str()) {
            let needs_int = !matches!(kw.text.as_str(), "struct" | "function");
            let name = p.decl_name(node, needs_int)?;
            if let Some(&first) = p.type_index.get(&name.text) {
                return Err(p.err(
                    name.pos,
                    format!(
                        "duplicate name `{}` (first declared at line {})",
                        name.text, p.types[first].pos.line
                    ),
                ));
            }
            p.type_index.insert(name.text.clone(), p.types.len());
            p.keywords.push(kw.text.clone());
            p.types.push(TypeDef {
                name: name.text.clone(),
                doc: node.doc.clone(),
                pos: name.pos,
                // Replaced in pass 2.
                body: TypeBody::Function(Function { params: Vec::new() }),
            });
            type_nodes.push(node);
        } else {
            return Err(p.err(kw.pos, format!("unknown keyword `{}`", kw.text)));
        }
    }

    for (idx, node) in type_nodes.iter().enumerate() {
        if p.is_int_like(idx) {
            p.types[idx].body = p.int_like(node)?;
        }
    }
    for (idx, node) in type_nodes.iter().enumerate() {
        match p.keywords[idx].as_str() {
            "struct" => {
                let members = p.members(&node.children, true)?;
                p.types[idx].body = TypeBody::Struct(Struct { members, size: 0, align: 0 });
            }
            "function" => p.types[idx].body = TypeBody::Function(p.function(node)?),
            _ => {}
        }
    }
    let mut syscalls = Vec::new();
    for node in &syscall_nodes {
        syscalls.push(p.syscall(node)?);
    }
    syscalls.sort_by(|a, b| a.name.cmp(&b.name));
    for (n, s) in syscalls.iter_mut().enumerate() {
        s.number = n as u32;
    }
    let mut spec = Spec { types: p.types, syscalls };
    crate::layout::lay_out(file, &mut spec)?;
    Ok(spec)
}

struct Parser<'a> {
    file: &'a str,
    type_index: HashMap<String, usize>,
    types: Vec<TypeDef>,
    /// The keyword each type was declared with, by type index.
    keywords: Vec<String>,
}

impl Parser<'_> {
    fn err(&self, pos: Pos, msg: impl Into<String>) -> SpecError {
        SpecError::new(self.file, pos, msg)
    }

    fn is_int_like(&self, idx: usize) -> bool {
        matches!(self.keywords[idx].as_str(), "enum" | "flags" | "opaque" | "alias")
    }

    /// Reads `KEYWORD NAME` or `KEYWORD NAME: INT [options]`.
    fn decl_name(&self, node: &Node, needs_int: bool) -> Result<Token, SpecError> {
        let kw = &node.tokens[0];
        let Some(name_tok) = node.tokens.get(1) else {
            return Err(self.err(kw.pos, format!("expected a name after `{}`", kw.text)));
        };
        let mut name = name_tok.clone();
        if needs_int {
            let Some(stripped) = name.text.strip_suffix(':') else {
                return Err(
                    self.err(name.pos, format!("expected `{}: INT` (a `:` after the name)", name.text))
                );
            };
            name.text = stripped.to_string();
        } else if let Some(extra) = node.tokens.get(2) {
            return Err(self.err(extra.pos, format!("unexpected `{}`", extra.text)));
        }
        self.check_ident(&name, false)?;
        Ok(name)
    }

    fn check_ident(&self, tok: &Token, value_name: bool) -> Result<(), SpecError> {
        let mut chars = tok.text.chars();
        let first_ok = match chars.next() {
            Some(c) if c.is_ascii_lowercase() => true,
            Some(c) if value_name && c.is_ascii_digit() => true,
            _ => false,
        };
        if !first_ok || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(self.err(
                tok.pos,
                format!("bad name `{}` (names are lowercase letters, digits and `_`)", tok.text),
            ));
        }
        Ok(())
    }

    fn int_like(&self, node: &Node) -> Result<TypeBody, SpecError> {
        let kind = match node.tokens[0].text.as_str() {
            "enum" => IntKind::Enum,
            "flags" => IntKind::Flags,
            "opaque" => IntKind::Opaque,
            _ => IntKind::Alias,
        };
        let name = node.tokens[1].text.trim_end_matches(':');
        let Some(int_tok) = node.tokens.get(2) else {
            return Err(self.err(node.tokens[1].pos, "expected an integer type after `:`"));
        };
        let Some(int) = Int::parse(&int_tok.text) else {
            return Err(self.err(int_tok.pos, format!("`{}` is not an integer type", int_tok.text)));
        };
        let mut cprefix = format!("{name}_");
        let mut undefined = "inval".to_string();
        for opt in &node.tokens[3..] {
            match opt.text.split_once('=') {
                Some(("cprefix", v)) if kind != IntKind::Alias => cprefix = v.to_string(),
                Some(("undefined", v)) if matches!(kind, IntKind::Enum | IntKind::Flags) => {
                    self.undefined_errno(v, opt.pos)?;
                    undefined = v.to_string();
                }
                _ => return Err(self.err(opt.pos, format!("unknown option `{}`", opt.text))),
            }
        }
        if kind == IntKind::Alias
            && let Some(child) = node.children.first()
        {
            return Err(self.err(child.pos, "an alias has no values"));
        }
        let mut values: Vec<Value> = Vec::new();
        for child in &node.children {
            if child.tokens.len() != 2 {
                return Err(self.err(child.pos, "expected `VALUE NAME`"));
            }
            let value = self.integer(&child.tokens[0], int)?;
            let vname = &child.tokens[1];
            self.check_ident(vname, true)?;
            if let Some(first) = values.iter().find(|v| v.name == vname.text) {
                return Err(self.err(
                    vname.pos,
                    format!("duplicate value `{}` (first declared at line {})", vname.text, first.pos.line),
                ));
            }
            if kind == IntKind::Enum
                && let Some(first) = values.iter().find(|v| v.value == value)
            {
                return Err(self.err(
                    child.tokens[0].pos,
                    format!(
                        "value {} is already used by `{}` at line {}",
                        child.tokens[0].text, first.name, first.pos.line
                    ),
                ));
            }
            if kind == IntKind::Flags && value == 0 {
                return Err(self.err(child.tokens[0].pos, "a flag must have at least one bit set"));
            }
            values.push(Value { name: vname.text.clone(), value, doc: child.doc.clone(), pos: vname.pos });
        }
        Ok(TypeBody::IntLike(IntLike { kind, int, cprefix: cprefix.to_ascii_uppercase(), values, undefined }))
    }

    /// Checks that `name` is a value of the `errno` enum (declared anywhere
    /// in the file: every name is known after pass 1).
    fn undefined_errno(&self, name: &str, pos: Pos) -> Result<(), SpecError> {
        let errno = self.type_index.get("errno").copied();
        let known = errno.is_some_and(|i| {
            // `errno` itself is parsed in this pass; look at its node's
            // values through the already parsed body if it came first, or
            // accept the name and let the emitted code decide otherwise.
            match &self.types[i].body {
                TypeBody::IntLike(il) => il.values.iter().any(|v| v.name == name),
                _ => true,
            }
        });
        if !known || name.is_empty() {
            return Err(self.err(pos, format!("`undefined={name}` does not name an `errno` value")));
        }
        Ok(())
    }

    /// Parses an integer literal and checks it fits `int`; returns raw bits.
    fn integer(&self, tok: &Token, int: Int) -> Result<u64, SpecError> {
        let bad = || self.err(tok.pos, format!("bad integer literal `{}`", tok.text));
        let (neg, body) = match tok.text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, tok.text.as_str()),
        };
        if body.is_empty() || body.starts_with('_') || body.ends_with('_') {
            return Err(bad());
        }
        let digits: String = body.chars().filter(|&c| c != '_').collect();
        let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
            if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad());
            }
            u64::from_str_radix(hex, 16).map_err(|_| {
                self.err(tok.pos, format!("`{}` does not fit in {}", tok.text, int.spec_name()))
            })?
        } else {
            if !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            digits.parse::<u64>().map_err(|_| {
                self.err(tok.pos, format!("`{}` does not fit in {}", tok.text, int.spec_name()))
            })?
        };
        let out_of_range =
            || self.err(tok.pos, format!("`{}` does not fit in {}", tok.text, int.spec_name()));
        if neg {
            if !int.signed() || magnitude > 1u64 << (int.size() * 8 - 1) {
                return Err(out_of_range());
            }
            Ok(magnitude.wrapping_neg() & int.mask())
        } else {
            let max = if int.signed() { int.mask() >> 1 } else { int.mask() };
            if magnitude > max {
                return Err(out_of_range());
            }
            Ok(magnitude)
        }
    }

    /// Parses a complete type expression from `toks`.
    fn ty(&self, toks: &[Token], at: Pos) -> Result<Ty, SpecError> {
        self.full_ty(toks, at, false)
    }

    /// Parses the element type of a `range`/`crange` (it sits behind the
    /// range's pointer, so `void` is allowed).
    fn range_elem(&self, toks: &[Token], at: Pos) -> Result<Ty, SpecError> {
        self.full_ty(toks, at, true)
    }

    fn full_ty(&self, toks: &[Token], at: Pos, behind_ptr: bool) -> Result<Ty, SpecError> {
        let (ty, used) = self.ty_prefix(toks, at, behind_ptr)?;
        if let Some(extra) = toks.get(used) {
            return Err(self.err(extra.pos, format!("unexpected `{}` after the type", extra.text)));
        }
        Ok(ty)
    }

    /// Parses one type expression from the front of `toks`; returns it and
    /// the number of tokens used.
    fn ty_prefix(&self, toks: &[Token], at: Pos, behind_ptr: bool) -> Result<(Ty, usize), SpecError> {
        let Some(first) = toks.first() else {
            return Err(self.err(at, "expected a type"));
        };
        match first.text.as_str() {
            "ptr" | "cptr" => {
                let (to, n) = self.ty_after(&toks[1..], first, true)?;
                Ok((Ty::Ptr { konst: first.text == "cptr", to: Box::new(to) }, n + 1))
            }
            "atomic" => {
                if !behind_ptr {
                    return Err(self.err(first.pos, "`atomic` is only allowed behind `ptr` or `cptr`"));
                }
                let (to, n) = self.ty_after(&toks[1..], first, false)?;
                Ok((Ty::Atomic(Box::new(to)), n + 1))
            }
            "array" => {
                let Some(count_tok) = toks.get(1) else {
                    return Err(self.err(first.pos, "expected `array N TYPE`"));
                };
                let count = self.integer(count_tok, Int::U32)?;
                if count == 0 {
                    return Err(self.err(count_tok.pos, "an array needs at least one element"));
                }
                let (of, n) = self.ty_after(&toks[2..], count_tok, false)?;
                Ok((Ty::Array(count, Box::new(of)), n + 2))
            }
            "void" if behind_ptr => Ok((Ty::Void, 1)),
            "void" => Err(self.err(first.pos, "`void` is only allowed behind `ptr` or `cptr`")),
            "range" | "crange" | "variant" | "only" => {
                Err(self.err(first.pos, format!("`{}` is not allowed here", first.text)))
            }
            text => {
                if let Some(int) = Int::parse(text) {
                    return Ok((Ty::Int(int), 1));
                }
                let Some(&idx) = self.type_index.get(text) else {
                    return Err(self.err(first.pos, format!("undefined type `{text}`")));
                };
                if !behind_ptr && self.keywords[idx] == "function" {
                    return Err(
                        self.err(first.pos, format!("function type `{text}` is only allowed behind `ptr`"))
                    );
                }
                Ok((Ty::Named(idx), 1))
            }
        }
    }

    fn ty_after(&self, toks: &[Token], before: &Token, behind_ptr: bool) -> Result<(Ty, usize), SpecError> {
        if toks.is_empty() {
            return Err(self.err(before.pos, format!("expected a type after `{}`", before.text)));
        }
        self.ty_prefix(toks, before.pos, behind_ptr)
    }

    /// Splits `TYPE... NAME` and checks the name.
    fn typed_name<'t>(&self, toks: &'t [Token], at: Pos) -> Result<(&'t [Token], &'t Token), SpecError> {
        match toks.split_last() {
            Some((name, ty)) if !ty.is_empty() => {
                self.check_ident(name, false)?;
                Ok((ty, name))
            }
            _ => Err(self.err(at, "expected `TYPE NAME`")),
        }
    }

    fn members(&self, nodes: &[Node], allow_variant: bool) -> Result<Vec<Member>, SpecError> {
        let mut members: Vec<Member> = Vec::new();
        let mut names: HashMap<String, Pos> = HashMap::new();
        let mut claim = |this: &Self, name: &str, pos: Pos| -> Result<(), SpecError> {
            if let Some(first) = names.get(name) {
                return Err(this
                    .err(pos, format!("duplicate member `{name}` (first declared at line {})", first.line)));
            }
            names.insert(name.to_string(), pos);
            Ok(())
        };
        for node in nodes {
            let first = &node.tokens[0];
            let kind = match first.text.as_str() {
                "range" | "crange" => {
                    let (ty, name) = self.typed_name(&node.tokens[1..], first.pos)?;
                    claim(self, &name.text, name.pos)?;
                    claim(self, &format!("{}_len", name.text), name.pos)?;
                    let elem = self.range_elem(ty, first.pos)?;
                    self.no_children(node)?;
                    let kind = MemberKind::Range { konst: first.text == "crange", elem };
                    members.push(Member {
                        name: name.text.clone(),
                        doc: node.doc.clone(),
                        pos: name.pos,
                        kind,
                        offset: 0,
                    });
                    continue;
                }
                "variant" if allow_variant => {
                    let variant = self.variant(node, &members)?;
                    for case in &variant.cases {
                        let (n, p) = match &case.body {
                            CaseBody::Struct { name, .. } => (name.clone(), case.pos),
                            CaseBody::Single(m) => (m.name.clone(), m.pos),
                        };
                        claim(self, &n, p)?;
                    }
                    MemberKind::Variant(variant)
                }
                "variant" => return Err(self.err(first.pos, "a variant cannot be nested in a variant case")),
                _ => {
                    let (ty, name) = self.typed_name(&node.tokens, first.pos)?;
                    claim(self, &name.text, name.pos)?;
                    self.no_children(node)?;
                    let kind = MemberKind::Plain(self.ty(ty, first.pos)?);
                    members.push(Member {
                        name: name.text.clone(),
                        doc: node.doc.clone(),
                        pos: name.pos,
                        kind,
                        offset: 0,
                    });
                    continue;
                }
            };
            members.push(Member {
                name: String::new(),
                doc: node.doc.clone(),
                pos: first.pos,
                kind,
                offset: 0,
            });
        }
        Ok(members)
    }

    fn no_children(&self, node: &Node) -> Result<(), SpecError> {
        match node.children.first() {
            Some(child) => Err(self.err(child.pos, "this line cannot have indented lines below it")),
            None => Ok(()),
        }
    }

    fn variant(&self, node: &Node, earlier: &[Member]) -> Result<Variant, SpecError> {
        let kw = &node.tokens[0];
        let Some(tag_tok) = node.tokens.get(1) else {
            return Err(self.err(kw.pos, "expected `variant TAG_MEMBER`"));
        };
        if let Some(extra) = node.tokens.get(2) {
            return Err(self.err(extra.pos, format!("unexpected `{}`", extra.text)));
        }
        let Some(tag_member) = earlier.iter().position(|m| m.name == tag_tok.text) else {
            return Err(
                self.err(tag_tok.pos, format!("`{}` is not an earlier member of this struct", tag_tok.text))
            );
        };
        let tag_type = match &earlier[tag_member].kind {
            MemberKind::Plain(Ty::Named(t)) if self.keywords[*t] == "enum" => *t,
            _ => {
                return Err(
                    self.err(tag_tok.pos, format!("variant tag `{}` must have an enum type", tag_tok.text))
                );
            }
        };
        let TypeBody::IntLike(tag_enum) = &self.types[tag_type].body else {
            unreachable!("enum bodies are parsed before structs");
        };
        let mut seen: HashMap<usize, Pos> = HashMap::new();
        let mut cases = Vec::new();
        if node.children.is_empty() {
            return Err(self.err(kw.pos, "a variant needs at least one case"));
        }
        for child in &node.children {
            let Some(colon) = child.tokens.iter().position(|t| t.text.ends_with(':')) else {
                return Err(
                    self.err(child.pos, "expected `TAG [TAG...]: struct NAME` or `TAG [TAG...]: TYPE NAME`")
                );
            };
            let mut tags = Vec::new();
            for (i, t) in child.tokens[..=colon].iter().enumerate() {
                let text = if i == colon { t.text.trim_end_matches(':') } else { t.text.as_str() };
                let Some(v) = tag_enum.values.iter().position(|v| v.name == text) else {
                    return Err(self.err(
                        t.pos,
                        format!("`{text}` is not a value of enum `{}`", self.types[tag_type].name),
                    ));
                };
                if let Some(first) = seen.get(&v) {
                    return Err(
                        self.err(t.pos, format!("tag `{text}` already has a case at line {}", first.line))
                    );
                }
                seen.insert(v, t.pos);
                tags.push(v);
            }
            let rest = &child.tokens[colon + 1..];
            let body = if rest.first().is_some_and(|t| t.text == "struct") {
                let Some(name) = rest.get(1) else {
                    return Err(self.err(rest[0].pos, "expected `struct NAME`"));
                };
                self.check_ident(name, false)?;
                if let Some(extra) = rest.get(2) {
                    return Err(self.err(extra.pos, format!("unexpected `{}`", extra.text)));
                }
                if child.children.is_empty() {
                    return Err(self.err(name.pos, "a case struct needs at least one member"));
                }
                let members = self.members(&child.children, false)?;
                CaseBody::Struct { name: name.text.clone(), members, size: 0, align: 0 }
            } else {
                let after = child.tokens[colon].pos;
                let (ty, name) = self.typed_name(rest, after)?;
                self.no_children(child)?;
                let kind = MemberKind::Plain(self.ty(ty, after)?);
                CaseBody::Single(Member {
                    name: name.text.clone(),
                    doc: child.doc.clone(),
                    pos: name.pos,
                    kind,
                    offset: 0,
                })
            };
            cases.push(Case { tags, doc: child.doc.clone(), pos: child.pos, body });
        }
        Ok(Variant { tag_member, tag_type, cases, size: 0, align: 0 })
    }

    fn function(&self, node: &Node) -> Result<Function, SpecError> {
        let mut params: Vec<Param> = Vec::new();
        for child in &node.children {
            let kw = &child.tokens[0];
            if kw.text != "param" {
                return Err(self.err(kw.pos, format!("unknown keyword `{}` (expected `param`)", kw.text)));
            }
            let p = self.param(child, false)?;
            if let Some(first) = params.iter().find(|q| q.name == p.name) {
                return Err(self.err(
                    p.pos,
                    format!("duplicate parameter `{}` (first declared at line {})", p.name, first.pos.line),
                ));
            }
            params.push(p);
        }
        Ok(Function { params })
    }

    /// Parses `in|out|param [range|crange] TYPE... NAME [only VALUE...]`.
    fn param(&self, node: &Node, allow_only: bool) -> Result<Param, SpecError> {
        self.no_children(node)?;
        let kw = &node.tokens[0];
        let mut toks = &node.tokens[1..];
        let mut only_toks: Option<&[Token]> = None;
        if let Some(at) = toks.iter().position(|t| t.text == "only") {
            if !allow_only {
                return Err(self.err(toks[at].pos, "`only` is allowed on syscall `in` parameters"));
            }
            only_toks = Some(&toks[at + 1..]);
            toks = &toks[..at];
        }
        let (ty, name) = self.typed_name(toks, kw.pos)?;
        let pty = match ty[0].text.as_str() {
            "range" | "crange" if kw.text != "out" => {
                ParamTy::Range { konst: ty[0].text == "crange", elem: self.range_elem(&ty[1..], ty[0].pos)? }
            }
            "range" | "crange" => return Err(self.err(ty[0].pos, "a result cannot be a range")),
            _ => ParamTy::Plain(self.ty(ty, kw.pos)?),
        };
        let only = match only_toks {
            None => None,
            Some(vals) => Some(self.only_values(&pty, vals, node)?),
        };
        Ok(Param { name: name.text.clone(), doc: node.doc.clone(), pos: name.pos, ty: pty, only })
    }

    fn only_values(&self, ty: &ParamTy, vals: &[Token], node: &Node) -> Result<Vec<u64>, SpecError> {
        let ParamTy::Plain(Ty::Named(t)) = ty else {
            return Err(self.err(node.pos, "`only` needs an enum or flags parameter"));
        };
        let TypeBody::IntLike(il) = &self.types[*t].body else {
            return Err(self.err(node.pos, "`only` needs an enum or flags parameter"));
        };
        if !matches!(il.kind, IntKind::Enum | IntKind::Flags) {
            return Err(self.err(node.pos, "`only` needs an enum or flags parameter"));
        }
        if vals.is_empty() {
            return Err(self.err(node.pos, "`only` needs at least one value"));
        }
        let mut out = Vec::new();
        for v in vals {
            match il.values.iter().find(|x| x.name == v.text) {
                Some(x) => out.push(x.value),
                None => {
                    return Err(
                        self.err(v.pos, format!("`{}` is not a value of `{}`", v.text, self.types[*t].name))
                    );
                }
            }
        }
        Ok(out)
    }

    fn syscall(&self, node: &Node) -> Result<Syscall, SpecError> {
        let name = &node.tokens[1];
        let mut ins: Vec<Param> = Vec::new();
        let mut outs: Vec<Param> = Vec::new();
        let mut noreturn: Option<Pos> = None;
        for child in &node.children {
            let kw = &child.tokens[0];
            match kw.text.as_str() {
                "in" | "out" => {
                    if noreturn.is_some() {
                        return Err(self.err(kw.pos, "`noreturn` must be the last line of a syscall"));
                    }
                    if kw.text == "in" && !outs.is_empty() {
                        return Err(self.err(kw.pos, "`in` parameters come before `out` results"));
                    }
                    let p = self.param(child, kw.text == "in")?;
                    if let Some(first) = ins.iter().chain(outs.iter()).find(|q| q.name == p.name) {
                        return Err(self.err(
                            p.pos,
                            format!(
                                "duplicate parameter `{}` (first declared at line {})",
                                p.name, first.pos.line
                            ),
                        ));
                    }
                    if kw.text == "in" { ins.push(p) } else { outs.push(p) }
                }
                "noreturn" => {
                    if let Some(extra) = child.tokens.get(1) {
                        return Err(self.err(extra.pos, format!("unexpected `{}`", extra.text)));
                    }
                    if !outs.is_empty() {
                        return Err(self.err(kw.pos, "a `noreturn` syscall cannot have results"));
                    }
                    noreturn = Some(kw.pos);
                }
                other => {
                    return Err(self.err(
                        kw.pos,
                        format!("unknown keyword `{other}` (expected `in`, `out` or `noreturn`)"),
                    ));
                }
            }
        }
        let regs: usize = ins.iter().map(Spec::param_regs).sum();
        if regs > 6 {
            return Err(self.err(
                name.pos,
                format!("syscall `{}` needs {regs} argument registers (at most 6)", name.text),
            ));
        }
        if outs.len() > 2 {
            return Err(self.err(outs[2].pos, "a syscall returns at most two results"));
        }
        Ok(Syscall {
            name: name.text.clone(),
            doc: node.doc.clone(),
            pos: name.pos,
            number: 0,
            ins,
            outs,
            noreturn: noreturn.is_some(),
        })
    }
}
