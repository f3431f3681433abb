//! The structural checks of a built `cloudabi64.ko`. Each returns the
//! failures it found, each naming the symbol, relocation, section or
//! function concerned; `run` collects them with a short report.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use crate::elf::{
    ET_DYN, ET_REL, Elf, Place, R_AARCH64_RELATIVE, Result, SHF_ALLOC, SHF_WRITE, STB_LOCAL, STT_SECTION,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "amd64" => Some(Arch::Amd64),
            "arm64" => Some(Arch::Arm64),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub arch: Arch,
    pub release: u32,
    /// Contents of kmod/kpi-symbols.txt.
    pub kpi: String,
    pub max_frame: u64,
}

/// What a check run found.
#[derive(Default)]
pub struct Report {
    pub failures: Vec<String>,
    pub relocations: BTreeMap<String, usize>,
    pub undefined: usize,
    pub largest_frame: Option<(u64, String)>,
    pub functions: usize,
}

impl Report {
    fn fail(&mut self, msg: impl Into<String>) {
        self.failures.push(msg.into());
    }
}

// ---- header -------------------------------------------------------------

/// ELF class/data are checked by the parser (ELF64 little-endian).
pub fn check_header(elf: &Elf, arch: Arch, r: &mut Report) {
    let (kind, machine, osabi_ok): (u16, u16, &[u8]) = match arch {
        // `ld -m elf_x86_64_fbsd -r`: ET_REL, EM_X86_64, ELFOSABI_FREEBSD.
        Arch::Amd64 => (ET_REL, 62, &[9]),
        // `ld -m aarch64elf -Bshareable`: ET_DYN, EM_AARCH64 (the emulation
        // kmod.mk uses leaves the OSABI at NONE).
        Arch::Arm64 => (ET_DYN, 183, &[0, 9]),
    };
    if elf.kind != kind {
        r.fail(format!("ELF type is {} (expected {kind})", elf.kind));
    }
    if elf.machine != machine {
        r.fail(format!("ELF machine is {} (expected {machine})", elf.machine));
    }
    if !osabi_ok.contains(&elf.osabi) {
        r.fail(format!("ELF OS/ABI is {} (expected one of {osabi_ok:?})", elf.osabi));
    }
}

/// amd64 (ET_REL): the kernel linker lays sections out in header order;
/// code and read-only data come first and end on page boundaries, so that
/// no page mixes them with writable data (as FreeBSD's
/// ldscript.kmod.amd64 arranges).
pub fn check_section_order(elf: &Elf, r: &mut Report) {
    if elf.kind != ET_REL {
        return;
    }
    let mut seen_writable = None;
    for s in
        elf.sections.iter().filter(|s| s.flags & SHF_ALLOC != 0 && (s.kind == 1 || s.kind == 8) && s.size > 0)
    {
        if s.flags & SHF_WRITE != 0 {
            seen_writable.get_or_insert(s.name.clone());
        } else {
            if let Some(w) = &seen_writable {
                r.fail(format!("read-only section {} follows writable section {w}", s.name));
            }
            if s.size % 4096 != 0 {
                r.fail(format!(
                    "read-only section {} is {:#x} bytes, not a whole number of pages",
                    s.name, s.size
                ));
            }
        }
    }
}

// ---- relocations ----------------------------------------------------------

