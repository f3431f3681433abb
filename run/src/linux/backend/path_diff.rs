//! Differential test of the two ways `file_open` resolves beneath a
//! directory: `openat2(RESOLVE_BENEATH)` and the manual resolver. Random
//! trees of directories, files and symbolic links (relative, absolute,
//! dangling, looping, climbing with `..`) are built in a temporary
//! directory, and random paths are opened both ways. They must agree on
//! the file reached or on the error.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Once;

use abi::{Errno, Filetype};
use sys::path::Path;

use super::owned;
use super::path::{create_mode, manual_open, openat2};
use crate::linux::fdtable::HostFile;

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &["a", "b", "c", "d"];
const STEPS: &[&str] = &["a", "b", "c", "d", ".", "..", "", "x"];

/// A random relative path of up to five steps, sometimes with a leading
/// or trailing slash.
fn random_path(rng: &mut Rng) -> String {
    let n = 1 + rng.below(5);
    let mut p = (0..n).map(|_| rng.pick(STEPS)).collect::<Vec<_>>().join("/");
    match rng.below(10) {
        0 => p.insert(0, '/'),
        1 => p.push('/'),
        _ => {}
    }
    p
}

/// Fills `dir` (host path) with a random tree of `depth` levels.
fn build(rng: &mut Rng, dir: &std::path::Path, depth: u32) {
    for name in NAMES {
        let path = dir.join(name);
        match rng.below(if depth == 0 { 3 } else { 5 }) {
            0 => std::fs::write(&path, name).unwrap(),
            1 => {
                let target = match rng.below(6) {
                    0 => "/tmp".to_string(),
                    1 => "/".to_string(),
                    // Linux refuses empty link targets.
                    _ => Some(random_path(rng)).filter(|p| !p.is_empty()).unwrap_or_else(|| ".".into()),
                };
                std::os::unix::fs::symlink(target, &path).unwrap();
            }
            2 => {}
            _ => {
                std::fs::create_dir(&path).unwrap();
                build(rng, &path, depth - 1);
            }
        }
    }
}

fn identity(fd: &OwnedFd) -> (u64, u64) {
    // SAFETY: fstat fills a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
    (st.st_dev, st.st_ino)
}

fn open_root(path: &std::path::Path) -> HostFile {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a plain open of a NUL-terminated path.
    let fd = owned(unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) })
        .unwrap();
    HostFile::new(fd, Filetype::DIRECTORY)
}

pub(super) fn init_backend() {
    static INIT: Once = Once::new();
    INIT.call_once(|| super::init(Vec::new(), &crate::linux::Options::default()).unwrap());
}

#[test]
fn openat2_and_manual_resolution_agree() {
    init_backend();
    let mut rng = Rng(0x6265_6e65_6174_6821);
    let (mut opened, mut escapes, mut errors, mut compared) = (0u32, 0u32, 0u32, 0u32);
    let mut mismatches = Vec::new();
    for tree in 0..40 {
        let tmp = std::env::temp_dir().join(format!("cloudabi-path-diff-{}-{tree}", std::process::id()));
        std::fs::create_dir(&tmp).unwrap();
        build(&mut rng, &tmp, 2);
        let root = open_root(&tmp);
        for _ in 0..250 {
            let text = random_path(&mut rng);
            let follow = rng.below(2) == 0;
            let create = if rng.below(4) == 0 { libc::O_CREAT } else { 0 };
            let flags = libc::O_RDONLY | libc::O_CLOEXEC | create | if follow { 0 } else { libc::O_NOFOLLOW };
            let buf = format!("{text}\0").into_bytes();
            let path = Path::from_host(&buf).unwrap();
            let mode = create_mode(flags);
            let Some(fast) = openat2(&root, &path, flags, mode) else {
                println!("openat2 unavailable on this kernel: the differential test has nothing to compare");
                let _ = std::fs::remove_dir_all(&tmp);
                return;
            };
            let slow = manual_open(&root, &path, follow, flags, mode);
            compared += 1;
            let same = match (&fast, &slow) {
                (Ok(a), Ok(b)) => {
                    opened += 1;
                    identity(a) == identity(b)
                }
                (Err(a), Err(b)) => {
                    if *a == Errno::NOTCAPABLE {
                        escapes += 1;
                    } else {
                        errors += 1;
                    }
                    a == b
                }
                _ => false,
            };
            if !same {
                mismatches.push(format!(
                    "tree {tree}, path {text:?}, follow {follow}: openat2 {:?}, manual {:?}",
                    fast.map(|f| identity(&f)),
                    slow.map(|f| identity(&f))
                ));
            }
        }
        drop(root);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
    println!(
        "openat2 vs manual resolution: {compared} opens ({opened} opened, {escapes} escapes refused, {errors} other errors), {} mismatches",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(opened > 0 && escapes > 0 && errors > 0, "the random trees must exercise every outcome");
}
