//! A model backend for the syscall core: everything in memory.
//!
//! - user memory: a few mapped regions; any byte outside them is a fault;
//! - a file system: directories, regular files and symbolic links in a
//!   tree, with beneath resolution done by `sys::path::resolve` (the same
//!   resolver the Linux backend falls back to);
//! - a descriptor table with base and inheriting rights;
//! - socket pairs and shared memory objects, enough for their syscalls.
//!
//! Processes, threads and blocking waits are outside the model: those
//! methods return `ENOSYS`, and `proc_exit`/`thread_exit` unwind with an
//! [`Exited`] payload that the test harness catches.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use abi::*;
use sys::backend::*;
use sys::path::{DirOps, OpenDirError, Path, Resolved, resolve};
use sys::user::{Fault, UserMemory};

/// Unwinding payload of `proc_exit` / `thread_exit` in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exited(pub u32);

/// A mapped region of user memory.
#[derive(Debug, Clone)]
pub struct Region {
    pub start: u64,
    pub bytes: Vec<u8>,
    pub writable: bool,
}

/// A node of the file tree.
#[derive(Debug, Clone)]
pub enum Node {
    Dir {
        entries: BTreeMap<Vec<u8>, usize>,
        parent: usize,
    },
    File {
        data: Vec<u8>,
    },
    Symlink {
        target: Vec<u8>,
    },
    /// Unlinked: kept so node numbers stay stable.
    Gone,
}

/// What a descriptor refers to.
#[derive(Debug)]
pub enum Object {
    Node(usize),
    Shm(Vec<u8>),
    Socket {
        kind: Filetype,
        rx: Rc<RefCell<VecDeque<u8>>>,
        tx: Rc<RefCell<VecDeque<u8>>>,
        /// Descriptors in flight, one entry per message that had any,
        /// as the host's `SCM_RIGHTS` carries them: open files, no rights.
        rx_fds: Passed,
        tx_fds: Passed,
    },
    /// A listening stream socket with this many connections pending.
    Listener {
        pending: u32,
    },
}

/// An open file description (shared by `fd_dup`).
#[derive(Debug)]
pub struct Open {
    pub object: Object,
    pub offset: u64,
    pub flags: Fdflags,
    /// A memory object sealed against every change (`F_SEAL_*`).
    pub sealed: bool,
}

pub type Handle = Rc<RefCell<Open>>;

/// A queue of descriptors in flight.
pub type Passed = Rc<RefCell<VecDeque<Vec<Handle>>>>;

/// The old design's table: (device, inode) and the rights recorded.
pub type IdentityTable = Rc<RefCell<Vec<((u64, u64), FdRights)>>>;

/// How rights travel with passed descriptors.
#[derive(Debug, Clone, Default)]
pub enum Inflight {
    /// cloudabi-run's design since issue 13 (`sys::inflight`): a sealed
    /// record first in the message; a peek receives no descriptors.
    #[default]
    Record,
    /// The table keyed by file identity that cloudabi-run used before
    /// (shared by every process, consumed by peeks as well), kept so that
    /// the property test can show it finds that design's flaws.
    IdentityTable(IdentityTable),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub open: Handle,
    pub rights: FdRights,
}

/// The model backend.
#[derive(Debug)]
pub struct Model {
    pub regions: Vec<Region>,
    pub nodes: Vec<Node>,
    pub fds: BTreeMap<u32, Entry>,
    pub clock: u64,
    /// Wait queues by word address (the model's one thread may be in one).
    pub queues: BTreeMap<u64, Vec<u32>>,
    next_map: u64,
    pub inflight: Inflight,
}

/// The thread id of the model's only thread.
pub const MODEL_TID: u32 = 2;

/// Where the model's first user region starts.
pub const USER_BASE: u64 = 0x10_0000;

/// Largest file the model stores (16 MiB); growing past it is `EFBIG`.
pub const MAX_FILE_SIZE: u64 = 1 << 24;

impl Model {
    /// A model with one writable region of `mem` bytes at [`USER_BASE`] and
    /// an empty root directory (node 0) open as fd 0 with all rights a
    /// directory can have.
    pub fn new(mem: usize) -> Model {
        let mut m = Model {
            regions: vec![Region { start: USER_BASE, bytes: vec![0; mem], writable: true }],
            nodes: vec![Node::Dir { entries: BTreeMap::new(), parent: 0 }],
            fds: BTreeMap::new(),
            clock: 1_000_000_000,
            queues: BTreeMap::new(),
            next_map: 0x4000_0000,
            inflight: Inflight::Record,
        };
        m.install_at(0, Object::Node(0), sys::rights::max_for(Filetype::DIRECTORY));
        m
    }

    pub fn install_at(&mut self, fd: u32, object: Object, rights: FdRights) {
        let open = Rc::new(RefCell::new(Open { object, offset: 0, flags: Fdflags::EMPTY, sealed: false }));
        self.fds.insert(fd, Entry { open, rights });
    }

    fn install(&mut self, open: Handle, rights: FdRights) -> Result<Fd, Errno> {
        let n = (0u32..).find(|n| !self.fds.contains_key(n)).ok_or(Errno::MFILE)?;
        if n >= 4096 {
            return Err(Errno::MFILE);
        }
        self.fds.insert(n, Entry { open, rights });
        Ok(Fd::new(n))
    }