/// Relocation types the kernel linkers process (sys/amd64/amd64/
/// elf_machdep.c and sys/arm64/arm64/elf_machdep.c, elf_reloc_internal);
/// anything else makes kldload fail with "unexpected relocation type".
pub fn accepted_relocations(arch: Arch) -> &'static [(u32, &'static str)] {
    match arch {
        Arch::Amd64 => &[
            (0, "R_X86_64_NONE"),
            (1, "R_X86_64_64"),
            (2, "R_X86_64_PC32"),
            (4, "R_X86_64_PLT32"),
            (6, "R_X86_64_GLOB_DAT"),
            (7, "R_X86_64_JUMP_SLOT"),
            (8, "R_X86_64_RELATIVE"),
            (11, "R_X86_64_32S"),
            (37, "R_X86_64_IRELATIVE"),
        ],
        Arch::Arm64 => &[
            (0, "R_AARCH64_NONE"),
            (257, "R_AARCH64_ABS64"),
            (279, "R_AARCH64_TSTBR14"),
            (280, "R_AARCH64_CONDBR19"),
            (282, "R_AARCH64_JUMP26"),
            (283, "R_AARCH64_CALL26"),
            (1025, "R_AARCH64_GLOB_DAT"),
            (1026, "R_AARCH64_JUMP_SLOT"),
            (1027, "R_AARCH64_RELATIVE"),
            (1032, "R_AARCH64_IRELATIVE"),
        ],
    }
}

pub fn check_relocations(elf: &Elf, arch: Arch, r: &mut Report) -> Result<()> {
    let accepted = accepted_relocations(arch);
    let syms = if elf.kind == ET_REL { elf.symbols()? } else { elf.dynamic_symbols()? };
    for rs in elf.rela_sections() {
        for rel in elf.relas(rs)? {
            let sym = syms.get(rel.sym as usize).map_or("?", |s| s.name.as_str());
            match accepted.iter().find(|(k, _)| *k == rel.kind) {
                Some((_, name)) => *r.relocations.entry((*name).to_string()).or_default() += 1,
                None => r.fail(format!(
                    "relocation type {} in {} at {:#x} (symbol `{sym}`) is not accepted by the {} kernel linker",
                    rel.kind,
                    rs.name,
                    rel.offset,
                    arch.name()
                )),
            }
        }
    }
    Ok(())
}

// ---- arm64 BTI landing pads ----------------------------------------------

/// `SHF_EXECINSTR`
const SHF_EXECINSTR: u64 = 4;

/// A64 instructions an indirect call (`BLR`, or `BR` through x16/x17 from
/// a PLT) may land on when the kernel enforces BTI: `BTI c`, `BTI jc`, and
/// `PACIASP`/`PACIBSP`, which are implicit `BTI c` landing pads.
pub const LANDING_PADS: [u32; 4] = [0xd503_245f, 0xd503_24df, 0xd503_233f, 0xd503_237f];

/// Every code address the module hands the kernel (ET_DYN): targets of
/// `RELATIVE` relocations and of `ABS64`/`GLOB_DAT`/`JUMP_SLOT` against
/// the module's own symbols that lie in executable sections, with where
/// they are (for the self-test). Data addresses are skipped.
pub fn code_pointers(elf: &Elf) -> Result<Vec<(u64, Place)>> {
    let mut out = Vec::new();
    if elf.kind != ET_DYN {
        return Ok(out);
    }
    let syms = elf.dynamic_symbols()?;
    for rs in elf.rela_sections() {
        for rel in elf.relas(rs)? {
            let target = match rel.kind {
                1027 => rel.addend as u64,
                257 | 1025 | 1026 => match syms.get(rel.sym as usize) {
                    Some(s) if !s.is_undefined() && s.shndx != 0 => s.value.wrapping_add(rel.addend as u64),
                    _ => continue,
                },
                _ => continue,
            };
            if let Some(sec) = elf.section_at(target).filter(|s| s.flags & SHF_EXECINSTR != 0) {
                out.push((target, Place { section: sec.index, offset: target - sec.addr }));
            }
        }
    }
    Ok(out)
}

/// arm64: every code address the kernel may call indirectly starts with a
/// landing pad, or a BTI-enforcing kernel takes a Branch Target exception
/// (a panic) on the first call.
pub fn check_landing_pads(elf: &Elf, arch: Arch, r: &mut Report) -> Result<()> {
    if arch != Arch::Arm64 {
        return Ok(());
    }
    for (addr, at) in code_pointers(elf)? {
        let b = elf.read(at, 4)?;
        let insn = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if !LANDING_PADS.contains(&insn) {
            r.fail(format!(
                "code address {addr:#x} in {} is called indirectly but starts with {insn:#010x}, not a BTI landing pad",
                elf.sections[at.section].name
            ));
        }
    }
    Ok(())
}

