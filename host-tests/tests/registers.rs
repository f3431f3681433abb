//! Register-level robustness of the syscall core.
//!
//! 1. Random register values for every syscall number (and numbers past
//!    the end): no panic, and every failure is an errno the ABI defines.
//! 2. For every user pointer a syscall dereferences, a call that is valid
//!    except for that one pointer fails with `EFAULT`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use abi::*;
use host_tests::harness::{BAD, Harness, Outcome, lookup};
use host_tests::model::{Node, Object, USER_BASE};
use proptest::prelude::*;

/// A harness with something to work on: fd 0 the root directory, fd 1 a
/// regular file, fds 2 and 3 a socket pair, fd 4 shared memory, and a few
/// entries in the root directory.
fn world() -> Harness {
    let mut h = Harness::new();
    let file = h.m.add(0, b"file", Node::File { data: b"hello world".to_vec() });
    h.m.add(0, b"link", Node::Symlink { target: b"file".to_vec() });
    h.m.mkdir(0, b"dir");
    let all = sys::backend::FdRights { base: Rights::ALL, inheriting: Rights::ALL };
    h.m.install_at(1, Object::Node(file), all);
    let regs = [u64::from(Filetype::SOCKET_STREAM.raw()), 0, 0, 0, 0, 0];
    assert_eq!(h.ok(nr::FD_CREATE2, regs), [2, 3]);
    assert_eq!(h.ok(nr::FD_CREATE1, [u64::from(Filetype::SHARED_MEMORY.raw()), 0, 0, 0, 0, 0]), [4, 0]);
    h
}

/// Register values that hit interesting cases: small numbers (valid
/// enums, open descriptors), mapped and unmapped addresses, huge values.
fn register() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0u64..8,
        2 => 0u64..300,
        3 => (0u64..4096).prop_map(|o| USER_BASE + o),
        1 => Just(BAD),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
        1 => (0u64..8).prop_map(|fd| fd | (1 << 32)),
    ]
}