    fn new_open(object: Object) -> Handle {
        Rc::new(RefCell::new(Open { object, offset: 0, flags: Fdflags::EMPTY, sealed: false }))
    }

    /// Adds a node to directory `dir` under `name`.
    pub fn add(&mut self, dir: usize, name: &[u8], node: Node) -> usize {
        let id = self.nodes.len();
        self.nodes.push(node);
        if let Node::Dir { entries, .. } = &mut self.nodes[dir] {
            entries.insert(name.to_vec(), id);
        }
        id
    }

    pub fn mkdir(&mut self, dir: usize, name: &[u8]) -> usize {
        self.add(dir, name, Node::Dir { entries: BTreeMap::new(), parent: dir })
    }

    fn set_parent(&mut self, id: usize, parent: usize) {
        if let Node::Dir { parent: p, .. } = &mut self.nodes[id] {
            *p = parent;
        }
    }

    pub fn filetype(&self, object: &Object) -> Filetype {
        match object {
            Object::Node(n) => match &self.nodes[*n] {
                Node::Dir { .. } => Filetype::DIRECTORY,
                Node::File { .. } => Filetype::REGULAR_FILE,
                Node::Symlink { .. } => Filetype::SYMBOLIC_LINK,
                Node::Gone => Filetype::UNKNOWN,
            },
            Object::Shm(_) => Filetype::SHARED_MEMORY,
            Object::Socket { kind, .. } => *kind,
            Object::Listener { .. } => Filetype::SOCKET_STREAM,
        }
    }

    fn region(&self, addr: u64, len: usize) -> Option<(usize, usize)> {
        let end = addr.checked_add(len as u64)?;
        self.regions.iter().enumerate().find_map(|(i, r)| {
            let r_end = r.start + r.bytes.len() as u64;
            (addr >= r.start && end <= r_end).then(|| (i, (addr - r.start) as usize))
        })
    }

    /// Reads model memory (test helper; panics on a fault).
    pub fn peek(&self, addr: u64, len: usize) -> Vec<u8> {
        let (i, off) = self.region(addr, len).expect("peek outside mapped memory");
        self.regions[i].bytes[off..off + len].to_vec()
    }

    /// Writes model memory (test helper; panics on a fault).
    pub fn poke(&mut self, addr: u64, data: &[u8]) {
        let (i, off) = self.region(addr, data.len()).expect("poke outside mapped memory");
        self.regions[i].bytes[off..off + data.len()].copy_from_slice(data);
    }

    fn node_of(&self, h: &Handle) -> Result<usize, Errno> {
        match h.borrow().object {
            Object::Node(n) => Ok(n),
            _ => Err(Errno::NOTDIR),
        }
    }

    fn dir_entries(&mut self, dir: usize) -> Result<&mut BTreeMap<Vec<u8>, usize>, Errno> {
        match &mut self.nodes[dir] {
            Node::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::NOTDIR),
        }
    }

    fn child(&self, dir: usize, name: &[u8]) -> Option<usize> {
        match &self.nodes[dir] {
            Node::Dir { entries, .. } => entries.get(name).copied(),
            _ => None,
        }
    }

    /// Resolves `path` beneath the directory `dir` and runs `f` on the
    /// parent directory node and final name.
    fn at<T>(
        &mut self,
        dir: &Handle,
        path: &Path<'_>,
        follow: bool,
        f: impl FnOnce(&mut Model, usize, &[u8], bool) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let start = self.node_of(dir)?;
        if !matches!(self.nodes[start], Node::Dir { .. }) {
            return Err(Errno::NOTDIR);
        }
        resolve(self, &start, path.as_bytes(), follow, |m, d, r: Resolved<'_>| {
            f(m, *d, r.name, r.must_be_dir)
        })
    }

    /// The node a resolved (dir, name) names, following `.`.
    fn target(&self, dir: usize, name: &[u8]) -> Result<usize, Errno> {
        if name == b"." {
            return Ok(dir);
        }
        self.child(dir, name).ok_or(Errno::NOENT)
    }

    fn stat_node(&self, n: usize) -> FileStat {
        let (filetype, size) = match &self.nodes[n] {
            Node::Dir { entries, .. } => (Filetype::DIRECTORY, entries.len() as u64),
            Node::File { data } => (Filetype::REGULAR_FILE, data.len() as u64),
            Node::Symlink { target } => (Filetype::SYMBOLIC_LINK, target.len() as u64),
            Node::Gone => (Filetype::UNKNOWN, 0),
        };
        FileStat { dev: 1, ino: n as u64, filetype, nlink: 1, size, atim: 0, mtim: 0, ctim: 0 }
    }

    /// Copies `len` bytes of user memory, checking the range is mapped
    /// before allocating anything.
    pub fn read_user(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
        let n = usize::try_from(len).map_err(|_| Errno::FAULT)?;
        self.region(addr, n).ok_or(Errno::FAULT)?;
        let mut v = vec![0; n];
        self.copy_in(addr, &mut v)?;
        Ok(v)
    }

    /// Runs `f` over each user buffer of an iovec array.
    fn each_iov(
        &mut self,
        iovs: UserRange<Iovec>,
        mut f: impl FnMut(&mut Model, u64, u64) -> Result<bool, Errno>,
    ) -> Result<(), Errno> {
        for i in 0..iovs.len {
            let mut iov = Iovec::ZERO;
            self.copy_in(iovs.ptr.addr() + i * 16, iov.as_bytes_mut())?;
            if !f(self, iov.buf.addr(), iov.buf_len)? {
                break;
            }
        }
        Ok(())
    }
}

