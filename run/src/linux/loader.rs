//! Loading a CloudABI executable into this process: one contiguous
//! reservation, each loadable segment copied in, the rest zeroed, and the
//! final protections applied per page.

use super::elf::{self, Image, PF_R, PF_W, PF_X, PT_LOAD, PT_PHDR};

pub const PAGE: u64 = 4096;

/// Where things ended up.
#[derive(Debug, Clone, Copy)]
pub struct Loaded {
    /// Load bias: added to every virtual address of the image.
    pub base: u64,
    pub entry: u64,
    /// Address of the program headers in memory (`AT_PHDR`).
    pub phdr: u64,
    pub phnum: u64,
}

/// Anonymous read+write memory of `len` bytes (a multiple of the page size).
pub fn map_anonymous(len: u64) -> std::io::Result<u64> {
    // SAFETY: a fresh private anonymous mapping at an address the kernel
    // picks; nothing else is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED { Err(std::io::Error::last_os_error()) } else { Ok(p as u64) }
}

/// Changes the protection of pages this module mapped.
pub fn protect(addr: u64, len: u64, prot: i32) -> std::io::Result<()> {
    // SAFETY: only called on mappings made by this backend for the guest.
    if unsafe { libc::mprotect(addr as *mut libc::c_void, len as usize, prot) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn prot_of(flags: u32) -> i32 {
    let mut p = 0;
    if flags & PF_R != 0 {
        p |= libc::PROT_READ;
    }
    if flags & PF_W != 0 {
        p |= libc::PROT_WRITE;
    }
    if flags & PF_X != 0 {
        p |= libc::PROT_EXEC;
    }
    p
}

/// Loads a checked executable image.
pub fn load(img: &Image<'_>) -> Result<Loaded, String> {
    let (lo, hi) = elf::span(img);
    let (lo_page, hi_page) = (lo & !(PAGE - 1), hi.next_multiple_of(PAGE));
    let size = hi_page - lo_page;
    let start = map_anonymous(size).map_err(|e| format!("reserving {size} bytes for the program: {e}"))?;
    super::guestmem::add(start, size);
    let base = start.wrapping_sub(lo_page);
    let loads: Vec<&elf::Phdr> = img.phdrs.iter().filter(|p| p.p_type == PT_LOAD).collect();
    for p in &loads {
        let src = &img.data[p.offset as usize..(p.offset + p.filesz) as usize];
        // SAFETY: every segment lies within [lo, hi), which is mapped
        // read+write at `base + lo`; the tail up to memsz is already zero.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), (base + p.vaddr) as *mut u8, src.len()) };
    }
    // Final protections, page by page: a page shared by two segments gets
    // both segments' permissions (never W and X together: checked before).
    let mut page = lo_page;
    while page < hi_page {
        let flags = loads
            .iter()
            .filter(|p| p.vaddr < page + PAGE && p.vaddr + p.memsz > page)
            .fold(0, |f, p| f | p.flags);
        let prot = if flags & PF_W != 0 && flags & PF_X != 0 {
            return Err("segments sharing a page would make it writable and executable (W^X)".into());
        } else {
            prot_of(flags)
        };
        protect(base + page, PAGE, prot).map_err(|e| format!("protecting the program: {e}"))?;
        page += PAGE;
    }
    let phdr = phdr_address(img).ok_or("cannot find the program headers in memory")? + base;
    Ok(Loaded { base, entry: base + img.entry, phdr, phnum: img.phdrs.len() as u64 })
}

/// The virtual address of the program header table.
fn phdr_address(img: &Image<'_>) -> Option<u64> {
    if let Some(p) = img.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
        return Some(p.vaddr);
    }
    img.phdrs
        .iter()
        .find(|p| p.p_type == PT_LOAD && img.phoff >= p.offset && img.phoff < p.offset + p.filesz)
        .map(|p| p.vaddr + (img.phoff - p.offset))
}