// ---- linker sets, sysinit, module metadata -------------------------------

/// Where a pointer slot points.
enum Target {
    Place(Place),
    Undefined(String),
}

fn follow(elf: &Elf, at: Place) -> Result<Option<Target>> {
    match elf.follow(at) {
        Ok(p) => Ok(p.map(Target::Place)),
        Err(e) if e.0.contains("refers to the undefined ") => {
            Ok(Some(Target::Undefined(e.0.rsplit(' ').next().unwrap_or("?").to_string())))
        }
        Err(e) => Err(e),
    }
}

fn follow_place(elf: &Elf, at: Place, what: &str, r: &mut Report) -> Result<Option<Place>> {
    match follow(elf, at)? {
        Some(Target::Place(p)) => Ok(Some(p)),
        Some(Target::Undefined(s)) => {
            r.fail(format!("{what} points at the undefined symbol {s}"));
            Ok(None)
        }
        None => {
            r.fail(format!("{what} is not relocated (a NULL pointer)"));
            Ok(None)
        }
    }
}

/// The pointer slot at `at` must be filled by a relocation the kernel
/// linker applies before linker_load_dependencies() reads the module's
/// metadata (sys/kern/kern_linker.c, 15.0: the set entries, md_cval and
/// md_data). amd64 ET_REL: link_elf_obj.c's link_elf_reloc_local() applies
/// only relocations against STB_LOCAL symbols at that point; arm64 ET_DYN:
/// link_elf.c's link_elf_reloc_local() only R_AARCH64_RELATIVE. Any other
/// relocation leaves the slot 0 there, and kldload faults at address 0x4
/// (issue 21). Slots that point at the kernel are reported by the callers.
fn check_early(elf: &Elf, at: Place, what: &str, r: &mut Report) -> Result<()> {
    let Some((rela, sym)) = elf.reloc_at(at)? else { return Ok(()) };
    if sym.as_ref().is_some_and(|s| s.is_undefined()) {
        return Ok(());
    }
    let name = sym.as_ref().map_or("(none)", |s| s.name.as_str());
    let late = match elf.kind {
        ET_REL => sym.as_ref().is_some_and(|s| s.bind != STB_LOCAL),
        _ => rela.kind != R_AARCH64_RELATIVE,
    };
    if late {
        r.fail(format!(
            "{what} is relocated against the global symbol `{name}` (type {}): the kernel linker resolves it \
             only after linker_load_dependencies() has read it as NULL; make the symbol local",
            rela.kind
        ));
    }
    Ok(())
}

/// `follow_place` for a slot that must be relocated early (`check_early`).
fn follow_early(elf: &Elf, at: Place, what: &str, r: &mut Report) -> Result<Option<Place>> {
    check_early(elf, at, what, r)?;
    follow_place(elf, at, what, r)
}

/// `set_<name>` exists with `entries` 8-byte pointers; on ET_DYN the
/// kernel linker finds it through `__start_set_<name>`/`__stop_set_<name>`
/// in the dynamic symbol table.
fn check_set(elf: &Elf, name: &str, entries: u64, r: &mut Report) -> Result<Option<usize>> {
    let sec = format!("set_{name}");
    let Some(s) = elf.section(&sec) else {
        r.fail(format!("linker set section {sec} is missing"));
        return Ok(None);
    };
    if s.flags & SHF_ALLOC == 0 {
        r.fail(format!("{sec} is not an allocated section"));
    }
    if s.size != entries * 8 {
        r.fail(format!("{sec} holds {} bytes, expected {entries} pointers ({} bytes)", s.size, entries * 8));
    }
    for i in 0..s.size / 8 {
        check_early(elf, Place { section: s.index, offset: i * 8 }, &format!("{sec}[{i}]"), r)?;
    }
    if elf.kind == ET_DYN {
        let dynsym = elf.dynamic_symbols()?;
        let find = |n: &str| dynsym.iter().find(|y| y.name == n && !y.is_undefined()).map(|y| y.value);
        match (find(&format!("__start_{sec}")), find(&format!("__stop_{sec}"))) {
            (Some(a), Some(b)) if a == s.addr && b == s.addr + s.size => {}
            (a, b) => r.fail(format!(
                "__start_{sec}/__stop_{sec} are not exported around {sec} (found {a:?}, {b:?})"
            )),
        }
    }
    Ok(Some(s.index))
}

