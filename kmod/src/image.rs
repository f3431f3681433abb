//! The CloudABI process image as pure arithmetic: where the argument data,
//! canary, process UUID, auxiliary vector and thread control block go on
//! the new stack, what the auxiliary vector says, and which registers point
//! where at entry. `exec.rs` does the copying; this module decides the
//! addresses, so it can be tested on the host.
//!
//! Stack, top down (the convention of the original FreeBSD implementation,
//! which CloudABI's crt0 relies on):
//!
//! ```text
//!   stack top (vm_stacktop)
//!   struct ps_strings (32 bytes, empty)        <- PROC_PS_STRINGS()
//!   argument data (8-aligned start)            <- AT_ARGDATA
//!   64 random bytes                            <- AT_CANARY
//!   16-byte UUIDv4                             <- AT_PID
//!   13 auxv entries (ending with AT_NULL)      <- first argument register
//!   TCB (8 bytes, zeroed)                      <- arm64: tpidr_el0, stack
//!   x86-64 only: slot holding the TCB address  <- %fs base, stack
//! ```

use abi::{Auxtype, Auxv, Tcb, UserPtr};

/// Bytes of kernel randomness for stack protectors (`AT_CANARY`).
pub const CANARY_LEN: usize = 64;
/// Bytes of the process UUID (`AT_PID`).
pub const PID_LEN: usize = 16;
/// Entries of the auxiliary vector, including `AT_NULL`.
pub const AUXV_ENTRIES: usize = 13;
/// Alignment of everything placed on the stack (`register_t`).
const WORD: u64 = 8;
/// Size of one TLS slot (a pointer).
const SLOT: u64 = size_of::<u64>() as u64;

const _: () = assert!(size_of::<Tcb>() as u64 == SLOT && size_of::<Auxv>() == 16);

/// How a thread finds its TCB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// x86-64: the `%fs` base points at a slot that holds the TCB address,
    /// because CloudABI code loads `%fs:0` before every TLS access.
    SlotHoldingTcbAddress,
    /// aarch64: `tpidr_el0` points at the TCB itself.
    Direct,
}

/// Addresses of everything `sv_fixup` writes, computed top down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub canary: u64,
    pub pid: u64,
    pub auxv: u64,
    pub tcb: u64,
    /// x86-64 only: the slot holding `tcb`.
    pub tcb_slot: Option<u64>,
    /// The final stack address handed to `sv_setregs`.
    pub stack: u64,
}

/// Where the (empty) `struct ps_strings` and the argument data go: the
/// `ps_strings` is the last `PS_STRINGS_SIZE` bytes below the stack top,
/// where `PROC_PS_STRINGS()` (`vm_stacktop - sv_psstringssz`) finds it, and
/// the argument data ends below it. `(ps_strings, argdata)`.
pub fn top_blocks(top: u64, argdata_len: u64) -> Option<(u64, u64)> {
    let ps_strings = top.checked_sub(crate::consts::PS_STRINGS_SIZE as u64)?;
    Some((ps_strings, argdata_address(ps_strings, argdata_len)?))
}

/// Where the argument data starts: `len` bytes below `top`, rounded down
/// to 8. `None` if that would wrap (a corrupt stack top).
pub fn argdata_address(top: u64, len: u64) -> Option<u64> {
    Some(top.checked_sub(len)? & !(WORD - 1))
}

/// The layout below argument data that starts at `argdata`.
pub fn layout(argdata: u64, tls: Tls) -> Option<Layout> {
    let mut sp = argdata;
    let mut take = |len: u64| -> Option<u64> {
        sp = sp.checked_sub(len)? & !(WORD - 1);
        Some(sp)
    };
    let canary = take(CANARY_LEN as u64)?;
    let pid = take(PID_LEN as u64)?;
    let auxv = take((AUXV_ENTRIES * size_of::<Auxv>()) as u64)?;
    let tcb = take(SLOT)?;
    let tcb_slot = match tls {
        Tls::SlotHoldingTcbAddress => Some(take(SLOT)?),
        Tls::Direct => None,
    };
    Some(Layout { canary, pid, auxv, tcb, tcb_slot, stack: sp })
}

/// Registers at entry, derived from the stack address alone (as
/// `sv_setregs` only gets that): (TLS base, first argument = auxv).
pub fn entry_registers(stack: u64, tls: Tls) -> Option<(u64, u64)> {
    let slots = match tls {
        Tls::SlotHoldingTcbAddress => 2,
        Tls::Direct => 1,
    };
    Some((stack, stack.checked_add(slots * SLOT)?))
}

