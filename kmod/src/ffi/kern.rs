//! Mirrors of the small kernel records the backend builds or fills whole
//! for `kern_*` calls: times, I/O vectors, message headers, kevents and
//! their copy operations, mmap and fork requests, Capsicum rights, `struct
//! stat`, umtx keys and timeouts, `stack_t` and `struct image_args`.
//! Sizes and field offsets: `kmod/layouts.txt`, asserted in
//! [`super::layouts`] and checked against the 14.2 and 15.0 headers by
//! scripts/check-layouts. Identical for both releases and both arches.

use super::types::{Proc, Thread};
use super::{c_char, c_int, c_uint, c_ulong, c_void};

/// `struct timespec` (sys/_timespec.h)
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// `struct iovec` (sys/_iovec.h): the same layout as CloudABI's iovec and
/// ciovec on LP64, so user arrays of those are copied in as these.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Iovec {
    pub iov_base: *mut c_void,
    pub iov_len: usize,
}

/// `struct uio` (sys/uio.h)
#[repr(C)]
pub struct Uio {
    pub uio_iov: *mut Iovec,
    pub uio_iovcnt: c_int,
    pub uio_offset: i64,
    pub uio_resid: isize,
    /// `enum uio_seg`
    pub uio_segflg: c_uint,
    /// `enum uio_rw`
    pub uio_rw: c_uint,
    pub uio_td: *mut Thread,
}

/// `struct msghdr` (sys/socket.h)
#[repr(C)]
pub struct Msghdr {
    pub msg_name: *mut c_void,
    pub msg_namelen: u32,
    pub msg_iov: *mut Iovec,
    pub msg_iovlen: c_int,
    pub msg_control: *mut c_void,
    pub msg_controllen: u32,
    pub msg_flags: c_int,
}

/// `struct kevent` (sys/event.h)
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Kevent {
    pub ident: usize,
    pub filter: i16,
    pub flags: u16,
    pub fflags: c_uint,
    pub data: i64,
    pub udata: *mut c_void,
    pub ext: [u64; 4],
}

/// `k_copyout`/`k_copyin` of `struct kevent_copyops`.
pub type KeventCopyFn = unsafe extern "C" fn(*mut c_void, *mut Kevent, c_int) -> c_int;

/// `struct kevent_copyops` (sys/event.h)
#[repr(C)]
pub struct KeventCopyops {
    pub arg: *mut c_void,
    pub k_copyout: Option<KeventCopyFn>,
    pub k_copyin: Option<KeventCopyFn>,
    pub kevent_size: usize,
}

/// `struct mmap_req` (sys/syscallsubr.h)
#[repr(C)]
pub struct MmapReq {
    pub mr_hint: usize,
    pub mr_len: usize,
    pub mr_prot: c_int,
    pub mr_flags: c_int,
    pub mr_fd: c_int,
    pub mr_pos: i64,
    /// `mmap_check_fp_fn`; NULL.
    pub mr_check_fp_fn: *const c_void,
}

/// `struct fork_req` (sys/proc.h)
#[repr(C)]
pub struct ForkReq {
    pub fr_flags: c_int,
    pub fr_pages: c_int,
    pub fr_pidp: *mut c_int,
    pub fr_procp: *mut *mut Proc,
    pub fr_pd_fd: *mut c_int,
    pub fr_pd_flags: c_int,
    pub fr_pd_fcaps: *mut Filecaps,
    pub fr_flags2: c_int,
}

/// `cap_rights_t` (`struct cap_rights`, sys/caprights.h): version 0, two
/// words.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CapRightsT {
    pub cr_rights: [u64; 2],
}

/// `struct filecaps` (sys/filedesc.h): a descriptor's Capsicum limits.
#[repr(C)]
pub struct Filecaps {
    pub fc_rights: CapRightsT,
    pub fc_ioctls: *mut c_ulong,
    pub fc_nioctls: i16,
    pub fc_fcntls: u32,
}

/// `struct stat` (sys/stat.h), LP64, without `__STAT_TIME_T_EXT`.
#[repr(C)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u16,
    pub st_padding0: i16,
    pub st_uid: u32,
    pub st_gid: u32,
    pub st_padding1: i32,
    pub st_rdev: u64,
    pub st_atim: Timespec,
    pub st_mtim: Timespec,
    pub st_ctim: Timespec,
    pub st_birthtim: Timespec,
    pub st_size: i64,
    pub st_blocks: i64,
    pub st_blksize: i32,
    pub st_flags: u32,
    pub st_gen: u64,
    pub st_spare: [u64; 10],
}

/// `struct umtx_key` (sys/umtxvar.h)
#[repr(C)]
pub struct UmtxKey {
    pub hash: c_int,
    pub type_: c_int,
    pub shared: c_int,
    /// The `info` union: two words.
    pub info: [usize; 2],
}

/// `struct umtx_abs_timeout` (sys/umtxvar.h)
#[repr(C)]
pub struct UmtxAbsTimeout {
    pub clockid: c_int,
    pub is_abs_real: bool,
    pub cur: Timespec,
    pub end: Timespec,
}

/// `stack_t` (`struct sigaltstack`, sys/signal.h)
#[repr(C)]
pub struct StackT {
    pub ss_sp: *mut c_void,
    pub ss_size: usize,
    pub ss_flags: c_int,
}

/// `struct image_args` (sys/imgact.h): the argument buffer of an exec.
#[repr(C)]
pub struct ImageArgs {
    pub buf: *mut c_char,
    pub bufkva: *mut c_void,
    pub begin_argv: *mut c_char,
    pub begin_envv: *mut c_char,
    pub endp: *mut c_char,
    pub fname: *mut c_char,
    pub fname_buf: *mut c_char,
    pub stringspace: c_int,
    pub argc: c_int,
    pub envc: c_int,
    pub fd: c_int,
}

/// `struct sockaddr_storage` (sys/_sockaddr_storage.h): room for any
/// address (15.x `kern_accept4` writes the peer's address into one).
#[repr(C, align(8))]
pub struct SockaddrStorage {
    pub bytes: [u8; 128],
}

/// The init callback of `thread_create`.
pub type ThreadInit = unsafe extern "C" fn(*mut Thread, *mut c_void) -> c_int;

/// The entry argument type of `cpu_set_upcall`.
pub type Upcall = unsafe extern "C" fn(*mut c_void);

/// A sysctl handler (`SYSCTL_HANDLER_ARGS`, sys/sysctl.h).
pub type SysctlHandler = unsafe extern "C" fn(
    *mut super::types::SysctlOid,
    *mut c_void,
    i64,
    *mut super::types::SysctlReq,
) -> c_int;
