//! Positions and the `file:line:column: message` error of the generator.

use std::fmt;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub const fn new(line: usize, col: usize) -> Self {
        Pos { line, col }
    }
}

/// An error in a spec or status file, pointing at the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    pub pos: Pos,
    pub message: String,
}

impl SpecError {
    pub fn new(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        SpecError { file: file.to_string(), pos, message: message.into() }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.pos.line, self.pos.col, self.message)
    }
}

impl std::error::Error for SpecError {}
