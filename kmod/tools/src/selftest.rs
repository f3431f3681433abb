//! Negative controls for check-kld: each check is run on a deliberately
//! broken variant of a real `.ko` (or on a small object made for the
//! purpose) and must report the breakage. A check that cannot fail
//! proves nothing.

use std::path::PathBuf;
use std::process::Command;

use crate::elf::{ET_REL, Elf, Place, STB_GLOBAL, STB_LOCAL};
use crate::kld::{self, Arch, Config, Report};

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        Tmp(std::env::temp_dir().join(format!("check-kld-{}-{tag}", std::process::id())))
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap_or("")
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn expect(name: &str, r: &Report, needle: &str, results: &mut Vec<(String, bool)>) {
    let ok = r.failures.iter().any(|f| f.contains(needle));
    if !ok {
        eprintln!(
            "check-kld self-test: {name}: expected a failure containing `{needle}`, got {:?}",
            r.failures
        );
    }
    results.push((name.to_string(), ok));
}

/// Runs the checks on `bytes` written to a temporary file.
fn run_bytes(tag: &str, bytes: &[u8], debug: &str, cfg: &Config) -> Report {
    let t = Tmp::new(tag);
    if std::fs::write(&t.0, bytes).is_err() {
        return Report { failures: vec!["cannot write temporary file".into()], ..Report::default() };
    }
    kld::run(t.path(), debug, cfg)
}

fn patch_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Assembles `asm` for `arch` with clang into a temporary object.
fn assemble(arch: Arch, tag: &str, asm: &str) -> Option<Tmp> {
    let src = Tmp::new(&format!("{tag}.s"));
    let obj = Tmp::new(&format!("{tag}.o"));
    std::fs::write(&src.0, asm).ok()?;
    let target = match arch {
        Arch::Amd64 => "--target=x86_64-unknown-none",
        Arch::Arm64 => "--target=aarch64-unknown-none",
    };
    let ok =
        Command::new("clang").args([target, "-c", src.path(), "-o", obj.path()]).status().ok()?.success();
    ok.then_some(obj)
}

