//! The checked, laid-out ABI that the emitters read.
//!
//! Everything here has passed validation: names are unique, every type
//! reference resolves, values fit their widths and every struct has its
//! LP64 layout computed.

use crate::error::Pos;

/// Integer types of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    /// The native size type: 8 bytes, since the ABI is LP64 only.
    Size,
    /// A byte of text (C `char`).
    Char,
}

impl Int {
    pub fn parse(s: &str) -> Option<Int> {
        Some(match s {
            "u8" => Int::U8,
            "u16" => Int::U16,
            "u32" => Int::U32,
            "u64" => Int::U64,
            "i8" => Int::I8,
            "i16" => Int::I16,
            "i32" => Int::I32,
            "i64" => Int::I64,
            "size" => Int::Size,
            "char" => Int::Char,
            _ => return None,
        })
    }

    pub fn size(self) -> u64 {
        match self {
            Int::U8 | Int::I8 | Int::Char => 1,
            Int::U16 | Int::I16 => 2,
            Int::U32 | Int::I32 => 4,
            Int::U64 | Int::I64 | Int::Size => 8,
        }
    }

    pub fn signed(self) -> bool {
        matches!(self, Int::I8 | Int::I16 | Int::I32 | Int::I64)
    }

    /// Bit mask of the valid bits of a value of this width.
    pub fn mask(self) -> u64 {
        match self.size() {
            8 => u64::MAX,
            n => (1u64 << (n * 8)) - 1,
        }
    }

    /// The Rust type that holds the raw value.
    pub fn rust(self) -> &'static str {
        match self {
            Int::U8 | Int::Char => "u8",
            Int::U16 => "u16",
            Int::U32 => "u32",
            Int::U64 | Int::Size => "u64",
            Int::I8 => "i8",
            Int::I16 => "i16",
            Int::I32 => "i32",
            Int::I64 => "i64",
        }
    }

    /// The C type used in `cloudabi.h`.
    pub fn c(self) -> &'static str {
        match self {
            Int::U8 => "uint8_t",
            Int::U16 => "uint16_t",
            Int::U32 => "uint32_t",
            Int::U64 => "uint64_t",
            Int::I8 => "int8_t",
            Int::I16 => "int16_t",
            Int::I32 => "int32_t",
            Int::I64 => "int64_t",
            Int::Size => "size_t",
            Int::Char => "char",
        }
    }

    pub fn spec_name(self) -> &'static str {
        match self {
            Int::U8 => "u8",
            Int::U16 => "u16",
            Int::U32 => "u32",
            Int::U64 => "u64",
            Int::I8 => "i8",
            Int::I16 => "i16",
            Int::I32 => "i32",
            Int::I64 => "i64",
            Int::Size => "size",
            Int::Char => "char",
        }
    }
}

