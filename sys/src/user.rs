//! User memory: the only way the syscall core touches a process's memory.
//!
//! In the spirit of Rust-for-Linux's `UserSlice`: an address range is just
//! numbers until it is read or written through the backend's [`UserMemory`]
//! copy routines. Readers and writers are cursors that consume the range as
//! they go, so every byte is fetched at most once (no double fetch); nothing
//! here ever holds a Rust reference into user memory, so nothing can change
//! under the core between a check and a use. Every failure is `EFAULT`.

use abi::{Errno, Pod, UserPtr, UserRange};

/// A failed copy: some byte of the range was not accessible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault;

impl From<Fault> for Errno {
    fn from(_: Fault) -> Errno {
        Errno::FAULT
    }
}

/// The backend's copy routines (FreeBSD: `copyin`/`copyout`; the Linux
/// backend: fault-tolerant copies inside its own address space).
pub trait UserMemory {
    /// Copies `dst.len()` bytes starting at user address `src` into `dst`.
    /// Must return `Err(Fault)`, never fault, if any byte is inaccessible.
    fn copy_in(&mut self, src: u64, dst: &mut [u8]) -> Result<(), Fault>;

    /// Copies `src` to user address `dst`, with the same rule.
    fn copy_out(&mut self, dst: u64, src: &[u8]) -> Result<(), Fault>;
}

/// A range of user memory, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserSlice {
    addr: u64,
    len: u64,
}

impl UserSlice {
    /// `len` bytes at `addr`; `EFAULT` if the range wraps around the
    /// address space.
    pub fn new(addr: u64, len: u64) -> Result<UserSlice, Errno> {
        addr.checked_add(len).ok_or(Errno::FAULT)?;
        Ok(UserSlice { addr, len })
    }

    /// `count` consecutive `T`s at `ptr`; `EFAULT` if the size overflows.
    pub fn of<T: Pod>(ptr: UserPtr<T>, count: u64) -> Result<UserSlice, Errno> {
        let size = (core::mem::size_of::<T>() as u64).checked_mul(count).ok_or(Errno::FAULT)?;
        UserSlice::new(ptr.addr(), size)
    }

    /// The elements of a user array.
    pub fn of_range<T: Pod>(r: UserRange<T>) -> Result<UserSlice, Errno> {
        UserSlice::of(r.ptr, r.len)
    }

    pub fn addr(&self) -> u64 {
        self.addr
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Consumes the slice into a reader.
    pub fn reader(self) -> UserReader {
        UserReader { addr: self.addr, left: self.len }
    }

    /// Consumes the slice into a writer.
    pub fn writer(self) -> UserWriter {
        UserWriter { addr: self.addr, left: self.len }
    }
}

/// Reads a user range front to back; each byte can be read once.
#[derive(Debug)]
pub struct UserReader {
    addr: u64,
    left: u64,
}

impl UserReader {
    /// Bytes not read yet.
    pub fn len(&self) -> u64 {
        self.left
    }

    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// Fills `out` from the front of the range. Reading past the end is
    /// `EFAULT`, like touching memory outside the range.
    pub fn read_bytes<M: UserMemory + ?Sized>(&mut self, mem: &mut M, out: &mut [u8]) -> Result<(), Errno> {
        let n = out.len() as u64;
        if n > self.left {
            return Err(Errno::FAULT);
        }
        if n == 0 {
            return Ok(());
        }
        mem.copy_in(self.addr, out)?;
        self.addr += n;
        self.left -= n;
        Ok(())
    }

    /// Reads one `T`.
    pub fn read<T: Pod, M: UserMemory + ?Sized>(&mut self, mem: &mut M) -> Result<T, Errno> {
        let mut v = T::zeroed();
        self.read_bytes(mem, v.as_bytes_mut())?;
        Ok(v)
    }
}

/// Writes a user range front to back.
#[derive(Debug)]
pub struct UserWriter {
    addr: u64,
    left: u64,
}

impl UserWriter {
    /// Room left in bytes.
    pub fn len(&self) -> u64 {
        self.left
    }

    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// Bytes written so far are `original length - len()`.
    pub fn write_bytes<M: UserMemory + ?Sized>(&mut self, mem: &mut M, data: &[u8]) -> Result<(), Errno> {
        let n = data.len() as u64;
        if n > self.left {
            return Err(Errno::FAULT);
        }
        if n == 0 {
            return Ok(());
        }
        mem.copy_out(self.addr, data)?;
        self.addr += n;
        self.left -= n;
        Ok(())
    }

    /// Writes as much of `data` as fits; returns how many bytes that was.
    pub fn write_truncated<M: UserMemory + ?Sized>(
        &mut self,
        mem: &mut M,
        data: &[u8],
    ) -> Result<usize, Errno> {
        let n = data.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        self.write_bytes(mem, &data[..n])?;
        Ok(n)
    }

    /// Writes one `T`.
    pub fn write<T: Pod, M: UserMemory + ?Sized>(&mut self, mem: &mut M, v: &T) -> Result<(), Errno> {
        self.write_bytes(mem, v.as_bytes())
    }
}

/// Reads one `T` at `ptr`.
pub fn read<T: Pod, M: UserMemory + ?Sized>(mem: &mut M, ptr: UserPtr<T>) -> Result<T, Errno> {
    UserSlice::of(ptr, 1)?.reader().read(mem)
}

/// Writes one `T` at `ptr`.
pub fn write<T: Pod, M: UserMemory + ?Sized>(mem: &mut M, ptr: UserPtr<T>, v: &T) -> Result<(), Errno> {
    UserSlice::of(ptr, 1)?.writer().write(mem, v)
}
