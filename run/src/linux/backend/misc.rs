//! Memory, clocks, randomness and processes.

use std::sync::Arc;

use abi::*;
use sys::backend::*;

use super::{Linux, check, last_errno};
use crate::linux::fdtable::HostFile;
use crate::linux::guestmem;

/// `Ok` when all of `[addr, addr + len)` is the guest's memory, else
/// `EINVAL` (issue 13, D4): the runner's own memory is not the guest's to
/// change.
fn guest_owns(memory: &guestmem::Memory, addr: u64, len: u64) -> Result<(u64, u64), Errno> {
    let (s, e) = guestmem::pages(addr, len).ok_or(Errno::INVAL)?;
    if memory.owned.covers(s, e) { Ok((s, e)) } else { Err(Errno::INVAL) }
}

fn prot(p: Mprot) -> i32 {
    let mut n = libc::PROT_NONE;
    if p.contains(Mprot::READ) {
        n |= libc::PROT_READ;
    }
    if p.contains(Mprot::WRITE) {
        n |= libc::PROT_WRITE;
    }
    if p.contains(Mprot::EXEC) {
        n |= libc::PROT_EXEC;
    }
    n
}

impl MemOps for Linux {
    fn mem_map(
        &mut self,
        addr: u64,
        len: u64,
        p: Mprot,
        flags: Mflags,
        file: Option<&Arc<HostFile>>,
        off: u64,
    ) -> Result<u64, Errno> {
        let mut f = if flags.contains(Mflags::SHARED) { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
        if flags.contains(Mflags::ANON) {
            f |= libc::MAP_ANONYMOUS;
        }
        let mut memory = guestmem::lock();
        // A fixed mapping may replace the guest's own memory, or take
        // address space nobody uses (MAP_FIXED_NOREPLACE: the kernel
        // checks atomically); never the runner's.
        let fixed = flags.contains(Mflags::FIXED);
        let replaces = fixed && guest_owns(&memory, addr, len).is_ok();
        if fixed {
            f |= if replaces { libc::MAP_FIXED } else { libc::MAP_FIXED_NOREPLACE };
        }
        let fd = file.map_or(-1, |h| h.raw());
        // SAFETY: the guest asks for a mapping of its own memory or of
        // free address space (above); the kernel validates the rest.
        let r = unsafe {
            libc::mmap(addr as *mut libc::c_void, len as usize, prot(p), f, fd, off as libc::off_t)
        };
        if r == libc::MAP_FAILED {
            let e = last_errno();
            return Err(if fixed && !replaces && e == Errno::EXIST { Errno::INVAL } else { e });
        }
        let r = r as u64;
        if fixed && r != addr {
            // A kernel before 4.17 takes MAP_FIXED_NOREPLACE as a hint.
            // SAFETY: unmaps the mapping just made, which nobody has seen.
            unsafe { libc::munmap(r as *mut libc::c_void, len as usize) };
            return Err(Errno::INVAL);
        }
        if let Some((s, e)) = guestmem::pages(r, len) {
            memory.add(s, e);
        }
        Ok(r)
    }

    fn mem_protect(&mut self, addr: u64, len: u64, p: Mprot) -> Result<(), Errno> {
        guest_owns(&guestmem::lock(), addr, len)?;
        // SAFETY: the guest's own memory (checked above).
        check(unsafe { libc::mprotect(addr as *mut libc::c_void, len as usize, prot(p)) }).map(|_| ())
    }

    fn mem_advise(&mut self, addr: u64, len: u64, advice: Advice) -> Result<(), Errno> {
        let a = match advice {
            Advice::DONTNEED => libc::MADV_DONTNEED,
            Advice::RANDOM => libc::MADV_RANDOM,
            Advice::SEQUENTIAL => libc::MADV_SEQUENTIAL,
            Advice::WILLNEED => libc::MADV_WILLNEED,
            _ => libc::MADV_NORMAL,
        };
        guest_owns(&guestmem::lock(), addr, len)?;
        // SAFETY: advisory call on guest memory.
        check(unsafe { libc::madvise(addr as *mut libc::c_void, len as usize, a) }).map(|_| ())
    }

    fn mem_sync(&mut self, addr: u64, len: u64, flags: Msflags) -> Result<(), Errno> {
        let mut f = if flags.contains(Msflags::SYNC) { libc::MS_SYNC } else { libc::MS_ASYNC };
        if flags.contains(Msflags::INVALIDATE) {
            f |= libc::MS_INVALIDATE;
        }
        // SAFETY: msync on guest memory.
        check(unsafe { libc::msync(addr as *mut libc::c_void, len as usize, f) }).map(|_| ())
    }

    /// Unmaps what the guest owns in the range; parts it already gave back
    /// are left alone (the runner may use them by now). Linux's checks
    /// (length 0, alignment) come first, on a range the guest owns or
    /// released.
    fn mem_unmap(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        let mut memory = guestmem::lock();
        let (s, e) = guestmem::pages(addr, len).ok_or(Errno::INVAL)?;
        if len == 0 || !addr.is_multiple_of(guestmem::PAGE) || !memory.known(s, e) {
            return Err(Errno::INVAL);
        }
        for (ps, pe) in memory.owned.pieces(s, e) {
            // SAFETY: the guest unmaps memory it owns (checked above).
            check(unsafe { libc::munmap(ps as *mut libc::c_void, (pe - ps) as usize) })?;
            memory.release(ps, pe);
        }
        memory.release(s, e);
        Ok(())
    }
}

pub const fn clock(id: Clockid) -> libc::clockid_t {
    let id = id.raw();
    if id == Clockid::MONOTONIC.raw() {
        libc::CLOCK_MONOTONIC
    } else if id == Clockid::PROCESS_CPUTIME_ID.raw() {
        libc::CLOCK_PROCESS_CPUTIME_ID
    } else if id == Clockid::THREAD_CPUTIME_ID.raw() {
        libc::CLOCK_THREAD_CPUTIME_ID
    } else {
        libc::CLOCK_REALTIME
    }
}

/// A `timespec` in nanoseconds; `EOVERFLOW` if it does not fit the ABI
/// (as FreeBSD's CloudABI reports for clocks).
fn clock_ns(ts: &libc::timespec) -> Result<u64, Errno> {
    if ts.tv_sec < 0 {
        return Err(Errno::OVERFLOW);
    }
    (ts.tv_sec as u64)
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(ts.tv_nsec as u64))
        .ok_or(Errno::OVERFLOW)
}

pub fn now(id: Clockid) -> Result<u64, Errno> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime fills `ts`.
    check(unsafe { libc::clock_gettime(clock(id), &mut ts) })?;
    clock_ns(&ts)
}

impl ClockOps for Linux {
    fn clock_res(&mut self, id: Clockid) -> Result<u64, Errno> {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_getres fills `ts`.
        check(unsafe { libc::clock_getres(clock(id), &mut ts) })?;
        clock_ns(&ts)
    }

    fn clock_time(&mut self, id: Clockid, _precision: u64) -> Result<u64, Errno> {
        now(id)
    }

    fn random_fill(&mut self, buf: UserRange<u8>) -> Result<(), Errno> {
        let (mut at, mut left) = (buf.ptr.addr(), buf.len);
        while left > 0 {
            // SAFETY: getrandom writes into guest memory (EFAULT if bad).
            let n = unsafe { libc::getrandom(at as *mut libc::c_void, left as usize, 0) };
            if n < 0 {
                match last_errno() {
                    Errno::INTR => continue,
                    e => return Err(e),
                }
            }
            at += n as u64;
            left -= n as u64;
        }
        Ok(())
    }
}