/// Where `thread_create` puts a new thread's TCB, TLS base and stack
/// inside the stack the caller handed it (as the in-tree module did): the
/// 8-byte TCB at the top (8-aligned), on x86-64 a slot holding its address
/// right below it, and the stack below that. The kernel never writes the
/// TCB itself (the C runtime fills it); it writes only the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadLayout {
    pub tcb: u64,
    /// x86-64 only: the slot holding `tcb`.
    pub tcb_slot: Option<u64>,
    /// The TLS register: `%fs` base (the slot) or `tpidr_el0` (the TCB).
    pub tls_base: u64,
    /// What remains as the thread's stack: `[stack, stack + stack_len)`.
    pub stack_len: u64,
}

/// The layout in the stack `[stack, stack + len)`; `None` if the range
/// wraps or is too small to hold the TCB (and slot).
pub fn thread_layout(stack: u64, len: u64, tls: Tls) -> Option<ThreadLayout> {
    let top = stack.checked_add(len)?;
    let below = |addr: u64| -> Option<u64> {
        let at = addr.checked_sub(SLOT)? & !(WORD - 1);
        (at >= stack).then_some(at)
    };
    let tcb = below(top)?;
    let (tcb_slot, tls_base) = match tls {
        Tls::SlotHoldingTcbAddress => {
            let slot = below(tcb)?;
            (Some(slot), slot)
        }
        Tls::Direct => (None, tcb),
    };
    Some(ThreadLayout { tcb, tcb_slot, tls_base, stack_len: tls_base - stack })
}

/// Turns 16 random bytes into an RFC 4122 version 4 UUID.
pub fn uuid_v4(mut raw: [u8; PID_LEN]) -> [u8; PID_LEN] {
    raw[6] = (raw[6] & 0x0f) | 0x40;
    raw[8] = (raw[8] & 0x3f) | 0x80;
    raw
}

/// Argument data length as CloudABI sees it: exec appends a NUL to the
/// (binary) argument data; `AT_ARGDATALEN` excludes it.
pub fn argdata_len(copied: u64) -> u64 {
    copied.saturating_sub(1)
}

/// The values the auxiliary vector reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuxInfo {
    pub argdata: u64,
    pub argdatalen: u64,
    /// Load bias of the executable (`Elf_Auxargs.base`).
    pub base: u64,
    pub canary: u64,
    pub ncpus: u64,
    pub pagesz: u64,
    pub phdr: u64,
    pub phnum: u64,
    pub pid: u64,
    /// Per-process vDSO address (`vm_shp_base`).
    pub sysinfo_ehdr: u64,
    pub tid: u64,
}

