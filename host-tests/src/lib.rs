//! Test support for the host-side test suites in `tests/`: the reference
//! ABI taken from the `cloudabi` crate ([`oracle`]) and a neutral shape to
//! compare it with ([`shape`]).

pub mod harness;
pub mod model;
pub mod oracle;
pub mod sched;
pub mod seed;
pub mod shape;
