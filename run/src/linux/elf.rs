//! Reading and checking ELF images: the executable (a CloudABI static PIE)
//! and the vDSO. Every way an image can be unusable gets its own message.

use std::fmt;

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
/// The machine the Linux backend runs programs for: the one it runs on.
#[cfg(not(target_arch = "aarch64"))]
pub const EM_HOST: u16 = EM_X86_64;
#[cfg(target_arch = "aarch64")]
pub const EM_HOST: u16 = EM_AARCH64;
pub const ELFOSABI_CLOUDABI: u8 = 17;
pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
const SHT_SYMTAB: u32 = 2;

/// Why an image was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfError(pub String);

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ElfError> {
    Err(ElfError(msg.into()))
}

/// A program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

/// The parts of an ELF64 header the loader uses.
#[derive(Debug, Clone)]
pub struct Image<'a> {
    pub data: &'a [u8],
    pub e_type: u16,
    pub machine: u16,
    pub osabi: u8,
    pub entry: u64,
    pub phoff: u64,
    pub phdrs: Vec<Phdr>,
}

fn u16_at(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(off..off + 4)?.try_into().ok()?))
}
fn u64_at(d: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(off..off + 8)?.try_into().ok()?))
}

/// Parses the ELF header and program headers, checking they are in bounds.
pub fn parse(data: &[u8]) -> Result<Image<'_>, ElfError> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return err("not an ELF file");
    }
    if data.len() < 64 {
        return err(format!("truncated ELF header ({} bytes, need 64)", data.len()));
    }
    if data[4] != 2 {
        return err("not a 64-bit ELF file (CloudABI here is LP64 only)");
    }
    if data[5] != 1 {
        return err("not a little-endian ELF file");
    }
    let (e_type, machine) = (u16_at(data, 16).unwrap_or(0), u16_at(data, 18).unwrap_or(0));
    let entry = u64_at(data, 24).unwrap_or(0);
    let phoff = u64_at(data, 32).unwrap_or(0);
    let phentsize = u16_at(data, 54).unwrap_or(0);
    let phnum = u16_at(data, 56).unwrap_or(0);
    if phnum > 0 && phentsize != 56 {
        return err(format!("unexpected program header size {phentsize} (ELF64 uses 56)"));
    }
    let table_end = phoff.checked_add(u64::from(phnum) * 56).filter(|&e| e <= data.len() as u64);
    if table_end.is_none() {
        return err(format!(
            "truncated ELF file: {phnum} program headers at offset {phoff} run past its end"
        ));
    }
    let mut phdrs = Vec::with_capacity(usize::from(phnum));
    for i in 0..usize::from(phnum) {
        let o = phoff as usize + i * 56;
        let p = Phdr {
            p_type: u32_at(data, o).unwrap_or(0),
            flags: u32_at(data, o + 4).unwrap_or(0),
            offset: u64_at(data, o + 8).unwrap_or(0),
            vaddr: u64_at(data, o + 16).unwrap_or(0),
            filesz: u64_at(data, o + 32).unwrap_or(0),
            memsz: u64_at(data, o + 40).unwrap_or(0),
            align: u64_at(data, o + 48).unwrap_or(0),
        };
        if p.p_type == PT_LOAD || p.p_type == PT_TLS || p.p_type == PT_DYNAMIC {
            let end = p.offset.checked_add(p.filesz);
            if end.is_none_or(|e| e > data.len() as u64) {
                return err(format!(
                    "truncated ELF file: segment {i} needs bytes {}..{} but the file has {}",
                    p.offset,
                    p.offset.saturating_add(p.filesz),
                    data.len()
                ));
            }
            if p.memsz < p.filesz {
                return err(format!("malformed ELF file: segment {i} is smaller in memory than in the file"));
            }
        }
        phdrs.push(p);
    }
    Ok(Image { data, e_type, machine, osabi: data[7], entry, phoff, phdrs })
}

