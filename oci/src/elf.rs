//! Just enough ELF: whether a file is a CloudABI executable for a machine
//! (for the image builder), and whether an executable needs a dynamic
//! linker (the host's cloudabi-run cannot use one inside a container whose
//! root holds no libc). ELF64 little-endian only, the only kind either
//! side deals with.

use crate::Error;

/// `EI_OSABI` of CloudABI executables (cloudabi-run: run/src/linux/elf.rs).
pub const ELFOSABI_CLOUDABI: u8 = 17;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
const PT_INTERP: u32 = 3;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;

/// The fields of an ELF64 header this crate looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub osabi: u8,
    pub machine: u16,
    phoff: u64,
    phnum: u16,
}

fn u16_at(d: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([d[at], d[at + 1]])
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&d[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The header of an ELF64 little-endian file.
pub fn header(data: &[u8]) -> Result<Header, Error> {
    if data.len() < EHDR_SIZE || &data[..4] != b"\x7fELF" {
        return Err(Error::new("not an ELF file"));
    }
    if data[4] != 2 || data[5] != 1 {
        return Err(Error::new("not a 64-bit little-endian ELF file"));
    }
    let phentsize = u16_at(data, 54);
    let phnum = u16_at(data, 56);
    if phnum != 0 && usize::from(phentsize) != PHDR_SIZE {
        return Err(Error::new(format!("program header entries of {phentsize} bytes, not {PHDR_SIZE}")));
    }
    Ok(Header { osabi: data[7], machine: u16_at(data, 18), phoff: u64_at(data, 32), phnum })
}

/// Whether the executable names a program interpreter (`PT_INTERP`), that
/// is, needs a dynamic linker and shared libraries to start.
pub fn has_interpreter(data: &[u8]) -> Result<bool, Error> {
    let h = header(data)?;
    for i in 0..u64::from(h.phnum) {
        let at = h
            .phoff
            .checked_add(i * PHDR_SIZE as u64)
            .and_then(|a| usize::try_from(a).ok())
            .filter(|a| a.checked_add(PHDR_SIZE).is_some_and(|end| end <= data.len()))
            .ok_or_else(|| Error::new("program headers lie outside the file"))?;
        if u32_at(data, at) == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF64 header with `phdrs` program headers of the given types.
    pub(crate) fn elf(osabi: u8, machine: u16, phdrs: &[u32]) -> Vec<u8> {
        let mut d = vec![0u8; EHDR_SIZE + PHDR_SIZE * phdrs.len()];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[6] = 1;
        d[7] = osabi;
        d[16..18].copy_from_slice(&3u16.to_le_bytes());
        d[18..20].copy_from_slice(&machine.to_le_bytes());
        d[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes());
        d[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        d[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for (i, t) in phdrs.iter().enumerate() {
            let at = EHDR_SIZE + i * PHDR_SIZE;
            d[at..at + 4].copy_from_slice(&t.to_le_bytes());
        }
        d
    }

    #[test]
    fn reads_osabi_and_machine() {
        let h = header(&elf(ELFOSABI_CLOUDABI, EM_AARCH64, &[1])).unwrap();
        assert_eq!((h.osabi, h.machine), (ELFOSABI_CLOUDABI, EM_AARCH64));
    }

    #[test]
    fn finds_an_interpreter_among_program_headers() {
        assert!(!has_interpreter(&elf(0, EM_X86_64, &[6, 1, 1])).unwrap());
        assert!(has_interpreter(&elf(0, EM_X86_64, &[6, PT_INTERP, 1])).unwrap());
    }

    #[test]
    fn refuses_what_is_not_elf64_le_or_is_cut_short() {
        assert_eq!(header(b"#!/bin/sh\n").unwrap_err().0, "not an ELF file");
        let mut be = elf(0, EM_X86_64, &[]);
        be[5] = 2;
        assert!(header(&be).unwrap_err().0.contains("64-bit little-endian"));
        let mut cut = elf(0, EM_X86_64, &[1, 3]);
        cut.truncate(EHDR_SIZE + PHDR_SIZE + 10);
        assert!(has_interpreter(&cut).unwrap_err().0.contains("outside the file"));
        let mut far = elf(0, EM_X86_64, &[1]);
        far[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(has_interpreter(&far).is_err());
    }

    #[test]
    fn the_real_host_cloudabi_run_is_checked_like_any_file() {
        // This test binary itself: an ELF the parser must read without error.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(header(&me).unwrap().osabi, 0);
    }
}
