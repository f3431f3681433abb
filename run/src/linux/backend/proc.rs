//! Processes: fork with a process descriptor, exec, exit, signals.
//!
//! `proc_fork` is a real `fork`; the parent's descriptor for the child is a
//! Linux pidfd, which `poll` watches for `proc_terminate` and which kills
//! and reaps the child when its last reference is closed (no `PD_DAEMON`
//! in CloudABI). Only the calling thread exists in the child, which gets
//! a new thread id.

use std::convert::Infallible;
use std::sync::Arc;

use abi::*;
use sys::backend::*;

use super::{Linux, check, futex, last_errno, owned, thread};
use crate::linux::fdtable::{HostFile, P_PIDFD, Slot};

/// How a child ended, if it has: `(signal, exit code)` as a
/// `proc_terminate` event reports it. The child stays a zombie (so that
/// its status can be read again) until its descriptor is closed.
pub fn exit_status(pidfd: i32) -> Option<(Option<Signal>, u32)> {
    // SAFETY: a zeroed siginfo is a valid output buffer for waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid on our own pidfd, without reaping.
    let r = unsafe {
        libc::waitid(P_PIDFD, pidfd as libc::id_t, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
    };
    // SAFETY: si_pid/si_status are valid to read after waitid.
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if r != 0 || pid == 0 {
        return None;
    }
    Some(match info.si_code {
        libc::CLD_EXITED => (None, status as u32 & 0xff),
        _ => (Some(sys::signal::from_native(&sys::signal::LINUX, status)), 0),
    })
}

impl ProcOps for Linux {
    fn proc_exec(
        &mut self,
        exe: &Arc<HostFile>,
        data: UserRange<u8>,
        fds: &mut dyn FdList<Arc<HostFile>>,
    ) -> Result<Infallible, Errno> {
        super::exec::exec(self, exe, data, fds)
    }

    fn proc_exit(&mut self, code: u32) -> ! {
        // SAFETY: ends the whole process (every thread) with `code`.
        unsafe { libc::_exit(code as i32) }
    }

    fn proc_fork(&mut self, rights: FdRights) -> Result<(Fd, Tid), Errno> {
        let child_tid = thread::new_tid()?;
        // Hold the locks other threads may hold, so that the child's
        // copies are consistent and free.
        let table = self.table_mut();
        // The child inherits every description (fdtable.rs: flags).
        table.share_all();
        let memory = crate::linux::guestmem::lock();
        let mut members = thread::members();
        futex::before_fork();
        // SAFETY: getpid has no arguments.
        let parent = unsafe { libc::getpid() };
        // SAFETY: fork; the child only continues this syscall and returns
        // to the guest.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            thread::reset_after_fork(&mut members);
            futex::after_fork_child();
            crate::linux::fastpath::after_fork_child();
        } else {
            futex::after_fork_parent();
        }
        drop(members);
        drop(memory);
        drop(table);
        if pid < 0 {
            return Err(last_errno());
        }
        if pid == 0 {
            // The child dies with its parent process, as it would when the
            // kernel closes a FreeBSD process descriptor at exit. (Linux
            // ties this to the forking thread: `thread_exit` keeps a
            // thread that has forked alive, see `thread::forked`.)
            // SAFETY: prctl and getppid with plain integer arguments.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                if libc::getppid() != parent {
                    libc::_exit(0);
                }
            }
            crate::linux::thread::set_current_tid(child_tid);
            return Ok((Fd::PROCESS_CHILD, Tid::new(child_tid)));
        }
        // SAFETY: pidfd_open on the child we just forked (not yet reaped,
        // so the pid cannot have been reused).
        let pidfd = match owned(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32) {
            Ok(fd) => fd,
            Err(e) => {
                // Without a descriptor nobody could wait for the child.
                // SAFETY: kill and reap our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, std::ptr::null_mut(), 0);
                }
                return Err(e);
            }
        };
        thread::forked();
        let rights = sys::rights::for_new_fd(Filetype::PROCESS, rights);
        let fd = self.table_mut().insert(Slot { file: Arc::new(HostFile::process(pidfd)), rights })?;
        Ok((fd, Tid::new(child_tid)))
    }

    fn proc_raise(&mut self, sig: Signal) -> Result<(), Errno> {
        let native = sys::signal::to_native(&sys::signal::LINUX, sig);
        // SAFETY: sends a signal to this process, as FreeBSD's CloudABI
        // does; dispositions are the defaults CloudABI processes have.
        check(unsafe { libc::kill(libc::getpid(), native) }).map(|_| ())
    }
}
