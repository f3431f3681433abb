//! Capsicum limits of descriptors (`struct filecaps`): rights, fcntls and
//! the ioctl list, an `M_FILECAPS` allocation owned by whatever holds the
//! limits (a descriptor table entry, a descriptor in flight, the module's
//! own `struct filecaps`). Every list is counted (account.rs, kind
//! `malloc(M_FILECAPS)`) from its allocation to its free, so a list the
//! module forgets to free (or to hand over) shows up as leaked.
//!
//! Semantics from FreeBSD 15.0 sys/kern/kern_descrip.c (`filecaps_copy`,
//! `filecaps_move`, `filecaps_fill`, `filecaps_free`) and
//! sys/kern/sys_capability.c (`kern_cap_ioctls_limit`,
//! `cap_ioctl_limit_check`).

use std::ffi::c_int;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;
use sys::rights::{CapRights, cap};

use crate::account;

/// The accounting kind of ioctl lists.
const KIND: &str = "malloc(M_FILECAPS)";

/// `IOCTLS_MAX_COUNT` (sys/capsicum.h): the longest ioctl list.
const IOCTLS_MAX_COUNT: usize = 256;

/// A descriptor's limits, owned: `ioctls` (when not 0) is a counted
/// `M_FILECAPS` allocation of `nioctls` entries; `nioctls` is -1 for "no
/// list" (every ioctl allowed when `CAP_IOCTL` is held).
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub rights: CapRights,
    pub fcntls: u32,
    pub ioctls: usize,
    pub nioctls: i16,
}

impl Caps {
    /// `filecaps_fill`: every right, no ioctl list, every fcntl (what
    /// `_finstall` gives a descriptor installed without limits).
    pub fn unlimited() -> Caps {
        Caps { rights: super::files::CAP_ALL, fcntls: CAP_FCNTL_ALL, ioctls: 0, nioctls: -1 }
    }

    /// `rights` without an ioctl list; every fcntl if `CAP_FCNTL` is
    /// among them (what `cap_rights_limit(2)` alone leaves).
    pub fn listless(rights: CapRights) -> Caps {
        let fcntls = if rights.has(cap::FCNTL) { CAP_FCNTL_ALL } else { 0 };
        Caps { rights, fcntls, ioctls: 0, nioctls: -1 }
    }

    /// `rights` with a new counted list holding `list` (what
    /// `cap_rights_limit(2)` then `cap_ioctls_limit(2)` leave).
    pub fn with_list(rights: CapRights, list: &[u64]) -> Caps {
        let mut c = Caps::listless(rights);
        c.ioctls = alloc_list(list);
        c.nioctls = list.len() as i16;
        c
    }

    /// The entries of the list (empty without one).
    pub fn list(&self) -> &[u64] {
        if self.ioctls == 0 || self.nioctls <= 0 {
            return &[];
        }
        // SAFETY: a live list of `nioctls` entries owned by these limits.
        unsafe { std::slice::from_raw_parts(self.ioctls as *const u64, self.nioctls as usize) }
    }

    /// `filecaps_copy`: the same limits with a new copy of the list.
    pub fn copy(&self) -> Caps {
        let mut c = *self;
        if self.ioctls != 0 {
            if self.nioctls <= 0 {
                crate::fatal(&format!("panic: fc_ioctls != NULL, but fc_nioctls={}", self.nioctls));
            }
            c.ioctls = alloc_list(self.list());
        }
        c
    }

    /// `filecaps_free`: frees the list; the limits are gone.
    pub fn free(self) {
        free_list(self.ioctls);
    }

    /// The limits as the module's `struct filecaps` (the list shared).
    pub fn to_filecaps(self) -> Filecaps {
        Filecaps {
            fc_rights: CapRightsT { cr_rights: self.rights.0 },
            fc_ioctls: self.ioctls as *mut _,
            fc_nioctls: self.nioctls,
            fc_fcntls: self.fcntls,
        }
    }

    /// `filecaps_move` out of the module's `*fc` (after
    /// `filecaps_validate`): the limits, list included, become ours and
    /// `*fc` is zeroed; the module must not free the list any more.
    ///
    /// # Safety
    /// `fc` is the module's valid limits record.
    pub unsafe fn take(fc: *mut Filecaps) -> Caps {
        // SAFETY: caller contract.
        let f = unsafe { &mut *fc };
        validate(f);
        let c = Caps {
            rights: CapRights(f.fc_rights.cr_rights),
            fcntls: f.fc_fcntls,
            ioctls: f.fc_ioctls as usize,
            nioctls: f.fc_nioctls,
        };
        // SAFETY: bzero(src) as filecaps_move does.
        unsafe { std::ptr::write_bytes(fc, 0, 1) };
        c
    }
}

