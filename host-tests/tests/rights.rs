//! Rights only ever shrink.
//!
//! Random sequences of `fd_dup`, `fd_replace`, `fd_close`, `fd_stat_put`
//! (rights), `file_open` (with random requested rights and flags) and
//! `fd_create1/2`, run through `sys::dispatch` on the model backend. The
//! harness keeps, for every descriptor, a ceiling: the rights it may have
//! at most, given how it was made. After every operation every open
//! descriptor's rights (read back with `fd_stat_get`) must be within its
//! ceiling, and the ceiling then drops to what was observed, so rights can
//! never grow back.

use std::cell::Cell;
use std::collections::BTreeMap;

use abi::*;
use host_tests::harness::{Harness, Outcome, lookup};
use host_tests::model::Node;
use proptest::prelude::*;
use sys::backend::FdRights;

const SEQUENCES: u32 = 10_500;

#[derive(Debug, Clone)]
enum Op {
    Dup(u8),
    Close(u8),
    Replace(u8, u8),
    /// Narrow to `base & mask_b | extra_b`, where `extra` bits may exceed the
    /// current rights (then `ENOTCAPABLE` is expected).
    Narrow {
        fd: u8,
        mask_b: u64,
        mask_i: u64,
        extra_b: u64,
        extra_i: u64,
    },
    Open {
        dir: u8,
        name: u8,
        creat: bool,
        trunc: bool,
        sync: bool,
        base: u64,
        inheriting: u64,
    },
    Shm,
    SocketPair(bool),
}

fn rights_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>().prop_map(|v| v & Rights::ALL.bits()),
        1 => Just(Rights::ALL.bits()),
        1 => Just(0u64),
        1 => (0..31usize).prop_map(|i| Rights::NAMED[i].1.bits()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => any::<u8>().prop_map(Op::Dup),
        1 => any::<u8>().prop_map(Op::Close),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Replace(a, b)),
        3 => (any::<u8>(), rights_bits(), rights_bits(), prop_oneof![4 => Just(0u64), 1 => rights_bits()], prop_oneof![4 => Just(0u64), 1 => rights_bits()])
            .prop_map(|(fd, mask_b, mask_i, extra_b, extra_i)| Op::Narrow { fd, mask_b, mask_i, extra_b, extra_i }),
        4 => (any::<u8>(), 0u8..6, any::<bool>(), prop::bool::weighted(0.2), prop::bool::weighted(0.2), rights_bits(), rights_bits())
            .prop_map(|(dir, name, creat, trunc, sync, base, inheriting)| Op::Open { dir, name, creat, trunc, sync, base, inheriting }),
        1 => Just(Op::Shm),
        1 => any::<bool>().prop_map(Op::SocketPair),
    ]
}

fn rights_of(st: &Fdstat) -> FdRights {
    FdRights {
        base: Rights::from_bits(st.fs_rights_base).expect("fd_stat_get returned undefined right bits"),
        inheriting: Rights::from_bits(st.fs_rights_inheriting)
            .expect("fd_stat_get returned undefined right bits"),
    }
}

struct World {
    h: Harness,
    ceiling: BTreeMap<u32, FdRights>,
}

impl World {
    fn new() -> World {
        let mut h = Harness::new();
        // A small tree under the root directory (fd 0).
        for i in 0..3u8 {
            h.m.add(0, format!("f{i}").as_bytes(), Node::File { data: b"data".to_vec() });
        }
        let d = h.m.mkdir(0, b"d0");
        h.m.add(d, b"f0", Node::File { data: vec![] });
        let ceiling = BTreeMap::from([(0, sys::rights::max_for(Filetype::DIRECTORY))]);
        World { h, ceiling }
    }

    fn pick(&self, i: u8) -> u32 {
        let fds: Vec<u32> = self.ceiling.keys().copied().collect();
        if fds.is_empty() { u32::from(i) } else { fds[usize::from(i) % fds.len()] }
    }

    fn observe(&mut self, fd: u32) -> Option<FdRights> {
        self.h.fdstat(fd).ok().map(|st| rights_of(&st))
    }

