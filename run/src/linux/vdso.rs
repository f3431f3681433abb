//! The vDSO the guest links its syscalls against.
//!
//! It is the generated vDSO of the host's architecture assembled with
//! `CLOUDABI_VDSO_EMULATED` (see `build.rs`): each `cloudabi_sys_*`
//! function makes the same register setup as for the kernel, but instead of
//! `syscall` (x86-64) or `svc #0` (aarch64) it calls through the hidden slot
//! `cloudabi_vdso_entry`, which is pointed at this backend's entry code when
//! the vDSO is mapped.

use super::elf;
use super::loader::{PAGE, map_anonymous, protect};

static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cloudabi_vdso_emulated.so"));

/// Maps a copy of the vDSO with its trap slot pointing at `entry`; returns
/// its base address (the value of `AT_SYSINFO_EHDR`).
pub fn map(entry: u64) -> Result<u64, String> {
    let img = elf::parse(IMAGE).map_err(|e| format!("built-in vDSO: {e}"))?;
    let slot =
        elf::symbol(&img, "cloudabi_vdso_entry").ok_or("built-in vDSO: no cloudabi_vdso_entry slot")?;
    let (_, hi) = elf::span(&img);
    let size = hi.next_multiple_of(PAGE);
    let base = map_anonymous(size).map_err(|e| format!("mapping the vDSO: {e}"))?;
    for p in img.phdrs.iter().filter(|p| p.p_type == elf::PT_LOAD) {
        let src = &IMAGE[p.offset as usize..(p.offset + p.filesz) as usize];
        // SAFETY: the destination lies inside the fresh mapping of `size`
        // bytes (all segments end below `hi`).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), (base + p.vaddr) as *mut u8, src.len()) };
    }
    // SAFETY: the slot is an 8-byte object inside the mapping.
    unsafe { ((base + slot) as *mut u64).write_unaligned(entry) };
    protect(base, size, libc::PROT_READ | libc::PROT_EXEC)
        .map_err(|e| format!("protecting the vDSO: {e}"))?;
    Ok(base)
}
