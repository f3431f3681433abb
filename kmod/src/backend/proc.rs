//! Processes: exec with a new descriptor table, exit, fork with a process
//! descriptor, signals to oneself.

use core::convert::Infallible;
use core::ffi::{c_int, c_void};
use core::ptr;

use abi::*;
use sys::backend::*;

use super::{FileRef, FreeBsd, KernList, OwnedCaps, fdrop};
use crate::consts::*;
use crate::convert;
use crate::ffi::access;
use crate::ffi::kern::{ForkReq, ImageArgs};
use crate::ffi::kpi;
use crate::ffi::signal::KillArgs;
use crate::ffi::types::Vmspace;

impl FreeBsd {
    /// Copies the argument data into a fresh exec argument buffer: the
    /// bytes and a NUL, counted as arguments by their NULs (at least one),
    /// executable given by descriptor (fexecve).
    fn exec_args(&mut self, args: &mut ImageArgs, data: UserRange<u8>, exe: c_int) -> Result<(), Errno> {
        // SAFETY: `args` is zeroed; exec_alloc_args attaches a buffer and
        // exec_args_add_fname(NULL) prepares it for arguments (endp,
        // begin_argv, stringspace = ARG_MAX).
        let e = unsafe {
            match kpi::exec_alloc_args(args) {
                0 => kpi::exec_args_add_fname(args, ptr::null(), UIO_SYSSPACE),
                e => e,
            }
        };
        self.check(e)?;
        let len = usize::try_from(data.len).map_err(|_| Errno::E2BIG)?;
        let room = usize::try_from(args.stringspace).unwrap_or(0);
        if len >= room || args.endp.is_null() {
            return Err(Errno::E2BIG);
        }
        // SAFETY: `endp` has `stringspace` > len bytes of room; copyin
        // checks the user range.
        let e = unsafe { kpi::copyin(data.ptr.addr() as *const c_void, args.endp.cast(), len) };
        self.check(e)?;
        // SAFETY: the `len` bytes just copied, plus the terminator.
        let argc = unsafe {
            *args.endp.add(len) = 0;
            convert::exec_argc(core::slice::from_raw_parts(args.endp.cast::<u8>(), len))
        };
        // SAFETY: within the buffer, as checked above.
        args.endp = unsafe { args.endp.add(len + 1) };
        args.stringspace -= (len + 1) as c_int;
        args.argc = c_int::try_from(argc).map_err(|_| Errno::E2BIG)?;
        args.fd = exe;
        Ok(())
    }

    /// After a successful exec: the descriptor table becomes exactly the
    /// listed files, renumbered 0..n-1, each with the Capsicum limits it
    /// had. Nothing can fail the exec any more; a file that cannot be
    /// installed is dropped.
    fn install_exec_fds(&mut self, list: &mut KernList<FileRef>) {
        // SAFETY: the process is single-threaded (pre_execve); closing
        // every descriptor of the new image's table.
        unsafe { kpi::kern_close_range(self.td, 0, 0, u32::MAX) };
        for f in list.drain() {
            let (fp, mut caps) = f.into_raw();
            let mut fd: c_int = -1;
            // SAFETY: installs our reference at the lowest free number
            // (the next one, the table being empty) with the limits, which
            // finstall_refed takes over on success.
            let e = unsafe { kpi::finstall_refed(self.td, fp, &mut fd, 0, caps.as_mut_ptr()) };
            if e != 0 {
                // SAFETY: the reference is still ours after a failed
                // install (the limits are freed by OwnedCaps).
                unsafe { fdrop(fp) };
            }
        }
    }
}

impl ProcOps for FreeBsd {
    fn proc_exec(
        &mut self,
        exe: &FileRef,
        data: UserRange<u8>,
        fds: &mut dyn FdList<FileRef>,
    ) -> Result<Infallible, Errno> {
        let mut list = KernList::new(usize::try_from(fds.len()).map_err(|_| Errno::E2BIG)?)?;
        while let Some((_, file, _)) = fds.next(self)? {
            if list.push(file).is_err() {
                return Err(Errno::E2BIG);
            }
        }
        let mut old: *mut Vmspace = ptr::null_mut();
        // SAFETY: single-threads the process for the exec (ERESTART if
        // another thread is already doing so) and records the vmspace.
        let e = unsafe { kpi::pre_execve(self.td, &mut old) };
        self.check(e)?;
        // SAFETY: an all-zero image_args is what exec_alloc_args expects.
        let mut args: ImageArgs = unsafe { core::mem::zeroed() };
        let e = match self.exec_args(&mut args, data, exe.fd()) {
            // SAFETY: fexecve(2) with the prepared arguments; kern_execve
            // frees them on every path and returns EJUSTRETURN on success
            // (the registers are the new image's).
            Ok(()) => unsafe { kpi::kern_execve(self.td, &mut args, ptr::null_mut(), old) },
            Err(err) => {
                // SAFETY: the buffer (if any) exec_alloc_args attached.
                unsafe { kpi::exec_free_args(&mut args) };
                crate::errno::to_native(err)
            }
        };
        if e == EJUSTRETURN {
            self.install_exec_fds(&mut list);
        }
        // SAFETY: ends the single-threading (SINGLE_EXIT after success).
        unsafe { kpi::post_execve(self.td, e, old) };
        match self.check(e) {
            Ok(()) => Err(Errno::INVAL),
            Err(err) => Err(err),
        }
    }

    fn proc_exit(&mut self, code: u32) -> ! {
        // SAFETY: ends the current process.
        unsafe { kpi::exit1(self.td, code as c_int, 0) }
    }

    fn proc_fork(&mut self, rights: FdRights) -> Result<(Fd, Tid), Errno> {
        let mut fd: c_int = -1;
        let mut caps = OwnedCaps::exact(rights);
        let mut fr = ForkReq {
            fr_flags: RFFDG | RFPROC | RFPROCDESC,
            fr_pages: 0,
            fr_pidp: ptr::null_mut(),
            fr_procp: ptr::null_mut(),
            fr_pd_fd: &mut fd,
            fr_pd_flags: 0,
            fr_pd_fcaps: caps.as_mut_ptr(),
            fr_flags2: 0,
        };
        // SAFETY: pdfork(2): a copy of the calling thread in a new process
        // with a copy of the descriptor table; the parent gets a process
        // descriptor with `caps` (taken over with the descriptor; freed by
        // OwnedCaps if fork1 fails first). The child returns through
        // sv_schedtail.
        let e = unsafe { kpi::fork1(self.td, &mut fr) };
        self.check(e)?;
        Ok((Fd::new(fd as u32), self.current_tid_raw()))
    }

    fn proc_raise(&mut self, sig: Signal) -> Result<(), Errno> {
        // SAFETY: the current process.
        let pid = unsafe { access::p_pid(access::td_proc(self.td)) };
        let signum = convert::native_signal(sig);
        // The signal takes the process's current action, as the in-tree
        // cloudabi_sys_proc_raise (pksignal, no reset) did: SIGPIPE, which
        // exec sets to ignored for every CloudABI process, is discarded.
        let mut args = KillArgs { pid, _pad0: [0; 4], signum, _pad1: [0; 4] };
        // SAFETY: kill(2) of the caller's own process (allowed in
        // capability mode).
        let e = unsafe { kpi::sys_kill(self.td, &mut args) };
        self.check(e)
    }
}

impl FreeBsd {
    fn current_tid_raw(&self) -> Tid {
        // SAFETY: the current thread.
        Tid::new(unsafe { access::td_tid(self.td) } as u32)
    }
}
