//! The independent reference for the ABI cross-check: every type, constant,
//! layout and syscall of the `cloudabi` crate 0.1.0, which NuxiNL generated
//! from the original CloudABI spec.
//!
//! Only *names* are written here; every number (constant values, sizes,
//! alignments, field offsets and sizes) comes from compiling against that
//! crate. Its Rust naming differs from ours in fixed ways that this module
//! maps back to spec names: `errno::TOOBIG` is `2big`, opaque constants are
//! crate-level (`LOCK_WRLOCKED` is `lock.wrlocked`), tagged unions are the
//! `union` field, and a range is a `(pointer, length)` tuple (`buf.0`,
//! `buf.1` are our `buf`, `buf_len`).

use core::mem::{align_of, offset_of, size_of};

use crate::shape::{Kind, SyscallShape, TypeShape};

/// Size of the field `f` selects, without evaluating `f`.
fn size_of_field<S, T>(_f: impl Fn(&S) -> &T) -> usize {
    size_of::<T>()
}

/// Spec name of a constant from its Rust name in the crate.
fn value_name(type_name: &str, rust: &str) -> String {
    if rust == "TOOBIG" {
        return "2big".to_string();
    }
    let prefix = format!("{}_", type_name.to_ascii_uppercase());
    rust.strip_prefix(&prefix).unwrap_or(rust).to_ascii_lowercase()
}

macro_rules! enum_type {
    ($t:ident: $($v:ident),*) => {
        TypeShape {
            name: stringify!($t).to_string(),
            kind: Kind::Enum,
            size: size_of::<cloudabi::$t>(),
            align: align_of::<cloudabi::$t>(),
            values: vec![$((value_name(stringify!($t), stringify!($v)), cloudabi::$t::$v as u64)),*],
            fields: vec![],
            params: vec![],
        }
    };
}

macro_rules! flags_type {
    ($t:ident: $($v:ident),*) => {
        TypeShape {
            name: stringify!($t).to_string(),
            kind: Kind::Flags,
            size: size_of::<cloudabi::$t>(),
            align: align_of::<cloudabi::$t>(),
            values: vec![$((value_name(stringify!($t), stringify!($v)), cloudabi::$t::$v.bits() as u64)),*],
            fields: vec![],
            params: vec![],
        }
    };
}

macro_rules! opaque_type {
    ($t:ident: $($v:ident),*) => {
        TypeShape {
            name: stringify!($t).to_string(),
            kind: Kind::Opaque,
            size: size_of::<cloudabi::$t>(),
            align: align_of::<cloudabi::$t>(),
            values: vec![$((value_name(stringify!($t), stringify!($v)), cloudabi::$v.0 as u64)),*],
            fields: vec![],
            params: vec![],
        }
    };
}

macro_rules! alias_type {
    ($t:ident) => {
        TypeShape {
            name: stringify!($t).to_string(),
            kind: Kind::Alias,
            size: size_of::<cloudabi::$t>(),
            align: align_of::<cloudabi::$t>(),
            values: vec![],
            fields: vec![],
            params: vec![],
        }
    };
}

/// `(our path, offset, size)` of a field, read through `$p` in the crate.
macro_rules! field {
    ($t:ident, $path:literal, $($p:tt)+) => {
        (
            $path.to_string(),
            offset_of!(cloudabi::$t, $($p)+),
            #[allow(unused_unsafe)]
            // SAFETY: the closure is never called; `size_of_field` only uses
            // its type. (Union fields need `unsafe` to be named.)
            size_of_field(|s: &cloudabi::$t| unsafe { &s.$($p)+ }),
        )
    };
}

macro_rules! struct_type {
    ($t:ident { $($f:expr),* $(,)? }) => {
        TypeShape {
            name: stringify!($t).to_string(),
            kind: Kind::Struct,
            size: size_of::<cloudabi::$t>(),
            align: align_of::<cloudabi::$t>(),
            values: vec![],
            fields: vec![$($f),*],
            params: vec![],
        }
    };
}

/// Parameter sizes of a function pointer type.
trait Params {
    fn sizes() -> Vec<usize>;
}
impl<A> Params for unsafe extern "C" fn(A) {
    fn sizes() -> Vec<usize> {
        vec![size_of::<A>()]
    }
}
impl<A, B> Params for unsafe extern "C" fn(A, B) {
    fn sizes() -> Vec<usize> {
        vec![size_of::<A>(), size_of::<B>()]
    }
}