/// The sysinit: one entry, in a writable section (the kernel links it into
/// its list), calling module_register_init at SI_SUB_EXEC/SI_ORDER_ANY.
/// Returns where its udata points (the moduledata).
fn check_sysinit(elf: &Elf, set: usize, r: &mut Report) -> Result<Option<Place>> {
    let Some(si) = follow_place(elf, Place { section: set, offset: 0 }, "the set_sysinit_set entry", r)?
    else {
        return Ok(None);
    };
    let sec = &elf.sections[si.section];
    if sec.flags & SHF_WRITE == 0 {
        r.fail(format!(
            "the sysinit is in {}, which is not writable (the kernel writes its `next` field)",
            sec.name
        ));
    }
    let subsystem = elf.read_i32(si)? as u32;
    let order = elf.read_i32(Place { offset: si.offset + 4, ..si })? as u32;
    // SI_SUB_EXEC 0x7400000, SI_ORDER_ANY 0xfffffff (sys/kernel.h)
    if subsystem != 0x740_0000 || order != 0xfff_ffff {
        r.fail(format!(
            "sysinit subsystem/order are {subsystem:#x}/{order:#x}, expected SI_SUB_EXEC/SI_ORDER_ANY"
        ));
    }
    match follow(elf, Place { offset: si.offset + 16, ..si })? {
        Some(Target::Undefined(s)) if s == "module_register_init" => {}
        _ => r.fail("the sysinit does not call module_register_init"),
    }
    follow_early(elf, Place { offset: si.offset + 24, ..si }, "the sysinit's udata", r)
}

/// The module's metadata, decoded: MDT_MODULE, MDT_VERSION and
/// MDT_DEPEND(kernel) with the release's version range.
fn check_metadata(
    elf: &Elf,
    set: usize,
    release: u32,
    moduledata: Option<Place>,
    r: &mut Report,
) -> Result<()> {
    let depend: [i32; 3] = match release {
        14 => [1_400_097, 1_402_000, 1_499_999],
        _ => [1_500_068, 1_500_068, 1_599_999],
    };
    let mut seen = BTreeSet::new();
    for i in 0..elf.sections[set].size / 8 {
        let what = format!("set_modmetadata_set[{i}]");
        let Some(md) = follow_place(elf, Place { section: set, offset: i * 8 }, &what, r)? else { continue };
        let version = elf.read_i32(md)?;
        let kind = elf.read_i32(Place { offset: md.offset + 4, ..md })?;
        let data = follow_early(elf, Place { offset: md.offset + 8, ..md }, &format!("{what}.md_data"), r)?;
        let cval = follow_early(elf, Place { offset: md.offset + 16, ..md }, &format!("{what}.md_cval"), r)?;
        let (Some(data), Some(cval)) = (data, cval) else { continue };
        let cval = elf.read_c_str(cval)?;
        if version != 1 {
            r.fail(format!("{what}: md_version {version}, expected MDT_STRUCT_VERSION 1"));
        }
        match kind {
            // MDT_MODULE
            2 => {
                let name =
                    follow_early(elf, data, "moduledata.name", r)?.map(|p| elf.read_c_str(p)).transpose()?;
                if cval != "cloudabi64" || name.as_deref() != Some("cloudabi64") {
                    r.fail(format!("MDT_MODULE names `{cval}`/{name:?}, expected cloudabi64"));
                }
                if moduledata.is_some_and(|m| m != data) {
                    r.fail("the sysinit's udata is not the MDT_MODULE moduledata");
                }
                check_early(elf, Place { offset: data.offset + 8, ..data }, "moduledata.evhand", r)?;
                match follow(elf, Place { offset: data.offset + 8, ..data })? {
                    Some(Target::Place(p)) if elf.sections[p.section].flags & 4 != 0 => {}
                    _ => r.fail("moduledata.evhand does not point at code"),
                }
            }
            // MDT_VERSION
            3 => {
                let v = elf.read_i32(data)?;
                if cval != "cloudabi64" || v != 1 {
                    r.fail(format!("MDT_VERSION is ({cval}, {v}), expected (cloudabi64, 1)"));
                }
            }
            // MDT_DEPEND
            1 => {
                let got = [
                    elf.read_i32(data)?,
                    elf.read_i32(Place { offset: data.offset + 4, ..data })?,
                    elf.read_i32(Place { offset: data.offset + 8, ..data })?,
                ];
                if cval != "kernel" || got != depend {
                    r.fail(format!(
                        "MDT_DEPEND is ({cval}, {got:?}), expected (kernel, {depend:?}) for FreeBSD {release}"
                    ));
                }
            }
            k => r.fail(format!("{what}: unexpected metadata type {k}")),
        }
        if !seen.insert(kind) {
            r.fail(format!("metadata type {kind} appears twice"));
        }
    }
    if seen != BTreeSet::from([1, 2, 3]) {
        r.fail(format!("expected MDT_DEPEND, MDT_MODULE and MDT_VERSION, found types {seen:?}"));
    }
    Ok(())
}

