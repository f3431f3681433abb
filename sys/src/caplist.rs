//! Exact CloudABI rights carried in a descriptor's Capsicum ioctl list.
//!
//! Several CloudABI rights map to one Capsicum right (`file_open` and
//! `file_readlink` both to `CAP_LOOKUP`, `fd_seek` and `fd_tell` to
//! `CAP_SEEK`, ...), and Capsicum keeps one set per descriptor where
//! CloudABI keeps two (base and inheriting). So the CloudABI rights of a
//! FreeBSD descriptor cannot be recovered from its Capsicum rights alone.
//! The FreeBSD module (and cloudabi-run's native launcher) therefore also
//! stores them in the descriptor's ioctl limit list (`cap_ioctls_limit(2)`,
//! `filecaps.fc_ioctls`), which FreeBSD keeps per descriptor, copies with
//! `dup`, `fork` and `SCM_RIGHTS`, frees with the descriptor and lets only
//! shrink — exactly the life of CloudABI rights (docs/kmod.md, "Exact
//! rights", for the FreeBSD sources this rests on).
//!
//! # Encoding
//!
//! One list entry (`u_long`) per fact, so that narrowing the rights is
//! removing entries, which is what `cap_ioctls_limit(2)` allows:
//!
//! | entry | meaning |
//! |---|---|
//! | `0xCA64_0000_0000_0000` | the marker: this descriptor has exact rights |
//! | `0xCA64_0100_0000_00NN` | base right bit `NN` (0..63) |
//! | `0xCA64_0200_0000_00NN` | inheriting right bit `NN` |
//!
//! Every entry has its high 32 bits set. `sys_ioctl` truncates the command
//! to 32 bits before `kern_ioctl` compares it with the list
//! (sys/kern/sys_generic.c, 15.0), so no ioctl ever matches an entry: a
//! descriptor carrying only these entries allows no ioctl at all, as one
//! without `CAP_IOCTL` does.
//!
//! # Reading
//!
//! A list with at least one entry tagged `0xCA64` in its top 16 bits gives
//! exact rights: the well-formed right entries (anything else tagged grants
//! nothing). A list without one (none at all, `-1`; or only native ioctl
//! numbers, such as `caph_limit_stdio`'s) does not, and the rights come
//! from the Capsicum rights as before ([`crate::rights::from_capsicum`]).
//! Either way the result is intersected with what the Capsicum rights
//! allow, so an entry can only narrow, never widen.

use abi::Rights;

use crate::backend::FdRights;
use crate::rights::{CapRights, cap, to_capsicum};

/// The top 16 bits every entry carries.
pub const TAG: u64 = 0xCA64 << 48;
/// The bits compared with [`TAG`].
pub const TAG_MASK: u64 = 0xFFFF << 48;
/// The entry saying that the descriptor has exact rights.
pub const MARKER: u64 = TAG;
/// The kind of a base right entry (bits 40..47).
pub const BASE: u64 = TAG | (1 << 40);
/// The kind of an inheriting right entry.
pub const INHERITING: u64 = TAG | (2 << 40);

/// The most entries a list can have: the marker and every defined right
/// twice (FreeBSD allows 256, `IOCTLS_MAX_COUNT` in
/// sys/kern/sys_capability.c).
pub const MAX_ENTRIES: usize = 1 + 2 * Rights::ALL.bits().count_ones() as usize;

/// The list for `r`: the marker, then one entry per base right and one per
/// inheriting right, in bit order. Returns the entries and their number.
pub fn encode(r: FdRights) -> ([u64; MAX_ENTRIES], usize) {
    let mut out = [0u64; MAX_ENTRIES];
    let n = encode_into(r, &mut out);
    (out, n)
}

/// [`encode`] into `out` (which should hold [`MAX_ENTRIES`]; entries that
/// do not fit are left out): the number of entries written.
pub fn encode_into(r: FdRights, out: &mut [u64]) -> usize {
    let entries =
        core::iter::once(MARKER).chain(entries(BASE, r.base)).chain(entries(INHERITING, r.inheriting));
    let mut n = 0;
    for (slot, e) in out.iter_mut().zip(entries) {
        *slot = e;
        n += 1;
    }
    n
}

