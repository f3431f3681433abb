//! The FreeBSD release whose KPI the shim reproduces: the one the module
//! is built for (`CLOUDABI64_FREEBSD`, 14 unless set: scripts/kmod-sim's
//! `KMOD_SIM_RELEASE`), as `cfg(freebsd14)` or `cfg(freebsd15)`, for the
//! few KPI signatures that differ (kmod/kpi-symbols.txt).

fn main() {
    println!("cargo::rerun-if-env-changed=CLOUDABI64_FREEBSD");
    println!("cargo::rustc-check-cfg=cfg(freebsd14)");
    println!("cargo::rustc-check-cfg=cfg(freebsd15)");
    let release = std::env::var("CLOUDABI64_FREEBSD").unwrap_or_else(|_| "14".into());
    match release.as_str() {
        "14" | "15" => println!("cargo::rustc-cfg=freebsd{release}"),
        other => panic!("CLOUDABI64_FREEBSD={other}: kmod-sim reproduces the 14.x or the 15.x KPI"),
    }
}
