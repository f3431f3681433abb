//! Classic BPF programs for seccomp: a small assembler with labels, and (for
//! tests) an interpreter that runs a program on a `seccomp_data`.
//!
//! Only the instructions a seccomp filter needs are here: 32-bit loads from
//! the `seccomp_data` block, comparisons with constants and returns.
//! Conditional jumps go forward only and at most 255 instructions (the
//! encoding's limit); `finish` refuses a program that breaks either rule,
//! so a mistake in the policy is a build error in the tests, never a filter
//! the kernel rejects at run time.

/// One instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `BPF_LD | BPF_W | BPF_ABS`: load the 32-bit word at offset `k`.
pub const LD_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JA`: jump forward `k` instructions.
pub const JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`: `A == k`.
pub const JEQ: u16 = 0x15;
/// `BPF_JMP | BPF_JGT | BPF_K`: `A > k` (unsigned).
pub const JGT: u16 = 0x25;
/// `BPF_JMP | BPF_JGE | BPF_K`: `A >= k` (unsigned).
pub const JGE: u16 = 0x35;
/// `BPF_JMP | BPF_JSET | BPF_K`: `A & k != 0`.
pub const JSET: u16 = 0x45;
/// `BPF_RET | BPF_K`: return `k`.
pub const RET: u16 = 0x06;

/// Offsets in `struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }`.
pub const OFF_NR: u32 = 0;
pub const OFF_ARCH: u32 = 4;

/// The low 32 bits of argument `i` (x86-64 is little-endian).
pub const fn off_arg_lo(i: u32) -> u32 {
    16 + 8 * i
}

/// The high 32 bits of argument `i`.
pub const fn off_arg_hi(i: u32) -> u32 {
    16 + 8 * i + 4
}

/// A place in the program, bound with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// Where a conditional jump goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum To {
    /// The next instruction.
    Next,
    Label(Label),
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    code: u16,
    k: u32,
    jt: To,
    jf: To,
    /// For `JA`: the target.
    ja: Option<Label>,
}

/// A program under construction.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<Pending>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    pub fn new() -> Asm {
        Asm::default()
    }

    /// A new label, bound later.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Binds `l` to the next instruction emitted.
    pub fn bind(&mut self, l: Label) {
        self.labels[l.0] = Some(self.insns.len());
    }

    fn push(&mut self, code: u16, k: u32, jt: To, jf: To, ja: Option<Label>) {
        self.insns.push(Pending { code, k, jt, jf, ja });
    }

    /// `A = seccomp_data[offset]` (32 bits).
    pub fn load(&mut self, offset: u32) {
        self.push(LD_ABS, offset, To::Next, To::Next, None);
    }

    /// A conditional jump (`JEQ`, `JGT`, `JSET`) comparing `A` with `k`.
    pub fn jump(&mut self, code: u16, k: u32, jt: To, jf: To) {
        self.push(code, k, jt, jf, None);
    }

    /// An unconditional jump to `l`.
    pub fn ja(&mut self, l: Label) {
        self.push(JA, 0, To::Next, To::Next, Some(l));
    }

    /// Return `k` (a seccomp action).
    pub fn ret(&mut self, k: u32) {
        self.push(RET, k, To::Next, To::Next, None);
    }

    /// Resolves the labels.
    pub fn finish(self) -> Result<Vec<Insn>, String> {
        let target = |l: Label| self.labels[l.0].ok_or_else(|| format!("label {} is never bound", l.0));
        let mut out = Vec::with_capacity(self.insns.len());
        for (i, p) in self.insns.iter().enumerate() {
            let offset = |to: To| -> Result<u8, String> {
                let t = match to {
                    To::Next => return Ok(0),
                    To::Label(l) => target(l)?,
                };
                if t <= i {
                    return Err(format!("instruction {i} jumps backwards (to {t})"));
                }
                u8::try_from(t - i - 1).map_err(|_| format!("instruction {i} jumps too far (to {t})"))
            };
            let insn = match p.ja {
                Some(l) => {
                    let t = target(l)?;
                    if t <= i {
                        return Err(format!("instruction {i} jumps backwards (to {t})"));
                    }
                    Insn { code: JA, jt: 0, jf: 0, k: (t - i - 1) as u32 }
                }
                None => Insn { code: p.code, jt: offset(p.jt)?, jf: offset(p.jf)?, k: p.k },
            };
            out.push(insn);
        }
        // Every path must end in a return: the last instruction returns,
        // and no jump leads past it.
        match out.last() {
            Some(last) if last.code == RET => Ok(out),
            _ => Err("the program does not end with a return".into()),
        }
    }
}

/// What a filter sees of one system call.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Data {
    pub nr: i32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