/// The 13 auxiliary vector entries, in the order of the original FreeBSD
/// implementation, ending with `AT_NULL`.
pub fn auxv(i: &AuxInfo) -> [Auxv; AUXV_ENTRIES] {
    let ptr = |t: Auxtype, v: u64| {
        let mut a = Auxv::ZERO;
        a.set_a_type(t);
        a.set_a_ptr(UserPtr::new(v));
        a
    };
    let val = |t: Auxtype, v: u64| {
        let mut a = Auxv::ZERO;
        a.set_a_type(t);
        a.set_a_val(v);
        a
    };
    [
        ptr(Auxtype::ARGDATA, i.argdata),
        val(Auxtype::ARGDATALEN, i.argdatalen),
        ptr(Auxtype::BASE, i.base),
        ptr(Auxtype::CANARY, i.canary),
        val(Auxtype::CANARYLEN, CANARY_LEN as u64),
        val(Auxtype::NCPUS, i.ncpus),
        val(Auxtype::PAGESZ, i.pagesz),
        ptr(Auxtype::PHDR, i.phdr),
        val(Auxtype::PHNUM, i.phnum),
        ptr(Auxtype::PID, i.pid),
        ptr(Auxtype::SYSINFO_EHDR, i.sysinfo_ehdr),
        val(Auxtype::TID, i.tid),
        Auxv::ZERO, // AT_NULL
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: u64 = 0x7fff_ffff_e000;

    #[test]
    fn argdata_is_at_the_top_and_aligned() {
        assert_eq!(argdata_address(TOP, 5), Some(TOP - 8));
        assert_eq!(argdata_address(TOP, 16), Some(TOP - 16));
        assert_eq!(argdata_address(TOP, 0), Some(TOP));
        assert_eq!(argdata_address(3, 5), None);
    }

    #[test]
    fn ps_strings_is_where_proc_ps_strings_looks_and_argdata_below() {
        // sys/exec.h: PROC_PS_STRINGS(p) = vm_stacktop - sv_psstringssz,
        // and the sysentvec's sv_psstringssz is sizeof(struct ps_strings).
        let (ps, arg) = top_blocks(TOP, 5).unwrap();
        assert_eq!(ps, TOP - 32);
        assert_eq!(arg, ps - 8);
        assert!(arg + 5 <= ps, "argument data overlaps ps_strings");
        for len in [0, 1, 31, 32, 4096] {
            let (ps, arg) = top_blocks(TOP, len).unwrap();
            assert!(arg + len <= ps && arg % 8 == 0, "{len}");
        }
        assert_eq!(top_blocks(16, 0), None);
    }

    #[test]
    fn amd64_layout_matches_the_entry_registers() {
        let arg = TOP - 24;
        let l = layout(arg, Tls::SlotHoldingTcbAddress).unwrap();
        assert_eq!(l.canary, arg - 64);
        assert_eq!(l.pid, l.canary - 16);
        assert_eq!(l.auxv, l.pid - 13 * 16);
        assert_eq!(l.tcb, l.auxv - 8);
        assert_eq!(l.tcb_slot, Some(l.tcb - 8));
        assert_eq!(l.stack, l.tcb - 8);
        // %fs base = the slot; rdi = auxv.
        assert_eq!(entry_registers(l.stack, Tls::SlotHoldingTcbAddress), Some((l.stack, l.auxv)));
    }

    #[test]
    fn arm64_layout_matches_the_entry_registers() {
        let arg = TOP - 13; // unaligned argdata start is rounded down first
        let arg = argdata_address(arg, 0).unwrap();
        let l = layout(arg, Tls::Direct).unwrap();
        assert_eq!(l.tcb_slot, None);
        assert_eq!(l.stack, l.tcb);
        // tpidr_el0 = TCB; x0 = auxv.
        assert_eq!(entry_registers(l.stack, Tls::Direct), Some((l.tcb, l.auxv)));
        assert_eq!(l.stack % 8, 0);
    }

    #[test]
    fn layout_never_wraps() {
        assert_eq!(layout(100, Tls::Direct), None);
        assert_eq!(entry_registers(u64::MAX - 4, Tls::Direct), None);
    }

    #[test]
    fn uuid_has_version_4_and_rfc4122_variant() {
        for seed in [[0u8; 16], [0xff; 16], [0x5a; 16]] {
            let u = uuid_v4(seed);
            assert_eq!(u[6] >> 4, 4);
            assert_eq!(u[8] >> 6, 0b10);
            for i in (0..16).filter(|i| *i != 6 && *i != 8) {
                assert_eq!(u[i], seed[i]);
            }
        }
    }

    #[test]
    fn auxv_has_all_thirteen_entries_in_order() {
        let info = AuxInfo {
            argdata: 1,
            argdatalen: 2,
            base: 3,
            canary: 4,
            ncpus: 5,
            pagesz: 4096,
            phdr: 7,
            phnum: 8,
            pid: 9,
            sysinfo_ehdr: 10,
            tid: 100_001,
        };
        let v = auxv(&info);
        let types: Vec<u32> = v.iter().map(|a| a.a_type).collect();
        assert_eq!(types, [0x100, 0x101, 7, 0x102, 0x103, 0x104, 6, 3, 4, 0x107, 0x106, 0x105, 0]);
        let values: Vec<u64> = v.iter().map(|a| a.a_val()).collect();
        assert_eq!(values, [1, 2, 3, 4, 64, 5, 4096, 7, 8, 9, 10, 100_001, 0]);
        assert!(v.iter().all(|a| a.is_valid()));
        // Every auxtype the spec defines is present exactly once.
        for t in Auxtype::VALUES {
            assert_eq!(v.iter().filter(|a| a.a_type == t.raw()).count(), 1, "{t:?}");
        }
    }

    #[test]
    fn argdata_length_drops_the_exec_nul() {
        assert_eq!(argdata_len(0), 0);
        assert_eq!(argdata_len(1), 0);
        assert_eq!(argdata_len(10), 9);
    }

    #[test]
    fn thread_layouts() {
        let l = thread_layout(0x1000, 0x1000, Tls::SlotHoldingTcbAddress).unwrap();
        assert_eq!(l.tcb, 0x1ff8);
        assert_eq!(l.tcb_slot, Some(0x1ff0));
        assert_eq!(l.tls_base, 0x1ff0);
        assert_eq!(l.stack_len, 0xff0);
        let l = thread_layout(0x1000, 0x1000, Tls::Direct).unwrap();
        assert_eq!((l.tcb, l.tcb_slot, l.tls_base, l.stack_len), (0x1ff8, None, 0x1ff8, 0xff8));
        // An unaligned top is rounded down.
        let l = thread_layout(0x1000, 0x1005, Tls::Direct).unwrap();
        assert_eq!(l.tcb, 0x1ff8);
        // Too small for the TCB (and, on x86-64, the slot), or wrapping.
        assert_eq!(thread_layout(0x1000, 7, Tls::Direct), None);
        assert!(thread_layout(0x1000, 8, Tls::Direct).is_some());
        assert_eq!(thread_layout(0x1000, 15, Tls::SlotHoldingTcbAddress), None);
        assert!(thread_layout(0x1000, 16, Tls::SlotHoldingTcbAddress).is_some());
        assert_eq!(thread_layout(u64::MAX - 4, 16, Tls::Direct), None);
        assert_eq!(thread_layout(0, 0, Tls::Direct), None);
    }
}
