//! LP64 layout of every struct: natural alignment, C rules.
//!
//! Structs are laid out in dependency order (a struct holding another by
//! value needs that one's size first); a struct that contains itself by value
//! is an error.

use crate::error::SpecError;
use crate::model::*;

pub fn lay_out(file: &str, spec: &mut Spec) -> Result<(), SpecError> {
    let order = dependency_order(file, spec)?;
    for idx in order {
        let TypeBody::Struct(mut s) =
            std::mem::replace(&mut spec.types[idx].body, TypeBody::Function(Function { params: Vec::new() }))
        else {
            unreachable!("dependency_order yields only structs");
        };
        let (size, align) = lay_out_members(spec, &mut s.members);
        s.size = size;
        s.align = align;
        spec.types[idx].body = TypeBody::Struct(s);
    }
    Ok(())
}

/// Assigns offsets; returns the padded size and the alignment.
fn lay_out_members(spec: &Spec, members: &mut [Member]) -> (u64, u64) {
    let mut off = 0u64;
    let mut align = 1u64;
    for m in members.iter_mut() {
        let (size, a) = match &mut m.kind {
            MemberKind::Plain(ty) => spec.size_align(ty),
            MemberKind::Range { .. } => (16, 8),
            MemberKind::Variant(v) => {
                let mut vsize = 0;
                let mut valign = 1;
                for case in &mut v.cases {
                    let (cs, ca) = match &mut case.body {
                        CaseBody::Struct { members, size, align, .. } => {
                            let (s, a) = lay_out_members(spec, members);
                            *size = s;
                            *align = a;
                            (s, a)
                        }
                        CaseBody::Single(member) => {
                            member.offset = 0;
                            match &member.kind {
                                MemberKind::Plain(ty) => spec.size_align(ty),
                                _ => (16, 8),
                            }
                        }
                    };
                    vsize = vsize.max(cs);
                    valign = valign.max(ca);
                }
                v.size = align_up(vsize, valign);
                v.align = valign;
                (v.size, valign)
            }
        };
        off = align_up(off, a);
        m.offset = off;
        off += size;
        align = align.max(a);
    }
    (align_up(off, align), align)
}

fn dependency_order(file: &str, spec: &Spec) -> Result<Vec<usize>, SpecError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Active,
        Done,
    }
    let mut state = vec![State::New; spec.types.len()];
    let mut order = Vec::new();

    fn by_value_deps(ty: &Ty, out: &mut Vec<usize>) {
        match ty {
            Ty::Named(i) => out.push(*i),
            Ty::Array(_, t) | Ty::Atomic(t) => by_value_deps(t, out),
            Ty::Ptr { .. } | Ty::Int(_) | Ty::Void => {}
        }
    }
    fn member_deps(members: &[Member], out: &mut Vec<usize>) {
        for m in members {
            match &m.kind {
                MemberKind::Plain(t) => by_value_deps(t, out),
                MemberKind::Range { .. } => {}
                MemberKind::Variant(v) => {
                    for c in &v.cases {
                        match &c.body {
                            CaseBody::Struct { members, .. } => member_deps(members, out),
                            CaseBody::Single(m) => member_deps(std::slice::from_ref(m), out),
                        }
                    }
                }
            }
        }
    }
    fn visit(
        file: &str,
        spec: &Spec,
        idx: usize,
        state: &mut [State],
        order: &mut Vec<usize>,
    ) -> Result<(), SpecError> {
        let TypeBody::Struct(s) = &spec.types[idx].body else { return Ok(()) };
        match state[idx] {
            State::Done => return Ok(()),
            State::Active => {
                return Err(SpecError::new(
                    file,
                    spec.types[idx].pos,
                    format!("struct `{}` contains itself", spec.types[idx].name),
                ));
            }
            State::New => {}
        }
        state[idx] = State::Active;
        let mut deps = Vec::new();
        member_deps(&s.members, &mut deps);
        for d in deps {
            visit(file, spec, d, state, order)?;
        }
        state[idx] = State::Done;
        order.push(idx);
        Ok(())
    }
    for idx in 0..spec.types.len() {
        visit(file, spec, idx, &mut state, &mut order)?;
    }
    Ok(order)
}