pub fn run(ko: &str, debug: &str, cfg: &Config) -> Vec<(String, bool)> {
    let mut results = Vec::new();
    let base = kld::run(ko, debug, cfg);
    results.push(("the unmodified module passes".to_string(), base.failures.is_empty()));
    let Ok(bytes) = std::fs::read(ko) else {
        results.push(("read the module".into(), false));
        return results;
    };
    let Ok(elf) = Elf::parse(bytes.clone()) else {
        results.push(("parse the module".into(), false));
        return results;
    };

    // A relocation type the kernel linker rejects.
    if let Some(rs) = elf.rela_sections().first() {
        let mut b = bytes.clone();
        let bad = match cfg.arch {
            Arch::Amd64 => 9,    // R_X86_64_GOTPCREL
            Arch::Arm64 => 1024, // R_AARCH64_COPY
        };
        patch_u32(&mut b, rs.offset as usize + 8, bad);
        expect(
            "rejected relocation type",
            &run_bytes("reloc", &b, debug, cfg),
            "is not accepted",
            &mut results,
        );
    }

    // arm64: a code address the kernel calls indirectly without a BTI
    // landing pad (its first instruction replaced by a NOP).
    if cfg.arch == Arch::Arm64 {
        match kld::code_pointers(&elf).ok().and_then(|v| v.first().map(|p| p.1)) {
            Some(at) => {
                let mut b = bytes.clone();
                patch_u32(&mut b, elf.sections[at.section].offset as usize + at.offset as usize, 0xd503_201f);
                expect(
                    "missing BTI landing pad",
                    &run_bytes("bti", &b, debug, cfg),
                    "not a BTI landing pad",
                    &mut results,
                );
            }
            None => results.push(("find a code address called indirectly".into(), false)),
        }
    }

    // Wrong machine.
    let mut b = bytes.clone();
    b[18] = 0;
    b[19] = 0;
    expect("wrong ELF machine", &run_bytes("machine", &b, debug, cfg), "ELF machine", &mut results);

    // A wrong minimum kernel version in MDT_DEPEND.
    if let Some(dep) = depend_place(&elf) {
        let mut b = bytes.clone();
        let at = elf.sections[dep.section].offset as usize + dep.offset as usize;
        let v = u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        patch_u32(&mut b, at, v + 1);
        expect("wrong MDT_DEPEND version", &run_bytes("depend", &b, debug, cfg), "MDT_DEPEND", &mut results);
    } else {
        results.push(("find MDT_DEPEND".into(), false));
    }

    // The sysinit in a read-only section.
    if let Ok(Some(si)) =
        elf.follow(Place { section: elf.section("set_sysinit_set").map_or(0, |s| s.index), offset: 0 })
    {
        let mut b = bytes.clone();
        let shoff = u64::from_le_bytes(b[40..48].try_into().unwrap_or_default()) as usize;
        let shentsize = u16::from_le_bytes([b[58], b[59]]) as usize;
        let flags_at = shoff + si.section * shentsize + 8;
        b[flags_at] &= !1; // SHF_WRITE
        expect("sysinit not writable", &run_bytes("sysinit", &b, debug, cfg), "not writable", &mut results);
    } else {
        results.push(("find the sysinit".into(), false));
    }

    // A read-only section among the writable ones (amd64).
    if cfg.arch == Arch::Amd64
        && let Some(set) = elf.section("set_modmetadata_set")
    {
        let mut b = bytes.clone();
        let shoff = u64::from_le_bytes(b[40..48].try_into().unwrap_or_default()) as usize;
        let shentsize = u16::from_le_bytes([b[58], b[59]]) as usize;
        b[shoff + set.index * shentsize + 8] &= !1; // SHF_WRITE
        expect(
            "read-only section after writable data",
            &run_bytes("order", &b, debug, cfg),
            "follows writable",
            &mut results,
        );
    }

    // The landed module of issue 21: a linker-set entry relocated against a
    // global symbol of the module (amd64: the symbol made global; arm64: the
    // RELATIVE entry made an ABS64 against a defined dynamic symbol).
    match late_set_entry(&elf, &bytes) {
        Some(b) => {
            let r = run_bytes("late", &b, debug, cfg);
            expect(
                "set entry relocated against a global symbol",
                &r,
                "set_modmetadata_set[0] is relocated against the global",
                &mut results,
            );
        }
        None => results.push(("craft a set entry relocated against a global symbol".into(), false)),
    }
    // A defined global symbol (a local function made global).
    match global_function(&elf, &bytes) {
        Some(b) => expect(
            "defined global symbol",
            &run_bytes("global", &b, debug, cfg),
            "global symbol(s)",
            &mut results,
        ),
        None => results.push(("craft a defined global symbol".into(), false)),
    }

    // kpi-symbols.txt missing a symbol, and listing one that is not used.
    let without: String =
        cfg.kpi.lines().filter(|l| !l.starts_with("printf ")).map(|l| format!("{l}\n")).collect();
    let c = Config { kpi: without, ..cfg.clone() };
    expect("unlisted undefined symbol", &kld::run(ko, debug, &c), "`printf` is not listed", &mut results);
    let c = Config {
        kpi: format!("{}\nimaginary_fn | * | fn | sys/none.h | void (void) | =\n", cfg.kpi),
        ..cfg.clone()
    };
    expect("listed but unused symbol", &kld::run(ko, debug, &c), "`imaginary_fn`", &mut results);

    // Stack limits: a tiny limit, and missing stack sizes.
    let c = Config { max_frame: 8, ..cfg.clone() };
    expect("stack frame limit", &kld::run(ko, debug, &c), "-byte stack frame", &mut results);
    expect("missing stack sizes", &kld::run(ko, ko, cfg), "stack size", &mut results);

    // FP/SIMD use and a call into the panic handler, in a small object.
    let asm = match cfg.arch {
        Arch::Amd64 => {
            ".text\nf:\n movaps %xmm0, %xmm1\n ret\ng:\n call rust_begin_unwind\n ret\nrust_begin_unwind:\n ret\n"
        }
        Arch::Arm64 => {
            ".text\nf:\n fmov d0, x1\n ret\ng:\n bl rust_begin_unwind\n ret\nrust_begin_unwind:\n ret\n"
        }
    };
    match assemble(cfg.arch, "fp", asm) {
        Some(obj) => {
            let mut r = Report::default();
            kld::check_disassembly(obj.path(), cfg.arch, &mut r);
            expect("FP/SIMD instruction", &r, "uses FP/SIMD", &mut results);
            expect("call into the panic handler", &r, "can reach the panic handler", &mut results);
        }
        None => results.push(("assemble the FP/panic control object".into(), false)),
    }
    let asm = ".text\n.globl _RNvNtCs1_4core9panicking5panic\n_RNvNtCs1_4core9panicking5panic:\n ret\n";
    match assemble(cfg.arch, "panic", asm)
        .and_then(|o| std::fs::read(&o.0).ok())
        .and_then(|d| Elf::parse(d).ok())
    {
        Some(obj) => {
            let mut r = Report::default();
            let _ = kld::check_symbols(&obj, cfg, &mut r);
            expect("panic machinery symbol", &r, "panic machinery", &mut results);
        }
        None => results.push(("assemble the panic control object".into(), false)),
    }
    results
}

