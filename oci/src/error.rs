//! One error type: a message that says what and where.

use std::fmt;

/// Something that stops a build or a container start, with a message for
/// the user (no further structure: every caller prints it and stops).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// `context: io error`, for I/O on a named file.
pub fn io(context: impl fmt::Display, e: std::io::Error) -> Error {
    Error(format!("{context}: {e}"))
}
