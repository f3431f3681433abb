//! The descriptors a program receives, in order of first appearance in the
//! configuration: entry `i` becomes the program's descriptor `i`.

use std::collections::HashMap;
use std::os::fd::{OwnedFd, RawFd};

use sys::backend::FdRights;

use crate::config::NodeId;

/// What makes two tags the same descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FdKey {
    /// `!fd N`: every mention of N is one entry.
    Inherited(RawFd),
    /// `!executable`.
    Executable,
    /// A `!file` or `!socket` node; an alias of it is the same node.
    Node(NodeId),
}

/// An open descriptor and how the configuration asked for it.
#[derive(Debug)]
pub struct Descriptor {
    pub fd: OwnedFd,
    pub description: String,
    /// The most the program may do with it (see [`crate::rights`]).
    pub ceiling: FdRights,
    /// cloudabi-run opened it for the program (a `!file`, `!socket` or
    /// `!executable`): its open file description is new, not one another
    /// process holds (as an inherited `!fd N` is).
    pub private: bool,
}

#[derive(Debug, Default)]
pub struct FdList {
    index: HashMap<FdKey, u32>,
    entries: Vec<Descriptor>,
}

impl FdList {
    pub fn find(&self, key: FdKey) -> Option<u32> {
        self.index.get(&key).copied()
    }

    /// Appends a descriptor and returns its index.
    pub fn add(
        &mut self,
        key: FdKey,
        fd: OwnedFd,
        description: String,
        ceiling: FdRights,
    ) -> Result<u32, String> {
        let index = u32::try_from(self.entries.len()).map_err(|_| "too many descriptors".to_owned())?;
        let private = !matches!(key, FdKey::Inherited(_));
        self.entries.push(Descriptor { fd, description, ceiling, private });
        self.index.insert(key, index);
        Ok(index)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[Descriptor] {
        &self.entries
    }

    /// Whether each descriptor, in order, is [`Descriptor::private`].
    pub fn private(&self) -> Vec<bool> {
        self.entries.iter().map(|d| d.private).collect()
    }

    /// The descriptors in order, each with its rights ceiling.
    pub fn into_fds(self) -> Vec<(OwnedFd, FdRights)> {
        self.entries.into_iter().map(|d| (d.fd, d.ceiling)).collect()
    }
}
