//! Builds the emulated vDSO (the generated vDSO source of the target's
//! architecture, x86-64 or aarch64, with its trap replaced by a call through
//! a slot the loader fills in) with `scripts/build-vdso`, for the Linux
//! backend to embed.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("cloudabi_vdso_emulated.so");
    // The architecture cloudabi-run is built for (a cross build's target,
    // not the machine running this script).
    let arch = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => "aarch64",
        _ => "x86_64",
    };
    let source = format!("abi/vdso/cloudabi_vdso_{arch}.S");
    for input in [source.as_str(), "abi/vdso/vdso.lds", "scripts/build-vdso"] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    let status = Command::new(root.join("scripts/build-vdso"))
        .arg(arch)
        .arg(&out)
        .arg("emulated")
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run scripts/build-vdso (clang and ld.lld come from scripts/setup): {e}")
        });
    assert!(status.success(), "scripts/build-vdso failed");
}
