//! `cloudabi.h` compiles for both CloudABI targets, in strict C11, together
//! with the header names existing CloudABI code includes, and its layout
//! assertions hold on each.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

const PROGRAM: &str = r#"
#include <cloudabi_types_common.h>
#include <cloudabi_types.h>
#include <cloudabi_syscalls.h>
#include <cloudabi.h>

_Static_assert(CLOUDABI_ENOTCAPABLE == 76, "errno");
_Static_assert(CLOUDABI_RIGHT_SOCK_SHUTDOWN == 0x8000000000, "rights");
_Static_assert(CLOUDABI_PROCESS_CHILD == 0xffffffff, "fd");
_Static_assert(sizeof(cloudabi_subscription_t) == 56, "subscription");

#define COUNT(name) + 1
_Static_assert(0 CLOUDABI_SYSCALL_NAMES(COUNT) == CLOUDABI_SYSCALL_COUNT, "names");
_Static_assert(CLOUDABI_SYSCALL_COUNT == 49, "count");

cloudabi_errno_t use(cloudabi_fd_t fd) {
    cloudabi_fdstat_t st;
    cloudabi_errno_t e = cloudabi_sys_fd_stat_get(fd, &st);
    if (e != 0)
        return e;
    size_t n;
    cloudabi_iovec_t iov = {.buf = 0, .buf_len = 0};
    return cloudabi_sys_fd_read(fd, &iov, 1, &n);
}
"#;

#[test]
fn header_compiles_for_both_cloudabi_targets() {
    let dir = std::env::temp_dir().join(format!("c-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("t.c");
    std::fs::write(&src, PROGRAM).unwrap();
    for target in ["x86_64-unknown-cloudabi", "aarch64-unknown-cloudabi"] {
        let out = Command::new(std::env::var("CLANG").unwrap_or_else(|_| "clang".into()))
            .arg(format!("--target={target}"))
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-ffreestanding", "-c", "-o"])
            .arg(dir.join("t.o"))
            .arg("-I")
            .arg(root().join("guest/include"))
            .arg(&src)
            .output()
            .expect("clang could not run (scripts/setup installs it)");
        assert!(out.status.success(), "{target}: {}", String::from_utf8_lossy(&out.stderr));
        println!("cloudabi.h compiled for {target}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
