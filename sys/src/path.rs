//! Path arguments, and resolution of a path beneath a directory.
//!
//! CloudABI paths are `(pointer, length)` pairs, never NUL-terminated, and
//! always relative to a directory descriptor the process holds. Resolution
//! must never leave that directory: an absolute path, a `..` above it or a
//! symbolic link pointing outside it fails with `ENOTCAPABLE`.
//!
//! [`copy_path`] validates and copies a path argument once. [`resolve`] is
//! the component-by-component resolver for backends whose kernel cannot
//! enforce this itself (the Linux backend's fallback when `openat2` is
//! unavailable, and the model backend of the tests). The FreeBSD module
//! relies on the kernel's capability mode instead. As in cap-std's manual
//! resolver, the resolver keeps a stack of the directories it opened, so
//! `..` pops that stack and is never asked of the kernel (which closes the
//! race where a directory is renamed out from under a lookup).

use abi::{Errno, UserRange};

use crate::user::{UserMemory, UserSlice};

/// Longest path accepted, including room for a terminating NUL: paths of
/// `PATH_MAX` bytes or more fail with `ENAMETOOLONG` (FreeBSD's `PATH_MAX`).
pub const PATH_MAX: usize = 1024;

/// Most symbolic links expanded in one resolution before `ELOOP`
/// (FreeBSD's `MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 32;

/// Deepest directory nesting the resolver tracks; deeper paths fail with
/// `ENAMETOOLONG`. Each level needs at least two bytes (`a/`), so this covers
/// every path shorter than `PATH_MAX` without symbolic links.
pub const MAX_DEPTH: usize = PATH_MAX / 2;

/// A validated path argument: no NUL bytes, shorter than [`PATH_MAX`],
/// stored followed by a NUL so backends can hand it to C interfaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path<'a> {
    with_nul: &'a [u8],
}

impl<'a> Path<'a> {
    /// Checks `bytes` (without a terminator) and `buf`, which must hold
    /// `bytes` followed by a NUL.
    fn new(with_nul: &'a [u8]) -> Path<'a> {
        Path { with_nul }
    }

    /// A path from host memory (launchers and tests): `bytes` followed by
    /// exactly one NUL, with the same limits as [`copy_path`].
    pub fn from_host(with_nul: &'a [u8]) -> Result<Path<'a>, Errno> {
        match with_nul.split_last() {
            Some((0, bytes)) if bytes.len() >= PATH_MAX => Err(Errno::NAMETOOLONG),
            Some((0, bytes)) if !bytes.contains(&0) => Ok(Path::new(with_nul)),
            _ => Err(Errno::INVAL),
        }
    }

    /// The path bytes, without the terminator.
    pub fn as_bytes(&self) -> &'a [u8] {
        &self.with_nul[..self.with_nul.len() - 1]
    }

    /// The path bytes followed by one NUL.
    pub fn as_bytes_with_nul(&self) -> &'a [u8] {
        self.with_nul
    }

    pub fn len(&self) -> usize {
        self.with_nul.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Validates a path argument and copies it (once) into `buf`.
///
/// Order of checks: `len >= PATH_MAX` is `ENAMETOOLONG` before any memory is
/// touched; then the bytes are copied (`EFAULT`); then an embedded NUL is
/// `EINVAL`. `buf` must have room for `PATH_MAX` bytes.
pub fn copy_path<'b, M: UserMemory + ?Sized>(
    mem: &mut M,
    arg: UserRange<u8>,
    buf: &'b mut [u8],
) -> Result<Path<'b>, Errno> {
    let len = usize::try_from(arg.len).map_err(|_| Errno::NAMETOOLONG)?;
    if len >= PATH_MAX || len >= buf.len() {
        return Err(Errno::NAMETOOLONG);
    }
    let (bytes, rest) = buf.split_at_mut(len);
    UserSlice::of_range(arg)?.reader().read_bytes(mem, bytes)?;
    if bytes.contains(&0) {
        return Err(Errno::INVAL);
    }
    rest[0] = 0;
    Ok(Path::new(&buf[..=len]))
}

/// Why a component could not be opened as a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenDirError {
    /// The component is a symbolic link (it was not followed).
    Symlink,
    /// Anything else: `ENOENT`, `ENOTDIR`, `EACCES`, ...
    Errno(Errno),
}