impl UserMemory for Model {
    fn copy_in(&mut self, src: u64, dst: &mut [u8]) -> Result<(), Fault> {
        let (i, off) = self.region(src, dst.len()).ok_or(Fault)?;
        dst.copy_from_slice(&self.regions[i].bytes[off..off + dst.len()]);
        Ok(())
    }

    fn copy_out(&mut self, dst: u64, src: &[u8]) -> Result<(), Fault> {
        let (i, off) = self.region(dst, src.len()).ok_or(Fault)?;
        if !self.regions[i].writable {
            return Err(Fault);
        }
        self.regions[i].bytes[off..off + src.len()].copy_from_slice(src);
        Ok(())
    }
}

impl DirOps for Model {
    type Dir = usize;

    fn open_dir(&mut self, dir: &usize, name: &[u8]) -> Result<usize, OpenDirError> {
        match self.child(*dir, name) {
            None => Err(OpenDirError::Errno(Errno::NOENT)),
            Some(n) => match &self.nodes[n] {
                Node::Dir { .. } => Ok(n),
                Node::Symlink { .. } => Err(OpenDirError::Symlink),
                _ => Err(OpenDirError::Errno(Errno::NOTDIR)),
            },
        }
    }

    fn read_link(&mut self, dir: &usize, name: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
        match self.child(*dir, name).map(|n| &self.nodes[n]) {
            None => Err(Errno::NOENT),
            Some(Node::Symlink { target }) => {
                if target.len() > buf.len() {
                    return Err(Errno::NAMETOOLONG);
                }
                buf[..target.len()].copy_from_slice(target);
                Ok(target.len())
            }
            Some(_) => Err(Errno::INVAL),
        }
    }
}

impl Files for Model {
    type File = Handle;

    fn fd_get(&mut self, fd: Fd) -> Result<(Handle, FdInfo), Errno> {
        let e = self.fds.get(&fd.raw()).ok_or(Errno::BADF)?;
        let filetype = self.filetype(&e.open.borrow().object);
        Ok((e.open.clone(), FdInfo { filetype, rights: e.rights }))
    }
}

impl PathBuffers for Model {
    type PathBuf = Vec<u8>;

    fn path_buf(&mut self) -> Result<Self::PathBuf, Errno> {
        Ok(vec![0; sys::path::PATH_MAX])
    }
}

