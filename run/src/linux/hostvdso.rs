//! Symbols of the host's (Linux's) vDSO, for the TLS-free fast path of
//! `clock_time_get`: glibc's `clock_gettime` demangles its vDSO pointer
//! with a guard kept in the thread's TCB (`%fs`), so the fast path, which
//! runs with the guest's `%fs`, calls the vDSO function directly.

/// The address of `name` in the vDSO Linux mapped into this process
/// (`AT_SYSINFO_EHDR`), found through its `DT_HASH` table. `None` when
/// there is no vDSO, it has no `DT_HASH`, or no such symbol.
pub fn symbol(name: &str) -> Option<u64> {
    // SAFETY: getauxval only reads the auxiliary vector.
    let base = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
    if base == 0 {
        return None;
    }
    // SAFETY: the kernel maps the vDSO as a complete, readable ELF image
    // at `base` for the life of the process; every read below follows the
    // image's own headers.
    unsafe { lookup(base, name) }
}

unsafe fn read<T: Copy>(addr: u64) -> T {
    // SAFETY: per `lookup`'s contract, `addr` lies inside the vDSO image.
    unsafe { (addr as *const T).read_unaligned() }
}

/// # Safety
/// `base` must be the address of a mapped ELF64 image.
unsafe fn lookup(base: u64, name: &str) -> Option<u64> {
    const PT_LOAD: u32 = 1;
    const PT_DYNAMIC: u32 = 2;
    const DT_HASH: i64 = 4;
    const DT_STRTAB: i64 = 5;
    const DT_SYMTAB: i64 = 6;
    // SAFETY (all reads): inside the image, per the caller's contract.
    unsafe {
        if read::<[u8; 4]>(base) != *b"\x7fELF" {
            return None;
        }
        let (phoff, phnum) = (read::<u64>(base + 32), read::<u16>(base + 56));
        let mut bias = None;
        let mut dynamic = None;
        for i in 0..u64::from(phnum) {
            let ph = base + phoff + i * 56;
            let (ty, vaddr) = (read::<u32>(ph), read::<u64>(ph + 16));
            if ty == PT_LOAD && bias.is_none() {
                bias = Some(base.wrapping_sub(vaddr));
            }
            if ty == PT_DYNAMIC {
                dynamic = Some(vaddr);
            }
        }
        let (bias, dynamic) = (bias?, dynamic?);
        let (mut hash, mut strtab, mut symtab) = (None, None, None);
        let mut d = bias.wrapping_add(dynamic);
        loop {
            let (tag, val) = (read::<i64>(d), read::<u64>(d + 8));
            match tag {
                0 => break,
                DT_HASH => hash = Some(bias.wrapping_add(val)),
                DT_STRTAB => strtab = Some(bias.wrapping_add(val)),
                DT_SYMTAB => symtab = Some(bias.wrapping_add(val)),
                _ => {}
            }
            d += 16;
        }
        let (hash, strtab, symtab) = (hash?, strtab?, symtab?);
        let nchain = u64::from(read::<u32>(hash + 4));
        for i in 1..nchain {
            let sym = symtab + i * 24;
            let (st_name, st_shndx, st_value) =
                (read::<u32>(sym), read::<u16>(sym + 6), read::<u64>(sym + 8));
            if st_shndx == 0 || st_value == 0 {
                continue;
            }
            let s = strtab + u64::from(st_name);
            if (0..name.len()).all(|k| read::<u8>(s + k as u64) == name.as_bytes()[k])
                && read::<u8>(s + name.len() as u64) == 0
            {
                return Some(bias.wrapping_add(st_value));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_vdso_clock_agrees_with_libc() {
        let Some(f) = symbol("__vdso_clock_gettime") else {
            println!("this kernel maps no vDSO with DT_HASH: the clock fast path is off here");
            return;
        };
        // SAFETY: __vdso_clock_gettime has clock_gettime's C signature.
        let f: extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int =
            unsafe { std::mem::transmute(f) };
        let mut a = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let mut b = a;
        assert_eq!(f(libc::CLOCK_MONOTONIC, &mut a), 0);
        // SAFETY: clock_gettime fills `b`.
        assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut b) }, 0);
        assert!((b.tv_sec, b.tv_nsec) >= (a.tv_sec, a.tv_nsec) && b.tv_sec - a.tv_sec < 2);
        assert_eq!(symbol("no_such_symbol"), None);
    }
}