/// The directory operations [`resolve`] needs. Every `name` is a single
/// component: non-empty, without `/`, and never `.` or `..`.
pub trait DirOps {
    /// An open directory.
    type Dir;

    /// Opens `name` in `dir` as a directory, without following it if it is
    /// a symbolic link.
    fn open_dir(&mut self, dir: &Self::Dir, name: &[u8]) -> Result<Self::Dir, OpenDirError>;

    /// Reads the target of the symbolic link `name` in `dir` into `buf` and
    /// returns its length; `EINVAL` if `name` is not a symbolic link,
    /// `ENAMETOOLONG` if the target does not fit.
    fn read_link(&mut self, dir: &Self::Dir, name: &[u8], buf: &mut [u8]) -> Result<usize, Errno>;
}

/// Where a path led: the directory holding the final component, and that
/// component.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The last component: a single name, or `.` when the path ended at a
    /// directory (`.`, `..`, `dir/.` and the like).
    pub name: &'a [u8],
    /// The path ended with `/`: the result must be a directory.
    pub must_be_dir: bool,
}

/// Resolves `path` beneath `start` and calls `f` with the directory holding
/// the final component and that component.
///
/// `follow` says whether a symbolic link in the final position is followed
/// (links in every other position always are; a trailing `/` also follows).
/// Errors: empty path `ENOENT`; absolute path, `..` above `start` or an
/// absolute symbolic link `ENOTCAPABLE`; more than [`MAX_SYMLINKS`] links
/// `ELOOP`; over-long expansions or nesting `ENAMETOOLONG`; errors of the
/// directory operations as they come.
pub fn resolve<O: DirOps, T>(
    ops: &mut O,
    start: &O::Dir,
    path: &[u8],
    follow: bool,
    f: impl FnOnce(&mut O, &O::Dir, Resolved<'_>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let mut w = Walk::new(path)?;
    let mut stack = DirStack::<O::Dir>::new();
    let mut links = 0usize;
    loop {
        let Some(step) = w.next_component() else {
            // Only "." / ".." / slashes remained: the path names the
            // directory we are in.
            let dir = stack.top().unwrap_or(start);
            return f(ops, dir, Resolved { name: b".", must_be_dir: true });
        };
        match w.name(step) {
            b"." => continue,
            b".." => {
                if stack.pop().is_none() {
                    return Err(Errno::NOTCAPABLE);
                }
                continue;
            }
            _ => {}
        }
        let dir = stack.top().unwrap_or(start);
        let final_component = step.last && !step.trailing_slash;
        if final_component && !follow {
            return f(ops, dir, Resolved { name: w.name(step), must_be_dir: false });
        }
        if final_component {
            // Follow a final symbolic link; anything else is the answer.
            let mut target = [0u8; PATH_MAX];
            match ops.read_link(dir, w.name(step), &mut target) {
                Ok(n) => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::LOOP);
                    }
                    w.splice(step, &target[..n])?;
                    continue;
                }
                Err(Errno::INVAL) | Err(Errno::NOENT) => {
                    return f(ops, dir, Resolved { name: w.name(step), must_be_dir: false });
                }
                Err(e) => return Err(e),
            }
        }
        match ops.open_dir(dir, w.name(step)) {
            Ok(d) => stack.push(d)?,
            Err(OpenDirError::Symlink) => {
                let mut target = [0u8; PATH_MAX];
                let n = ops.read_link(dir, w.name(step), &mut target)?;
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::LOOP);
                }
                w.splice(step, &target[..n])?;
            }
            Err(OpenDirError::Errno(Errno::NOENT)) if step.last => {
                // `name/` naming something that does not exist yet: a
                // directory may be created there.
                return f(ops, dir, Resolved { name: w.name(step), must_be_dir: true });
            }
            Err(OpenDirError::Errno(e)) => return Err(e),
        }
    }
}

/// The directories the resolver opened, innermost last.
struct DirStack<D> {
    dirs: [Option<D>; MAX_DEPTH],
    len: usize,
}

impl<D> DirStack<D> {
    fn new() -> Self {
        DirStack { dirs: [const { None }; MAX_DEPTH], len: 0 }
    }