fn machine_name(m: u16) -> String {
    match m {
        EM_X86_64 => "x86-64".into(),
        EM_AARCH64 => "aarch64".into(),
        3 => "i386".into(),
        40 => "arm".into(),
        other => format!("machine {other}"),
    }
}

/// What to do about OS/ABI 0: GNU ld writes it for CloudABI objects (it
/// does not know the OS/ABI of the CloudABI targets), ld.lld writes 17.
pub fn osabi_hint(osabi: u8) -> &'static str {
    if osabi == 0 {
        "; OS/ABI 0 is a System V/Linux program, or a CloudABI program linked with GNU ld: link CloudABI programs with ld.lld (clang -fuse-ld=lld; docs/guest.md)"
    } else {
        ""
    }
}

/// Checks that `img` is a CloudABI executable this host can run: OSABI 17,
/// a position-independent executable (ET_DYN) without an interpreter, for
/// this machine, with loadable segments that respect W^X.
pub fn check_executable(img: &Image<'_>, host_machine: u16) -> Result<(), ElfError> {
    if img.osabi != ELFOSABI_CLOUDABI {
        return err(format!(
            "not a CloudABI executable (ELF OS/ABI is {}, CloudABI is {ELFOSABI_CLOUDABI}){}",
            img.osabi,
            osabi_hint(img.osabi)
        ));
    }
    match img.e_type {
        ET_DYN => {}
        ET_EXEC => {
            return err("not a position-independent executable (ET_EXEC); CloudABI programs are static PIEs");
        }
        t => return err(format!("not an executable (ELF type {t})")),
    }
    if img.machine != host_machine {
        return err(format!(
            "built for {}, but this machine is {}",
            machine_name(img.machine),
            machine_name(host_machine)
        ));
    }
    if img.phdrs.iter().any(|p| p.p_type == PT_INTERP) {
        return err("has a program interpreter (PT_INTERP); CloudABI executables are static");
    }
    let loads: Vec<&Phdr> = img.phdrs.iter().filter(|p| p.p_type == PT_LOAD).collect();
    if loads.is_empty() {
        return err("has no loadable segments");
    }
    for p in &loads {
        if p.flags & PF_W != 0 && p.flags & PF_X != 0 {
            return err("has a segment that is both writable and executable (CloudABI enforces W^X)");
        }
        if p.align > 1 && (p.vaddr % p.align) != (p.offset % p.align) {
            return err("has a segment whose address and file offset disagree modulo its alignment");
        }
    }
    let (lo, hi) = span(img);
    if hi.saturating_sub(lo) > 1 << 40 {
        return err("asks for more than 1 TiB of address space");
    }
    let entry_ok =
        loads.iter().any(|p| img.entry >= p.vaddr && img.entry < p.vaddr + p.memsz && p.flags & PF_X != 0);
    if !entry_ok {
        return err(format!("entry point {:#x} is not in an executable segment", img.entry));
    }
    Ok(())
}

/// Lowest and highest addresses the loadable segments occupy.
pub fn span(img: &Image<'_>) -> (u64, u64) {
    let loads = img.phdrs.iter().filter(|p| p.p_type == PT_LOAD);
    let lo = loads.clone().map(|p| p.vaddr).min().unwrap_or(0);
    let hi = loads.map(|p| p.vaddr.saturating_add(p.memsz)).max().unwrap_or(0);
    (lo, hi)
}

