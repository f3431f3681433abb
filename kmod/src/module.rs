//! The module declaration, in Rust: what C's `DECLARE_MODULE`,
//! `MODULE_VERSION` and `MODULE_DEPEND(kernel)` expand to (sys/module.h),
//! and the event handler.
//!
//! - `set_modmetadata_set` holds pointers to three `mod_metadata` records:
//!   MDT_MODULE ("cloudabi64" -> moduledata), MDT_VERSION
//!   ("cloudabi64", 1) and MDT_DEPEND ("kernel", version range of the
//!   release built for); kldxref and the kernel linker read them.
//! - `set_sysinit_set` holds a pointer to a `struct sysinit` that calls
//!   `module_register_init(&MODULE_DATA)` at SI_SUB_EXEC. The sysinit is in
//!   writable memory because the kernel links it into its list (`next`).
//! - amd64 klds are ET_REL and the kernel finds the sets by section name;
//!   arm64 klds are ET_DYN and the kernel looks up `__start_set_*` /
//!   `__stop_set_*`, which the final link defines because we reference
//!   them weakly (as C's `__MAKE_SET` does).

use core::ffi::{c_int, c_void};
use core::ptr;

use crate::brand;
use crate::console;
use crate::consts::*;
use crate::feature;
use crate::ffi::cell::{KernelCell, Shared};
use crate::ffi::kpi;
use crate::ffi::module::{ModDepend, ModMetadata, ModVersion, ModuleData, Sysinit};
use crate::selfcheck;
use crate::sysvec;
use crate::vdso;

/// The kernels this build may load into: the release's first
/// `__FreeBSD_version` up to the last of its major version (what
/// `MODULE_KERNEL_MAXVER` gives). 14.0-RELEASE is 1400097 (Porter's
/// Handbook); 15.0-RELEASE is 1500068 (releng/15.0 sys/sys/param.h as
/// quoted by third parties; see docs/kmod.md). Preferred: the headers
/// checked against.
#[cfg(freebsd14)]
const KERNEL_VERSIONS: ModDepend =
    ModDepend { md_ver_minimum: 1_400_097, md_ver_preferred: 1_402_000, md_ver_maximum: 1_499_999 };
#[cfg(freebsd15)]
const KERNEL_VERSIONS: ModDepend =
    ModDepend { md_ver_minimum: 1_500_068, md_ver_preferred: 1_500_068, md_ver_maximum: 1_599_999 };

static MODULE_DATA: Shared<ModuleData> =
    Shared(ModuleData { name: c"cloudabi64".as_ptr(), evhand: Some(modevent), priv_: ptr::null_mut() });
static VERSION: ModVersion = ModVersion { mv_version: 1 };
static DEPEND: ModDepend = KERNEL_VERSIONS;

static MD_MODULE: Shared<ModMetadata> = Shared(ModMetadata {
    md_version: MDT_STRUCT_VERSION,
    md_type: MDT_MODULE,
    md_data: (&raw const MODULE_DATA).cast::<c_void>(),
    md_cval: c"cloudabi64".as_ptr(),
});
static MD_VERSION: Shared<ModMetadata> = Shared(ModMetadata {
    md_version: MDT_STRUCT_VERSION,
    md_type: MDT_VERSION,
    md_data: (&raw const VERSION).cast::<c_void>(),
    md_cval: c"cloudabi64".as_ptr(),
});
static MD_DEPEND: Shared<ModMetadata> = Shared(ModMetadata {
    md_version: MDT_STRUCT_VERSION,
    md_type: MDT_DEPEND,
    md_data: (&raw const DEPEND).cast::<c_void>(),
    md_cval: c"kernel".as_ptr(),
});

/// The kernel only reads this set, but it is kept writable like
/// `set_sysinit_set`: the amd64 kld is laid out page-aligned .text, then
/// .rodata, then everything writable, so no read-only section shares a
/// page with writable data.
#[used]
#[unsafe(link_section = "set_modmetadata_set")]
static MODMETADATA_SET: KernelCell<[*const ModMetadata; 3]> =
    KernelCell::new([&raw const MD_MODULE.0, &raw const MD_VERSION.0, &raw const MD_DEPEND.0]);

/// The sysinit (`DECLARE_MODULE`'s `SYSINIT(cloudabi64module, ...)`).
#[unsafe(no_mangle)]
static cloudabi64_sysinit: KernelCell<Sysinit> = KernelCell::new(Sysinit {
    subsystem: SI_SUB_EXEC,
    order: SI_ORDER_ANY,
    next: ptr::null_mut(),
    func: Some(kpi::module_register_init),
    udata: (&raw const MODULE_DATA).cast::<c_void>(),
});

#[used]
#[unsafe(link_section = "set_sysinit_set")]
static SYSINIT_SET: KernelCell<[*mut Sysinit; 1]> = KernelCell::new([cloudabi64_sysinit.get()]);

// The arm64 kernel linker finds linker sets through these symbols; weak
// references make the final link define them (sys/linker_set.h does the
// same with __WEAK). They are used from a retained section, so that the
// `--gc-sections` of the first link keeps the references.
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".weak __start_set_modmetadata_set",
    ".weak __stop_set_modmetadata_set",
    ".weak __start_set_sysinit_set",
    ".weak __stop_set_sysinit_set",
    ".pushsection .data.cloudabi64_set_bounds,\"awR\",%progbits",
    ".balign 8",
    ".quad __start_set_modmetadata_set",
    ".quad __stop_set_modmetadata_set",
    ".quad __start_set_sysinit_set",
    ".quad __stop_set_sysinit_set",
    ".popsection",
);

/// The module event handler (`modeventhand_t`).
///
/// # Safety
/// Called by the kernel's module code, serialized with all other events.
unsafe extern "C" fn modevent(_module: *mut c_void, event: c_int, _arg: *mut c_void) -> c_int {
    match event {
        MOD_LOAD => load(),
        MOD_UNLOAD => unload(),
        MOD_QUIESCE if brand::in_use() => EBUSY,
        MOD_QUIESCE | MOD_SHUTDOWN => 0,
        _ => ENOTSUP, // EOPNOTSUPP, what module(9) asks for
    }
}

/// MOD_LOAD: self-check, vDSO, brand, in that order; undone on failure.
fn load() -> c_int {
    if let Err(e) = selfcheck::run() {
        console::log(c"refusing to load: a self-check above failed (see DIAGNOSTICS in cloudabi64(4))");
        return e;
    }
    match vdso::create() {
        Ok(obj) => sysvec::install_vdso(obj),
        Err(e) => return e,
    }
    if let Err(e) = brand::register() {
        if let Some(obj) = sysvec::take_vdso() {
            vdso::destroy(obj);
        }
        return e;
    }
    feature::add();
    // Only under boot -v, as linux(4) announces its brands.
    // SAFETY: a kernel int, read once.
    if unsafe { ptr::read_volatile(&raw const kpi::bootverbose) } != 0 {
        console::log(c"CloudABI ELF64 brand registered");
    }
    0
}

/// MOD_UNLOAD: `EBUSY` while a process uses the sysentvec; otherwise the
/// brand and the vDSO go. Also called after a failed MOD_LOAD, so every
/// step checks what is actually there.
fn unload() -> c_int {
    if let Err(e) = brand::unregister() {
        return e;
    }
    feature::remove();
    if let Some(obj) = sysvec::take_vdso() {
        vdso::destroy(obj);
    }
    0
}