pub fn check_module_records(elf: &Elf, release: u32, r: &mut Report) -> Result<()> {
    let sysinit = check_set(elf, "sysinit_set", 1, r)?;
    let metadata = check_set(elf, "modmetadata_set", 3, r)?;
    let moduledata = match sysinit {
        Some(s) => check_sysinit(elf, s, r)?,
        None => None,
    };
    if let Some(m) = metadata {
        check_metadata(elf, m, release, moduledata, r)?;
    }
    Ok(())
}

// ---- kernel symbols -------------------------------------------------------

/// (name, kind) of the kpi-symbols.txt rows for `arch`.
pub fn kpi_rows(kpi: &str, arch: Arch) -> Vec<(String, String)> {
    kpi.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let c: Vec<&str> = l.split('|').map(str::trim).collect();
            (c.len() == 6 && (c[1] == "*" || c[1] == arch.name()))
                .then(|| (c[0].to_string(), c[2].to_string()))
        })
        .collect()
}

pub fn check_symbols(elf: &Elf, cfg: &Config, r: &mut Report) -> Result<()> {
    let syms = if elf.kind == ET_REL { elf.symbols()? } else { elf.dynamic_symbols()? };
    let rows = kpi_rows(&cfg.kpi, cfg.arch);
    let listed: BTreeSet<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    let undefined: BTreeSet<&str> =
        syms.iter().filter(|s| s.is_undefined()).map(|s| s.name.as_str()).collect();
    r.undefined = undefined.len();
    for u in &undefined {
        if !listed.contains(u) {
            r.fail(format!("undefined symbol `{u}` is not listed in kmod/kpi-symbols.txt"));
        }
    }
    for (name, kind) in &rows {
        if kind != "implicit" && !undefined.contains(name.as_str()) {
            r.fail(format!("kpi-symbols.txt lists `{name}` ({kind}) but the module does not reference it"));
        }
    }
    // The module must not carry its own copy of a kernel symbol (e.g. the
    // compiler_builtins memcpy): the kernel's must be used.
    for s in elf.symbols()?.iter().chain(elf.dynamic_symbols()?.iter()) {
        if !s.is_undefined() && s.bind != 0 && listed.contains(s.name.as_str()) {
            r.fail(format!("the module defines `{}`, which the kernel provides", s.name));
        }
    }
    // Panic machinery from core would mean a panicking path exists.
    for s in elf.symbols()? {
        if ["panicking", "panic_bounds_check", "slice_index", "unwrap_failed", "expect_failed", "panic_fmt"]
            .iter()
            .any(|p| s.name.contains(p))
        {
            r.fail(format!("panic machinery is linked in: `{}`", s.name));
        }
    }
    Ok(())
}

