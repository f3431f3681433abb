//! Lists that live in user memory and are read or written one element at a
//! time, each element exactly once: descriptor lists (`proc_exec`,
//! `sock_send`), received descriptors (`sock_recv`).

use abi::*;

use crate::backend::*;
use crate::user::{UserMemory, UserReader, UserSlice, UserWriter};

/// A user array of descriptor numbers, looked up as it is read.
pub(super) struct UserFdList {
    reader: UserReader,
    len: u64,
}

impl UserFdList {
    pub(super) fn new(fds: UserRange<Fd>) -> Result<Self, Errno> {
        Ok(UserFdList { reader: UserSlice::of_range(fds)?.reader(), len: fds.len })
    }
}

impl<F> FdList<F> for UserFdList {
    fn len(&self) -> u64 {
        self.len
    }

    fn next(&mut self, files: &mut dyn FdLookup<F>) -> Result<Option<(Fd, F, FdInfo)>, Errno> {
        if self.reader.is_empty() {
            return Ok(None);
        }
        let fd: Fd = self.reader.read(files)?;
        let (file, info) = files.lookup_fd(fd)?;
        Ok(Some((fd, file, info)))
    }
}

/// The caller's buffer for received descriptor numbers.
pub(super) struct UserFdSink {
    writer: UserWriter,
    stored: u64,
}

impl UserFdSink {
    pub(super) fn new(fds: UserRange<Fd>) -> Result<Self, Errno> {
        Ok(UserFdSink { writer: UserSlice::of_range(fds)?.writer(), stored: 0 })
    }

    pub(super) fn stored(&self) -> u64 {
        self.stored
    }
}

impl FdSink for UserFdSink {
    fn room(&self) -> u64 {
        self.writer.len() / 4
    }

    fn push(&mut self, mem: &mut dyn UserMemory, fd: Fd) -> Result<(), Errno> {
        self.writer.write(mem, &fd)?;
        self.stored += 1;
        Ok(())
    }
}
