//! Layout assertions and offsets generated from `kmod/layouts.txt` for the
//! release and arch being built: `size_of`/`offset_of` of every mirror
//! must equal the value the FreeBSD headers give (scripts/check-layouts
//! checks the same rows against the headers), and the accessor offsets.

#![allow(dead_code)]

#[allow(unused_imports)]
use super::elf::*;
#[allow(unused_imports)]
use super::frame::*;
#[allow(unused_imports)]
use super::kern::*;
#[allow(unused_imports)]
use super::module::*;
#[allow(unused_imports)]
use super::signal::*;
#[allow(unused_imports)]
use super::sysent::*;
use core::mem::offset_of;

include!(concat!(env!("OUT_DIR"), "/layouts.rs"));
