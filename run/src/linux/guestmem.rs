//! Which memory belongs to the guest.
//!
//! The guest shares the process with cloudabi-run, so `mem_map(FIXED)`,
//! `mem_unmap`, `mem_protect` and `mem_advise` must not reach the runner's
//! own code, data, stacks or the emulated vDSO (issue 13, D4). The guest
//! owns its image and initial stack (mapped by the loader for it) and
//! everything `mem_map` returned to it; those calls are refused with
//! `EINVAL` on anything else (docs/semantics.md, "Memory on the Linux
//! backend"). Address space the guest unmapped stays *released*: unmapping
//! it again is allowed (and does nothing, whoever uses it now), changing
//! it is not. A `fork` child inherits both sets with the memory.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// The page size the backend assumes (x86-64).
pub const PAGE: u64 = 4096;

/// Disjoint, non-adjacent page ranges `[start, end)`, keyed by start.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ranges(BTreeMap<u64, u64>);

/// `[addr, addr + len)` widened to whole pages; `None` if it overflows.
pub fn pages(addr: u64, len: u64) -> Option<(u64, u64)> {
    let start = addr & !(PAGE - 1);
    let end = addr.checked_add(len)?.checked_next_multiple_of(PAGE)?;
    Some((start, end))
}

impl Ranges {
    /// Adds `[start, end)`, merging with neighbours.
    pub fn add(&mut self, mut start: u64, mut end: u64) {
        if start >= end {
            return;
        }
        // Ranges that overlap or touch the new one are folded into it.
        let touching: Vec<(u64, u64)> =
            self.0.range(..=end).rev().take_while(|&(_, &e)| e >= start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in touching {
            self.0.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.0.insert(start, end);
    }

    /// Removes `[start, end)`, splitting ranges it cuts.
    pub fn remove(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let cut: Vec<(u64, u64)> =
            self.0.range(..end).rev().take_while(|&(_, &e)| e > start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in cut {
            self.0.remove(&s);
            if s < start {
                self.0.insert(s, start);
            }
            if e > end {
                self.0.insert(end, e);
            }
        }
    }

    /// Whether every byte of `[start, end)` is in the set.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        if start >= end {
            return true;
        }
        // Ranges never touch, so one range must hold it all.
        self.0.range(..=start).next_back().is_some_and(|(_, &e)| e >= end)
    }

    /// The end of the range holding `at`, if one does.
    fn end_of(&self, at: u64) -> Option<u64> {
        self.0.range(..=at).next_back().and_then(|(_, &e)| (e > at).then_some(e))
    }

    /// The parts of `[start, end)` in the set, in order.
    pub fn pieces(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let first = self.0.range(..=start).next_back().map_or(start, |(&s, _)| s);
        self.0
            .range(first..end)
            .filter(|&(_, &e)| e > start)
            .map(|(&s, &e)| (s.max(start), e.min(end)))
            .collect()
    }
}

/// The guest's memory: what it owns and what it gave back.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Memory {
    pub owned: Ranges,
    pub released: Ranges,
}

impl Memory {
    /// Memory handed to the guest (`mem_map`, the loader).
    pub fn add(&mut self, start: u64, end: u64) {
        self.released.remove(start, end);
        self.owned.add(start, end);
    }

    /// Memory the guest unmapped.
    pub fn release(&mut self, start: u64, end: u64) {
        self.owned.remove(start, end);
        self.released.add(start, end);
    }

    /// Whether `[start, end)` is all owned or released (the two never
    /// overlap).
    pub fn known(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.owned.end_of(at).or_else(|| self.released.end_of(at)) {
                Some(e) => at = e,
                None => return false,
            }
        }
        true
    }
}

static MEMORY: Mutex<Memory> =
    Mutex::new(Memory { owned: Ranges(BTreeMap::new()), released: Ranges(BTreeMap::new()) });

/// The guest's memory, locked (also held across `fork`, so that the child's
/// copy is consistent and unlocked).
pub fn lock() -> MutexGuard<'static, Memory> {
    MEMORY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records memory mapped for the guest (its image, its stack).
pub fn add(addr: u64, len: u64) {
    if let Some((s, e)) = pages(addr, len) {
        lock().add(s, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set against a page-by-page model over a small address space.
    #[test]
    fn random_adds_and_removes_match_a_page_model() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let mut r = Ranges::default();
            let mut model = [false; 64];
            for _ in 0..60 {
                let a = next() % 64;
                let b = a + next() % (65 - a);
                let (s, e) = (a * PAGE, b * PAGE);
                if next() % 3 == 0 {
                    r.remove(s, e);
                    model[a as usize..b as usize].fill(false);
                } else {
                    r.add(s, e);
                    model[a as usize..b as usize].fill(true);
                }
                // Never two ranges that touch, none empty.
                let v: Vec<_> = r.0.iter().map(|(&s, &e)| (s, e)).collect();
                assert!(v.iter().all(|&(s, e)| s < e));
                assert!(v.windows(2).all(|w| w[0].1 < w[1].0), "{v:?}");
                for _ in 0..20 {
                    let a = next() % 64;
                    let b = a + next() % (65 - a);
                    let want = model[a as usize..b as usize].iter().all(|&p| p);
                    assert_eq!(r.covers(a * PAGE, b * PAGE), want, "{a}..{b} in {v:?}");
                }
            }
        }
    }

    #[test]
    fn released_memory_is_known_and_owned_memory_cut_into_pieces() {
        let p = |n: u64| n * PAGE;
        let mut m = Memory::default();
        m.add(p(10), p(20));
        m.release(p(12), p(14));
        assert!(m.owned.covers(p(10), p(12)) && !m.owned.covers(p(10), p(13)));
        assert!(m.known(p(10), p(20)) && m.known(p(12), p(14)));
        assert!(!m.known(p(9), p(11)) && !m.known(p(19), p(21)));
        assert_eq!(m.owned.pieces(p(11), p(19)), vec![(p(11), p(12)), (p(14), p(19))]);
        assert_eq!(m.owned.pieces(p(0), p(5)), vec![]);
        m.add(p(13), p(30));
        assert_eq!(m.released.pieces(p(0), p(40)), vec![(p(12), p(13))]);
        assert!(m.known(p(10), p(30)));
    }

    #[test]
    fn pages_round_outwards_and_refuse_overflow() {
        assert_eq!(pages(4097, 1), Some((4096, 8192)));
        assert_eq!(pages(0, 0), Some((0, 0)));
        assert_eq!(pages(u64::MAX - 10, 100), None);
        assert_eq!(pages(u64::MAX - 4095, 1), None);
    }
}