/// `filecaps_validate` (INVARIANTS kernels panic): fcntls within
/// `CAP_FCNTL_ALL`, a list only with a positive count, a count within
/// `IOCTLS_MAX_COUNT`, and every list we see is one we counted.
fn validate(f: &Filecaps) {
    if f.fc_fcntls & !CAP_FCNTL_ALL != 0 {
        crate::fatal("panic: filecaps_validate: invalid fcntls");
    }
    if !f.fc_ioctls.is_null() {
        if f.fc_nioctls <= 0 || f.fc_nioctls as usize > IOCTLS_MAX_COUNT {
            crate::fatal(&format!("panic: filecaps_validate: fc_nioctls {} with a list", f.fc_nioctls));
        }
        if !account::holds(KIND, f.fc_ioctls as usize) {
            crate::fatal("filecaps: an ioctl list that is not an M_FILECAPS allocation");
        }
    }
}

/// A new counted `M_FILECAPS` list holding `list` (0 for an empty one).
fn alloc_list(list: &[u64]) -> usize {
    if list.is_empty() {
        return 0;
    }
    let size = size_of_val(list);
    let p =
        super::malloc::alloc_counted(KIND, size, false, format!("an ioctl list of {} entries", list.len()));
    // SAFETY: a fresh allocation of `size` bytes.
    unsafe { std::ptr::copy_nonoverlapping(list.as_ptr(), p.cast::<u64>(), list.len()) };
    p as usize
}

/// `free(p, M_FILECAPS)`; NULL is nothing. Freeing a list that is not
/// counted (not allocated as M_FILECAPS, or freed twice) is fatal.
fn free_list(p: usize) {
    if p == 0 {
        return;
    }
    account::give(KIND, p);
    // SAFETY: a counted allocation from alloc_counted (libc malloc).
    unsafe { libc::free(p as *mut libc::c_void) };
}

/// `filecaps_copy(9)` (kern_descrip.c, 15.0): `*dst = *src` with a new
/// `M_FILECAPS` copy of the list (`M_WAITOK`); with `locked` false and a
/// list it copies nothing and returns false. `src` stays the caller's.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn filecaps_copy(src: *const Filecaps, dst: *mut Filecaps, locked: bool) -> bool {
    // SAFETY: the module's records.
    let s = unsafe { &*src };
    if !s.fc_ioctls.is_null() && !locked {
        return false;
    }
    // SAFETY: memcpy(dst, src) as filecaps_copy does.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, 1) };
    if s.fc_ioctls.is_null() {
        return true;
    }
    if s.fc_nioctls <= 0 {
        crate::fatal(&format!("panic: fc_ioctls != NULL, but fc_nioctls={}", s.fc_nioctls));
    }
    // SAFETY: the module's list of fc_nioctls entries.
    let list = unsafe { std::slice::from_raw_parts(s.fc_ioctls.cast::<u64>(), s.fc_nioctls as usize) };
    // SAFETY: the caller's out-parameter.
    unsafe { (*dst).fc_ioctls = alloc_list(list) as *mut _ };
    true
}

/// `filecaps_free(9)` (kern_descrip.c, 15.0): `free(fc_ioctls,
/// M_FILECAPS)`, then the whole record zeroed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn filecaps_free(fcaps: *mut Filecaps) {
    // SAFETY: the module's record.
    unsafe {
        free_list((*fcaps).fc_ioctls as usize);
        std::ptr::write_bytes(fcaps, 0, 1);
    }
}

/// `kern_cap_ioctls_limit(9)` (sys_capability.c, 15.0): replaces the
/// descriptor's list with `cmds` (`ncmds` entries), which it takes over
/// and frees on every path (the replaced list on success): `EINVAL` when
/// `ncmds > IOCTLS_MAX_COUNT`, `EBADF` for a closed descriptor,
/// `ENOTCAPABLE` unless every new entry is in the current list
/// (`cap_ioctl_limit_check`; no current list, -1, allows any).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kern_cap_ioctls_limit(
    _td: *mut Thread,
    fd: c_int,
    cmds: *mut std::ffi::c_ulong,
    ncmds: usize,
) -> c_int {
    let cmds = cmds as usize;
    if cmds != 0 && !account::holds(KIND, cmds) {
        crate::fatal("kern_cap_ioctls_limit: a list that is not an M_FILECAPS allocation");
    }
    if ncmds > IOCTLS_MAX_COUNT {
        free_list(cmds);
        return EINVAL;
    }
    let new: &[u64] = if cmds == 0 || ncmds == 0 {
        &[]
    } else {
        // SAFETY: the module's list of `ncmds` entries.
        unsafe { std::slice::from_raw_parts(cmds as *const u64, ncmds) }
    };
    let r = super::files::with_entry(fd, |caps| {
        if caps.nioctls != -1 {
            let old = caps.list();
            if (caps.nioctls as usize) < ncmds || !new.iter().all(|c| old.contains(c)) {
                return Err(ENOTCAPABLE);
            }
        }
        let old = std::mem::replace(&mut caps.ioctls, cmds);
        caps.nioctls = ncmds as i16;
        Ok(old)
    });
    match r {
        Ok(old) => {
            free_list(old);
            0
        }
        Err(e) => {
            free_list(cmds);
            e
        }
    }
}