#[cfg(test)]
impl Data {
    fn word(&self, offset: u32) -> Option<u32> {
        let mut bytes = [0u8; 64];
        bytes[0..4].copy_from_slice(&self.nr.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.arch.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.ip.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            bytes[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        let o = offset as usize;
        (o.is_multiple_of(4) && o + 4 <= bytes.len())
            .then(|| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()))
    }
}

/// Whether the kernel's seccomp action cache (Linux 5.11 on) marks system
/// call `nr` as always allowed for `arch`, so that the filter never runs
/// for it: the emulation `kernel/seccomp.c:seccomp_is_const_allow` does
/// when a filter is attached. It runs the program with only the number
/// and the architecture known; a load of anything else (an argument, the
/// instruction pointer) or an instruction it does not model makes the
/// number uncacheable, and a path that reaches `RET` caches it only if it
/// returns `SECCOMP_RET_ALLOW`. (The kernel also always allows its
/// uretprobe/uprobe calls, which the filter does not decide.)
#[cfg(test)]
pub fn kernel_caches_allow(prog: &[Insn], nr: u32, arch: u32) -> bool {
    const RET_ALLOW: u32 = 0x7fff_0000;
    let mut a: u32 = 0;
    let mut pc = 0usize;
    while let Some(insn) = prog.get(pc) {
        match insn.code {
            LD_ABS if insn.k == OFF_NR => a = nr,
            LD_ABS if insn.k == OFF_ARCH => a = arch,
            RET => return insn.k == RET_ALLOW,
            JA => pc += insn.k as usize,
            JEQ | JGE | JGT | JSET => {
                let taken = match insn.code {
                    JEQ => a == insn.k,
                    JGE => a >= insn.k,
                    JGT => a > insn.k,
                    _ => a & insn.k != 0,
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
            }
            _ => return false,
        }
        pc += 1;
    }
    false
}

/// Runs `prog` on `data` as the kernel would; `Err` for a program the
/// kernel would reject or that misbehaves.
#[cfg(test)]
pub fn run(prog: &[Insn], data: &Data) -> Result<u32, String> {
    run_counted(prog, data).map(|(k, _)| k)
}

/// [`run`], also returning how many instructions ran.
#[cfg(test)]
pub fn run_counted(prog: &[Insn], data: &Data) -> Result<(u32, usize), String> {
    let mut a: u32 = 0;
    let mut pc = 0usize;
    let mut steps = 0;
    loop {
        let insn = prog.get(pc).ok_or(format!("ran off the end at {pc}"))?;
        pc += 1;
        steps += 1;
        let jump = |cond: bool| if cond { insn.jt as usize } else { insn.jf as usize };
        match insn.code {
            LD_ABS => a = data.word(insn.k).ok_or(format!("bad load offset {}", insn.k))?,
            JA => pc += insn.k as usize,
            JEQ => pc += jump(a == insn.k),
            JGT => pc += jump(a > insn.k),
            JGE => pc += jump(a >= insn.k),
            JSET => pc += jump(a & insn.k != 0),
            RET => return Ok((insn.k, steps)),
            c => return Err(format!("unknown instruction {c:#x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_forward_offsets() {
        let mut asm = Asm::new();
        let yes = asm.label();
        asm.load(OFF_NR);
        asm.jump(JEQ, 7, To::Label(yes), To::Next);
        asm.ret(1);
        asm.bind(yes);
        asm.ret(2);
        let prog = asm.finish().unwrap();
        assert_eq!(
            prog,
            vec![
                Insn { code: LD_ABS, jt: 0, jf: 0, k: 0 },
                Insn { code: JEQ, jt: 1, jf: 0, k: 7 },
                Insn { code: RET, jt: 0, jf: 0, k: 1 },
                Insn { code: RET, jt: 0, jf: 0, k: 2 },
            ]
        );
        assert_eq!(run(&prog, &Data { nr: 7, ..Data::default() }), Ok(2));
        assert_eq!(run(&prog, &Data { nr: 8, ..Data::default() }), Ok(1));
    }

    #[test]
    fn bad_programs_are_refused() {
        let mut asm = Asm::new();
        let never = asm.label();
        asm.ja(never);
        asm.ret(0);
        assert!(asm.finish().unwrap_err().contains("never bound"));

        let mut asm = Asm::new();
        let back = asm.label();
        asm.bind(back);
        asm.load(OFF_NR);
        asm.jump(JEQ, 1, To::Label(back), To::Next);
        asm.ret(0);
        assert!(asm.finish().unwrap_err().contains("backwards"));

        let mut asm = Asm::new();
        let far = asm.label();
        asm.load(OFF_NR);
        asm.jump(JEQ, 1, To::Label(far), To::Next);
        for _ in 0..300 {
            asm.ret(0);
        }
        asm.bind(far);
        asm.ret(1);
        assert!(asm.finish().unwrap_err().contains("too far"));

        let mut asm = Asm::new();
        asm.load(OFF_NR);
        assert!(asm.finish().unwrap_err().contains("return"));
    }

    #[test]
    fn arguments_are_split_in_halves() {
        let mut asm = Asm::new();
        let (hi_set, low) = (asm.label(), asm.label());
        asm.load(off_arg_hi(2));
        asm.jump(JEQ, 0, To::Next, To::Label(hi_set));
        asm.load(off_arg_lo(2));
        asm.jump(JEQ, 0x1234, To::Label(low), To::Next);
        asm.ret(0);
        asm.bind(hi_set);
        asm.ret(1);
        asm.bind(low);
        asm.ret(2);
        let prog = asm.finish().unwrap();
        let data = |v: u64| Data { args: [0, 0, v, 0, 0, 0], ..Data::default() };
        assert_eq!(run(&prog, &data(0x1234)), Ok(2));
        assert_eq!(run(&prog, &data(0x1235)), Ok(0));
        assert_eq!(run(&prog, &data((1 << 32) | 0x1234)), Ok(1));
    }
}