impl FdOps for Model {
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        self.fds.remove(&fd.raw()).map(|_| ()).ok_or(Errno::BADF)
    }

    fn fd_dup(&mut self, file: &Handle, info: FdInfo) -> Result<Fd, Errno> {
        self.install(file.clone(), info.rights)
    }

    fn fd_replace(&mut self, file: &Handle, info: FdInfo, to: Fd) -> Result<(), Errno> {
        let e = self.fds.get_mut(&to.raw()).ok_or(Errno::BADF)?;
        *e = Entry { open: file.clone(), rights: info.rights };
        Ok(())
    }

    fn fd_flags(&mut self, file: &Handle) -> Result<Fdflags, Errno> {
        Ok(file.borrow().flags)
    }

    fn fd_set_flags(&mut self, file: &Handle, flags: Fdflags) -> Result<(), Errno> {
        file.borrow_mut().flags = flags;
        Ok(())
    }

    fn fd_set_rights(&mut self, fd: Fd, _: &Handle, rights: FdRights) -> Result<(), Errno> {
        self.fds.get_mut(&fd.raw()).ok_or(Errno::BADF)?.rights = rights;
        Ok(())
    }

    fn fd_create_shm(&mut self, rights: FdRights) -> Result<Fd, Errno> {
        self.install(Self::new_open(Object::Shm(Vec::new())), rights)
    }

    fn fd_create_socketpair(&mut self, ty: Filetype, rights: FdRights) -> Result<(Fd, Fd), Errno> {
        let a = Rc::new(RefCell::new(VecDeque::new()));
        let b = Rc::new(RefCell::new(VecDeque::new()));
        let (fa, fb): (Passed, Passed) = (Rc::default(), Rc::default());
        let s1 = Self::new_open(Object::Socket {
            kind: ty,
            rx: a.clone(),
            tx: b.clone(),
            rx_fds: fa.clone(),
            tx_fds: fb.clone(),
        });
        let s2 = Self::new_open(Object::Socket { kind: ty, rx: b, tx: a, rx_fds: fb, tx_fds: fa });
        let f1 = self.install(s1, rights)?;
        let f2 = self.install(s2, rights)?;
        Ok((f1, f2))
    }

    fn fd_read(&mut self, file: &Handle, iovs: UserRange<Iovec>, offset: Option<u64>) -> Result<u64, Errno> {
        let (data, start) = {
            let o = file.borrow();
            match &o.object {
                Object::Node(n) => match &self.nodes[*n] {
                    Node::File { data } => (data.clone(), offset.unwrap_or(o.offset)),
                    Node::Dir { .. } => return Err(Errno::ISDIR),
                    _ => return Err(Errno::INVAL),
                },
                Object::Shm(d) => (d.clone(), offset.unwrap_or(o.offset)),
                Object::Socket { rx, .. } => (rx.borrow_mut().drain(..).collect(), 0),
                Object::Listener { .. } => return Err(Errno::NOTCONN),
            }
        };
        let mut pos = start as usize;
        let mut total = 0u64;
        self.each_iov(iovs, |m, buf, len| {
            let avail = data.len().saturating_sub(pos);
            let n = avail.min(usize::try_from(len).unwrap_or(usize::MAX));
            if n == 0 {
                return Ok(false);
            }
            m.copy_out(buf, &data[pos..pos + n])?;
            pos += n;
            total += n as u64;
            Ok(n as u64 == len)
        })?;
        if offset.is_none() {
            file.borrow_mut().offset = pos as u64;
        }
        Ok(total)
    }

    fn fd_write(
        &mut self,
        file: &Handle,
        iovs: UserRange<Ciovec>,
        offset: Option<u64>,
    ) -> Result<u64, Errno> {
        let mut bytes = Vec::new();
        self.each_iov(UserRange::new(iovs.ptr.addr(), iovs.len), |m, buf, len| {
            bytes.extend_from_slice(&m.read_user(buf, len)?);
            Ok(true)
        })?;
        let mut o = file.borrow_mut();
        let append = o.flags.contains(Fdflags::APPEND);
        let pos = offset.unwrap_or(o.offset) as usize;
        let data = match &mut o.object {
            Object::Node(n) => match &mut self.nodes[*n] {
                Node::File { data } => data,
                Node::Dir { .. } => return Err(Errno::ISDIR),
                _ => return Err(Errno::INVAL),
            },
            Object::Shm(d) => d,
            Object::Socket { tx, .. } => {
                tx.borrow_mut().extend(bytes.iter().copied());
                return Ok(bytes.len() as u64);
            }
            Object::Listener { .. } => return Err(Errno::NOTCONN),
        };
        let pos = if append && offset.is_none() { data.len() } else { pos };
        // Files in the model are small; a write past 16 MiB is EFBIG (as a
        // real file system's size limit would be).
        if pos.checked_add(bytes.len()).is_none_or(|end| end as u64 > MAX_FILE_SIZE) {
            return Err(Errno::FBIG);
        }
        if data.len() < pos + bytes.len() {
            data.resize(pos + bytes.len(), 0);
        }
        data[pos..pos + bytes.len()].copy_from_slice(&bytes);
        if offset.is_none() {
            o.offset = (pos + bytes.len()) as u64;
        }
        Ok(bytes.len() as u64)
    }

    fn fd_seek(&mut self, file: &Handle, offset: i64, whence: Whence) -> Result<u64, Errno> {
        let mut o = file.borrow_mut();
        let size = match &o.object {
            Object::Node(n) => match &self.nodes[*n] {
                Node::File { data } => data.len() as i64,
                _ => return Err(Errno::SPIPE),
            },
            Object::Shm(d) => d.len() as i64,
            Object::Socket { .. } | Object::Listener { .. } => return Err(Errno::SPIPE),
        };
        let base = match whence {
            Whence::CUR => o.offset as i64,
            Whence::END => size,
            _ => 0,
        };
        let new = base.checked_add(offset).filter(|v| *v >= 0).ok_or(Errno::INVAL)?;
        o.offset = new as u64;
        Ok(new as u64)
    }

    fn fd_sync(&mut self, _: &Handle, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

impl FileOps for Model {
    fn file_advise(&mut self, _: &Handle, _: u64, _: u64, _: Advice) -> Result<(), Errno> {
        Ok(())
    }

    fn file_allocate(&mut self, file: &Handle, offset: u64, len: u64) -> Result<(), Errno> {
        let end = offset.checked_add(len).filter(|e| *e <= MAX_FILE_SIZE).ok_or(Errno::FBIG)?;
        let n = self.node_of(file)?;
        match &mut self.nodes[n] {
            Node::File { data } if (data.len() as u64) < end => data.resize(end as usize, 0),
            Node::File { .. } => {}
            _ => return Err(Errno::INVAL),
        }
        Ok(())
    }

    fn file_stat(&mut self, file: &Handle) -> Result<FileStat, Errno> {
        let o = file.borrow();
        Ok(match &o.object {
            Object::Node(n) => self.stat_node(*n),
            Object::Shm(d) => FileStat {
                dev: 2,
                ino: 0,
                filetype: Filetype::SHARED_MEMORY,
                nlink: 0,
                size: d.len() as u64,
                atim: 0,
                mtim: 0,
                ctim: 0,
            },
            Object::Listener { .. } => FileStat {
                dev: 3,
                ino: 0,
                filetype: Filetype::SOCKET_STREAM,
                nlink: 1,
                size: 0,
                atim: 0,
                mtim: 0,
                ctim: 0,
            },
            Object::Socket { kind, .. } => {
                FileStat { dev: 3, ino: 0, filetype: *kind, nlink: 1, size: 0, atim: 0, mtim: 0, ctim: 0 }
            }
        })
    }

    fn file_truncate(&mut self, file: &Handle, size: u64) -> Result<(), Errno> {
        if size > MAX_FILE_SIZE {
            return Err(Errno::FBIG);
        }
        let mut o = file.borrow_mut();
        match &mut o.object {
            Object::Node(n) => match &mut self.nodes[*n] {
                Node::File { data } => data.resize(size as usize, 0),
                _ => return Err(Errno::INVAL),
            },
            Object::Shm(d) => d.resize(size as usize, 0),
            Object::Socket { .. } | Object::Listener { .. } => return Err(Errno::INVAL),
        }
        Ok(())
    }

    fn file_set_times(&mut self, _: &Handle, _: SetTime, _: SetTime) -> Result<(), Errno> {
        Ok(())
    }

    fn file_readdir(
        &mut self,
        file: &Handle,
        cookie: Dircookie,
        sink: &mut dyn DirSink,
    ) -> Result<(), Errno> {
        let n = self.node_of(file)?;
        let Node::Dir { entries, .. } = &self.nodes[n] else { return Err(Errno::NOTDIR) };
        let list: Vec<(Vec<u8>, usize)> = entries.iter().map(|(k, v)| (k.clone(), *v)).collect();
        for (i, (name, node)) in list.iter().enumerate().skip(cookie.raw() as usize) {
            let ft = self.stat_node(*node).filetype;
            let e = DirEntry {
                next: Dircookie::new(i as u64 + 1),
                ino: Inode::new(*node as u64),
                filetype: ft,
                name,
            };
            if !sink.entry(self, e)? {
                break;
            }
        }
        Ok(())
    }
}

impl PathOps for Model {
    fn path_open(
        &mut self,
        dir: &Handle,
        path: &Path<'_>,
        follow: bool,
        oflags: Oflags,
        fdflags: Fdflags,
        rights: FdRights,
    ) -> Result<Fd, Errno> {
        let node = self.at(dir, path, follow, |m, d, name, must_dir| match m.target(d, name) {
            Ok(n) => {
                if oflags.contains(Oflags::CREAT | Oflags::EXCL) {
                    return Err(Errno::EXIST);
                }
                match &mut m.nodes[n] {
                    Node::Symlink { .. } => Err(Errno::LOOP),
                    Node::Dir { .. } if oflags.contains(Oflags::TRUNC) => Err(Errno::ISDIR),
                    Node::File { .. } if oflags.contains(Oflags::DIRECTORY) || must_dir => Err(Errno::NOTDIR),
                    Node::File { data } => {
                        if oflags.contains(Oflags::TRUNC) {
                            data.clear();
                        }
                        Ok(n)
                    }
                    _ => Ok(n),
                }
            }
            Err(Errno::NOENT) if oflags.contains(Oflags::CREAT) && !must_dir && name != b"." => {
                if !matches!(m.nodes[d], Node::Dir { .. }) {
                    return Err(Errno::NOTDIR);
                }
                Ok(m.add(d, name, Node::File { data: Vec::new() }))
            }
            Err(e) => Err(e),
        })?;
        let ft = self.stat_node(node).filetype;
        let open = Self::new_open(Object::Node(node));
        open.borrow_mut().flags = fdflags;
        self.install(open, sys::rights::for_new_fd(ft, rights))
    }

    fn path_mkdir(&mut self, dir: &Handle, path: &Path<'_>) -> Result<(), Errno> {
        self.at(dir, path, false, |m, d, name, _| {
            if name == b"." || m.child(d, name).is_some() {
                return Err(Errno::EXIST);
            }
            m.dir_entries(d)?;
            m.mkdir(d, name);
            Ok(())
        })
    }

    fn path_link(
        &mut self,
        d1: &Handle,
        p1: &Path<'_>,
        follow: bool,
        d2: &Handle,
        p2: &Path<'_>,
    ) -> Result<(), Errno> {
        let src = self.at(d1, p1, follow, |m, d, name, _| m.target(d, name))?;
        if matches!(self.nodes[src], Node::Dir { .. }) {
            return Err(Errno::PERM);
        }
        self.at(d2, p2, false, |m, d, name, _| {
            if name == b"." || m.child(d, name).is_some() {
                return Err(Errno::EXIST);
            }
            m.dir_entries(d)?.insert(name.to_vec(), src);
            Ok(())
        })
    }

    fn path_readlink(&mut self, dir: &Handle, path: &Path<'_>, buf: UserRange<u8>) -> Result<u64, Errno> {
        let target =
            self.at(dir, path, false, |m, d, name, _| match m.target(d, name).map(|n| &m.nodes[n]) {
                Ok(Node::Symlink { target }) => Ok(target.clone()),
                Ok(_) => Err(Errno::INVAL),
                Err(e) => Err(e),
            })?;
        let n = target.len().min(buf.len as usize);
        self.copy_out(buf.ptr.addr(), &target[..n])?;
        Ok(n as u64)
    }

    fn path_rename(&mut self, d1: &Handle, p1: &Path<'_>, d2: &Handle, p2: &Path<'_>) -> Result<(), Errno> {
        let (from_dir, from_name) = self.at(d1, p1, false, |m, d, name, _| {
            m.target(d, name)?;
            if name == b"." {
                return Err(Errno::INVAL);
            }
            Ok((d, name.to_vec()))
        })?;
        let (to_dir, to_name) = self.at(d2, p2, false, |_, d, name, _| {
            if name == b"." {
                return Err(Errno::INVAL);
            }
            Ok((d, name.to_vec()))
        })?;
        let node = self.dir_entries(from_dir)?.remove(&from_name).ok_or(Errno::NOENT)?;
        self.dir_entries(to_dir)?.insert(to_name, node);
        self.set_parent(node, to_dir);
        Ok(())
    }

    fn path_stat(&mut self, dir: &Handle, path: &Path<'_>, follow: bool) -> Result<FileStat, Errno> {
        let n = self.at(dir, path, follow, |m, d, name, must_dir| {
            let n = m.target(d, name)?;
            if must_dir && !matches!(m.nodes[n], Node::Dir { .. }) {
                return Err(Errno::NOTDIR);
            }
            Ok(n)
        })?;
        Ok(self.stat_node(n))
    }

    fn path_set_times(
        &mut self,
        dir: &Handle,
        path: &Path<'_>,
        follow: bool,
        _: SetTime,
        _: SetTime,
    ) -> Result<(), Errno> {
        self.at(dir, path, follow, |m, d, name, _| m.target(d, name).map(|_| ()))
    }

    fn path_symlink(&mut self, target: &Path<'_>, dir: &Handle, path: &Path<'_>) -> Result<(), Errno> {
        self.at(dir, path, false, |m, d, name, _| {
            if name == b"." || m.child(d, name).is_some() {
                return Err(Errno::EXIST);
            }
            m.dir_entries(d)?;
            m.add(d, name, Node::Symlink { target: target.as_bytes().to_vec() });
            Ok(())
        })
    }

    fn path_unlink(&mut self, dir: &Handle, path: &Path<'_>, removedir: bool) -> Result<(), Errno> {
        self.at(dir, path, false, |m, d, name, _| {
            if name == b"." {
                return Err(Errno::INVAL);
            }
            let n = m.target(d, name)?;
            match (&m.nodes[n], removedir) {
                (Node::Dir { entries, .. }, true) if !entries.is_empty() => return Err(Errno::NOTEMPTY),
                (Node::Dir { .. }, false) => return Err(Errno::PERM),
                (Node::Dir { .. }, true) => {}
                (_, true) => return Err(Errno::NOTDIR),
                (_, false) => {}
            }
            m.dir_entries(d)?.remove(name);
            Ok(())
        })
    }
}

impl MemOps for Model {
    fn mem_map(
        &mut self,
        _: u64,
        len: u64,
        prot: Mprot,
        _: Mflags,
        file: Option<&Handle>,
        _: u64,
    ) -> Result<u64, Errno> {
        if len == 0 || len > 1 << 20 {
            return Err(Errno::INVAL);
        }
        if file.is_some() {
            return Err(Errno::NOTSUP);
        }
        let start = self.next_map;
        self.next_map += (len + 0xfff) & !0xfff;
        self.regions.push(Region {
            start,
            bytes: vec![0; len as usize],
            writable: prot.contains(Mprot::WRITE),
        });
        Ok(start)
    }

    fn mem_protect(&mut self, addr: u64, len: u64, prot: Mprot) -> Result<(), Errno> {
        let r = self
            .regions
            .iter_mut()
            .find(|r| r.start == addr && r.bytes.len() as u64 == len)
            .ok_or(Errno::NOMEM)?;
        r.writable = prot.contains(Mprot::WRITE);
        Ok(())
    }

    fn mem_advise(&mut self, _: u64, _: u64, _: Advice) -> Result<(), Errno> {
        Ok(())
    }

    fn mem_sync(&mut self, _: u64, _: u64, _: Msflags) -> Result<(), Errno> {
        Ok(())
    }

    fn mem_unmap(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        let i = self
            .regions
            .iter()
            .position(|r| r.start == addr && r.bytes.len() as u64 == len && r.start >= 0x4000_0000)
            .ok_or(Errno::INVAL)?;
        self.regions.remove(i);
        Ok(())
    }
}

impl ClockOps for Model {
    fn clock_res(&mut self, _: Clockid) -> Result<u64, Errno> {
        Ok(1)
    }

    fn clock_time(&mut self, _: Clockid, _: u64) -> Result<u64, Errno> {
        self.clock += 1;
        Ok(self.clock)
    }

    fn random_fill(&mut self, buf: UserRange<u8>) -> Result<(), Errno> {
        let n = usize::try_from(buf.len).map_err(|_| Errno::FAULT)?;
        self.region(buf.ptr.addr(), n).ok_or(Errno::FAULT)?;
        let bytes: Vec<u8> = (0..buf.len).map(|i| (i * 131 + 7) as u8).collect();
        self.copy_out(buf.ptr.addr(), &bytes).map_err(Into::into)
    }
}

impl ProcOps for Model {
    fn proc_exec(
        &mut self,
        _: &Handle,
        data: UserRange<u8>,
        fds: &mut dyn FdList<Handle>,
    ) -> Result<std::convert::Infallible, Errno> {
        // Copy the arguments and check the list the way a real exec would,
        // then decline: the model runs no programs.
        self.read_user(data.ptr.addr(), data.len)?;
        while fds.next(self)?.is_some() {}
        Err(Errno::NOSYS)
    }

    fn proc_exit(&mut self, code: u32) -> ! {
        std::panic::panic_any(Exited(code))
    }

    fn proc_fork(&mut self, _: FdRights) -> Result<(Fd, Tid), Errno> {
        Err(Errno::NOSYS)
    }

    fn proc_raise(&mut self, _: Signal) -> Result<(), Errno> {
        Err(Errno::NOSYS)
    }
}

impl ThreadOps for Model {
    fn thread_create(&mut self, _: ThreadAttr) -> Result<Tid, Errno> {
        Err(Errno::NOSYS)
    }

    fn thread_exit(&mut self) -> ! {
        std::panic::panic_any(Exited(0))
    }

    fn thread_yield(&mut self) -> Result<(), Errno> {
        Ok(())
    }
}

/// The model runs one thread: a sleep can only be ended by its deadline
/// (no other thread could wake it), and a sleep without one is reported
/// as `EDEADLK` instead of hanging.
impl FutexOps for Model {
    fn current_tid(&mut self) -> Tid {
        Tid::new(MODEL_TID)
    }

    fn futex_cas(&mut self, addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
        let mut w = [0u8; 4];
        self.copy_in(addr, &mut w)?;
        let seen = u32::from_le_bytes(w);
        if seen == old {
            self.copy_out(addr, &new.to_le_bytes())?;
        }
        Ok(seen)
    }

    fn queue_lock(&mut self, _: u64, _: Scope) -> Result<(), Errno> {
        Ok(())
    }

    fn queue_unlock(&mut self, _: u64, _: Scope) {}

    fn queue_insert(&mut self, addr: u64, _: Scope) -> Result<(), Errno> {
        self.queues.entry(addr).or_default().push(MODEL_TID);
        Ok(())
    }

    fn queue_remove(&mut self, addr: u64, _: Scope) -> bool {
        let q = self.queues.entry(addr).or_default();
        let was = q.contains(&MODEL_TID);
        q.retain(|&t| t != MODEL_TID);
        if q.is_empty() {
            self.queues.remove(&addr);
        }
        was
    }

    fn queue_count(&mut self, addr: u64, _: Scope) -> u32 {
        self.queues.get(&addr).map_or(0, |q| q.len() as u32)
    }

    fn queue_wake(&mut self, addr: u64, _: Scope, n: u32) -> u32 {
        let Some(q) = self.queues.get_mut(&addr) else { return 0 };
        let k = q.len().min(n as usize);
        q.drain(..k);
        if q.is_empty() {
            self.queues.remove(&addr);
        }
        k as u32
    }

    fn queue_sleep(
        &mut self,
        addr: u64,
        _: Scope,
        until: Option<WaitUntil>,
        _: Sleeper,
    ) -> Result<Wait, Errno> {
        if !self.queues.get(&addr).is_some_and(|q| q.contains(&MODEL_TID)) {
            return Ok(Wait::Woken);
        }
        match until {
            Some(_) => Ok(Wait::TimedOut),
            None => Err(Errno::DEADLK),
        }
    }
}

impl PollOps for Model {
    fn poll_events(
        &mut self,
        subs: &mut dyn Subscriptions<Handle>,
        out: &mut dyn Events,
    ) -> Result<(), Errno> {
        // Everything is ready at once in the model; failed subscriptions,
        // if any, are all that is reported.
        let mut all = Vec::new();
        while let Some(s) = subs.next(self)? {
            all.push(s);
        }
        let failed = all.iter().any(|s| matches!(s, Sub::Failed { .. }));
        for s in all {
            if failed && !matches!(s, Sub::Failed { .. }) {
                continue;
            }
            let ev = match s {
                Sub::Clock { userdata, .. } => Ready::Clock { userdata },
                Sub::FdRead { userdata, .. } => Ready::FdRead { userdata, nbytes: 0, hangup: false },
                Sub::FdWrite { userdata, .. } => Ready::FdWrite { userdata, nbytes: 0, hangup: false },
                Sub::ProcTerminate { userdata, .. } => {
                    Ready::ProcTerminate { userdata, signal: None, exitcode: 0 }
                }
                Sub::Failed { userdata, ty, error } => Ready::Error { userdata, ty, error },
            };
            out.push(self, ev)?;
        }
        Ok(())
    }
}

impl Model {
    /// The identity the host would report for an open file (device,
    /// inode): the node for files and directories, the object otherwise.
    pub fn identity(h: &Handle) -> (u64, u64) {
        match h.borrow().object {
            Object::Node(n) => (0, n as u64),
            _ => (1, Rc::as_ptr(h) as u64),
        }
    }

    /// The descriptors of one received message, installed with their
    /// rights; returns how many reached `fds`, `None` when they do not all
    /// fit (then none are installed).
    fn deliver(&mut self, received: Vec<Handle>, fds: &mut dyn FdSink) -> Result<Option<u64>, Errno> {
        let mut rights = Vec::new();
        let mut handles = received;
        match &self.inflight {
            Inflight::Record => {
                // A sealed memory object first whose record matches the
                // descriptors after it: each gets its own entry.
                let record = handles.first().and_then(|h| {
                    let o = h.borrow();
                    match (&o.object, o.sealed) {
                        (Object::Shm(bytes), true) => Some(bytes.clone()),
                        _ => None,
                    }
                });
                let ids: Vec<_> = handles.iter().skip(1).map(Self::identity).collect();
                let valid =
                    record.as_deref().and_then(|r| sys::inflight::verify(r, ids.len(), |i| Some(ids[i])));
                if valid.is_some() {
                    handles.remove(0);
                }
                for (i, h) in handles.iter().enumerate() {
                    let ft = self.filetype(&h.borrow().object);
                    rights.push(sys::inflight::granted(valid, i, ft));
                }
            }
            Inflight::IdentityTable(table) => {
                // As before: a message that does not fit consumed nothing.
                if handles.len() as u64 > fds.room() {
                    return Ok(None);
                }
                let mut t = table.borrow_mut();
                for h in &handles {
                    let id = Self::identity(h);
                    let mut r = sys::rights::max_for(self.filetype(&h.borrow().object));
                    let mut first = None;
                    for (i, (rid, rr)) in t.iter().enumerate() {
                        if *rid == id {
                            r.base &= rr.base;
                            r.inheriting &= rr.inheriting;
                            first.get_or_insert(i);
                        }
                    }
                    if let Some(i) = first {
                        t.swap_remove(i);
                    }
                    rights.push(r);
                }
            }
        }
        if handles.len() as u64 > fds.room() {
            return Ok(None);
        }
        let mut count = 0;
        for (h, r) in handles.into_iter().zip(rights) {
            let n = self.install(h, r)?;
            fds.push(self, n)?;
            count += 1;
        }
        Ok(Some(count))
    }
}

impl SockOps for Model {
    /// Data as `fd_read` reads it (a peek copies instead of draining);
    /// descriptors as the Linux backend receives them: one message's
    /// worth per call, all or nothing.
    fn sock_recv(
        &mut self,
        sock: &Handle,
        data: UserRange<Iovec>,
        fds: &mut dyn FdSink,
        flags: Riflags,
    ) -> Result<Received, Errno> {
        let (rx, rx_fds) = match &sock.borrow().object {
            Object::Socket { rx, rx_fds, .. } => (rx.clone(), rx_fds.clone()),
            _ => return Err(Errno::NOTSOCK),
        };
        let peek = flags.contains(Riflags::PEEK);
        let kept: Vec<u8> = if peek { rx.borrow().iter().copied().collect() } else { Vec::new() };
        let n = self.fd_read(sock, data, None)?;
        if peek {
            // Put the data back where it was.
            let mut q = rx.borrow_mut();
            for b in kept.into_iter().rev() {
                q.push_front(b);
            }
        }
        let mut out = Roflags::EMPTY;
        let message = match (&self.inflight, peek) {
            (_, false) => rx_fds.borrow_mut().pop_front(),
            // The old design handed over (and accounted) descriptors on a
            // peek as well.
            (Inflight::IdentityTable(_), true) => rx_fds.borrow().front().cloned(),
            (Inflight::Record, true) => None,
        };
        let Some(message) = message else {
            return Ok(Received { datalen: n, fdslen: 0, flags: out });
        };
        match self.deliver(message, fds)? {
            Some(fdslen) => Ok(Received { datalen: n, fdslen, flags: out }),
            None => {
                out |= Roflags::FDS_TRUNCATED;
                Ok(Received { datalen: n, fdslen: 0, flags: out })
            }
        }
    }

    /// Data as `fd_write` writes it; descriptors as the Linux backend
    /// sends them.
    fn sock_send(
        &mut self,
        sock: &Handle,
        data: UserRange<Ciovec>,
        fds: &mut dyn FdList<Handle>,
    ) -> Result<u64, Errno> {
        let tx_fds = match &sock.borrow().object {
            Object::Socket { tx_fds, .. } => tx_fds.clone(),
            _ => return Err(Errno::NOTSOCK),
        };
        let mut files = Vec::new();
        while let Some((_, h, info)) = fds.next(self)? {
            files.push((h, info.rights));
        }
        let n = self.fd_write(sock, data, None)?;
        if files.is_empty() {
            return Ok(n);
        }
        let mut message = Vec::new();
        match &self.inflight {
            Inflight::Record => {
                let entries: Vec<_> = files
                    .iter()
                    .map(|(h, rights)| sys::inflight::Entry { id: Self::identity(h), rights: *rights })
                    .collect();
                let mut bytes = vec![0u8; sys::inflight::len(entries.len())];
                sys::inflight::encode(&entries, &mut bytes).ok_or(Errno::INVAL)?;
                let record = Self::new_open(Object::Shm(bytes));
                record.borrow_mut().sealed = true;
                message.push(record);
            }
            Inflight::IdentityTable(table) => {
                table.borrow_mut().extend(files.iter().map(|(h, r)| (Self::identity(h), *r)));
            }
        }
        message.extend(files.into_iter().map(|(h, _)| h));
        tx_fds.borrow_mut().push_back(message);
        Ok(n)
    }

    fn sock_shutdown(&mut self, sock: &Handle, _: Sdflags) -> Result<(), Errno> {
        match sock.borrow().object {
            Object::Socket { .. } => Ok(()),
            Object::Listener { .. } => Err(Errno::NOTCONN),
            _ => Err(Errno::NOTSOCK),
        }
    }

    fn sock_listening(&mut self, sock: &Handle) -> bool {
        matches!(sock.borrow().object, Object::Listener { .. })
    }

    /// Takes a pending connection: a fresh stream socket with empty queues.
    fn sock_accept(&mut self, sock: &Handle, rights: FdRights) -> Result<Fd, Errno> {
        match &mut sock.borrow_mut().object {
            Object::Listener { pending } if *pending > 0 => *pending -= 1,
            Object::Listener { .. } => return Err(Errno::AGAIN),
            _ => return Err(Errno::INVAL),
        }
        let (rx, tx, rx_fds, tx_fds) = (Rc::default(), Rc::default(), Rc::default(), Rc::default());
        self.install(
            Self::new_open(Object::Socket { kind: Filetype::SOCKET_STREAM, rx, tx, rx_fds, tx_fds }),
            rights,
        )
    }
}