macro_rules! function_type {
    ($t:ident) => {
        TypeShape {
            name: stringify!($t).to_string(),
            kind: Kind::Function,
            size: size_of::<cloudabi::$t>(),
            align: align_of::<cloudabi::$t>(),
            values: vec![],
            fields: vec![],
            params: <cloudabi::$t as Params>::sizes(),
        }
    };
}

/// Every type of the original ABI.
pub fn types() -> Vec<TypeShape> {
    vec![
        enum_type!(advice: DONTNEED, NOREUSE, NORMAL, RANDOM, SEQUENTIAL, WILLNEED),
        enum_type!(auxtype: ARGDATA, ARGDATALEN, BASE, CANARY, CANARYLEN, NCPUS, NULL, PAGESZ, PHDR, PHNUM, PID, SYSINFO_EHDR, TID),
        enum_type!(clockid: MONOTONIC, PROCESS_CPUTIME_ID, REALTIME, THREAD_CPUTIME_ID),
        opaque_type!(condvar: CONDVAR_HAS_NO_WAITERS),
        opaque_type!(device: ),
        opaque_type!(dircookie: DIRCOOKIE_START),
        enum_type!(errno: SUCCESS, TOOBIG, ACCES, ADDRINUSE, ADDRNOTAVAIL, AFNOSUPPORT, AGAIN, ALREADY, BADF, BADMSG, BUSY, CANCELED, CHILD, CONNABORTED, CONNREFUSED, CONNRESET, DEADLK, DESTADDRREQ, DOM, DQUOT, EXIST, FAULT, FBIG, HOSTUNREACH, IDRM, ILSEQ, INPROGRESS, INTR, INVAL, IO, ISCONN, ISDIR, LOOP, MFILE, MLINK, MSGSIZE, MULTIHOP, NAMETOOLONG, NETDOWN, NETRESET, NETUNREACH, NFILE, NOBUFS, NODEV, NOENT, NOEXEC, NOLCK, NOLINK, NOMEM, NOMSG, NOPROTOOPT, NOSPC, NOSYS, NOTCONN, NOTDIR, NOTEMPTY, NOTRECOVERABLE, NOTSOCK, NOTSUP, NOTTY, NXIO, OVERFLOW, OWNERDEAD, PERM, PIPE, PROTO, PROTONOSUPPORT, PROTOTYPE, RANGE, ROFS, SPIPE, SRCH, STALE, TIMEDOUT, TXTBSY, XDEV, NOTCAPABLE),
        flags_type!(eventrwflags: HANGUP),
        enum_type!(eventtype: CLOCK, CONDVAR, FD_READ, FD_WRITE, LOCK_RDLOCK, LOCK_WRLOCK, PROC_TERMINATE),
        alias_type!(exitcode),
        opaque_type!(fd: PROCESS_CHILD, MAP_ANON_FD),
        flags_type!(fdflags: APPEND, DSYNC, NONBLOCK, RSYNC, SYNC),
        flags_type!(fdsflags: FLAGS, RIGHTS),
        alias_type!(filedelta),
        alias_type!(filesize),
        enum_type!(filetype: UNKNOWN, BLOCK_DEVICE, CHARACTER_DEVICE, DIRECTORY, PROCESS, REGULAR_FILE, SHARED_MEMORY, SOCKET_DGRAM, SOCKET_STREAM, SYMBOLIC_LINK),
        flags_type!(fsflags: ATIM, ATIM_NOW, MTIM, MTIM_NOW, SIZE),
        opaque_type!(inode: ),
        alias_type!(linkcount),
        opaque_type!(lock: LOCK_UNLOCKED, LOCK_WRLOCKED, LOCK_KERNEL_MANAGED, LOCK_BOGUS),
        flags_type!(lookupflags: SYMLINK_FOLLOW),
        flags_type!(mflags: ANON, FIXED, PRIVATE, SHARED),
        flags_type!(mprot: EXEC, WRITE, READ),
        flags_type!(msflags: ASYNC, INVALIDATE, SYNC),
        alias_type!(nthreads),
        flags_type!(oflags: CREAT, DIRECTORY, EXCL, TRUNC),
        flags_type!(riflags: PEEK, WAITALL),
        flags_type!(rights: FD_DATASYNC, FD_READ, FD_SEEK, FD_STAT_PUT_FLAGS, FD_SYNC, FD_TELL, FD_WRITE, FILE_ADVISE, FILE_ALLOCATE, FILE_CREATE_DIRECTORY, FILE_CREATE_FILE, FILE_LINK_SOURCE, FILE_LINK_TARGET, FILE_OPEN, FILE_READDIR, FILE_READLINK, FILE_RENAME_SOURCE, FILE_RENAME_TARGET, FILE_STAT_FGET, FILE_STAT_FPUT_SIZE, FILE_STAT_FPUT_TIMES, FILE_STAT_GET, FILE_STAT_PUT_TIMES, FILE_SYMLINK, FILE_UNLINK, MEM_MAP, MEM_MAP_EXEC, POLL_FD_READWRITE, POLL_PROC_TERMINATE, PROC_EXEC, SOCK_SHUTDOWN),
        flags_type!(roflags: FDS_TRUNCATED, DATA_TRUNCATED),
        enum_type!(scope: PRIVATE, SHARED),
        flags_type!(sdflags: RD, WR),
        flags_type!(siflags: ),
        enum_type!(signal: ABRT, ALRM, BUS, CHLD, CONT, FPE, HUP, ILL, INT, KILL, PIPE, QUIT, SEGV, STOP, SYS, TERM, TRAP, TSTP, TTIN, TTOU, URG, USR1, USR2, VTALRM, XCPU, XFSZ),
        flags_type!(subclockflags: ABSTIME),
        flags_type!(subrwflags: POLL),
        opaque_type!(tid: ),
        alias_type!(timestamp),
        flags_type!(ulflags: REMOVEDIR),
        alias_type!(userdata),
        enum_type!(whence: CUR, END, SET),
        struct_type!(auxv {
            field!(auxv, "a_type", a_type),
            field!(auxv, "a_val", union.a_val),
            field!(auxv, "a_ptr", union.a_ptr),
        }),
        struct_type!(ciovec { field!(ciovec, "buf", buf.0), field!(ciovec, "buf_len", buf.1) }),
        struct_type!(dirent {
            field!(dirent, "d_next", d_next),
            field!(dirent, "d_ino", d_ino),
            field!(dirent, "d_namlen", d_namlen),
            field!(dirent, "d_type", d_type),
        }),
        struct_type!(event {
            field!(event, "userdata", userdata),
            field!(event, "error", error),
            field!(event, "type", r#type),
            field!(event, "fd_readwrite.nbytes", union.fd_readwrite.nbytes),
            field!(event, "fd_readwrite.unused", union.fd_readwrite.unused),
            field!(event, "fd_readwrite.flags", union.fd_readwrite.flags),
            field!(event, "proc_terminate.unused", union.proc_terminate.unused),
            field!(event, "proc_terminate.signal", union.proc_terminate.signal),
            field!(event, "proc_terminate.exitcode", union.proc_terminate.exitcode),
        }),
        struct_type!(fdstat {
            field!(fdstat, "fs_filetype", fs_filetype),
            field!(fdstat, "fs_flags", fs_flags),
            field!(fdstat, "fs_rights_base", fs_rights_base),
            field!(fdstat, "fs_rights_inheriting", fs_rights_inheriting),
        }),
        struct_type!(filestat {
            field!(filestat, "st_dev", st_dev),
            field!(filestat, "st_ino", st_ino),
            field!(filestat, "st_filetype", st_filetype),
            field!(filestat, "st_nlink", st_nlink),
            field!(filestat, "st_size", st_size),
            field!(filestat, "st_atim", st_atim),
            field!(filestat, "st_mtim", st_mtim),
            field!(filestat, "st_ctim", st_ctim),
        }),
        struct_type!(iovec { field!(iovec, "buf", buf.0), field!(iovec, "buf_len", buf.1) }),
        struct_type!(lookup { field!(lookup, "fd", fd), field!(lookup, "flags", flags) }),
        struct_type!(recv_in {
            field!(recv_in, "ri_data", ri_data.0),
            field!(recv_in, "ri_data_len", ri_data.1),
            field!(recv_in, "ri_fds", ri_fds.0),
            field!(recv_in, "ri_fds_len", ri_fds.1),
            field!(recv_in, "ri_flags", ri_flags),
        }),
        struct_type!(recv_out {
            field!(recv_out, "ro_datalen", ro_datalen),
            field!(recv_out, "ro_fdslen", ro_fdslen),
            field!(recv_out, "ro_unused", ro_unused),
            field!(recv_out, "ro_flags", ro_flags),
        }),
        struct_type!(send_in {
            field!(send_in, "si_data", si_data.0),
            field!(send_in, "si_data_len", si_data.1),
            field!(send_in, "si_fds", si_fds.0),
            field!(send_in, "si_fds_len", si_fds.1),
            field!(send_in, "si_flags", si_flags),
        }),
        struct_type!(send_out { field!(send_out, "so_datalen", so_datalen) }),
        struct_type!(subscription {
            field!(subscription, "userdata", userdata),
            field!(subscription, "unused", unused),
            field!(subscription, "type", r#type),
            field!(subscription, "clock.identifier", union.clock.identifier),
            field!(subscription, "clock.clock_id", union.clock.clock_id),
            field!(subscription, "clock.timeout", union.clock.timeout),
            field!(subscription, "clock.precision", union.clock.precision),
            field!(subscription, "clock.flags", union.clock.flags),
            field!(subscription, "condvar.condvar", union.condvar.condvar),
            field!(subscription, "condvar.lock", union.condvar.lock),
            field!(subscription, "condvar.condvar_scope", union.condvar.condvar_scope),
            field!(subscription, "condvar.lock_scope", union.condvar.lock_scope),
            field!(subscription, "fd_readwrite.fd", union.fd_readwrite.fd),
            field!(subscription, "fd_readwrite.flags", union.fd_readwrite.flags),
            field!(subscription, "lock.lock", union.lock.lock),
            field!(subscription, "lock.lock_scope", union.lock.lock_scope),
            field!(subscription, "proc_terminate.fd", union.proc_terminate.fd),
        }),
        struct_type!(tcb { field!(tcb, "parent", parent) }),
        struct_type!(threadattr {
            field!(threadattr, "entry_point", entry_point),
            field!(threadattr, "stack", stack.0),
            field!(threadattr, "stack_len", stack.1),
            field!(threadattr, "argument", argument),
        }),
        function_type!(processentry),
        function_type!(threadentry),
    ]
}

/// The crate has no zero-valued placeholder in our spec: `siflags` defines
/// no flags, and the crate's `siflags::DEFAULT` (needed by its `bitflags!`)
/// must be the empty set. Returns its bits so the cross-check can compare
/// them with our (empty) `siflags`.
pub fn siflags_placeholder_bits() -> u64 {
    cloudabi::siflags::DEFAULT.bits() as u64
}

/// Referring to each syscall wrapper proves the name exists in the crate
/// (a fn item is never called or linked here).
macro_rules! syscalls {
    ($($name:ident),* $(,)?) => {{
        $(let _ = cloudabi::$name;)*
        let mut names = vec![$(stringify!($name)),*];
        // Numbers are the index in the sorted list of names.
        names.sort_unstable();
        names
            .into_iter()
            .enumerate()
            .map(|(number, name)| SyscallShape { name: name.to_string(), number: number as u32 })
            .collect::<Vec<_>>()
    }};
}

/// Every syscall of the original ABI with its number.
pub fn syscalls() -> Vec<SyscallShape> {
    syscalls!(
        clock_res_get,
        clock_time_get,
        condvar_signal,
        fd_close,
        fd_create1,
        fd_create2,
        fd_datasync,
        fd_dup,
        fd_pread,
        fd_pwrite,
        fd_read,
        fd_replace,
        fd_seek,
        fd_stat_get,
        fd_stat_put,
        fd_sync,
        fd_write,
        file_advise,
        file_allocate,
        file_create,
        file_link,
        file_open,
        file_readdir,
        file_readlink,
        file_rename,
        file_stat_fget,
        file_stat_fput,
        file_stat_get,
        file_stat_put,
        file_symlink,
        file_unlink,
        lock_unlock,
        mem_advise,
        mem_map,
        mem_protect,
        mem_sync,
        mem_unmap,
        poll,
        proc_exec,
        proc_exit,
        proc_fork,
        proc_raise,
        random_get,
        sock_recv,
        sock_send,
        sock_shutdown,
        thread_create,
        thread_exit,
        thread_yield,
    )
}
