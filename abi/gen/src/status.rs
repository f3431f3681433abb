//! The syscall status tables the backends own.
//!
//! Each backend keeps a small text file listing every syscall with its
//! support status; `docs/syscalls.md` is generated from them. A table that
//! misses a syscall, names an unknown one or lists one twice is an error.
//!
//! ```text
//! # NAME           STATUS      NOTE (optional, required for `partial`)
//! clock_res_get    supported
//! poll             partial     clock and fd events only
//! proc_fork        enosys
//! ```

use crate::error::{Pos, SpecError};
use crate::model::Spec;

/// A backend and the file holding its table.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    pub key: &'static str,
    pub title: &'static str,
    pub path: &'static str,
}

pub const BACKENDS: [Backend; 2] = [
    Backend { key: "freebsd", title: "FreeBSD module", path: "kmod/syscall-status.txt" },
    Backend { key: "linux", title: "Linux backend", path: "run/syscall-status.txt" },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Implemented and exercised by the test suite on this backend.
    Supported,
    /// Implemented with a documented limitation (the note says which).
    Partial,
    /// Implemented and built, but not yet run on a real system.
    Unverified,
    /// Returns `ENOSYS`.
    Enosys,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "supported" => Status::Supported,
            "partial" => Status::Partial,
            "unverified" => Status::Unverified,
            "enosys" => Status::Enosys,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::Partial => "partial",
            Status::Unverified => "implemented, not yet run",
            Status::Enosys => "ENOSYS",
        }
    }
}

/// A parsed table: one entry per syscall, indexed by syscall number.
#[derive(Debug, Clone)]
pub struct Table {
    pub backend: Backend,
    pub entries: Vec<(Status, String)>,
}

pub fn parse(backend: Backend, text: &str, spec: &Spec) -> Result<Table, SpecError> {
    let file = backend.path;
    let mut entries: Vec<Option<(Status, String, usize)>> = vec![None; spec.syscalls.len()];
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let col0 = line.len() - body.len();
        let mut words = body.split_whitespace();
        let name = words.next().unwrap_or_default();
        let pos_of = |w: &str| {
            let off = line.find(w).unwrap_or(col0);
            Pos::new(line_no, line[..off].chars().count() + 1)
        };
        let Some(number) = spec.syscalls.iter().position(|s| s.name == name) else {
            return Err(SpecError::new(file, pos_of(name), format!("unknown syscall `{name}`")));
        };
        let Some(status_word) = words.next() else {
            return Err(SpecError::new(
                file,
                Pos::new(line_no, col0 + name.len() + 1),
                format!("missing status for `{name}`"),
            ));
        };
        let after_name = &body[name.len()..];
        let status_off = line.len() - after_name.len() + after_name.find(status_word).unwrap_or(0);
        let status_pos = Pos::new(line_no, line[..status_off].chars().count() + 1);
        let Some(status) = Status::parse(status_word) else {
            return Err(SpecError::new(
                file,
                status_pos,
                format!("unknown status `{status_word}` (expected supported, partial, unverified or enosys)"),
            ));
        };
        let note = words.collect::<Vec<_>>().join(" ");
        if status == Status::Partial && note.is_empty() {
            return Err(SpecError::new(
                file,
                status_pos,
                format!("`partial` needs a note saying what is missing for `{name}`"),
            ));
        }
        if let Some((_, _, first)) = &entries[number] {
            return Err(SpecError::new(
                file,
                pos_of(name),
                format!("`{name}` is listed twice (first at line {first})"),
            ));
        }
        entries[number] = Some((status, note, line_no));
    }
    let mut out = Vec::new();
    for (n, e) in entries.into_iter().enumerate() {
        match e {
            Some((s, note, _)) => out.push((s, note)),
            None => {
                let last = text.lines().count().max(1);
                return Err(SpecError::new(
                    file,
                    Pos::new(last, 1),
                    format!("syscall `{}` is missing from the table", spec.syscalls[n].name),
                ));
            }
        }
    }
    Ok(Table { backend, entries: out })
}
