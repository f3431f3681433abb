//! argdata, the binary tree a CloudABI program receives (NuxiNL/argdata):
//! the value type, its encoding, a decoder and a readable rendering.

mod decode;
mod encode;
mod render;

pub use decode::{DecodeError, decode};
pub use encode::{encode, encode_int, encode_length};
pub use render::{render, render_to};

/// Type tags, the first byte of every non-null encoded value.
pub mod tag {
    pub const BINARY: u8 = 1;
    pub const BOOL: u8 = 2;
    pub const FD: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const INT: u8 = 5;
    pub const MAP: u8 = 6;
    pub const SEQ: u8 = 7;
    pub const STR: u8 = 8;
    pub const TIMESTAMP: u8 = 9;
}

/// An argdata value. Null is encoded as nothing at all.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Binary(Vec<u8>),
    Bool(bool),
    /// An index into the descriptor list, which is the program's
    /// descriptor number.
    Fd(u32),
    Float(f64),
    Int(i64),
    /// Key and value pairs, in order.
    Map(Vec<(Value, Value)>),
    Seq(Vec<Value>),
    Str(String),
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    Timestamp(i128),
}
