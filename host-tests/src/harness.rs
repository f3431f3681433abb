//! Drives the syscall core with a model backend the way a process would:
//! arguments in registers, structures in (model) user memory.

use std::panic::{AssertUnwindSafe, catch_unwind};

use abi::*;

use crate::model::{Exited, Model, USER_BASE};

/// Size of the model's user memory.
pub const MEM: usize = 1 << 20;

/// An address that is never mapped in the model.
pub const BAD: u64 = 0xdead_0000;

/// What a call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok([u64; 2]),
    Err(Errno),
    /// `proc_exit` or `thread_exit` ended the (model) process or thread.
    Exited(u32),
}

pub struct Harness {
    pub m: Model,
    next: u64,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness { m: Model::new(MEM), next: USER_BASE }
    }

    /// Forgets all scratch allocations.
    pub fn reset_scratch(&mut self) {
        self.next = USER_BASE;
    }

    /// Copies `data` into user memory (8-byte aligned) and returns its
    /// address.
    pub fn put(&mut self, data: &[u8]) -> u64 {
        let addr = self.alloc(data.len());
        self.m.poke(addr, data);
        addr
    }

    /// Reserves `len` zeroed bytes of user memory.
    pub fn alloc(&mut self, len: usize) -> u64 {
        let addr = self.next;
        self.next = (self.next + len as u64 + 7) & !7;
        assert!(self.next <= USER_BASE + MEM as u64, "model memory exhausted");
        self.m.poke(addr, &vec![0; len]);
        addr
    }

    pub fn put_pod<T: Pod>(&mut self, v: &T) -> u64 {
        self.put(v.as_bytes())
    }

    pub fn get_pod<T: Pod>(&self, addr: u64) -> T {
        T::from_bytes(&self.m.peek(addr, std::mem::size_of::<T>())).unwrap()
    }

    /// Runs one syscall. A panic other than a model exit is a bug in the
    /// core and is propagated.
    pub fn call(&mut self, number: u32, regs: [u64; 6]) -> Outcome {
        quiet_exits();
        let m = &mut self.m;
        match catch_unwind(AssertUnwindSafe(|| sys::dispatch(m, u64::from(number), &regs))) {
            Ok(Ok(r)) => Outcome::Ok(r),
            Ok(Err(e)) => Outcome::Err(e),
            Err(payload) => match payload.downcast::<Exited>() {
                Ok(e) => Outcome::Exited(e.0),
                Err(p) => std::panic::resume_unwind(p),
            },
        }
    }

    pub fn ok(&mut self, number: u32, regs: [u64; 6]) -> [u64; 2] {
        match self.call(number, regs) {
            Outcome::Ok(r) => r,
            other => panic!("syscall {} failed: {other:?}", SYSCALLS[number as usize].name),
        }
    }

    /// `fd_stat_get` through the core.
    pub fn fdstat(&mut self, fd: u32) -> Result<Fdstat, Errno> {
        let buf = self.alloc(24);
        match self.call(nr::FD_STAT_GET, [u64::from(fd), buf, 0, 0, 0, 0]) {
            Outcome::Ok(_) => Ok(self.get_pod(buf)),
            Outcome::Err(e) => Err(e),
            Outcome::Exited(_) => unreachable!("fd_stat_get does not exit"),
        }
    }
}

/// A `lookup` register: directory fd and flags.
pub fn lookup(fd: u32, follow: bool) -> u64 {
    u64::from(fd) | (u64::from(follow) << 32)
}

/// Model exits unwind with an [`Exited`] payload; keep the panic hook from
/// printing them (other panics still print).
fn quiet_exits() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Exited>().is_none() {
                default(info);
            }
        }));
    });
}
