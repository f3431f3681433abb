//! Threads, and the kernel side of userspace locks and condition variables.

use abi::*;

use crate::backend::*;
use crate::{sync, user};

pub(super) fn create<B: Backend + ?Sized>(b: &mut B, a: args::ThreadCreate) -> Result<Tid, Errno> {
    let attr: Threadattr = user::read(b, a.attr)?;
    let stack = attr.stack_range();
    // The stack must be a real range: the thread's TCB is carved out of its
    // top.
    stack.ptr.addr().checked_add(stack.len).ok_or(Errno::INVAL)?;
    b.thread_create(ThreadAttr {
        entry_point: attr.entry_point.addr(),
        stack: stack.ptr.addr(),
        stack_len: stack.len,
        argument: attr.argument.addr(),
    })
}

pub(super) fn exit<B: Backend + ?Sized>(
    b: &mut B,
    a: args::ThreadExit,
) -> Result<core::convert::Infallible, Errno> {
    // Wake the joiners first (errors are ignored, as FreeBSD does: the
    // thread ends either way). The thread no longer touches its stack.
    let _ = sync::unlock(b, a.lock, a.scope);
    b.thread_exit()
}

pub(super) fn yield_now<B: Backend + ?Sized>(b: &mut B, _: args::ThreadYield) -> Result<(), Errno> {
    b.thread_yield()
}

pub(super) fn lock_unlock<B: Backend + ?Sized>(b: &mut B, a: args::LockUnlock) -> Result<(), Errno> {
    sync::unlock(b, a.lock, a.scope)
}

pub(super) fn condvar_signal<B: Backend + ?Sized>(b: &mut B, a: args::CondvarSignal) -> Result<(), Errno> {
    sync::condvar_signal(b, a.condvar, a.scope, a.nwaiters.raw())
}
