//! The rights record that travels with passed descriptors on a backend
//! whose native descriptor passing does not carry CloudABI rights (Linux's
//! `SCM_RIGHTS`).
//!
//! The sender puts one extra descriptor first in the message: a sealed,
//! immutable memory object holding this record, one entry per passed
//! descriptor, in order. The receiver reads the record, matches entry `i`
//! to descriptor `i + 1` of the same message and closes the record. So the
//! rights belong to the message itself, not to the file: no order of
//! sends, receives, peeks or drops on any socket can move rights from one
//! message to another (docs/semantics.md, "Descriptors in flight").
//!
//! Layout (little-endian): [`MAGIC`], the entry count (u32), 4 zero bytes,
//! then per entry the file's identity (device, inode: u64 each) and its
//! base and inheriting rights (u64 each). A record is valid only if its
//! length is exactly that of its count, the count is the number of
//! descriptors that came with it, every identity matches the descriptor at
//! its position and the reserved bytes are zero. A descriptor of a message
//! without a valid record gets [`FdRights::NONE`] (closing it and
//! `fd_stat_get` need no rights).

use abi::{Filetype, Rights};

use crate::backend::FdRights;

/// The first eight bytes of every record (version 1).
pub const MAGIC: [u8; 8] = *b"CABIfds1";
/// Bytes before the first entry.
pub const HEADER: usize = 16;
/// Bytes per entry.
pub const ENTRY: usize = 32;
/// Most entries a record holds: the core's limit on descriptors per
/// message.
pub const MAX_ENTRIES: usize = 508;
/// The largest record.
pub const MAX_LEN: usize = HEADER + MAX_ENTRIES * ENTRY;

/// One passed descriptor as the sender describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The file's identity (device, inode) as the host reports it.
    pub id: (u64, u64),
    /// The sender's rights on the descriptor.
    pub rights: FdRights,
}

/// The length of a record of `n` entries.
pub const fn len(n: usize) -> usize {
    HEADER + n * ENTRY
}

fn put(out: &mut [u8], at: usize, v: u64) {
    out[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(rec: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&rec[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Writes the record of `entries` into `out` and returns its length;
/// `None` when there are more than [`MAX_ENTRIES`] or `out` is too short.
pub fn encode(entries: &[Entry], out: &mut [u8]) -> Option<usize> {
    let n = entries.len();
    if n > MAX_ENTRIES || out.len() < len(n) {
        return None;
    }
    out[..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&(n as u32).to_le_bytes());
    out[12..16].fill(0);
    for (i, e) in entries.iter().enumerate() {
        let at = HEADER + i * ENTRY;
        put(out, at, e.id.0);
        put(out, at + 8, e.id.1);
        put(out, at + 16, e.rights.base.bits());
        put(out, at + 24, e.rights.inheriting.bits());
    }
    Some(len(n))
}

/// A record checked against the descriptors that arrived with it.
#[derive(Debug, Clone, Copy)]
pub struct Valid<'a>(&'a [u8]);

/// Checks `rec` against the identities of the descriptors that came after
/// it in the same message (`ids(i)` for `i < count`, `None` when the host
/// cannot tell): the record is valid only if everything matches.
pub fn verify<'a>(
    rec: &'a [u8],
    count: usize,
    mut ids: impl FnMut(usize) -> Option<(u64, u64)>,
) -> Option<Valid<'a>> {
    if count > MAX_ENTRIES || rec.len() != len(count) || rec[..8] != MAGIC {
        return None;
    }
    let n = u32::from_le_bytes([rec[8], rec[9], rec[10], rec[11]]) as usize;
    if n != count || rec[12..16] != [0; 4] {
        return None;
    }
    for i in 0..count {
        let at = HEADER + i * ENTRY;
        if ids(i)? != (get(rec, at), get(rec, at + 8)) {
            return None;
        }
    }
    Some(Valid(rec))
}

/// The rights the `i`-th descriptor of a message gets: its entry in the
/// message's record limited to what its type can have, or none at all
/// without a valid record (or past its end).
pub fn granted(record: Option<Valid<'_>>, i: usize, filetype: Filetype) -> FdRights {
    let Some(Valid(rec)) = record else { return FdRights::NONE };
    if HEADER + (i + 1) * ENTRY > rec.len() {
        return FdRights::NONE;
    }
    let at = HEADER + i * ENTRY;
    let max = crate::rights::max_for(filetype);
    FdRights {
        base: Rights::from_bits_truncate(get(rec, at + 16)) & max.base,
        inheriting: Rights::from_bits_truncate(get(rec, at + 24)) & max.inheriting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> [Entry; 3] {
        let r = |b: u64, i: u64| FdRights {
            base: Rights::from_bits_truncate(b),
            inheriting: Rights::from_bits_truncate(i),
        };
        [
            Entry { id: (1, 10), rights: r(0x1ff, 0) },
            Entry { id: (1, 10), rights: r(0x0f1, 0) },
            Entry { id: (2, 7), rights: r(u64::MAX, u64::MAX) },
        ]
    }

    #[test]
    fn round_trip_keeps_each_position() {
        let e = entries();
        let mut buf = [0u8; MAX_LEN];
        let n = encode(&e, &mut buf).unwrap();
        assert_eq!(n, len(3));
        let v = verify(&buf[..n], 3, |i| Some(e[i].id)).unwrap();
        let max = crate::rights::max_for(Filetype::REGULAR_FILE);
        for (i, e) in e.iter().enumerate() {
            let g = granted(Some(v), i, Filetype::REGULAR_FILE);
            assert_eq!(g.base, e.rights.base & max.base);
            assert_eq!(g.inheriting, e.rights.inheriting & max.inheriting);
        }
        assert_eq!(granted(Some(v), 3, Filetype::REGULAR_FILE), FdRights::NONE);
        assert_eq!(granted(None, 0, Filetype::REGULAR_FILE), FdRights::NONE);
    }

    #[test]
    fn anything_out_of_place_invalidates() {
        let e = entries();
        let mut buf = [0u8; MAX_LEN];
        let n = encode(&e, &mut buf).unwrap();
        let rec = &buf[..n];
        // Wrong count of descriptors, wrong identity at a position, swapped.
        assert!(verify(rec, 2, |i| Some(e[i].id)).is_none());
        assert!(verify(&buf[..n + ENTRY], 4, |i| e.get(i).map(|e| e.id)).is_none());
        assert!(verify(rec, 3, |i| Some(if i == 1 { (2, 7) } else { e[i].id })).is_none());
        assert!(verify(rec, 3, |i| if i == 2 { None } else { Some(e[i].id) }).is_none());
        // Every single-byte change of the header, and truncation.
        for at in 0..HEADER {
            let mut bad = [0u8; len(3)];
            bad.copy_from_slice(rec);
            bad[at] ^= 0x40;
            assert!(verify(&bad, 3, |i| Some(e[i].id)).is_none(), "byte {at}");
        }
        for cut in 0..n {
            assert!(verify(&rec[..cut], 3, |i| Some(e[i].id)).is_none());
        }
        assert!(encode(&e, &mut buf[..n - 1]).is_none());
    }
}