/// Every symbol the module defines is local, as `static` is in C and as
/// FreeBSD's kmod.mk makes it (EXPORT_SYMS=NO). A defined global is looked
/// up by name: the kernel linker resolves the module's own references to
/// it late (see `check_early`), binds other modules' references to it, and
/// could take it for a kernel symbol of the same name. The one exception:
/// on arm64 (ET_DYN), link_elf.c's link_elf_lookup_set() finds a linker
/// set through its `__start_set_<name>`/`__stop_set_<name>` dynamic
/// symbols, which must therefore stay global, around a set of the module.
pub fn check_global_symbols(elf: &Elf, r: &mut Report) -> Result<()> {
    let mut bad = BTreeSet::new();
    for s in elf.symbols()?.iter().chain(elf.dynamic_symbols()?.iter()) {
        if s.name.is_empty()
            || s.is_undefined()
            || s.shndx == 0
            || s.bind == STB_LOCAL
            || s.kind == STT_SECTION
        {
            continue;
        }
        let bound = s.name.strip_prefix("__start_").or_else(|| s.name.strip_prefix("__stop_"));
        let is_set_bound = elf.kind == ET_DYN
            && bound.is_some_and(|set| set.starts_with("set_") && elf.section(set).is_some());
        if !is_set_bound {
            bad.insert(s.name.clone());
        }
    }
    if !bad.is_empty() {
        let shown: Vec<&str> = bad.iter().take(5).map(String::as_str).collect();
        r.fail(format!(
            "the module defines {} global symbol(s) ({}{}): every defined symbol must be local \
             (scripts/build-kmod localise_all)",
            bad.len(),
            shown.join(", "),
            if bad.len() > shown.len() { ", ..." } else { "" }
        ));
    }
    Ok(())
}

// ---- disassembly: FP/SIMD registers and calls to the panic handler --------

/// Functions of a `llvm-objdump -d` listing: (name, instruction lines).
pub fn disassemble(path: &str) -> std::result::Result<Vec<(String, Vec<String>)>, String> {
    let out = Command::new("llvm-objdump")
        .args(["-d", "--no-show-raw-insn", "--no-leading-addr", path])
        .output()
        .map_err(|e| format!("cannot run llvm-objdump: {e}"))?;
    if !out.status.success() {
        return Err(format!("llvm-objdump failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut funcs: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('<').and_then(|l| l.strip_suffix(">:")) {
            funcs.push((name.to_string(), Vec::new()));
        } else if !t.is_empty()
            && line.starts_with(|c: char| c.is_whitespace())
            && let Some(f) = funcs.last_mut()
        {
            f.1.push(t.to_string());
        }
    }
    Ok(funcs)
}

/// The FP/SIMD register or instruction an instruction line uses, if any.
pub fn fp_simd_use(arch: Arch, insn: &str) -> Option<String> {
    // Drop symbolic comments (`<sym+0x10>`, `# 0x...`, `// =...`).
    let code = insn.split(['<', '#']).next().unwrap_or("");
    let code = code.split("//").next().unwrap_or("");
    let mut words = code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '%' || c == '.'));
    let mnemonic = words.next().unwrap_or("").to_string();
    let operands: Vec<&str> = words.filter(|w| !w.is_empty()).collect();
    match arch {
        Arch::Amd64 => {
            let x87_or_sse = mnemonic.starts_with('f')
                || [
                    "emms",
                    "ldmxcsr",
                    "stmxcsr",
                    "vzeroupper",
                    "vzeroall",
                    "xsave",
                    "xrstor",
                    "fxsave",
                    "fxrstor",
                ]
                .contains(&mnemonic.as_str());
            if x87_or_sse {
                return Some(mnemonic);
            }
            operands.iter().find(|o| is_x86_fp_reg(o)).map(|o| o.to_string())
        }
        Arch::Arm64 => {
            if mnemonic.starts_with('f') {
                return Some(mnemonic);
            }
            operands.iter().find(|o| is_a64_fp_reg(o)).map(|o| o.to_string())
        }
    }
}

