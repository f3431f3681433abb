//! Memory mappings: `kern_mmap` and friends on the current process's map.
//! The core has checked W^X and the flag combinations; the kernel checks
//! the descriptor's Capsicum rights for file mappings (`CAP_MMAP` plus the
//! rights the protection needs) and its access mode.

use abi::*;
use sys::backend::*;

use super::{FileRef, FreeBsd};
use crate::consts::VM_PROT_NONE;
use crate::convert;
use crate::ffi::access;
use crate::ffi::kern::MmapReq;
use crate::ffi::kpi;

impl FreeBsd {
    /// Whether every page of `[start, end)` is mapped in the current
    /// process (`vm_map_check_protection` with no protection asked: false
    /// on a hole; it needs the map read-locked).
    fn fully_mapped(&mut self, start: usize, end: usize) -> bool {
        // SAFETY: the current process's map; read-locked around the check
        // as vm_map_check_protection requires, and unlocked on every path.
        unsafe {
            let map = access::vm_map(access::p_vmspace(access::td_proc(self.td)));
            kpi::_vm_map_lock_read(map, c"cloudabi64".as_ptr(), 0);
            let mapped = kpi::vm_map_check_protection(map, start, end, VM_PROT_NONE) != 0;
            kpi::_vm_map_unlock_read(map, c"cloudabi64".as_ptr(), 0);
            mapped
        }
    }
}

impl MemOps for FreeBsd {
    fn mem_map(
        &mut self,
        addr: u64,
        len: u64,
        prot: Mprot,
        flags: Mflags,
        file: Option<&FileRef>,
        offset: u64,
    ) -> Result<u64, Errno> {
        let req = MmapReq {
            mr_hint: addr as usize,
            mr_len: usize::try_from(len).map_err(|_| Errno::NOMEM)?,
            mr_prot: convert::prot(prot),
            mr_flags: convert::map_flags(flags),
            mr_fd: file.map_or(-1, FileRef::fd),
            mr_pos: i64::try_from(offset).map_err(|_| Errno::INVAL)?,
            mr_check_fp_fn: core::ptr::null(),
        };
        // SAFETY: mmap(2) in the current process's address space; the
        // kernel validates the request.
        let e = unsafe { kpi::kern_mmap(self.td, &req) };
        self.check(e)?;
        Ok(self.retval())
    }

    fn mem_protect(&mut self, addr: u64, len: u64, prot: Mprot) -> Result<(), Errno> {
        // SAFETY: mprotect(2) on the current process's address space.
        let e = unsafe { kpi::kern_mprotect(self.td, addr as usize, len as usize, convert::prot(prot), 0) };
        self.check(e)?;
        // FreeBSD 15.0's vm_map_protect() (vm/vm_map.c) skips holes in the
        // range; POSIX and CloudABI want ENOMEM when a page of it is not
        // mapped (found on a real 15.0 kernel: mem_protect/unmapped). The
        // mapped parts have changed by then, as Linux's mprotect leaves them.
        match convert::page_range(addr, len) {
            Some((start, end)) if !self.fully_mapped(start, end) => Err(Errno::NOMEM),
            _ => Ok(()),
        }
    }

    fn mem_advise(&mut self, addr: u64, len: u64, advice: Advice) -> Result<(), Errno> {
        // SAFETY: madvise(2) on the current process's address space.
        let e = unsafe { kpi::kern_madvise(self.td, addr as usize, len as usize, convert::madvice(advice)) };
        self.check(e)
    }

    fn mem_sync(&mut self, addr: u64, len: u64, flags: Msflags) -> Result<(), Errno> {
        // SAFETY: msync(2) on the current process's address space.
        let e = unsafe { kpi::kern_msync(self.td, addr as usize, len as usize, convert::msync_flags(flags)) };
        self.check(e)
    }

    fn mem_unmap(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        // SAFETY: munmap(2) on the current process's address space.
        let e = unsafe { kpi::kern_munmap(self.td, addr as usize, len as usize) };
        self.check(e)
    }
}
