//! Both vDSOs, assembled from the generated sources and linked with
//! `scripts/build-vdso`, read back the way CloudABI's crt0 reads them:
//! PT_DYNAMIC, then DT_HASH / DT_SYMTAB / DT_STRTAB, then a SysV hash lookup
//! of every `cloudabi_sys_*` name.

use std::path::{Path, PathBuf};
use std::process::Command;

use object::Endianness;
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, Sym};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn build(arch: &str, mode: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("vdso-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out: PathBuf = dir.join(format!("{arch}-{mode}.so"));
    let status = Command::new(root().join("scripts/build-vdso"))
        .args([arch, out.to_str().unwrap(), mode])
        .status()
        .expect("scripts/build-vdso could not run (clang and ld.lld come from scripts/setup)");
    assert!(status.success(), "scripts/build-vdso {arch} {mode} failed");
    let data = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    data
}

/// The SysV ELF hash of a symbol name.
fn sysv_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

fn u32_at(data: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(data[off..off + 4].try_into().unwrap())
}

/// Checks one vDSO image; returns the number of entry points found.
fn check(data: &[u8], machine: u16) -> usize {
    let hdr = elf::FileHeader64::<Endianness>::parse(data).unwrap();
    let e = hdr.endian().unwrap();
    assert_eq!(hdr.e_type(e), elf::ET_DYN, "a vDSO is a shared object");
    assert_eq!(hdr.e_machine(e), machine);
    let phdrs = hdr.program_headers(e, data).unwrap();
    let load: Vec<_> = phdrs.iter().filter(|p| p.p_type(e) == elf::PT_LOAD).collect();
    assert_eq!(load.len(), 1, "one PT_LOAD");
    assert_eq!(load[0].p_vaddr(e), 0, "linked at address 0");
    assert_eq!(load[0].p_offset(e), 0);
    assert_eq!(load[0].p_flags(e), elf::PF_R | elf::PF_X);
    let dynamic = phdrs.iter().find(|p| p.p_type(e) == elf::PT_DYNAMIC).expect("PT_DYNAMIC");
    let dyns = dynamic.dynamic(e, data).unwrap().expect("dynamic entries");
    let find = |tag: u32| dyns.iter().find(|d| d.d_tag(e) == u64::from(tag)).map(|d| d.d_val(e) as usize);
    let hash = find(elf::DT_HASH).expect("DT_HASH (SysV) is required by CloudABI's crt0");
    let symtab = find(elf::DT_SYMTAB).expect("DT_SYMTAB");
    let strtab = find(elf::DT_STRTAB).expect("DT_STRTAB");
    assert_eq!(find(elf::DT_SYMENT), Some(24));
    for tag in [elf::DT_RELA, elf::DT_REL, 36 /* DT_RELR */, elf::DT_TEXTREL] {
        assert!(find(tag).is_none(), "the vDSO must need no relocations (tag {tag})");
    }
    // Addresses equal file offsets: one PT_LOAD at offset 0, vaddr 0.
    let nbucket = u32_at(data, hash) as usize;
    let nchain = u32_at(data, hash + 4) as usize;
    let bucket = |i: usize| u32_at(data, hash + 8 + 4 * i) as usize;
    let chain = |i: usize| u32_at(data, hash + 8 + 4 * nbucket + 4 * i) as usize;
    let sym = |i: usize| -> &elf::Sym64<Endianness> {
        let off = symtab + 24 * i;
        object::pod::from_bytes(&data[off..off + 24]).unwrap().0
    };
    let name_of = |s: &elf::Sym64<Endianness>| {
        let start = strtab + s.st_name(e) as usize;
        let end = start + data[start..].iter().position(|&b| b == 0).unwrap();
        &data[start..end]
    };
    // Every symbol the hash table covers: 49 global default functions.
    let mut funcs = 0;
    for i in 1..nchain {
        let s = sym(i);
        let name = String::from_utf8_lossy(name_of(s)).into_owned();
        assert!(name.starts_with("cloudabi_sys_"), "unexpected dynamic symbol {name}");
        assert_eq!(s.st_type(), elf::STT_FUNC, "{name} must be STT_FUNC");
        assert_eq!(s.st_bind(), elf::STB_GLOBAL, "{name} must be global");
        assert_eq!(s.st_visibility(), elf::STV_DEFAULT, "{name} must have default visibility");
        assert_ne!(s.st_shndx(e), elf::SHN_UNDEF, "{name} must be defined");
        funcs += 1;
    }
    // Look every syscall up through the hash table, as crt0 does.
    for desc in abi::SYSCALLS.iter() {
        let want = format!("cloudabi_sys_{}", desc.name);
        let mut i = bucket(sysv_hash(want.as_bytes()) as usize % nbucket);
        let mut found = None;
        while i != 0 {
            if name_of(sym(i)) == want.as_bytes() {
                found = Some(sym(i).st_value(e));
                break;
            }
            i = chain(i);
        }
        let addr = found.unwrap_or_else(|| panic!("{want} not found through DT_HASH"));
        assert!(addr > 0 && (addr as usize) < data.len(), "{want} points outside the image");
    }
    funcs
}

#[test]
fn x86_64_vdso_exports_every_syscall_through_dt_hash() {
    let n = check(&build("x86_64", "kernel"), elf::EM_X86_64);
    println!("x86_64 vDSO: {n} global default STT_FUNC symbols, all found through DT_HASH");
    assert_eq!(n, 49);
}

#[test]
fn aarch64_vdso_exports_every_syscall_through_dt_hash() {
    let n = check(&build("aarch64", "kernel"), elf::EM_AARCH64);
    println!("aarch64 vDSO: {n} global default STT_FUNC symbols, all found through DT_HASH");
    assert_eq!(n, 49);
}

#[test]
fn emulated_vdso_has_the_same_exports_and_a_hidden_trap_slot() {
    let data = build("x86_64", "emulated");
    assert_eq!(check(&data, elf::EM_X86_64), 49);
    let file = object::File::parse(&*data).unwrap();
    use object::{Object, ObjectSymbol};
    let slot = file
        .symbols()
        .find(|s| s.name() == Ok("cloudabi_vdso_entry"))
        .expect("cloudabi_vdso_entry in .symtab");
    assert_eq!(slot.size(), 8);
    assert!(
        file.dynamic_symbols().all(|s| s.name() != Ok("cloudabi_vdso_entry")),
        "the slot must not be exported"
    );
}
