//! Just enough ELF64 (little-endian) to inspect a kld: header, sections,
//! symbols, RELA relocations and reading through relocated pointers.

use std::fmt;

pub const ET_REL: u16 = 1;
pub const ET_DYN: u16 = 3;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_RELA: u32 = 4;
pub const SHT_DYNSYM: u32 = 11;
pub const SHF_WRITE: u64 = 1;
pub const SHF_ALLOC: u64 = 2;
pub const SHN_UNDEF: u16 = 0;
pub const STB_LOCAL: u8 = 0;
pub const STB_GLOBAL: u8 = 1;
pub const STT_SECTION: u8 = 3;
/// R_AARCH64_RELATIVE: the only relocation arm64's link_elf_reloc_local applies.
pub const R_AARCH64_RELATIVE: u32 = 1027;

#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error(msg.into()))
}

#[derive(Clone, Debug)]
pub struct Section {
    pub index: usize,
    pub name: String,
    pub kind: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub entsize: u64,
}

#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub value: u64,
    pub size: u64,
    pub kind: u8,
    pub bind: u8,
    pub shndx: u16,
}

impl Symbol {
    pub fn is_undefined(&self) -> bool {
        self.shndx == SHN_UNDEF && !self.name.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Rela {
    pub offset: u64,
    pub kind: u32,
    pub sym: u32,
    pub addend: i64,
}

pub struct Elf {
    pub data: Vec<u8>,
    pub osabi: u8,
    pub kind: u16,
    pub machine: u16,
    pub sections: Vec<Section>,
}

fn u16_at(d: &[u8], o: usize) -> Result<u16> {
    d.get(o..o + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| Error(format!("truncated at {o}")))
}

fn u32_at(d: &[u8], o: usize) -> Result<u32> {
    d.get(o..o + 4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .ok_or_else(|| Error(format!("truncated at {o}")))
}

fn u64_at(d: &[u8], o: usize) -> Result<u64> {
    d.get(o..o + 8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .ok_or_else(|| Error(format!("truncated at {o}")))
}

fn c_str(d: &[u8], o: usize) -> Result<String> {
    let tail = d.get(o..).ok_or_else(|| Error(format!("string offset {o} out of range")))?;
    let end = tail.iter().position(|&b| b == 0).ok_or_else(|| Error("unterminated string".into()))?;
    Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
}

impl Elf {
    pub fn parse(data: Vec<u8>) -> Result<Elf> {
        if data.len() < 64 || &data[..4] != b"\x7fELF" {
            return err("not an ELF file");
        }
        if data[4] != 2 || data[5] != 1 {
            return err(format!("not ELF64 little-endian (class {}, data {})", data[4], data[5]));
        }
        let osabi = data[7];
        let kind = u16_at(&data, 16)?;
        let machine = u16_at(&data, 18)?;
        let shoff = u64_at(&data, 40)? as usize;
        let shentsize = u16_at(&data, 58)? as usize;
        let shnum = u16_at(&data, 60)? as usize;
        let shstrndx = u16_at(&data, 62)? as usize;
        let mut sections = Vec::new();
        for i in 0..shnum {
            let b = shoff + i * shentsize;
            sections.push(Section {
                index: i,
                name: String::new(),
                kind: u32_at(&data, b + 4)?,
                flags: u64_at(&data, b + 8)?,
                addr: u64_at(&data, b + 16)?,
                offset: u64_at(&data, b + 24)?,
                size: u64_at(&data, b + 32)?,
                link: u32_at(&data, b + 40)?,
                info: u32_at(&data, b + 44)?,
                entsize: u64_at(&data, b + 56)?,
            });
            let name_off = u32_at(&data, b)? as usize;
            sections[i].name = name_off.to_string(); // resolved below
        }
        let strtab = sections
            .get(shstrndx)
            .map(|s| s.offset as usize)
            .ok_or_else(|| Error("no section names".into()))?;
        for s in &mut sections {
            let off: usize = s.name.parse().unwrap_or(0);
            s.name = c_str(&data, strtab + off)?;
        }
        Ok(Elf { data, osabi, kind, machine, sections })
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub fn bytes(&self, s: &Section) -> Result<&[u8]> {
        if s.kind == 8 {
            return err(format!("{} has no file contents (NOBITS)", s.name));
        }
        self.data
            .get(s.offset as usize..(s.offset + s.size) as usize)
            .ok_or_else(|| Error(format!("{} is truncated", s.name)))
    }

    /// Symbols of a SYMTAB or DYNSYM section.
    pub fn symbols_of(&self, s: &Section) -> Result<Vec<Symbol>> {
        let data = self.bytes(s)?;
        let strtab =
            self.sections.get(s.link as usize).ok_or_else(|| Error("symbol table without strings".into()))?;
        let mut out = Vec::new();
        for e in data.chunks_exact(24) {
            let name = c_str(&self.data, strtab.offset as usize + u32_at(e, 0)? as usize)?;
            out.push(Symbol {
                name,
                value: u64_at(e, 8)?,
                size: u64_at(e, 16)?,
                kind: e[4] & 0xf,
                bind: e[4] >> 4,
                shndx: u16_at(e, 6)?,
            });
        }
        Ok(out)
    }

    pub fn symbols(&self) -> Result<Vec<Symbol>> {
        match self.sections.iter().find(|s| s.kind == SHT_SYMTAB) {
            Some(s) => self.symbols_of(s),
            None => Ok(Vec::new()),
        }
    }

    pub fn dynamic_symbols(&self) -> Result<Vec<Symbol>> {
        match self.sections.iter().find(|s| s.kind == SHT_DYNSYM) {
            Some(s) => self.symbols_of(s),
            None => Ok(Vec::new()),
        }
    }

    pub fn relas(&self, s: &Section) -> Result<Vec<Rela>> {
        let mut out = Vec::new();
        for e in self.bytes(s)?.chunks_exact(24) {
            let info = u64_at(e, 8)?;
            out.push(Rela {
                offset: u64_at(e, 0)?,
                kind: (info & 0xffff_ffff) as u32,
                sym: (info >> 32) as u32,
                addend: u64_at(e, 16)? as i64,
            });
        }
        Ok(out)
    }

    /// Every RELA section with the section it applies to (None for dynamic
    /// relocations, which apply to addresses).
    pub fn rela_sections(&self) -> Vec<&Section> {
        self.sections.iter().filter(|s| s.kind == SHT_RELA).collect()
    }

    /// The allocated section containing virtual address `addr` (ET_DYN).
    pub fn section_at(&self, addr: u64) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.flags & SHF_ALLOC != 0 && s.addr <= addr && addr < s.addr + s.size.max(1))
    }
}

/// A place in the file: a section and an offset into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub section: usize,
    pub offset: u64,
}

impl Elf {
    /// The relocation that fills the pointer slot at `at`, with its symbol
    /// (None for a symbol-less dynamic relocation such as RELATIVE): for
    /// ET_REL the RELA entry of the section at that offset, for ET_DYN the
    /// dynamic relocation at that address.
    pub fn reloc_at(&self, at: Place) -> Result<Option<(Rela, Option<Symbol>)>> {
        let (symbols, addr) = match self.kind {
            ET_REL => (self.symbols()?, at.offset),
            ET_DYN => (self.dynamic_symbols()?, self.sections[at.section].addr + at.offset),
            k => return err(format!("unsupported ELF type {k}")),
        };
        for rs in self.rela_sections() {
            if self.kind == ET_REL && rs.info as usize != at.section {
                continue;
            }
            for r in self.relas(rs)? {
                if r.offset != addr {
                    continue;
                }
                let sym = match r.sym {
                    0 => None,
                    i => {
                        Some(symbols.get(i as usize).ok_or_else(|| Error("bad symbol index".into()))?.clone())
                    }
                };
                return Ok(Some((r, sym)));
            }
        }
        Ok(None)
    }

    /// Follows the pointer stored at `at`, applying the relocation that
    /// fills it (the pointer slots of a kld are all relocated): for ET_REL
    /// the section's RELA entry at that offset, for ET_DYN the dynamic
    /// relocation at that address.
    pub fn follow(&self, at: Place) -> Result<Option<Place>> {
        match self.kind {
            ET_REL => {
                let symtab = self.symbols()?;
                for rs in self.rela_sections() {
                    if rs.info as usize != at.section {
                        continue;
                    }
                    for r in self.relas(rs)? {
                        if r.offset != at.offset {
                            continue;
                        }
                        let sym =
                            symtab.get(r.sym as usize).ok_or_else(|| Error("bad symbol index".into()))?;
                        if sym.is_undefined() {
                            return err(format!(
                                "pointer at {}+{:#x} refers to the undefined {}",
                                self.sections[at.section].name, at.offset, sym.name
                            ));
                        }
                        return Ok(Some(Place {
                            section: sym.shndx as usize,
                            offset: (sym.value as i64 + r.addend) as u64,
                        }));
                    }
                }
                Ok(None)
            }
            ET_DYN => {
                let addr = self.sections[at.section].addr + at.offset;
                let dynsym = self.dynamic_symbols()?;
                for rs in self.rela_sections() {
                    for r in self.relas(rs)? {
                        if r.offset != addr {
                            continue;
                        }
                        let target = if r.sym == 0 {
                            r.addend as u64
                        } else {
                            let sym =
                                dynsym.get(r.sym as usize).ok_or_else(|| Error("bad symbol index".into()))?;
                            if sym.is_undefined() {
                                return err(format!(
                                    "pointer at {addr:#x} refers to the undefined {}",
                                    sym.name
                                ));
                            }
                            (sym.value as i64 + r.addend) as u64
                        };
                        let s = self
                            .section_at(target)
                            .ok_or_else(|| Error(format!("pointer to {target:#x} outside every section")))?;
                        return Ok(Some(Place { section: s.index, offset: target - s.addr }));
                    }
                }
                Ok(None)
            }
            k => err(format!("unsupported ELF type {k}")),
        }
    }

    pub fn read(&self, at: Place, len: usize) -> Result<&[u8]> {
        let s = &self.sections[at.section];
        let b = self.bytes(s)?;
        b.get(at.offset as usize..at.offset as usize + len)
            .ok_or_else(|| Error(format!("read past the end of {}", s.name)))
    }

    pub fn read_i32(&self, at: Place) -> Result<i32> {
        Ok(u32_at(self.read(at, 4)?, 0)? as i32)
    }

    pub fn read_c_str(&self, at: Place) -> Result<String> {
        let s = &self.sections[at.section];
        c_str(self.bytes(s)?, at.offset as usize)
    }
}
