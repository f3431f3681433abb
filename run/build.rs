//! Builds the emulated vDSO (the generated x86-64 vDSO source with its trap
//! replaced by a call through a slot the loader fills in) with
//! `scripts/build-vdso`, for the Linux backend to embed.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("cloudabi_vdso_emulated.so");
    for input in ["abi/vdso/cloudabi_vdso_x86_64.S", "abi/vdso/vdso.lds", "scripts/build-vdso"] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    let status = Command::new(root.join("scripts/build-vdso"))
        .arg("x86_64")
        .arg(&out)
        .arg("emulated")
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run scripts/build-vdso (clang and ld.lld come from scripts/setup): {e}")
        });
    assert!(status.success(), "scripts/build-vdso failed");
}