/// One entry of `kind` per right of `set`.
fn entries(kind: u64, set: Rights) -> impl Iterator<Item = u64> {
    let bits = set.bits() & Rights::ALL.bits();
    (0..64u64).filter(move |b| bits & (1 << b) != 0).map(move |b| kind | b)
}

/// The exact rights a list holds, or `None` if it has no tagged entry (the
/// descriptor's rights then come from its Capsicum rights alone).
pub fn decode(list: &[u64]) -> Option<FdRights> {
    let mut tagged = false;
    let mut r = FdRights::NONE;
    for &e in list {
        if e & TAG_MASK != TAG {
            continue;
        }
        tagged = true;
        // Bits 8..39 must be clear and the bit a defined right.
        if e & 0x0000_00FF_FFFF_FF00 != 0 {
            continue;
        }
        let bit = Rights::from_bits_truncate(1u64 << (e & 63));
        match e & !63 {
            BASE => r.base |= bit,
            INHERITING => r.inheriting |= bit,
            _ => {}
        }
    }
    tagged.then_some(r)
}

/// The Capsicum rights a descriptor with exact rights `r` gets: what its
/// base and inheriting rights need together (FreeBSD's CloudABI mapping,
/// [`to_capsicum`]), plus `CAP_SEEK` with `mem_map` (FreeBSD's mapping
/// rights include it: `CAP_MMAP_R` is `CAP_MMAP | CAP_SEEK | CAP_READ`,
/// sys/sys/capsicum.h; CloudABI maps at an offset without `fd_seek`), plus
/// `CAP_IOCTL`, without which the list is not allowed
/// (`filecaps_validate`). The exact rights, not these, are what the
/// CloudABI process may use; a native holder of the descriptor gets these.
pub fn capsicum_for(r: FdRights) -> CapRights {
    let all = r.base | r.inheriting;
    let mut c = to_capsicum(all).with(cap::IOCTL);
    if all.contains(Rights::MEM_MAP) {
        c = c.with(cap::SEEK);
    }
    c
}