    /// Runs one operation; returns a description of a violation, if any.
    fn step(&mut self, op: &Op) -> Result<(), String> {
        self.h.reset_scratch();
        match *op {
            Op::Dup(i) => {
                let fd = self.pick(i);
                let before = self.observe(fd);
                if let Outcome::Ok([new, _]) = self.h.call(nr::FD_DUP, [u64::from(fd), 0, 0, 0, 0, 0]) {
                    let before = before.ok_or("fd_dup succeeded on a closed descriptor")?;
                    self.ceiling.insert(new as u32, before);
                }
            }
            Op::Close(i) => {
                let fd = self.pick(i);
                if let Outcome::Ok(_) = self.h.call(nr::FD_CLOSE, [u64::from(fd), 0, 0, 0, 0, 0]) {
                    self.ceiling.remove(&fd);
                }
            }
            Op::Replace(a, b) => {
                let (from, to) = (self.pick(a), self.pick(b));
                let before = self.observe(from);
                if let Outcome::Ok(_) =
                    self.h.call(nr::FD_REPLACE, [u64::from(from), u64::from(to), 0, 0, 0, 0])
                {
                    self.ceiling.insert(to, before.ok_or("fd_replace succeeded from a closed descriptor")?);
                }
            }
            Op::Narrow { fd, mask_b, mask_i, extra_b, extra_i } => {
                let fd = self.pick(fd);
                let Some(cur) = self.observe(fd) else { return Ok(()) };
                let want = FdRights {
                    base: Rights::from_bits_truncate((cur.base.bits() & mask_b) | extra_b),
                    inheriting: Rights::from_bits_truncate((cur.inheriting.bits() & mask_i) | extra_i),
                };
                let mut st = Fdstat::ZERO;
                st.fs_rights_base = want.base.bits();
                st.fs_rights_inheriting = want.inheriting.bits();
                let buf = self.h.put_pod(&st);
                let r = self
                    .h
                    .call(nr::FD_STAT_PUT, [u64::from(fd), buf, u64::from(Fdsflags::RIGHTS.bits()), 0, 0, 0]);
                let grows = !want.within(cur);
                match (grows, r) {
                    (true, Outcome::Err(Errno::NOTCAPABLE)) | (false, Outcome::Ok(_)) => {}
                    (_, other) => return Err(format!("fd_stat_put {cur:?} -> {want:?}: {other:?}")),
                }
            }
            Op::Open { dir, name, creat, trunc, sync, base, inheriting } => {
                let dir = self.pick(dir);
                let Some(d) = self.observe(dir) else { return Ok(()) };
                let names = ["f0", "f1", "f2", "d0", "d0/f0", "new"];
                let path = self.h.put(names[usize::from(name)].as_bytes());
                let mut st = Fdstat::ZERO;
                st.fs_rights_base = base;
                st.fs_rights_inheriting = inheriting;
                if sync {
                    st.set_fs_flags(Fdflags::SYNC);
                }
                let fds = self.h.put_pod(&st);
                let mut oflags = Oflags::EMPTY;
                if creat {
                    oflags |= Oflags::CREAT;
                }
                if trunc {
                    oflags |= Oflags::TRUNC;
                }
                let regs = [
                    lookup(dir, false),
                    path,
                    names[usize::from(name)].len() as u64,
                    u64::from(oflags.bits()),
                    fds,
                    0,
                ];
                let requested = FdRights {
                    base: Rights::from_bits(base).unwrap(),
                    inheriting: Rights::from_bits(inheriting).unwrap(),
                };
                let exceeds = !(requested.base | requested.inheriting).difference(d.inheriting).is_empty()
                    || (creat && !d.base.contains(Rights::FILE_CREATE_FILE))
                    || !d.base.contains(Rights::FILE_OPEN);
                match self.h.call(nr::FILE_OPEN, regs) {
                    Outcome::Ok([new, _]) => {
                        if exceeds {
                            return Err(format!("file_open granted {requested:?} through {d:?}"));
                        }
                        let ceiling = FdRights {
                            base: requested.base.intersection(d.inheriting),
                            inheriting: requested.inheriting.intersection(d.inheriting),
                        };
                        self.ceiling.insert(new as u32, ceiling);
                    }
                    Outcome::Err(Errno::NOTCAPABLE) => {}
                    Outcome::Err(e) if exceeds && e != Errno::NOTDIR && e != Errno::BADF => {
                        return Err(format!(
                            "file_open beyond the directory's rights gave {e:?}, not ENOTCAPABLE"
                        ));
                    }
                    _ => {}
                }
            }
            Op::Shm => {
                if let Outcome::Ok([fd, _]) = self.h.call(nr::FD_CREATE1, [0x70, 0, 0, 0, 0, 0]) {
                    self.ceiling.insert(fd as u32, sys::rights::max_for(Filetype::SHARED_MEMORY));
                }
            }
            Op::SocketPair(stream) => {
                let ty = if stream { Filetype::SOCKET_STREAM } else { Filetype::SOCKET_DGRAM };
                if let Outcome::Ok([a, b]) = self.h.call(nr::FD_CREATE2, [u64::from(ty.raw()), 0, 0, 0, 0, 0])
                {
                    self.ceiling.insert(a as u32, sys::rights::max_for(ty));
                    self.ceiling.insert(b as u32, sys::rights::max_for(ty));
                }
            }
        }
        self.check()
    }

    /// Every descriptor within its ceiling; ceilings drop to what is seen.
    fn check(&mut self) -> Result<(), String> {
        let fds: Vec<u32> = self.ceiling.keys().copied().collect();
        for fd in fds {
            let Some(seen) = self.observe(fd) else {
                return Err(format!("fd {fd} vanished"));
            };
            let ceiling = self.ceiling[&fd];
            if !seen.within(ceiling) {
                return Err(format!("fd {fd}: rights {seen:?} exceed {ceiling:?}"));
            }
            self.ceiling.insert(fd, seen);
        }
        Ok(())
    }
}

#[test]
fn rights_never_grow() {
    let mut runner = host_tests::seed::runner("rights", SEQUENCES);
    let (sequences, ops, violations) = (Cell::new(0u32), Cell::new(0u64), Cell::new(0u32));
    let result = runner.run(&prop::collection::vec(op(), 1..30), |seq| {
        sequences.set(sequences.get() + 1);
        let mut w = World::new();
        for op in &seq {
            ops.set(ops.get() + 1);
            if let Err(v) = w.step(op) {
                violations.set(violations.get() + 1);
                prop_assert!(false, "after {op:?}: {v}");
            }
        }
        Ok(())
    });
    println!(
        "rights monotonicity: {} sequences, {} operations, {} violations",
        sequences.get(),
        ops.get(),
        violations.get()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(sequences.get() >= SEQUENCES);
}
