//! The initial process image: the stack with the argument data, the
//! auxiliary vector and the thread control block, laid out exactly as the
//! FreeBSD kernel module lays it out.
//!
//! From the top of the stack down: the argument data (followed by a NUL,
//! start rounded down to 8 bytes), 64 random canary bytes, a 16-byte random
//! UUIDv4 process id, the 13-entry auxiliary vector, the 8-byte TCB, and
//! (x86-64) a slot holding the TCB's address, which the `%fs` base points
//! at. `%rsp` is placed below, 16-byte aligned minus 8 (as after a call),
//! and `%rdi` holds the auxiliary vector's address. On aarch64 there is no
//! slot: `tpidr_el0` points at the TCB itself, `sp` is the TCB's address
//! rounded down to 16 (FreeBSD's arm64 `exec_setregs`: `STACKALIGN`), and
//! `x0` holds the auxiliary vector's address.

use abi::Auxtype;

use super::loader::{Loaded, PAGE, map_anonymous, protect};

/// Stack size of the initial thread.
pub const STACK_SIZE: u64 = 8 << 20;
pub const CANARY_LEN: u64 = 64;

/// Registers and addresses the guest starts with.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    pub rsp: u64,
    /// `%rdi` / `x0`: the auxiliary vector.
    pub auxv: u64,
    /// `%fs` base: the slot holding the TCB's address; aarch64:
    /// `tpidr_el0`, the TCB's address.
    pub fs: u64,
}

/// What goes into the auxiliary vector besides the stack's own addresses.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub ncpus: u64,
    pub tid: u32,
    pub vdso: u64,
    /// Stored in the TCB's `parent` field (for the runtime's own use).
    pub tcb_parent: u64,
}

/// Makes a 16-byte UUIDv4 out of random bytes.
pub fn uuid_v4(mut b: [u8; 16]) -> [u8; 16] {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    b
}

fn random(buf: &mut [u8]) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: getrandom writes at most the remaining length.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        done += n as usize;
    }
    Ok(())
}

