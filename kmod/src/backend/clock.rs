//! Clocks and randomness.

use abi::*;
use sys::backend::*;

use super::FreeBsd;
use crate::consts::{UIO_READ, UIO_USERSPACE};
use crate::convert;
use crate::ffi::kern::{Iovec, Timespec, Uio};
use crate::ffi::kpi;

/// Most bytes asked of the random device at once (its own requests are
/// bounded by `ssize_t`).
const RANDOM_CHUNK: u64 = 1 << 30;

impl FreeBsd {
    fn clock(&mut self, id: Clockid, res: bool) -> Result<u64, Errno> {
        let native = convert::clock_id(id).ok_or(Errno::INVAL)?;
        let mut ts = Timespec::default();
        // SAFETY: clock_getres(2)/clock_gettime(2) into a kernel timespec.
        let e = unsafe {
            if res {
                kpi::kern_clock_getres(self.td, native, &mut ts)
            } else {
                kpi::kern_clock_gettime(self.td, native, &mut ts)
            }
        };
        self.check(e)?;
        convert::clock_ns(ts.tv_sec, ts.tv_nsec)
    }
}

impl ClockOps for FreeBsd {
    fn clock_res(&mut self, id: Clockid) -> Result<u64, Errno> {
        self.clock(id, true)
    }

    fn clock_time(&mut self, id: Clockid, _precision: u64) -> Result<u64, Errno> {
        self.clock(id, false)
    }

    fn random_fill(&mut self, buf: UserRange<u8>) -> Result<(), Errno> {
        let (mut addr, mut left) = (buf.ptr.addr(), buf.len);
        while left > 0 {
            let n = left.min(RANDOM_CHUNK);
            let mut iov = Iovec { iov_base: addr as *mut _, iov_len: n as usize };
            let mut uio = Uio {
                uio_iov: &mut iov,
                uio_iovcnt: 1,
                uio_offset: 0,
                uio_resid: n as isize,
                uio_segflg: UIO_USERSPACE,
                uio_rw: UIO_READ,
                uio_td: self.td,
            };
            // SAFETY: read_random_uio fills the caller's buffer through a
            // UIO_USERSPACE uio (EFAULT for a bad one), waiting for the
            // random device to be seeded if it is not yet.
            let e = unsafe { kpi::read_random_uio(&mut uio, false) };
            self.check(e)?;
            let done = n - (uio.uio_resid.max(0) as u64).min(n);
            if done == 0 {
                return Err(Errno::IO);
            }
            addr += done;
            left -= done;
        }
        Ok(())
    }
}
