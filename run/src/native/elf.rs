//! Is this a CloudABI executable for this machine? Checked before a native
//! launch, so that the kernel's ENOEXEC can only mean that the cloudabi64
//! module is missing.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// `EI_OSABI` of CloudABI executables.
pub const ELFOSABI_CLOUDABI: u8 = 17;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

/// The ELF machine this build runs on, if CloudABI supports it.
pub fn host_machine() -> Option<u16> {
    if cfg!(target_arch = "x86_64") {
        Some(EM_X86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(EM_AARCH64)
    } else {
        None
    }
}

fn machine_name(machine: u16) -> String {
    match machine {
        EM_X86_64 => "x86-64".into(),
        EM_AARCH64 => "aarch64".into(),
        other => format!("ELF machine {other}"),
    }
}

/// Reads the ELF header of `file` and checks it.
pub fn check(file: &File) -> Result<(), String> {
    let mut header = [0u8; 64];
    let len = file.read_at(&mut header, 0).map_err(|e| format!("cannot read: {e}"))?;
    check_header(&header[..len], host_machine())
}

/// Checks a 64-bit little-endian CloudABI executable for `host`.
pub fn check_header(header: &[u8], host: Option<u16>) -> Result<(), String> {
    if header.len() < 64 || header[..4] != *b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if header[4] != 2 || header[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    if header[7] != ELFOSABI_CLOUDABI {
        let abi = header[7];
        let hint = if abi == 0 {
            "; OS/ABI 0 is a System V/Linux program, or a CloudABI program linked with GNU ld: link CloudABI programs with ld.lld (clang -fuse-ld=lld; docs/guest.md)"
        } else {
            ""
        };
        return Err(format!(
            "not a CloudABI executable (ELF OS ABI {abi}, expected {ELFOSABI_CLOUDABI}){hint}"
        ));
    }
    let e_type = u16::from_le_bytes([header[16], header[17]]);
    if e_type != 2 && e_type != 3 {
        return Err(format!("not an executable (ELF type {e_type})"));
    }
    let machine = u16::from_le_bytes([header[18], header[19]]);
    match host {
        None => Err("CloudABI does not support this machine".into()),
        Some(host) if host != machine => {
            Err(format!("built for {}, but this machine is {}", machine_name(machine), machine_name(host)))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(osabi: u8, e_type: u16, machine: u16) -> [u8; 64] {
        let mut h = [0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        (h[4], h[5], h[6], h[7]) = (2, 1, 1, osabi);
        h[16..18].copy_from_slice(&e_type.to_le_bytes());
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h
    }

    #[test]
    fn accepts_cloudabi_executables_for_the_host() {
        assert_eq!(check_header(&header(17, 3, EM_X86_64), Some(EM_X86_64)), Ok(()));
        assert_eq!(check_header(&header(17, 2, EM_AARCH64), Some(EM_AARCH64)), Ok(()));
    }

    #[test]
    fn rejects_everything_else() {
        let x86 = Some(EM_X86_64);
        assert_eq!(check_header(b"#!/bin/sh\n", x86).unwrap_err(), "not an ELF file");
        assert_eq!(check_header(&header(17, 3, EM_X86_64)[..63], x86).unwrap_err(), "not an ELF file");
        let mut h32 = header(17, 3, EM_X86_64);
        h32[4] = 1;
        assert_eq!(check_header(&h32, x86).unwrap_err(), "not a 64-bit little-endian ELF file");
        assert_eq!(
            check_header(&header(9, 3, EM_X86_64), x86).unwrap_err(),
            "not a CloudABI executable (ELF OS ABI 9, expected 17)"
        );
        assert_eq!(
            check_header(&header(17, 1, EM_X86_64), x86).unwrap_err(),
            "not an executable (ELF type 1)"
        );
        assert_eq!(
            check_header(&header(17, 3, EM_AARCH64), x86).unwrap_err(),
            "built for aarch64, but this machine is x86-64"
        );
        assert_eq!(
            check_header(&header(17, 3, 8), None).unwrap_err(),
            "CloudABI does not support this machine"
        );
    }

    #[test]
    fn reads_the_header_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prog");
        std::fs::write(&path, header(17, 3, host_machine().unwrap_or(0))).unwrap();
        let expected = if host_machine().is_some() {
            Ok(())
        } else {
            Err("CloudABI does not support this machine".into())
        };
        assert_eq!(check(&File::open(&path).unwrap()), expected);
    }
}
