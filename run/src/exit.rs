//! Exit statuses and the error that carries one.
//!
//! The statuses follow sysexits(3), as FreeBSD tools do; the man page lists
//! them. A program that was started exits with its own status instead.

use std::fmt;

/// Why `cloudabi-run` gave up, as an exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Bad command line (`EX_USAGE`).
    Usage = 64,
    /// The executable is not a CloudABI executable (`EX_DATAERR`).
    NotExecutable = 65,
    /// The executable or the configuration file cannot be read (`EX_NOINPUT`).
    NoInput = 66,
    /// No backend can run programs on this system (`EX_UNAVAILABLE`).
    Unavailable = 69,
    /// A system call failed while starting the program (`EX_OSERR`).
    OsError = 71,
    /// The configuration is wrong; the message names `file:line:column`
    /// (`EX_CONFIG`).
    Config = 78,
}

impl Status {
    /// The process exit status.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// An error to print (after `cloudabi-run: `) before exiting with `status`.
#[derive(Debug)]
pub struct Failure {
    pub status: Status,
    pub message: String,
}

impl Failure {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Failure { status, message: message.into() }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cloudabi-run: {}", self.message)
    }
}