/// The value of a symbol in the static symbol table (`.symtab`), if any.
pub fn symbol(img: &Image<'_>, name: &str) -> Option<u64> {
    let d = img.data;
    let shoff = u64_at(d, 40)? as usize;
    let shentsize = u16_at(d, 58)? as usize;
    let shnum = u16_at(d, 60)? as usize;
    if shentsize != 64 {
        return None;
    }
    for i in 0..shnum {
        let sh = shoff + i * 64;
        if u32_at(d, sh + 4)? != SHT_SYMTAB {
            continue;
        }
        let (off, size, link) =
            (u64_at(d, sh + 24)? as usize, u64_at(d, sh + 32)? as usize, u32_at(d, sh + 40)? as usize);
        let strsh = shoff + link * 64;
        let stroff = u64_at(d, strsh + 24)? as usize;
        for s in (off..off + size).step_by(24) {
            let name_off = stroff + u32_at(d, s)? as usize;
            let end = name_off + d.get(name_off..)?.iter().position(|&b| b == 0)?;
            if &d[name_off..end] == name.as_bytes() {
                return u64_at(d, s + 8);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(osabi: u8, e_type: u16, machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64 + 56];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[7] = osabi;
        h[16..18].copy_from_slice(&e_type.to_le_bytes());
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[24..32].copy_from_slice(&0x10u64.to_le_bytes());
        h[32..40].copy_from_slice(&64u64.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&1u16.to_le_bytes());
        // One PT_LOAD, R+X, covering the file.
        h[64..68].copy_from_slice(&PT_LOAD.to_le_bytes());
        h[68..72].copy_from_slice(&(PF_R | PF_X).to_le_bytes());
        h[96..104].copy_from_slice(&120u64.to_le_bytes());
        h[104..112].copy_from_slice(&120u64.to_le_bytes());
        h
    }

    fn check(d: &[u8]) -> Result<(), ElfError> {
        check_executable(&parse(d)?, EM_X86_64)
    }

    #[test]
    fn accepts_a_minimal_cloudabi_pie() {
        assert_eq!(check(&header(17, ET_DYN, EM_X86_64)), Ok(()));
    }

    #[test]
    fn refuses_each_kind_of_bad_image() {
        let msg = |d: &[u8]| check(d).unwrap_err().0;
        assert_eq!(msg(b"#!/bin/sh\n"), "not an ELF file");
        assert_eq!(msg(&header(17, ET_DYN, EM_X86_64)[..40]), "truncated ELF header (40 bytes, need 64)");
        assert!(msg(&header(0, ET_DYN, EM_X86_64)).starts_with("not a CloudABI executable (ELF OS/ABI is 0"));
        assert!(
            msg(&header(0, ET_DYN, EM_X86_64))
                .ends_with("link CloudABI programs with ld.lld (clang -fuse-ld=lld; docs/guest.md)")
        );
        assert!(!msg(&header(9, ET_DYN, EM_X86_64)).contains("ld.lld"));
        assert!(msg(&header(17, ET_EXEC, EM_X86_64)).starts_with("not a position-independent executable"));
        assert_eq!(msg(&header(17, ET_DYN, EM_AARCH64)), "built for aarch64, but this machine is x86-64");
        // And the other way round, on an aarch64 host.
        let on_arm = check_executable(&parse(&header(17, ET_DYN, EM_X86_64)).unwrap(), EM_AARCH64);
        assert_eq!(on_arm.unwrap_err().0, "built for x86-64, but this machine is aarch64");
        assert_eq!(check_executable(&parse(&header(17, ET_DYN, EM_AARCH64)).unwrap(), EM_AARCH64), Ok(()));
        assert!(
            msg(&header(17, ET_DYN, EM_X86_64)[..100]).starts_with("truncated ELF file: 1 program headers")
        );
        let mut wx = header(17, ET_DYN, EM_X86_64);
        wx[68..72].copy_from_slice(&(PF_R | PF_W | PF_X).to_le_bytes());
        assert!(msg(&wx).contains("W^X"));
        let mut big = header(17, ET_DYN, EM_X86_64);
        big[96..104].copy_from_slice(&4096u64.to_le_bytes());
        assert!(msg(&big).starts_with("truncated ELF file: segment 0"));
        let mut interp = header(17, ET_DYN, EM_X86_64);
        interp[64..68].copy_from_slice(&PT_INTERP.to_le_bytes());
        assert!(msg(&interp).contains("PT_INTERP"));
    }
}
