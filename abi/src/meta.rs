//! Descriptions of the ABI as data: used by the syscall tracer, the
//! support-table checks and the cross-check tests. The tables themselves
//! ([`crate::TYPES`], [`crate::SYSCALLS`]) are generated.

/// What kind of spec declaration a type comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeKind {
    Enum,
    Flags,
    Opaque,
    Alias,
    Struct,
    Function,
}

/// A named constant of an enum, flags or opaque type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueDesc {
    pub name: &'static str,
    /// Raw bits of the value.
    pub value: u64,
}

/// A member of a struct, flattened: union members appear as `case.member`,
/// ranges as `name` (the pointer) and `name_len` (the length).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDesc {
    pub path: &'static str,
    pub offset: usize,
    pub size: usize,
}

/// One of the 57 ABI types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeDesc {
    pub name: &'static str,
    pub kind: TypeKind,
    /// Size and alignment in bytes as laid out by the Rust compiler.
    pub size: usize,
    pub align: usize,
    pub values: &'static [ValueDesc],
    pub fields: &'static [FieldDesc],
    /// For function types: the size of each parameter.
    pub params: &'static [usize],
}

/// How a syscall argument register is to be understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A file descriptor number.
    Fd,
    /// A `lookup` (directory fd in the low 32 bits, lookup flags in the high
    /// 32 bits).
    Lookup,
    /// A user-space address.
    Pointer,
    /// The element count of the preceding pointer.
    Length,
    /// Any other value (enum, flags, integer).
    Value,
}

/// One argument register of a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamDesc {
    pub name: &'static str,
    pub kind: ParamKind,
    /// Width in bytes at which the register is decoded.
    pub width: u8,
    /// The spec type: the value's type, or the pointee for pointers.
    pub ty: &'static str,
}

/// One result register of a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultDesc {
    pub name: &'static str,
    pub width: u8,
    pub ty: &'static str,
}

/// One of the 49 syscalls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallDesc {
    pub name: &'static str,
    pub number: u32,
    /// Argument registers in order (ranges take two).
    pub params: &'static [ParamDesc],
    pub results: &'static [ResultDesc],
    pub noreturn: bool,
}

impl SyscallDesc {
    /// Looks a syscall up by number.
    pub fn by_number(number: u64) -> Option<&'static SyscallDesc> {
        crate::SYSCALLS.get(usize::try_from(number).ok()?)
    }

    /// Looks a syscall up by name.
    pub fn by_name(name: &str) -> Option<&'static SyscallDesc> {
        crate::SYSCALLS.iter().find(|s| s.name == name)
    }
}

impl TypeDesc {
    /// Looks a type up by its spec name.
    pub fn by_name(name: &str) -> Option<&'static TypeDesc> {
        crate::TYPES.iter().find(|t| t.name == name)
    }
}