/// The rights a descriptor holds: its exact rights if `list` has them,
/// else `derived` (from the Capsicum rights), and never more than
/// `derived`.
pub fn effective(list: &[u64], derived: FdRights) -> FdRights {
    match decode(list) {
        Some(exact) => FdRights {
            base: exact.base.intersection(derived.base),
            inheriting: exact.inheriting.intersection(derived.inheriting),
        },
        None => derived,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rights::from_capsicum;
    use abi::Filetype;

    fn rights(base: Rights, inheriting: Rights) -> FdRights {
        FdRights { base, inheriting }
    }

    #[test]
    fn entries_are_the_documented_values() {
        let (l, n) = encode(rights(Rights::FD_READ, Rights::FD_SEEK | Rights::SOCK_SHUTDOWN));
        assert_eq!(
            &l[..n],
            &[0xCA64_0000_0000_0000, 0xCA64_0100_0000_0001, 0xCA64_0200_0000_0002, 0xCA64_0200_0000_0027]
        );
        assert_eq!(MAX_ENTRIES, 63);
        let (l, n) = encode(rights(Rights::ALL, Rights::ALL));
        assert_eq!(n, MAX_ENTRIES);
        // Never a 32-bit ioctl command, never a duplicate.
        for (i, e) in l[..n].iter().enumerate() {
            assert!(e >> 32 != 0);
            assert!(!l[..i].contains(e));
        }
    }

    #[test]
    fn round_trip_of_every_single_right_and_of_all() {
        for bit in 0..64 {
            let Some(one) = Rights::from_bits(1u64 << bit) else { continue };
            for r in [rights(one, Rights::EMPTY), rights(Rights::EMPTY, one), rights(one, Rights::ALL)] {
                let (l, n) = encode(r);
                assert_eq!(decode(&l[..n]), Some(r), "{r:?}");
            }
        }
        let (l, n) = encode(FdRights::NONE);
        assert_eq!(n, 1);
        let mut short = [0u64; 2];
        assert_eq!(encode_into(rights(Rights::ALL, Rights::ALL), &mut short), 2, "never past the end");
        assert_eq!(decode(&l[..n]), Some(FdRights::NONE), "the marker alone: no rights, not 'unknown'");
    }

    #[test]
    fn removing_entries_only_narrows() {
        // What cap_ioctls_limit allows a holder: any subset of the entries.
        let full = rights(Rights::FILE_OPEN | Rights::FILE_READLINK, Rights::FD_READ | Rights::FD_SEEK);
        let (l, n) = encode(full);
        for mask in 0u32..(1 << n) {
            let subset: [u64; 8] =
                core::array::from_fn(|i| if i < n && mask & (1 << i) != 0 { l[i] } else { 0 });
            if let Some(r) = decode(&subset) {
                assert!(r.within(full), "{mask:#b}: {r:?}");
            }
        }
        // Narrowing is a subset: the narrowed list's entries are all in
        // the wider one.
        let narrow = rights(Rights::FILE_READLINK, Rights::FD_READ);
        let (m, k) = encode(narrow);
        assert!(m[..k].iter().all(|e| l[..n].contains(e)));
    }

    #[test]
    fn foreign_and_malformed_entries() {
        // Native ioctl numbers (caph_limit_stdio's TIOCGETA etc.) alone:
        // no exact rights, the Capsicum rights decide.
        assert_eq!(decode(&[0x402c_7413, 0x4008_7468]), None);
        assert_eq!(decode(&[]), None);
        // A malformed tagged entry grants nothing but still means "exact".
        assert_eq!(decode(&[TAG | (3 << 40) | 1]), Some(FdRights::NONE));
        assert_eq!(decode(&[BASE | 0x100 | 1]), Some(FdRights::NONE));
        // Bit 11 is not a defined right.
        assert_eq!(Rights::from_bits(1 << 11), None);
        assert_eq!(decode(&[BASE | 11]), Some(FdRights::NONE));
        // Mixed: the tagged entries count.
        assert_eq!(decode(&[0x402c_7413, BASE | 1]), Some(rights(Rights::FD_READ, Rights::EMPTY)));
    }

    #[test]
    fn exact_rights_never_exceed_the_capsicum_rights() {
        let derived = from_capsicum(to_capsicum(Rights::FD_READ), Filetype::REGULAR_FILE);
        let (l, n) = encode(rights(Rights::ALL, Rights::ALL));
        assert_eq!(effective(&l[..n], derived), derived);
        let (l, n) = encode(rights(Rights::FD_TELL, Rights::EMPTY));
        let derived = from_capsicum(to_capsicum(Rights::FD_SEEK), Filetype::REGULAR_FILE);
        // fd_seek and fd_tell share CAP_SEEK: the list tells them apart.
        assert!(derived.base.contains(Rights::FD_SEEK | Rights::FD_TELL));
        assert_eq!(effective(&l[..n], derived).base, Rights::FD_TELL);
        assert_eq!(effective(&[], derived), derived);
    }

    #[test]
    fn capsicum_rights_cover_the_exact_rights() {
        for (one, _) in crate::rights::CAPSICUM.iter() {
            let r = rights(*one, Rights::EMPTY);
            let c = capsicum_for(r);
            assert!(c.has(cap::IOCTL));
            let back = from_capsicum(c, Filetype::UNKNOWN);
            assert!(back.base.contains(*one), "{one:?}");
        }
        let c = capsicum_for(rights(Rights::MEM_MAP | Rights::FD_READ, Rights::EMPTY));
        // CAP_MMAP_R: what kern_mmap asks for a readable mapping.
        assert!(c.has(cap::MMAP | cap::SEEK | cap::READ));
        assert!(!capsicum_for(FdRights::NONE).has(cap::SEEK));
    }
}
