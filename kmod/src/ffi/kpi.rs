//! `extern "C"` declarations of every kernel symbol the module uses,
//! generated from `kmod/kpi-symbols.txt` with the C type of the release
//! being built (scripts/check-layouts checks those types against the
//! headers).

#![allow(dead_code, non_upper_case_globals)]

use super::elf::Brandinfo;
use super::kern::*;
use super::signal::{KillArgs, Sigaction};
use super::sysent::Sysent;
use super::types::*;
use super::{c_char, c_int, c_uint, c_void};

include!(concat!(env!("OUT_DIR"), "/kpi.rs"));