/// Allocates the stack (with a guard page below it) and lays it out.
pub fn build(argdata: &[u8], loaded: &Loaded, f: &Facts) -> Result<Start, String> {
    let total = STACK_SIZE + PAGE;
    let bottom = map_anonymous(total).map_err(|e| format!("allocating the stack: {e}"))?;
    protect(bottom, PAGE, libc::PROT_NONE).map_err(|e| format!("stack guard page: {e}"))?;
    super::guestmem::add(bottom, total);
    let top = bottom + total;
    let need = argdata.len() as u64 + 1 + CANARY_LEN + 16 + 13 * 16 + 8 + 8 + 64;
    if need > STACK_SIZE / 2 {
        return Err(format!("argument data of {} bytes does not fit on the stack", argdata.len()));
    }
    let mut w = Writer { sp: top };
    let argdata_addr = w.push_bytes(argdata, true);
    let mut canary = [0u8; CANARY_LEN as usize];
    let mut pid = [0u8; 16];
    random(&mut canary).and_then(|_| random(&mut pid)).map_err(|e| format!("getrandom: {e}"))?;
    let canary_addr = w.push_bytes(&canary, false);
    let pid_addr = w.push_bytes(&uuid_v4(pid), false);
    let auxv = [
        (Auxtype::ARGDATA, argdata_addr),
        (Auxtype::ARGDATALEN, argdata.len() as u64),
        (Auxtype::BASE, loaded.base),
        (Auxtype::CANARY, canary_addr),
        (Auxtype::CANARYLEN, CANARY_LEN),
        (Auxtype::NCPUS, f.ncpus),
        (Auxtype::PAGESZ, PAGE),
        (Auxtype::PHDR, loaded.phdr),
        (Auxtype::PHNUM, loaded.phnum),
        (Auxtype::PID, pid_addr),
        (Auxtype::SYSINFO_EHDR, f.vdso),
        (Auxtype::TID, u64::from(f.tid)),
        (Auxtype::NULL, 0),
    ];
    let mut bytes = Vec::with_capacity(auxv.len() * 16);
    for (t, v) in auxv {
        bytes.extend_from_slice(&u64::from(t.raw()).to_le_bytes());
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let auxv_addr = w.push_bytes(&bytes, false);
    let tcb = w.push_bytes(&f.tcb_parent.to_le_bytes(), false);
    Ok(registers(&mut w, tcb, auxv_addr))
}

#[cfg(not(target_arch = "aarch64"))]
fn registers(w: &mut Writer, tcb: u64, auxv: u64) -> Start {
    let slot = w.push_bytes(&tcb.to_le_bytes(), false);
    // FreeBSD's amd64 exec_setregs: %rsp + 8 16-byte aligned, at or below
    // the slot (the slot itself when it is 8 mod 16; pushes go below it).
    let rsp = ((slot - 8) & !15) + 8;
    Start { rsp, auxv, fs: slot }
}

/// FreeBSD's arm64 `exec_setregs` (sys/arm64/arm64/machdep.c, 14.x/15.x):
/// `tf_sp = STACKALIGN(stack)`, the stack address being the TCB's.
#[cfg(target_arch = "aarch64")]
fn registers(_: &mut Writer, tcb: u64, auxv: u64) -> Start {
    Start { rsp: tcb & !15, auxv, fs: tcb }
}

/// Writes downwards from the top of the stack.
struct Writer {
    sp: u64,
}

impl Writer {
    /// Copies `data` (plus a NUL if asked) below the current position, 8-byte
    /// aligned; returns its address.
    fn push_bytes(&mut self, data: &[u8], nul: bool) -> u64 {
        let len = data.len() as u64 + u64::from(nul);
        self.sp = (self.sp - len) & !7;
        // SAFETY: the stack mapping covers [bottom + PAGE, top) and `build`
        // checked everything pushed fits in its upper half.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.sp as *mut u8, data.len());
            if nul {
                *((self.sp + data.len() as u64) as *mut u8) = 0;
            }
        }
        self.sp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_version_4_and_the_rfc_variant() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(u[6] >> 4, 4);
        assert_eq!(u[8] >> 6, 0b10);
        let u = uuid_v4([0; 16]);
        assert_eq!((u[6], u[8]), (0x40, 0x80));
    }

    fn word(addr: u64) -> u64 {
        // SAFETY: the test only reads addresses inside the stack `build` made.
        unsafe { *(addr as *const u64) }
    }

    #[test]
    fn the_stack_is_laid_out_as_the_kernel_does() {
        let loaded = Loaded { base: 0x1000_0000, entry: 0x1000_1000, phdr: 0x1000_0040, phnum: 7 };
        let facts = Facts { ncpus: 3, tid: 2, vdso: 0x7000_0000, tcb_parent: 0xabcd };
        let s = build(b"\x06hello", &loaded, &facts).unwrap();
        let tcb = if cfg!(target_arch = "aarch64") {
            // tpidr_el0 points at the TCB, right below the auxv; sp is
            // 16-byte aligned at or below it.
            assert_eq!(s.auxv, s.fs + 8);
            assert_eq!((s.rsp % 16, s.rsp), (0, s.fs & !15));
            s.fs
        } else {
            // %fs points at a slot holding the TCB's address; at `_start`,
            // as after a call: %rsp + 8 is 16-byte aligned, and nothing the
            // kernel placed is below the stack pointer.
            let tcb = word(s.fs);
            assert_eq!((s.rsp + 8) % 16, 0);
            assert_eq!(s.rsp, ((s.fs - 8) & !15) + 8);
            assert!(s.rsp <= s.fs && s.fs < tcb && tcb < s.auxv);
            tcb
        };
        // The TCB's first word is `parent`.
        assert_eq!(word(tcb), 0xabcd);
        // The 13 auxiliary vector entries, in order, ending with AT_NULL.
        let mut entries = Vec::new();
        for i in 0..13 {
            entries.push((word(s.auxv + 16 * i) as u32, word(s.auxv + 16 * i + 8)));
        }
        let at = |t: Auxtype| entries.iter().find(|e| e.0 == t.raw()).map(|e| e.1);
        assert_eq!(entries.last(), Some(&(Auxtype::NULL.raw(), 0)));
        let (argdata, pid) = (at(Auxtype::ARGDATA).unwrap(), at(Auxtype::PID).unwrap());
        let canary = at(Auxtype::CANARY).unwrap();
        assert!(s.auxv < pid && pid < canary && canary < argdata, "kernel order: argdata, canary, pid, auxv");
        assert_eq!(at(Auxtype::ARGDATALEN), Some(6));
        assert_eq!(at(Auxtype::CANARYLEN), Some(CANARY_LEN));
        assert_eq!(at(Auxtype::BASE), Some(loaded.base));
        assert_eq!(at(Auxtype::PHDR), Some(loaded.phdr));
        assert_eq!(at(Auxtype::PHNUM), Some(7));
        assert_eq!(at(Auxtype::NCPUS), Some(3));
        assert_eq!(at(Auxtype::TID), Some(2));
        assert_eq!(at(Auxtype::SYSINFO_EHDR), Some(0x7000_0000));
        assert_eq!(at(Auxtype::PAGESZ), Some(PAGE));
        // The argument data is followed by a NUL; the pid is a UUIDv4.
        // SAFETY: reads inside the stack.
        let (arg, pid) = unsafe {
            (
                std::slice::from_raw_parts(argdata as *const u8, 7),
                std::slice::from_raw_parts(pid as *const u8, 16),
            )
        };
        assert_eq!(arg, b"\x06hello\0");
        assert_eq!((pid[6] >> 4, pid[8] >> 6), (4, 0b10));
    }
}