/// %xmm/%ymm/%zmm, MMX %mm0-7, x87 %st, AVX-512 mask %k0-7.
fn is_x86_fp_reg(o: &str) -> bool {
    let digit = |p: &str| o.strip_prefix(p).is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit());
    ["%xmm", "%ymm", "%zmm", "%st"].iter().any(|p| o.starts_with(p)) || digit("%mm") || digit("%k")
}

/// v0-v31, q/d/s/h/b0-31 (optionally with an arrangement suffix), z/p
/// (SVE) registers.
fn is_a64_fp_reg(o: &str) -> bool {
    let o = o.split('.').next().unwrap_or(o);
    let mut chars = o.chars();
    let Some(c) = chars.next() else { return false };
    let num = chars.as_str();
    "vqdshbzp".contains(c) && !num.is_empty() && num.len() <= 2 && num.parse::<u32>().is_ok_and(|n| n < 32)
}

pub fn check_disassembly(path: &str, arch: Arch, r: &mut Report) {
    let funcs = match disassemble(path) {
        Ok(f) => f,
        Err(e) => return r.fail(e),
    };
    r.functions = funcs.len();
    if funcs.is_empty() {
        r.fail("the disassembly contains no functions");
    }
    for (name, insns) in &funcs {
        for i in insns {
            if let Some(what) = fp_simd_use(arch, i) {
                r.fail(format!("{name} uses FP/SIMD (`{what}` in `{i}`)"));
                break;
            }
            if i.contains("rust_begin_unwind>") && !name.contains("rust_begin_unwind") {
                r.fail(format!("{name} can reach the panic handler (`{i}`)"));
            }
        }
    }
}

// ---- stack frames -----------------------------------------------------------