    fn top(&self) -> Option<&D> {
        self.len.checked_sub(1).and_then(|i| self.dirs[i].as_ref())
    }

    fn push(&mut self, d: D) -> Result<(), Errno> {
        let slot = self.dirs.get_mut(self.len).ok_or(Errno::NAMETOOLONG)?;
        *slot = Some(d);
        self.len += 1;
        Ok(())
    }

    /// Drops (closes) the innermost directory.
    fn pop(&mut self) -> Option<D> {
        let i = self.len.checked_sub(1)?;
        self.len = i;
        self.dirs[i].take()
    }
}

/// One component of the remaining path, by position in the walk buffer.
#[derive(Clone, Copy, Debug)]
struct Step {
    start: usize,
    end: usize,
    /// No further non-empty component follows.
    last: bool,
    /// Slashes follow this component.
    trailing_slash: bool,
}

impl Step {
    const DOT: Step = Step { start: 0, end: 0, last: false, trailing_slash: false };
}

/// The not-yet-resolved rest of a path; symbolic link targets are spliced
/// into it.
struct Walk {
    buf: [u8; PATH_MAX],
    pos: usize,
    len: usize,
}

impl Walk {
    fn new(path: &[u8]) -> Result<Walk, Errno> {
        if path.is_empty() {
            return Err(Errno::NOENT);
        }
        if path[0] == b'/' {
            return Err(Errno::NOTCAPABLE);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        let mut w = Walk { buf: [0; PATH_MAX], pos: 0, len: path.len() };
        w.buf[..path.len()].copy_from_slice(path);
        Ok(w)
    }

    fn name(&self, s: Step) -> &[u8] {
        if s.start == s.end {
            return b".";
        }
        &self.buf[s.start..s.end]
    }

    /// The next component, skipping runs of `/`.
    fn next_component(&mut self) -> Option<Step> {
        let bytes = &self.buf[..self.len];
        while self.pos < self.len && bytes[self.pos] == b'/' {
            self.pos += 1;
        }
        if self.pos == self.len {
            return None;
        }
        let start = self.pos;
        let end = bytes[start..].iter().position(|&b| b == b'/').map_or(self.len, |i| start + i);
        self.pos = end;
        let trailing_slash = end < self.len;
        let last = bytes[end..].iter().all(|&b| b == b'/');
        let step = Step { start, end, last, trailing_slash };
        if self.name(step) == b"." {
            return Some(Step { last, trailing_slash, ..Step::DOT });
        }
        Some(step)
    }

    /// Replaces the component `s` (already consumed) by a link target: the
    /// rest of the path becomes `target` followed by what came after `s`.
    fn splice(&mut self, s: Step, target: &[u8]) -> Result<(), Errno> {
        if target.is_empty() {
            return Err(Errno::NOENT);
        }
        if target[0] == b'/' {
            return Err(Errno::NOTCAPABLE);
        }
        let rest_start = s.end;
        let rest_len = self.len - rest_start;
        let total = target.len() + rest_len;
        if total >= PATH_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        // Build in a scratch copy: the rest may overlap where the target
        // goes.
        let mut next = [0u8; PATH_MAX];
        next[..target.len()].copy_from_slice(target);
        next[target.len()..total].copy_from_slice(&self.buf[rest_start..self.len]);
        self.buf[..total].copy_from_slice(&next[..total]);
        self.pos = 0;
        self.len = total;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_are_checked_like_guest_paths() {
        assert_eq!(Path::from_host(b"a/b\0").map(|p| p.as_bytes()), Ok(&b"a/b"[..]));
        assert_eq!(Path::from_host(b"\0").map(|p| p.len()), Ok(0));
        assert_eq!(Path::from_host(b"a\0b\0"), Err(Errno::INVAL));
        assert_eq!(Path::from_host(b"ab"), Err(Errno::INVAL));
        assert_eq!(Path::from_host(b""), Err(Errno::INVAL));
        let mut long = [b'a'; PATH_MAX + 1];
        long[PATH_MAX] = 0;
        assert_eq!(Path::from_host(&long), Err(Errno::NAMETOOLONG));
        assert!(Path::from_host(&long[1..]).is_ok());
    }
}