/// Where MDT_DEPEND's `struct mod_depend` is.
fn depend_place(elf: &Elf) -> Option<Place> {
    let set = elf.section("set_modmetadata_set")?;
    (0..set.size / 8).find_map(|i| {
        let md = elf.follow(Place { section: set.index, offset: i * 8 }).ok()??;
        (elf.read_i32(Place { offset: md.offset + 4, ..md }).ok()? == 1)
            .then(|| elf.follow(Place { offset: md.offset + 8, ..md }).ok().flatten())?
    })
}

/// File offset of symbol `i` of the SYMTAB/DYNSYM section `sec`.
fn symbol_offset(elf: &Elf, sec: &str, i: usize) -> Option<usize> {
    Some(elf.section(sec)?.offset as usize + i * 24)
}

/// The module with set_modmetadata_set[0] relocated against a defined
/// global symbol, as the landed module of issue 21 was.
fn late_set_entry(elf: &Elf, bytes: &[u8]) -> Option<Vec<u8>> {
    let set = elf.section("set_modmetadata_set")?;
    let at = Place { section: set.index, offset: 0 };
    let (rela, sym) = elf.reloc_at(at).ok()??;
    let mut b = bytes.to_vec();
    match elf.kind {
        ET_REL => {
            // Make the target symbol global (st_info: bind << 4 | type).
            let sym = sym?;
            let i = elf.symbols().ok()?.iter().position(|s| s.name == sym.name && s.value == sym.value)?;
            let at = symbol_offset(elf, ".symtab", i)? + 4;
            b[at] = (STB_GLOBAL << 4) | (b[at] & 0xf);
        }
        _ => {
            // RELATIVE -> ABS64 (257) against __start_set_modmetadata_set,
            // with the addend that keeps the same target.
            let dynsym = elf.dynamic_symbols().ok()?;
            let i = dynsym.iter().position(|s| s.name == "__start_set_modmetadata_set")?;
            let (k, j) = elf.rela_sections().iter().enumerate().find_map(|(k, rs)| {
                let j = elf
                    .relas(rs)
                    .ok()?
                    .iter()
                    .position(|r| r.offset == rela.offset && r.kind == rela.kind)?;
                Some((k, j))
            })?;
            let entry = elf.rela_sections()[k].offset as usize + j * 24;
            let info = ((i as u64) << 32) | 257;
            b[entry + 8..entry + 16].copy_from_slice(&info.to_le_bytes());
            let addend = rela.addend - dynsym[i].value as i64;
            b[entry + 16..entry + 24].copy_from_slice(&addend.to_le_bytes());
        }
    }
    Some(b)
}

/// The module with its first local function symbol made global.
fn global_function(elf: &Elf, bytes: &[u8]) -> Option<Vec<u8>> {
    let i =
        elf.symbols().ok()?.iter().position(|s| s.kind == 2 && s.bind == STB_LOCAL && !s.is_undefined())?;
    let at = symbol_offset(elf, ".symtab", i)? + 4;
    let mut b = bytes.to_vec();
    b[at] = (STB_GLOBAL << 4) | (b[at] & 0xf);
    Some(b)
}
