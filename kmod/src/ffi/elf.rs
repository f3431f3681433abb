//! ELF image activator records (sys/imgact_elf.h). Sizes and offsets:
//! `kmod/layouts.txt`, asserted in [`super::layouts`].

use super::c_char;
use super::c_void;
use super::sysent::Sysentvec;

/// `Elf64_Brandinfo` (sys/imgact_elf.h): how the ELF activator recognizes
/// CloudABI executables and which sysentvec they get.
#[repr(C)]
pub struct Brandinfo {
    /// ELF OSABI byte the brand matches (17 for CloudABI).
    pub brand: i32,
    pub machine: i32,
    pub compat_3_brand: *const c_char,
    pub interp_path: *const c_char,
    pub sysvec: *mut Sysentvec,
    pub interp_newpath: *const c_char,
    pub flags: i32,
    /// `Elf_Brandnote *`; unused (matched by OSABI only).
    pub brand_note: *const c_void,
    /// `header_supported` callback; unused (NULL).
    pub header_supported: *const c_void,
}

/// `Elf64_Auxargs` (sys/imgact_elf.h): what the ELF activator learned about
/// the image (`imgp->auxargs`).
#[repr(C)]
pub struct Auxargs {
    pub execfd: i64,
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    pub pagesz: u64,
    pub base: u64,
    pub flags: u64,
    pub entry: u64,
    pub hdr_eflags: u32,
}
