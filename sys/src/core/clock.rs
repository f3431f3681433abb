//! Clocks and randomness.

use abi::*;

use crate::backend::*;
use crate::user::UserSlice;

pub(super) fn res_get<B: Backend + ?Sized>(b: &mut B, a: args::ClockResGet) -> Result<Timestamp, Errno> {
    b.clock_res(a.clock_id).map(Timestamp::new)
}

pub(super) fn time_get<B: Backend + ?Sized>(b: &mut B, a: args::ClockTimeGet) -> Result<Timestamp, Errno> {
    b.clock_time(a.clock_id, a.precision.raw()).map(Timestamp::new)
}

pub(super) fn random_get<B: Backend + ?Sized>(b: &mut B, a: args::RandomGet) -> Result<(), Errno> {
    // A range wrapping around the address space can never be valid.
    UserSlice::of_range(a.buf)?;
    if a.buf.len == 0 {
        return Ok(());
    }
    b.random_fill(a.buf)
}
