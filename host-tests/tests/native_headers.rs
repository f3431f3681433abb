//! The syscall core's native constants against the systems' own headers:
//! Linux errno values against this machine's `errno.h` (compiled and run),
//! FreeBSD errno and Capsicum values against the FreeBSD 14.2 and 15.0
//! headers that `scripts/setup` caches (compiled with `_Static_assert`s, in
//! the userland view of those headers, which defines the same values).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("native-headers-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn clang() -> String {
    std::env::var("CLANG").unwrap_or_else(|_| "clang".into())
}

#[test]
fn linux_errno_table_matches_errno_h() {
    let mut c =
        String::from("#include <errno.h>\n#include <signal.h>\n#include <stdio.h>\nint main(void) {\n");
    for (name, _, _) in sys::errno::LINUX {
        writeln!(c, "    printf(\"%s %d\\n\", \"{name}\", {name});").unwrap();
    }
    for (name, _, _) in sys::signal::LINUX.iter() {
        writeln!(c, "    printf(\"%s %d\\n\", \"{name}\", {name});").unwrap();
    }
    c.push_str("    return 0;\n}\n");
    let dir = scratch("linux");
    std::fs::write(dir.join("t.c"), c).unwrap();
    let status = Command::new(clang()).arg("-o").arg(dir.join("t")).arg(dir.join("t.c")).status().unwrap();
    assert!(status.success(), "compiling the errno probe failed");
    let out = Command::new(dir.join("t")).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = sys::errno::LINUX
        .iter()
        .map(|&(n, v, _)| (n, v))
        .chain(sys::signal::LINUX.iter().map(|&(n, v, _)| (n, v)));
    let mut checked = 0;
    for (line, (name, value)) in text.lines().zip(expected) {
        assert_eq!(line, format!("{name} {value}"), "Linux {name}");
        checked += 1;
    }
    assert_eq!(checked, sys::errno::LINUX.len() + sys::signal::LINUX.len());
    println!(
        "Linux: {} errno values and {} signal numbers match errno.h and signal.h",
        sys::errno::LINUX.len(),
        sys::signal::LINUX.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn freebsd_errno_and_capsicum_match_the_14_and_15_headers() {
    let mut c = String::from(
        "#include <sys/param.h>\n#include <sys/errno.h>\n#include <sys/signal.h>\n#include <sys/capsicum.h>\n",
    );
    let names = sys::errno::FREEBSD.iter().map(|&(n, v, _)| (n, v));
    for (name, value) in names.chain(sys::signal::FREEBSD.iter().map(|&(n, v, _)| (n, v))) {
        writeln!(c, "_Static_assert({name} == {value}, \"{name}\");").unwrap();
    }
    for (name, value) in sys::rights::cap::NAMED.iter() {
        writeln!(c, "_Static_assert({name} == {value:#x}ULL, \"{name}\");").unwrap();
    }
    let none = sys::rights::CapRights::NONE.0;
    writeln!(c, "_Static_assert((((uint64_t)CAP_RIGHTS_VERSION << 62) | CAPRIGHT(0, 0ULL)) == {:#x}ULL, \"CAP_NONE[0]\");", none[0]).unwrap();
    writeln!(c, "_Static_assert(CAPRIGHT(1, 0ULL) == {:#x}ULL, \"CAP_NONE[1]\");", none[1]).unwrap();
    writeln!(c, "_Static_assert(sizeof(cap_rights_t) == 16, \"cap_rights_t\");").unwrap();
    let dir = scratch("freebsd");
    std::fs::write(dir.join("t.c"), &c).unwrap();
    let mut builds = 0;
    for (release, version) in [("14.2", 1402000), ("15.0", 1500068)] {
        let inc = root().join("target/freebsd-headers").join(release).join("include");
        assert!(
            inc.join("generic-freebsd/sys/capsicum.h").exists(),
            "FreeBSD {release} headers missing: run scripts/setup"
        );
        for arch in ["x86_64", "aarch64"] {
            let out = Command::new(clang())
                .arg(format!("--target={arch}-unknown-freebsd"))
                .args(["-nostdinc", "-ffreestanding", "-fsyntax-only"])
                .arg(format!("-D__FreeBSD_version={version}"))
                .arg("-I")
                .arg(inc.join(format!("{arch}-freebsd-none")))
                .arg("-I")
                .arg(inc.join("generic-freebsd"))
                .arg(dir.join("t.c"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "FreeBSD {release} {arch}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            builds += 1;
        }
    }
    println!(
        "FreeBSD: {} errno values, {} signal numbers and {} Capsicum rights match the 14.2 and 15.0 headers ({builds} compilations)",
        sys::errno::FREEBSD.len(),
        sys::signal::FREEBSD.len(),
        sys::rights::cap::NAMED.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}