#[test]
fn random_registers_never_panic_and_give_defined_errnos() {
    const CALLS: u32 = 120_000;
    let mut runner = host_tests::seed::runner("registers", CALLS);
    struct State {
        h: Harness,
        n: u32,
        ok: u32,
        exits: u32,
        by_errno: BTreeMap<&'static str, u32>,
    }
    let st = RefCell::new(State { h: world(), n: 0, ok: 0, exits: 0, by_errno: BTreeMap::new() });
    let strategy = (0u32..52, prop::array::uniform6(register()));
    let result = runner.run(&strategy, |(number, regs)| {
        let s = &mut *st.borrow_mut();
        s.n += 1;
        if s.n.is_multiple_of(500) {
            s.h = world();
        }
        s.h.reset_scratch();
        // Put some structure in memory so pointers into it hit real data.
        s.h.put(&[1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
        match s.h.call(number, regs) {
            Outcome::Ok(_) => s.ok += 1,
            Outcome::Exited(_) => {
                s.exits += 1;
                s.h = world();
            }
            Outcome::Err(e) => {
                prop_assert!(
                    Errno::new(e.raw()).is_some() && e != Errno::SUCCESS,
                    "undefined errno {}",
                    e.raw()
                );
                if number >= 49 {
                    prop_assert_eq!(e, Errno::NOSYS);
                }
                *s.by_errno.entry(e.name().unwrap_or("?")).or_default() += 1;
            }
        }
        Ok(())
    });
    let s = st.into_inner();
    println!(
        "random registers: {} calls over 49 syscalls and 3 undefined numbers: {} succeeded, {} exited, {} failed with {} distinct errnos, 0 panics",
        s.n,
        s.ok,
        s.exits,
        s.by_errno.values().sum::<u32>(),
        s.by_errno.len()
    );
    let n = s.n;
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(n >= CALLS);
}

/// A valid call (in `world()`), described by how to build it so that any
/// one of its pointers can be replaced by a bad one.
struct Recipe {
    name: &'static str,
    number: u32,
    /// Builds the registers; `bad` is the index of the pointer to spoil
    /// (counting top-level and nested pointers in the order the builder
    /// asks for them), or `None` for the valid call.
    build: fn(&mut Harness, &mut Ptrs) -> [u64; 6],
}

/// Hands out pointers to data, spoiling the one selected.
struct Ptrs {
    bad: Option<usize>,
    next: usize,
}

impl Ptrs {
    fn ptr(&mut self, h: &mut Harness, data: &[u8]) -> u64 {
        let i = self.next;
        self.next += 1;
        let good = h.put(data);
        if self.bad == Some(i) { BAD } else { good }
    }
    fn buf(&mut self, h: &mut Harness, len: usize) -> u64 {
        self.ptr(h, &vec![0; len])
    }
    fn pod<T: Pod>(&mut self, h: &mut Harness, v: &T) -> u64 {
        self.ptr(h, v.as_bytes())
    }
}

fn iov(p: &mut Ptrs, h: &mut Harness, len: usize) -> u64 {
    let buf = p.ptr(h, &vec![b'x'; len]);
    let mut v = Iovec::ZERO;
    v.buf = UserPtr::new(buf);
    v.buf_len = len as u64;
    p.pod(h, &v)
}

fn path(p: &mut Ptrs, h: &mut Harness, s: &str) -> (u64, u64) {
    (p.ptr(h, s.as_bytes()), s.len() as u64)
}

fn recipes() -> Vec<Recipe> {
    vec![
        Recipe {
            name: "condvar_signal",
            number: nr::CONDVAR_SIGNAL,
            build: |h, p| [p.buf(h, 4), 4, 1, 0, 0, 0],
        },
        Recipe { name: "lock_unlock", number: nr::LOCK_UNLOCK, build: |h, p| [p.buf(h, 4), 4, 0, 0, 0, 0] },
        Recipe { name: "fd_read", number: nr::FD_READ, build: |h, p| [1, iov(p, h, 4), 1, 0, 0, 0] },
        Recipe { name: "fd_pread", number: nr::FD_PREAD, build: |h, p| [1, iov(p, h, 4), 1, 0, 0, 0] },
        Recipe { name: "fd_write", number: nr::FD_WRITE, build: |h, p| [1, iov(p, h, 4), 1, 0, 0, 0] },
        Recipe { name: "fd_pwrite", number: nr::FD_PWRITE, build: |h, p| [1, iov(p, h, 4), 1, 0, 0, 0] },
        Recipe { name: "fd_stat_get", number: nr::FD_STAT_GET, build: |h, p| [1, p.buf(h, 24), 0, 0, 0, 0] },
        Recipe {
            name: "fd_stat_put",
            number: nr::FD_STAT_PUT,
            build: |h, p| [1, p.pod(h, &Fdstat::ZERO), u64::from(Fdsflags::FLAGS.bits()), 0, 0, 0],
        },
        Recipe {
            name: "file_create",
            number: nr::FILE_CREATE,
            build: |h, p| {
                let (a, l) = path(p, h, "newdir");
                [0, a, l, u64::from(Filetype::DIRECTORY.raw()), 0, 0]
            },
        },
        Recipe {
            name: "file_link",
            number: nr::FILE_LINK,
            build: |h, p| {
                let (a, la) = path(p, h, "file");
                let (b, lb) = path(p, h, "hardlink");
                [lookup(0, false), a, la, 0, b, lb]
            },
        },
        Recipe {
            name: "file_open",
            number: nr::FILE_OPEN,
            build: |h, p| {
                let (a, l) = path(p, h, "file");
                let mut st = Fdstat::ZERO;
                st.fs_rights_base = Rights::FD_READ.bits();
                [lookup(0, true), a, l, 0, p.pod(h, &st), 0]
            },
        },
        Recipe {
            name: "file_readdir",
            number: nr::FILE_READDIR,
            build: |h, p| [0, p.buf(h, 64), 64, 0, 0, 0],
        },
        Recipe {
            name: "file_readlink",
            number: nr::FILE_READLINK,
            build: |h, p| {
                let (a, l) = path(p, h, "link");
                [0, a, l, p.buf(h, 16), 16, 0]
            },
        },
        Recipe {
            name: "file_rename",
            number: nr::FILE_RENAME,
            build: |h, p| {
                let (a, la) = path(p, h, "file");
                let (b, lb) = path(p, h, "renamed");
                [0, a, la, 0, b, lb]
            },
        },
        Recipe {
            name: "file_stat_fget",
            number: nr::FILE_STAT_FGET,
            build: |h, p| [1, p.buf(h, 56), 0, 0, 0, 0],
        },
        Recipe {
            name: "file_stat_fput",
            number: nr::FILE_STAT_FPUT,
            build: |h, p| [1, p.pod(h, &Filestat::ZERO), u64::from(Fsflags::SIZE.bits()), 0, 0, 0],
        },
        Recipe {
            name: "file_stat_get",
            number: nr::FILE_STAT_GET,
            build: |h, p| {
                let (a, l) = path(p, h, "file");
                [lookup(0, true), a, l, p.buf(h, 56), 0, 0]
            },
        },
        Recipe {
            name: "file_stat_put",
            number: nr::FILE_STAT_PUT,
            build: |h, p| {
                let (a, l) = path(p, h, "file");
                [lookup(0, true), a, l, p.pod(h, &Filestat::ZERO), u64::from(Fsflags::MTIM_NOW.bits()), 0]
            },
        },
        Recipe {
            name: "file_symlink",
            number: nr::FILE_SYMLINK,
            build: |h, p| {
                let (a, la) = path(p, h, "target");
                let (b, lb) = path(p, h, "newlink");
                [a, la, 0, b, lb, 0]
            },
        },
        Recipe {
            name: "file_unlink",
            number: nr::FILE_UNLINK,
            build: |h, p| {
                let (a, l) = path(p, h, "file");
                [0, a, l, 0, 0, 0]
            },
        },
        Recipe {
            name: "poll",
            number: nr::POLL,
            build: |h, p| {
                let mut s = Subscription::ZERO;
                s.set_type(Eventtype::CLOCK);
                let mut c = SubscriptionClock::ZERO;
                c.set_clock_id(Clockid::MONOTONIC);
                s.set_clock(c);
                [p.pod(h, &s), p.buf(h, 32), 1, 0, 0, 0]
            },
        },
        Recipe {
            name: "proc_exec",
            number: nr::PROC_EXEC,
            build: |h, p| [1, p.ptr(h, b"args"), 4, p.pod(h, &Fd::new(0)), 1, 0],
        },
        Recipe { name: "random_get", number: nr::RANDOM_GET, build: |h, p| [p.buf(h, 16), 16, 0, 0, 0, 0] },
        Recipe {
            name: "sock_recv",
            number: nr::SOCK_RECV,
            build: |h, p| {
                let mut ri = RecvIn::ZERO;
                ri.ri_data = UserPtr::new(iov(p, h, 4));
                ri.ri_data_len = 1;
                // No descriptors arrive in this call, so the descriptor buffer
                // is never written and is not one of the spoiled pointers.
                ri.ri_fds = UserPtr::new(h.alloc(4));
                ri.ri_fds_len = 1;
                [2, p.pod(h, &ri), p.buf(h, 64), 0, 0, 0]
            },
        },
        Recipe {
            name: "sock_send",
            number: nr::SOCK_SEND,
            build: |h, p| {
                let mut si = SendIn::ZERO;
                si.si_data = UserPtr::new(iov(p, h, 4));
                si.si_data_len = 1;
                si.si_fds = UserPtr::new(p.pod(h, &Fd::new(0)));
                si.si_fds_len = 1;
                [2, p.pod(h, &si), p.buf(h, 8), 0, 0, 0]
            },
        },
        Recipe {
            name: "thread_create",
            number: nr::THREAD_CREATE,
            build: |h, p| [p.buf(h, 32), 0, 0, 0, 0, 0],
        },
    ]
}

#[test]
fn every_bad_pointer_is_efault() {
    let mut checked = 0;
    for r in recipes() {
        // The valid call first: it must not fail with EFAULT.
        let mut h = world();
        if r.name == "sock_recv" {
            // Something to receive.
            let v = h.put(b"ping");
            let mut c = Ciovec::ZERO;
            c.buf = UserPtr::new(v);
            c.buf_len = 4;
            let cv = h.put_pod(&c);
            h.ok(nr::FD_WRITE, [3, cv, 1, 0, 0, 0]);
        }
        let mut p = Ptrs { bad: None, next: 0 };
        let regs = (r.build)(&mut h, &mut p);
        let pointers = p.next;
        let valid = h.call(r.number, regs);
        assert_ne!(valid, Outcome::Err(Errno::FAULT), "{}: the valid call failed with EFAULT", r.name);
        assert!(pointers > 0);
        for bad in 0..pointers {
            let mut h = world();
            if r.name == "sock_recv" {
                let v = h.put(b"ping");
                let mut c = Ciovec::ZERO;
                c.buf = UserPtr::new(v);
                c.buf_len = 4;
                let cv = h.put_pod(&c);
                h.ok(nr::FD_WRITE, [3, cv, 1, 0, 0, 0]);
            }
            let mut p = Ptrs { bad: Some(bad), next: 0 };
            let regs = (r.build)(&mut h, &mut p);
            assert_eq!(h.call(r.number, regs), Outcome::Err(Errno::FAULT), "{}: pointer {bad} bad", r.name);
            checked += 1;
        }
    }
    println!("bad pointers: {checked} pointers across {} syscalls, each gave EFAULT", recipes().len());
}
