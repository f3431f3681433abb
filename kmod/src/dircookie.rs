//! `file_readdir` cookies: where a directory listing resumes.
//!
//! `getdirentries(2)` reads at the descriptor's offset, so a cookie must
//! name a position to read from. Each native entry carries `d_off`, the
//! offset of the entry after it, but a file system may leave it 0: used
//! alone, such a cookie restarted the listing and a reader looping on
//! `file_readdir` never finished (issue 12). So:
//!
//! - an entry whose `d_off` is positive gets it as its cookie (the file
//!   system's own, what lseek+getdirentries resume from);
//! - otherwise the last entry of a batch gets the offset after the batch
//!   (the descriptor's offset when getdirentries returned);
//! - otherwise, the entry is named by its batch: the batch's start offset
//!   and how many records of it to skip, with bit 63 set. Reading the same
//!   batch size from that offset again gives the same records while the
//!   directory does not change.
//!
//! A positive `d_off` never has bit 63 set (`off_t` is signed), so the two
//! kinds cannot be confused. A batch whose start offset needs more than 47
//! bits cannot be named this way; its inner entries then get the offset
//! after the batch (a reader that stops inside such a batch skips the rest
//! of it; no FreeBSD file system is known to produce such offsets while
//! leaving `d_off` 0 **[unconfirmed]**).

/// Bit 63: a batch cookie.
const BATCH: u64 = 1 << 63;
/// Bits for the number of records to skip.
const SKIP_BITS: u32 = 16;
/// Largest start offset a batch cookie holds (47 bits).
const START_MAX: u64 = (BATCH - 1) >> SKIP_BITS;

/// Where to resume a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Read from this directory offset.
    Offset(i64),
    /// Read from `start` and skip the first `skip` records.
    Batch { start: i64, skip: u16 },
}

/// What a cookie from user space means.
pub fn resume(cookie: u64) -> Resume {
    if cookie & BATCH == 0 {
        Resume::Offset(cookie as i64)
    } else {
        let rest = cookie & !BATCH;
        Resume::Batch { start: (rest >> SKIP_BITS) as i64, skip: (rest & 0xffff) as u16 }
    }
}

/// The cookie of the entry that is record `index` (0-based, counting every
/// record) of a batch read from `start`, which ended at `end` and holds
/// `records` records, given its `d_off`.
pub fn cookie(d_off: u64, index: usize, records: usize, start: i64, end: i64) -> u64 {
    if d_off != 0 && d_off & BATCH == 0 {
        return d_off;
    }
    let after = index + 1;
    let end = end.max(0) as u64;
    if after >= records {
        return end;
    }
    match (u64::try_from(start), u16::try_from(after)) {
        (Ok(s), Ok(skip)) if s <= START_MAX => BATCH | (s << SKIP_BITS) | u64::from(skip),
        _ => end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_system_cookies_are_kept() {
        assert_eq!(cookie(512, 0, 10, 0, 4096), 512);
        assert_eq!(resume(512), Resume::Offset(512));
        // The start of a listing.
        assert_eq!(resume(0), Resume::Offset(0));
    }

    #[test]
    fn zero_d_off_does_not_restart_the_listing() {
        // A batch of 4 records from offset 0 ending at 1024, all d_off 0:
        // no cookie is 0 (the start), and all differ.
        let cookies: Vec<u64> = (0..4).map(|i| cookie(0, i, 4, 0, 1024)).collect();
        assert!(cookies.iter().all(|&c| c != 0), "{cookies:?}");
        for (i, c) in cookies.iter().enumerate() {
            assert!(!cookies[i + 1..].contains(c), "{cookies:?}");
        }
        // Inner ones resume inside the batch, after their own record.
        assert_eq!(resume(cookies[0]), Resume::Batch { start: 0, skip: 1 });
        assert_eq!(resume(cookies[2]), Resume::Batch { start: 0, skip: 3 });
        // The last one resumes after the batch.
        assert_eq!(resume(cookies[3]), Resume::Offset(1024));
    }

    /// A file system that leaves `d_off` 0: `n` records, 100 offset units
    /// each, `batch` records per getdirentries. A reader takes `k` entries
    /// per file_readdir call and resumes from the last one's cookie, the
    /// way cloudlibc's readdir does; it must see every entry once and end.
    fn list(n: usize, batch: usize, k: usize, d_off: impl Fn(usize) -> u64) -> Vec<usize> {
        let mut seen = Vec::new();
        let mut next = 0u64;
        for _call in 0..10 * n + 10 {
            let (mut at, mut skip) = match resume(next) {
                Resume::Offset(o) => (o as usize / 100, 0),
                Resume::Batch { start, skip } => (start as usize / 100, usize::from(skip)),
            };
            let mut taken = 0;
            'call: loop {
                let recs: Vec<usize> = (at..n.min(at + batch)).collect();
                if recs.is_empty() {
                    return seen; // end of directory
                }
                let (start, end) = ((at * 100) as i64, ((at + recs.len()) * 100) as i64);
                for (i, &r) in recs.iter().enumerate() {
                    if i < skip {
                        continue;
                    }
                    seen.push(r);
                    next = cookie(d_off(r), i, recs.len(), start, end);
                    taken += 1;
                    if taken == k {
                        break 'call;
                    }
                }
                skip = 0;
                at += recs.len();
            }
        }
        panic!("the listing did not end: {seen:?}");
    }

    #[test]
    fn a_listing_with_zero_d_off_ends_and_sees_every_entry_once() {
        for (n, batch, k) in [(10, 4, 3), (10, 4, 1), (9, 3, 3), (50, 7, 5), (3, 8, 2)] {
            assert_eq!(list(n, batch, k, |_| 0), (0..n).collect::<Vec<_>>(), "{n} {batch} {k}");
            // The file system's own cookies give the same listing.
            assert_eq!(list(n, batch, k, |r| ((r + 1) * 100) as u64), (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn batch_cookies_round_trip() {
        for (start, skip) in [(0i64, 1u16), (4096, 7), (START_MAX as i64, 511)] {
            let c = cookie(0, usize::from(skip) - 1, 1000, start, start + 8192);
            assert_eq!(resume(c), Resume::Batch { start, skip }, "{start} {skip}");
        }
    }

    #[test]
    fn negative_d_off_and_huge_starts_fall_back_to_the_batch_end() {
        // A d_off with bit 63 (a negative off_t) is not used as a cookie.
        let c = cookie(1 << 63, 0, 3, 0, 800);
        assert_eq!(resume(c), Resume::Batch { start: 0, skip: 1 });
        // A start offset beyond 47 bits cannot be encoded.
        let big = (START_MAX + 1) as i64;
        assert_eq!(cookie(0, 0, 3, big, big + 100), (big + 100) as u64);
        assert_eq!(resume((big + 100) as u64), Resume::Offset(big + 100));
    }
}