/// A type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Int(Int),
    /// Index into [`Spec::types`].
    Named(usize),
    Void,
    Ptr {
        konst: bool,
        to: Box<Ty>,
    },
    Atomic(Box<Ty>),
    Array(u64, Box<Ty>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntKind {
    Enum,
    Flags,
    Opaque,
    Alias,
}

impl IntKind {
    pub fn keyword(self) -> &'static str {
        match self {
            IntKind::Enum => "enum",
            IntKind::Flags => "flags",
            IntKind::Opaque => "opaque",
            IntKind::Alias => "alias",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Value {
    pub name: String,
    /// The value as raw bits of the declared width (two's complement).
    pub value: u64,
    pub doc: Vec<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct IntLike {
    pub kind: IntKind,
    pub int: Int,
    /// C constant prefix after `CLOUDABI_`, already upper-cased.
    pub cprefix: String,
    pub values: Vec<Value>,
    /// The `errno` value a syscall argument of this type with an undefined
    /// value or bit fails with (`undefined=NAME`); `inval` if not given.
    pub undefined: String,
}

impl IntLike {
    /// Union of all flag bits (only meaningful for flags).
    pub fn all_bits(&self) -> u64 {
        self.values.iter().fold(0, |acc, v| acc | v.value)
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub doc: Vec<String>,
    pub pos: Pos,
    pub kind: MemberKind,
    /// Byte offset within the enclosing struct (or union case).
    pub offset: u64,
}

#[derive(Debug, Clone)]
pub enum MemberKind {
    Plain(Ty),
    /// Pointer at `offset`, `size` length at `offset + 8`.
    Range {
        konst: bool,
        elem: Ty,
    },
    Variant(Variant),
}

#[derive(Debug, Clone)]
pub struct Variant {
    /// Index of the tag member in the enclosing struct.
    pub tag_member: usize,
    /// Index of the tag's enum type in [`Spec::types`].
    pub tag_type: usize,
    pub cases: Vec<Case>,
    pub size: u64,
    pub align: u64,
}

#[derive(Debug, Clone)]
pub struct Case {
    /// Indexes into the tag enum's values.
    pub tags: Vec<usize>,
    pub doc: Vec<String>,
    pub pos: Pos,
    pub body: CaseBody,
}

#[derive(Debug, Clone)]
pub enum CaseBody {
    /// A named struct; member offsets are relative to the start of the union.
    Struct { name: String, members: Vec<Member>, size: u64, align: u64 },
    /// A single member at offset 0 of the union.
    Single(Member),
}

#[derive(Debug, Clone)]
pub struct Struct {
    pub members: Vec<Member>,
    pub size: u64,
    pub align: u64,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub params: Vec<Param>,
}

#[derive(Debug, Clone)]
pub enum TypeBody {
    IntLike(IntLike),
    Struct(Struct),
    Function(Function),
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: String,
    pub doc: Vec<String>,
    pub pos: Pos,
    pub body: TypeBody,
}

impl TypeDef {
    pub fn int_like(&self) -> Option<&IntLike> {
        match &self.body {
            TypeBody::IntLike(i) => Some(i),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.body {
            TypeBody::IntLike(i) => i.kind.keyword(),
            TypeBody::Struct(_) => "struct",
            TypeBody::Function(_) => "function",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ParamTy {
    Plain(Ty),
    Range { konst: bool, elem: Ty },
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub doc: Vec<String>,
    pub pos: Pos,
    pub ty: ParamTy,
    /// `only` restriction: raw values (enum) or bits (flags) allowed.
    pub only: Option<Vec<u64>>,
}

#[derive(Debug, Clone)]
pub struct Syscall {
    pub name: String,
    pub doc: Vec<String>,
    pub pos: Pos,
    pub number: u32,
    pub ins: Vec<Param>,
    pub outs: Vec<Param>,
    pub noreturn: bool,
}

/// The whole ABI.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Types in file order.
    pub types: Vec<TypeDef>,
    /// Syscalls sorted by name; `syscalls[n].number == n`.
    pub syscalls: Vec<Syscall>,
}

impl Spec {
    pub fn type_named(&self, name: &str) -> Option<(usize, &TypeDef)> {
        self.types.iter().enumerate().find(|(_, t)| t.name == name)
    }

    /// Size and alignment of a type expression under LP64.
    pub fn size_align(&self, ty: &Ty) -> (u64, u64) {
        match ty {
            Ty::Int(i) => (i.size(), i.size()),
            Ty::Void => (0, 1),
            Ty::Ptr { .. } => (8, 8),
            Ty::Atomic(t) => self.size_align(t),
            Ty::Array(n, t) => {
                let (s, a) = self.size_align(t);
                (s * n, a)
            }
            Ty::Named(i) => match &self.types[*i].body {
                TypeBody::IntLike(il) => (il.int.size(), il.int.size()),
                TypeBody::Struct(s) => (s.size, s.align),
                // A function type is only usable behind a pointer.
                TypeBody::Function(_) => (8, 8),
            },
        }
    }

    /// Number of 64-bit registers a syscall parameter occupies.
    pub fn param_regs(p: &Param) -> usize {
        match p.ty {
            ParamTy::Plain(_) => 1,
            ParamTy::Range { .. } => 2,
        }
    }
}

pub fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}
