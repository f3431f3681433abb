//! `kern.features.cloudabi64`, so that `feature_present("cloudabi64")`
//! (feature_present(3)) and rc.subr's `check_kern_features cloudabi64`
//! are true while the module is loaded.
//!
//! In C a module writes `FEATURE(cloudabi64, "...")`, a static sysctl in
//! the module's linker set. Without C macros the module does at load what
//! `FEATURE_ADD` expands to (sys/sysctl.h, FreeBSD 14.2 and 15.0):
//! `sysctl_add_oid(NULL, SYSCTL_CHILDREN(&sysctl___kern_features),
//! OID_AUTO, name, CTLFLAG_RD | CTLFLAG_CAPRD | CTLTYPE_INT |
//! CTLFLAG_MPSAFE, NULL, 1, sysctl_handle_int, "I", desc, "feature")`,
//! and removes the node at unload.

use core::ffi::c_int;
use core::ptr;

use crate::console;
use crate::consts::{CTLFLAG_CAPRD, CTLFLAG_MPSAFE, CTLFLAG_RD, CTLTYPE_INT, OID_AUTO};
use crate::ffi::cell::KernelCell;
use crate::ffi::kpi;
use crate::ffi::layouts::SYSCTL_OID_CHILDREN;
use crate::ffi::types::{SysctlOid, SysctlOidList};

/// The node while it exists.
static OID: KernelCell<*mut SysctlOid> = KernelCell::new(ptr::null_mut());

/// Adds the node. A failure is reported and otherwise ignored: the
/// feature flag is information, CloudABI works without it.
pub fn add() {
    // The bit pattern of CTLFLAG_RD (0x80000000) is what `int kind` holds.
    let kind = (CTLFLAG_RD | CTLFLAG_CAPRD | CTLTYPE_INT | CTLFLAG_MPSAFE) as c_int;
    // SAFETY: SYSCTL_CHILDREN(&sysctl___kern_features): the list at
    // offset SYSCTL_OID_CHILDREN of the kernel's kern.features node
    // (layouts.txt); sysctl_add_oid takes the sysctl lock itself.
    let parent = unsafe {
        (&raw const kpi::sysctl___kern_features)
            .cast::<u8>()
            .add(SYSCTL_OID_CHILDREN)
            .cast_mut()
            .cast::<SysctlOidList>()
    };
    // SAFETY: FEATURE_ADD's arguments: static NUL-terminated strings, no
    // context list, no variable (the handler reports arg2, 1).
    let oid = unsafe {
        kpi::sysctl_add_oid(
            ptr::null_mut(),
            parent,
            OID_AUTO,
            c"cloudabi64".as_ptr(),
            kind,
            ptr::null_mut(),
            1,
            Some(kpi::sysctl_handle_int),
            c"I".as_ptr(),
            c"CloudABI executables (cloudabi64.ko)".as_ptr(),
            c"feature".as_ptr(),
        )
    };
    if oid.is_null() {
        console::log(c"cannot add kern.features.cloudabi64; feature_present(3) will not see the module");
    }
    // SAFETY: module events are serialized.
    unsafe { *OID.get() = oid };
}

/// Removes the node, if it was added.
pub fn remove() {
    // SAFETY: module events are serialized.
    let oid = unsafe { core::mem::replace(&mut *OID.get(), ptr::null_mut()) };
    if !oid.is_null() {
        // SAFETY: our own node from sysctl_add_oid; del=1 frees it,
        // recurse=0 (it has no children).
        unsafe { kpi::sysctl_remove_oid(oid, 1, 0) };
    }
}