/// Stack sizes from the `.stack_sizes` section (rustc -Zemit-stack-sizes)
/// of the unstripped `.ko.debug`, as `llvm-readobj --stack-sizes` decodes
/// them (it applies the relocations of ET_REL objects).
pub fn stack_sizes(debug: &str) -> std::result::Result<Vec<(String, u64)>, String> {
    let out = Command::new("llvm-readobj")
        .args(["--stack-sizes", debug])
        .output()
        .map_err(|e| format!("cannot run llvm-readobj: {e}"))?;
    if !out.status.success() {
        return Err(format!("llvm-readobj --stack-sizes failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sizes = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for l in text.lines().map(str::trim) {
        if let Some(f) = l.strip_prefix("Functions: [").and_then(|f| f.strip_suffix(']')) {
            names = f.split(',').map(|s| s.trim().to_string()).collect();
        } else if let Some(s) = l.strip_prefix("Size: 0x") {
            let size = u64::from_str_radix(s, 16).map_err(|e| format!("bad stack size `{s}`: {e}"))?;
            for n in names.drain(..) {
                sizes.push((n, size));
            }
        }
    }
    Ok(sizes)
}

pub fn check_stack(ko: &Elf, debug: &str, max: u64, r: &mut Report) -> Result<()> {
    let sizes = match stack_sizes(debug) {
        Ok(s) => s,
        Err(e) => {
            r.fail(e);
            return Ok(());
        }
    };
    let known: BTreeSet<&str> = sizes.iter().map(|(n, _)| n.as_str()).collect();
    // Every function with code must have a recorded size, or a big frame
    // could hide.
    for s in ko.symbols()? {
        let is_code = ko.sections.get(s.shndx as usize).is_some_and(|sec| sec.flags & 4 != 0);
        if s.kind == 2 && s.size > 0 && is_code && !known.contains(s.name.as_str()) {
            r.fail(format!("no stack size recorded for {}", s.name));
        }
    }
    if sizes.is_empty() {
        r.fail("no stack sizes recorded");
    }
    for (name, size) in &sizes {
        if *size > max {
            r.fail(format!("{name} has a {size}-byte stack frame (limit {max})"));
        }
        if r.largest_frame.as_ref().is_none_or(|(s, _)| size > s) {
            r.largest_frame = Some((*size, name.clone()));
        }
    }
    Ok(())
}

/// Runs every check on `ko` (and its unstripped twin `debug`).
pub fn run(ko: &str, debug: &str, cfg: &Config) -> Report {
    let mut r = Report::default();
    let elf = match std::fs::read(ko).map_err(|e| e.to_string()).and_then(|d| Elf::parse(d).map_err(|e| e.0))
    {
        Ok(e) => e,
        Err(e) => {
            r.fail(format!("cannot read {ko}: {e}"));
            return r;
        }
    };
    check_header(&elf, cfg.arch, &mut r);
    check_section_order(&elf, &mut r);
    type Step<'a> = (&'a str, &'a dyn Fn(&mut Report) -> Result<()>);
    let steps: [Step; 6] = [
        ("relocations", &|r| check_relocations(&elf, cfg.arch, r)),
        ("BTI landing pads", &|r| check_landing_pads(&elf, cfg.arch, r)),
        ("linker sets and module metadata", &|r| check_module_records(&elf, cfg.release, r)),
        ("symbols", &|r| check_symbols(&elf, cfg, r)),
        ("symbol binding", &|r| check_global_symbols(&elf, r)),
        ("stack frames", &|r| check_stack(&elf, debug, cfg.max_frame, r)),
    ];
    for (what, f) in steps {
        if let Err(e) = f(&mut r) {
            r.fail(format!("{what}: {e}"));
        }
    }
    check_disassembly(ko, cfg.arch, &mut r);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp_simd_detection() {
        assert_eq!(fp_simd_use(Arch::Amd64, "movaps %xmm0, (%rsp)").as_deref(), Some("%xmm0"));
        assert_eq!(fp_simd_use(Arch::Amd64, "fldt (%rax)").as_deref(), Some("fldt"));
        assert_eq!(fp_simd_use(Arch::Amd64, "kmovw %k1, %eax").as_deref(), Some("%k1"));
        assert_eq!(fp_simd_use(Arch::Amd64, "movq %rax, %rdi"), None);
        assert_eq!(fp_simd_use(Arch::Amd64, "callq 0x10 <fadd_thing>"), None);
        assert_eq!(fp_simd_use(Arch::Arm64, "fmov d0, x1").as_deref(), Some("fmov"));
        assert_eq!(fp_simd_use(Arch::Arm64, "str q0, [sp, #16]").as_deref(), Some("q0"));
        assert_eq!(fp_simd_use(Arch::Arm64, "ld1 { v1.16b }, [x0]").as_deref(), Some("v1.16b"));
        assert_eq!(fp_simd_use(Arch::Arm64, "b.eq 0x40 <d0_func>"), None);
        assert_eq!(fp_simd_use(Arch::Arm64, "stp x29, x30, [sp, #-16]!"), None);
        assert_eq!(fp_simd_use(Arch::Arm64, "bl 0x100"), None);
    }

    #[test]
    fn kpi_rows_filter_by_arch() {
        let t = "# c\na | * | fn | h | void (void) | =\nb | amd64 | fn | h | void (void) | =\nc | arm64 | data | h | int | =\n";
        let a: Vec<String> = kpi_rows(t, Arch::Amd64).into_iter().map(|r| r.0).collect();
        assert_eq!(a, ["a", "b"]);
        let b: Vec<String> = kpi_rows(t, Arch::Arm64).into_iter().map(|r| r.0).collect();
        assert_eq!(b, ["a", "c"]);
    }
}
