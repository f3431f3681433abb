//! The YAML configuration, loaded into a tree that remembers where each
//! node came from so that every later error can name `file:line:column`.

mod load;
mod tag;
mod tree;

use std::fmt;

pub use load::{MAX_ALIAS_EXPANSION, MAX_DEPTH, load};
pub use tag::Tag;
pub use tree::{Body, Node, NodeId, Tree};

/// A position in the configuration text; both numbers count from 1, the
/// column in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    /// From a saphyr marker, whose columns count from 0.
    pub fn from_marker(m: &saphyr_parser::Marker) -> Pos {
        Pos { line: m.line(), column: m.col() + 1 }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Something wrong at a place in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub pos: Pos,
    pub message: String,
}

impl ConfigError {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        ConfigError { pos, message: message.into() }
    }

    /// `source:line:column: message`, the form every configuration error
    /// is printed in (`source` is the file name or `<stdin>`).
    pub fn located(&self, source: &str) -> String {
        format!("{source}:{}: {}", self.pos, self.message)
    }
}

/// The configuration as text, or an error at the first byte that is not
/// UTF-8 (YAML streams handed to us are UTF-8).
pub fn text_from_bytes(bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // The prefix is valid UTF-8 by construction.
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        ConfigError::new(end_of(prefix), "invalid UTF-8")
    })
}

/// The position just after `text`.
fn end_of(text: &str) -> Pos {
    let line = 1 + text.matches('\n').count();
    let last_line = text.rsplit('\n').next().unwrap_or_default();
    Pos { line, column: 1 + last_line.chars().count() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located_at_the_first_bad_byte() {
        let err = text_from_bytes(b"a: 1\nb: x\xffy\n".to_vec()).unwrap_err();
        assert_eq!(err, ConfigError::new(Pos { line: 2, column: 5 }, "invalid UTF-8"));
        let err = text_from_bytes(b"\xc3".to_vec()).unwrap_err();
        assert_eq!(err.pos, Pos::START);
    }

    #[test]
    fn valid_utf8_passes_through() {
        assert_eq!(text_from_bytes("é: ü".as_bytes().to_vec()).unwrap(), "é: ü");
    }

    #[test]
    fn located_messages_name_source_line_and_column() {
        let err = ConfigError::new(Pos { line: 3, column: 7 }, "boom");
        assert_eq!(err.located("<stdin>"), "<stdin>:3:7: boom");
    }
}
