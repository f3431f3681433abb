//! The validation rules of the syscall core, one test per rule, through
//! `sys::dispatch` on the model backend.

use abi::*;
use host_tests::harness::{BAD, Harness, Outcome, lookup};
use host_tests::model::{Node, Object};
use sys::backend::FdRights;
use sys::path::PATH_MAX;

fn err(h: &mut Harness, number: u32, regs: [u64; 6]) -> Errno {
    match h.call(number, regs) {
        Outcome::Err(e) => e,
        other => panic!("{} succeeded: {other:?}", SYSCALLS[number as usize].name),
    }
}

/// fd 0 root directory, fd 1 a regular file with every right.
fn world() -> Harness {
    let mut h = Harness::new();
    let f = h.m.add(0, b"file", Node::File { data: b"0123456789".to_vec() });
    h.m.install_at(1, Object::Node(f), FdRights { base: Rights::ALL, inheriting: Rights::ALL });
    h
}

#[test]
fn arguments_are_read_at_their_declared_width() {
    let mut h = world();
    // fd (u32): high bits ignored, so fd 1 with garbage above still works.
    let buf = h.alloc(56);
    h.ok(nr::FILE_STAT_FGET, [0xffff_ffff_0000_0001, buf, 0, 0, 0, 0]);
    // whence (u8): 0x301 is whence 1 (cur).
    let r = h.ok(nr::FD_SEEK, [1, 4, 0x301, 0, 0, 0]);
    assert_eq!(r[0], 4);
    // clock id (u32).
    h.ok(nr::CLOCK_TIME_GET, [0x5555_5555_0000_0001, 0, 0, 0, 0, 0]);
    // lookup: fd in the low 32 bits, flags in the high 32 bits.
    let p = h.put(b"file");
    h.ok(nr::FILE_STAT_GET, [lookup(0, true), p, 4, buf, 0, 0]);
    assert_eq!(err(&mut h, nr::FILE_STAT_GET, [0x8_0000_0000, p, 4, buf, 0, 0]), Errno::INVAL);
}

#[test]
fn invalid_enums_and_flags_are_einval() {
    let mut h = world();
    assert_eq!(err(&mut h, nr::CLOCK_RES_GET, [0, 0, 0, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::CLOCK_RES_GET, [5, 0, 0, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::FD_SEEK, [1, 0, 4, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::FILE_ADVISE, [1, 0, 0, 7, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::PROC_RAISE, [27, 0, 0, 0, 0, 0]), Errno::INVAL);
    // Flags with an undefined bit.
    let p = h.put(b"file");
    let st = h.put_pod(&Fdstat::ZERO);
    assert_eq!(err(&mut h, nr::FILE_OPEN, [lookup(0, false), p, 4, 0x10, st, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::FILE_UNLINK, [0, p, 4, 0x2, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::SOCK_SHUTDOWN, [1, 4, 0, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::SOCK_SHUTDOWN, [1, 0, 0, 0, 0, 0]), Errno::INVAL);
    // `only` restrictions.
    assert_eq!(
        err(&mut h, nr::FD_CREATE1, [u64::from(Filetype::REGULAR_FILE.raw()), 0, 0, 0, 0, 0]),
        Errno::INVAL
    );
    assert_eq!(
        err(&mut h, nr::FD_CREATE2, [u64::from(Filetype::SHARED_MEMORY.raw()), 0, 0, 0, 0, 0]),
        Errno::INVAL
    );
    // fd_stat_put: exactly one of FLAGS and RIGHTS; fs_flags validated.
    assert_eq!(err(&mut h, nr::FD_STAT_PUT, [1, st, 3, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::FD_STAT_PUT, [1, st, 0, 0, 0, 0]), Errno::INVAL);
    let mut bad = Fdstat::ZERO;
    bad.fs_flags = 0x20;
    let badp = h.put_pod(&bad);
    assert_eq!(err(&mut h, nr::FD_STAT_PUT, [1, badp, 1, 0, 0, 0]), Errno::INVAL);
}

#[test]
fn undefined_rights_bits_are_enotcapable() {
    let mut h = world();
    for retired in [0x800u64, 0x2000_0000, 0x8000_0000, 0x2_0000_0000, 1 << 63] {
        let mut st = Fdstat::ZERO;
        st.fs_rights_base = retired;
        let p = h.put_pod(&st);
        assert_eq!(err(&mut h, nr::FD_STAT_PUT, [1, p, 2, 0, 0, 0]), Errno::NOTCAPABLE, "{retired:#x}");
        let path = h.put(b"file");
        assert_eq!(err(&mut h, nr::FILE_OPEN, [lookup(0, false), path, 4, 0, p, 0]), Errno::NOTCAPABLE);
    }
}

#[test]
fn path_arguments() {
    let mut h = world();
    let long = vec![b'a'; PATH_MAX];
    let p = h.put(&long);
    let buf = h.alloc(56);
    // Exactly PATH_MAX bytes is too long; one less is a normal (missing) path.
    assert_eq!(
        err(&mut h, nr::FILE_STAT_GET, [lookup(0, false), p, PATH_MAX as u64, buf, 0, 0]),
        Errno::NAMETOOLONG
    );
    assert_eq!(
        err(&mut h, nr::FILE_STAT_GET, [lookup(0, false), p, PATH_MAX as u64 - 1, buf, 0, 0]),
        Errno::NOENT
    );
    // Too long is decided before the memory is touched.
    assert_eq!(err(&mut h, nr::FILE_STAT_GET, [lookup(0, false), BAD, 5000, buf, 0, 0]), Errno::NAMETOOLONG);
    // An embedded NUL.
    let nul = h.put(b"fi\0le");
    assert_eq!(err(&mut h, nr::FILE_STAT_GET, [lookup(0, false), nul, 5, buf, 0, 0]), Errno::INVAL);
    // Path errors come before descriptor errors.
    assert_eq!(err(&mut h, nr::FILE_STAT_GET, [lookup(99, false), nul, 5, buf, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::FILE_STAT_GET, [lookup(99, false), p, 4, buf, 0, 0]), Errno::BADF);
    // The symlink target is a path too.
    let link = h.put(b"l");
    assert_eq!(err(&mut h, nr::FILE_SYMLINK, [nul, 5, 0, link, 1, 0]), Errno::INVAL);
    // Escapes.
    let up = h.put(b"../x");
    assert_eq!(err(&mut h, nr::FILE_STAT_GET, [lookup(0, false), up, 4, buf, 0, 0]), Errno::NOTCAPABLE);
    let abs = h.put(b"/etc/passwd");
    assert_eq!(err(&mut h, nr::FILE_STAT_GET, [lookup(0, false), abs, 11, buf, 0, 0]), Errno::NOTCAPABLE);
}

#[test]
fn iovec_counts_are_bounded() {
    let mut h = world();
    let iovs = h.alloc(16 * 1025);
    assert_eq!(err(&mut h, nr::FD_READ, [1, iovs, 1025, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::FD_WRITE, [1, iovs, 1025, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::FD_PREAD, [1, iovs, 1025, 0, 0, 0]), Errno::INVAL);
    // The count is checked before the descriptor.
    assert_eq!(err(&mut h, nr::FD_READ, [77, iovs, 1025, 0, 0, 0]), Errno::INVAL);
    h.ok(nr::FD_READ, [1, iovs, 1024, 0, 0, 0]);
    // Offsets beyond the signed range.
    assert_eq!(err(&mut h, nr::FD_PREAD, [1, iovs, 1, 1 << 63, 0, 0]), Errno::INVAL);
}

#[test]
fn write_and_execute_together_is_enotsup() {
    let mut h = world();
    let wx = u64::from((Mprot::WRITE | Mprot::EXEC).bits());
    let anon_private = u64::from((Mflags::ANON | Mflags::PRIVATE).bits());
    assert_eq!(err(&mut h, nr::MEM_MAP, [0, 4096, wx, anon_private, 0xffff_ffff, 0]), Errno::NOTSUP);
    let r = h.ok(nr::MEM_MAP, [0, 4096, u64::from(Mprot::WRITE.bits()), anon_private, 0xffff_ffff, 0]);
    assert_eq!(err(&mut h, nr::MEM_PROTECT, [r[0], 4096, wx, 0, 0, 0]), Errno::NOTSUP);
    h.ok(nr::MEM_PROTECT, [r[0], 4096, u64::from(Mprot::READ.bits()), 0, 0, 0]);
    // Other mapping rules.
    let anon = u64::from(Mflags::ANON.bits());
    assert_eq!(
        err(&mut h, nr::MEM_MAP, [0, 4096, 4, anon, 0xffff_ffff, 0]),
        Errno::INVAL,
        "neither private nor shared"
    );
    assert_eq!(
        err(&mut h, nr::MEM_MAP, [0, 4096, 4, anon_private, 3, 0]),
        Errno::INVAL,
        "anonymous needs MAP_ANON_FD"
    );
    assert_eq!(
        err(&mut h, nr::MEM_MAP, [0, 4096, 4, anon_private, 0xffff_ffff, 4096]),
        Errno::INVAL,
        "and offset 0"
    );
    assert_eq!(err(&mut h, nr::MEM_SYNC, [r[0], 4096, 5, 0, 0, 0]), Errno::INVAL, "async and sync");
    assert_eq!(err(&mut h, nr::MEM_SYNC, [r[0], 4096, 3, 0, 0, 0]), Errno::INVAL, "async and invalidate");
    assert_eq!(err(&mut h, nr::MEM_UNMAP, [r[0], 0, 0, 0, 0, 0]), Errno::INVAL);
}

#[test]
fn proc_exec_arguments_are_validated() {
    let mut h = world();
    let data = h.put(b"x");
    let fds = h.put_pod(&[Fd::new(0), Fd::new(1)]);
    // Argument data of ARG_MAX bytes or more.
    assert_eq!(err(&mut h, nr::PROC_EXEC, [1, data, 512 * 1024, fds, 2, 0]), Errno::E2BIG);
    // Far too many descriptors.
    assert_eq!(err(&mut h, nr::PROC_EXEC, [1, data, 1, fds, 1 << 20, 0]), Errno::E2BIG);
    // A closed descriptor in the list.
    let closed = h.put_pod(&[Fd::new(0), Fd::new(9)]);
    assert_eq!(err(&mut h, nr::PROC_EXEC, [1, data, 1, closed, 2, 0]), Errno::BADF);
    // The executable needs the proc_exec right: the directory has none.
    assert_eq!(err(&mut h, nr::PROC_EXEC, [0, data, 1, fds, 2, 0]), Errno::NOTCAPABLE);
    // Bad pointers.
    assert_eq!(err(&mut h, nr::PROC_EXEC, [1, data, 1, BAD, 2, 0]), Errno::FAULT);
}

#[test]
fn numbers_past_the_table_are_enosys() {
    let mut h = world();
    for n in [49u64, 50, 255, 1 << 32, u64::MAX] {
        let m = &mut h.m;
        assert_eq!(sys::dispatch(m, n, &[0; 6]), Err(Errno::NOSYS));
    }
}

#[test]
fn rights_are_enforced() {
    let mut h = world();
    // A read-only descriptor cannot write, seek or stat.
    let path = h.put(b"file");
    let mut st = Fdstat::ZERO;
    st.fs_rights_base = Rights::FD_READ.bits();
    let stp = h.put_pod(&st);
    let [fd, _] = h.ok(nr::FILE_OPEN, [lookup(0, false), path, 4, 0, stp, 0]);
    let iov = h.alloc(16);
    assert_eq!(err(&mut h, nr::FD_WRITE, [fd, iov, 0, 0, 0, 0]), Errno::NOTCAPABLE);
    assert_eq!(err(&mut h, nr::FD_SEEK, [fd, 1, 3, 0, 0, 0]), Errno::NOTCAPABLE);
    assert_eq!(err(&mut h, nr::FD_SEEK, [fd, 0, 1, 0, 0, 0]), Errno::NOTCAPABLE, "tell needs fd_tell");
    let buf = h.alloc(56);
    assert_eq!(err(&mut h, nr::FILE_STAT_FGET, [fd, buf, 0, 0, 0, 0]), Errno::NOTCAPABLE);
    h.ok(nr::FD_READ, [fd, iov, 0, 0, 0, 0]);
    // fd_tell alone allows asking for the position, not moving it.
    st.fs_rights_base = Rights::FD_TELL.bits();
    let stp = h.put_pod(&st);
    let [fd2, _] = h.ok(nr::FILE_OPEN, [lookup(0, false), path, 4, 0, stp, 0]);
    h.ok(nr::FD_SEEK, [fd2, 0, 1, 0, 0, 0]);
    assert_eq!(err(&mut h, nr::FD_SEEK, [fd2, 1, 1, 0, 0, 0]), Errno::NOTCAPABLE);
    // pread needs fd_seek on top of fd_read.
    assert_eq!(err(&mut h, nr::FD_PREAD, [fd, iov, 0, 0, 0, 0]), Errno::NOTCAPABLE);
    // A write-mode open needs fd_seek among the directory's inheriting
    // rights unless it appends.
    st.fs_rights_base = Rights::FD_WRITE.bits();
    let stp = h.put_pod(&st);
    let mut narrowed = Fdstat::ZERO;
    narrowed.fs_rights_base = Rights::FILE_OPEN.bits();
    narrowed.fs_rights_inheriting = Rights::FD_WRITE.bits();
    let np = h.put_pod(&narrowed);
    let [dir2, _] = h.ok(nr::FD_DUP, [0, 0, 0, 0, 0, 0]);
    h.ok(nr::FD_STAT_PUT, [dir2, np, 2, 0, 0, 0]);
    assert_eq!(
        err(&mut h, nr::FILE_OPEN, [lookup(dir2 as u32, false), path, 4, 0, stp, 0]),
        Errno::NOTCAPABLE
    );
    st.set_fs_flags(Fdflags::APPEND);
    let stp = h.put_pod(&st);
    h.ok(nr::FILE_OPEN, [lookup(dir2 as u32, false), path, 4, 0, stp, 0]);
}

#[test]
fn file_attribute_flag_rules() {
    let mut h = world();
    let st = h.put_pod(&Filestat::ZERO);
    let f = |flags: Fsflags| u64::from(flags.bits());
    assert_eq!(
        err(&mut h, nr::FILE_STAT_FPUT, [1, st, f(Fsflags::SIZE | Fsflags::MTIM), 0, 0, 0]),
        Errno::INVAL
    );
    assert_eq!(err(&mut h, nr::FILE_STAT_FPUT, [1, st, 0, 0, 0, 0]), Errno::INVAL);
    h.ok(nr::FILE_STAT_FPUT, [1, st, f(Fsflags::SIZE), 0, 0, 0]);
    h.ok(nr::FILE_STAT_FPUT, [1, st, f(Fsflags::ATIM | Fsflags::ATIM_NOW), 0, 0, 0]);
    let p = h.put(b"file");
    assert_eq!(
        err(&mut h, nr::FILE_STAT_PUT, [lookup(0, false), p, 4, st, f(Fsflags::SIZE), 0]),
        Errno::INVAL
    );
    // By path, the flags are checked before the structure is read.
    assert_eq!(
        err(&mut h, nr::FILE_STAT_PUT, [lookup(0, false), p, 4, BAD, f(Fsflags::SIZE), 0]),
        Errno::INVAL
    );
    h.ok(nr::FILE_STAT_PUT, [lookup(0, false), p, 4, st, 0, 0]);
    assert_eq!(err(&mut h, nr::FILE_ALLOCATE, [1, 0, 0, 0, 0, 0]), Errno::INVAL);
}

/// Poll results are laid out exactly as the ABI says.
#[test]
fn poll_events_are_encoded_per_the_abi() {
    let mut h = world();
    let mut subs = Vec::new();
    // A clock, a read on fd 1, a write on fd 1, a read on a closed fd, and
    // a lock subscription out of place: the failures are reported alone.
    let mut clock = Subscription::ZERO;
    clock.userdata = Userdata::new(0x1111);
    clock.set_type(Eventtype::CLOCK);
    let mut c = SubscriptionClock::ZERO;
    c.set_clock_id(Clockid::MONOTONIC);
    clock.set_clock(c);
    subs.push(clock);
    let fdsub = |ud: u64, ty: Eventtype, fd: u32| {
        let mut s = Subscription::ZERO;
        s.userdata = Userdata::new(ud);
        s.set_type(ty);
        let mut rw = SubscriptionFdReadwrite::ZERO;
        rw.fd = Fd::new(fd);
        rw.set_flags(Subrwflags::POLL);
        s.set_fd_readwrite(rw);
        s
    };
    subs.push(fdsub(0x2222, Eventtype::FD_READ, 1));
    subs.push(fdsub(0x3333, Eventtype::FD_WRITE, 1));
    let in_ok = h.put(&subs.iter().flat_map(|s| s.as_bytes().to_vec()).collect::<Vec<u8>>());
    let out = h.alloc(32 * 3);
    let [n, _] = h.ok(nr::POLL, [in_ok, out, 3, 0, 0, 0]);
    assert_eq!(n, 3);
    let bytes = h.m.peek(out, 96);
    // Event 0: clock, userdata 0x1111, error 0, type 1.
    assert_eq!(&bytes[0..8], &0x1111u64.to_le_bytes());
    assert_eq!(&bytes[8..10], &[0, 0]);
    assert_eq!(bytes[10], Eventtype::CLOCK.raw());
    // Event 1: fd_read: nbytes at 16, flags at 28.
    assert_eq!(&bytes[32..40], &0x2222u64.to_le_bytes());
    assert_eq!(bytes[42], Eventtype::FD_READ.raw());
    assert_eq!(&bytes[32 + 28..32 + 30], &[0, 0]);
    // Event 2: fd_write.
    assert_eq!(bytes[64 + 10], Eventtype::FD_WRITE.raw());

    subs.push(fdsub(0x4444, Eventtype::FD_READ, 42));
    let mut lock = Subscription::ZERO;
    lock.userdata = Userdata::new(0x5555);
    lock.set_type(Eventtype::LOCK_WRLOCK);
    subs.push(lock);
    let input = h.put(&subs.iter().flat_map(|s| s.as_bytes().to_vec()).collect::<Vec<u8>>());
    let out = h.alloc(32 * 5);
    let [n, _] = h.ok(nr::POLL, [input, out, 5, 0, 0, 0]);
    assert_eq!(n, 2, "only the failed subscriptions are reported");
    let ev: Event = h.get_pod(out);
    assert_eq!(
        (ev.userdata, ev.error(), ev.r#type),
        (Userdata::new(0x4444), Some(Errno::BADF), Eventtype::FD_READ.raw())
    );
    let ev: Event = h.get_pod(out + 32);
    assert_eq!(
        (ev.userdata, ev.error(), ev.r#type),
        (Userdata::new(0x5555), Some(Errno::INVAL), Eventtype::LOCK_WRLOCK.raw())
    );

    // A lock first but followed by something other than a clock is not
    // the blocking shape: the lock fails as an event, and the second
    // subscription (read while picking the shape) is not lost.
    let mut lock_first = Subscription::ZERO;
    lock_first.userdata = Userdata::new(0x7777);
    lock_first.set_type(Eventtype::LOCK_WRLOCK);
    let pair = [lock_first, fdsub(0x8888, Eventtype::FD_READ, 42)];
    let input = h.put(&pair.iter().flat_map(|s| s.as_bytes().to_vec()).collect::<Vec<u8>>());
    let out = h.alloc(64);
    assert_eq!(h.ok(nr::POLL, [input, out, 2, 0, 0, 0])[0], 2, "both fail: the lock and the bad fd");
    let ev: Event = h.get_pod(out);
    assert_eq!((ev.userdata, ev.error()), (Userdata::new(0x7777), Some(Errno::INVAL)));
    let ev: Event = h.get_pod(out + 32);
    assert_eq!((ev.userdata, ev.error()), (Userdata::new(0x8888), Some(Errno::BADF)));

    // The blocking shape: a lock wait with a timeout on a lock another
    // thread holds reports the clock.
    let word = h.put(&(3 | Lock::WRLOCKED.raw()).to_le_bytes());
    let mut lock = Subscription::ZERO;
    lock.userdata = Userdata::new(0x6666);
    lock.set_type(Eventtype::LOCK_WRLOCK);
    let mut l = SubscriptionLock::ZERO;
    l.lock = UserPtr::new(word);
    l.set_lock_scope(Scope::PRIVATE);
    lock.set_lock(l);
    let pair = [lock, clock];
    let input = h.put(&pair.iter().flat_map(|s| s.as_bytes().to_vec()).collect::<Vec<u8>>());
    let out = h.alloc(64);
    assert_eq!(h.ok(nr::POLL, [input, out, 2, 0, 0, 0])[0], 1);
    let ev: Event = h.get_pod(out);
    assert_eq!(
        (ev.userdata, ev.error(), ev.r#type()),
        (Userdata::new(0x1111), Some(Errno::SUCCESS), Some(Eventtype::CLOCK))
    );
    // No subscriptions: nothing to wait for.
    assert_eq!(h.ok(nr::POLL, [BAD, BAD, 0, 0, 0, 0])[0], 0);
}

#[test]
fn readdir_fills_the_buffer_and_cuts_the_last_entry() {
    let mut h = world();
    h.m.add(0, b"second", Node::File { data: vec![] });
    // Entries in the model root: "file", "second" (sorted).
    let buf = h.alloc(64);
    let [used, _] = h.ok(nr::FILE_READDIR, [0, buf, 40, 0, 0, 0]);
    assert_eq!(used, 40, "a full buffer means more may follow");
    let first: Dirent = h.get_pod(buf);
    assert_eq!(first.d_namlen, 4);
    assert_eq!(first.d_type(), Some(Filetype::REGULAR_FILE));
    assert_eq!(h.m.peek(buf + 24, 4), b"file");
    // The first call held "file" (28 bytes) and the first 12 header bytes of
    // "second". Continuing from "file"'s cookie gives "second" whole (24 + 6
    // bytes) and then the end of the directory.
    let [used, _] = h.ok(nr::FILE_READDIR, [0, buf, 64, first.d_next.raw(), 0, 0]);
    assert_eq!(used, 30, "24-byte header + 6-byte name, then the end");
}

/// cloudabi64's accept extension: `sock_recv` on a listening socket returns
/// one connection as a received descriptor, with the listener's inheriting
/// rights, and never leaves a descriptor behind when it fails.
#[test]
fn sock_recv_on_a_listening_socket_accepts() {
    let mut h = world();
    let inheriting = Rights::FD_READ | Rights::FD_WRITE | Rights::FILE_STAT_FGET;
    let listener = FdRights { base: Rights::FD_READ | Rights::POLL_FD_READWRITE, inheriting };
    h.m.install_at(2, Object::Listener { pending: 1 }, listener);
    let fds = h.put(&[0xff; 8]);
    let mut ri = RecvIn::ZERO;
    ri.ri_fds = UserPtr::new(fds);
    ri.ri_fds_len = 2;
    let rip = h.put_pod(&ri);
    let out = h.alloc(64);
    h.ok(nr::SOCK_RECV, [2, rip, out, 0, 0, 0]);
    let ro: RecvOut = h.get_pod(out);
    assert_eq!((ro.ro_datalen, ro.ro_fdslen), (0, 1));
    let got: [u8; 8] = h.get_pod(fds);
    let conn = u32::from_le_bytes(got[..4].try_into().unwrap());
    assert_eq!(&got[4..], &[0xff; 4], "only one descriptor number is written");
    let st = h.fdstat(conn).expect("the connection is open");
    assert_eq!(st.fs_filetype, Filetype::SOCKET_STREAM.raw());
    assert_eq!((st.fs_rights_base, st.fs_rights_inheriting), (inheriting.bits(), inheriting.bits()));

    // No connection pending: EAGAIN. No room for a descriptor: EINVAL.
    assert_eq!(err(&mut h, nr::SOCK_RECV, [2, rip, out, 0, 0, 0]), Errno::AGAIN);
    h.m.install_at(2, Object::Listener { pending: 1 }, listener);
    let mut none = ri;
    none.ri_fds_len = 0;
    let nonep = h.put_pod(&none);
    assert_eq!(err(&mut h, nr::SOCK_RECV, [2, nonep, out, 0, 0, 0]), Errno::INVAL);
    // The result cannot be stored: EFAULT, and the accepted descriptor is
    // closed again (the next free number is still the one after `conn`).
    let open_before = h.m.fds.len();
    assert_eq!(err(&mut h, nr::SOCK_RECV, [2, rip, BAD, 0, 0, 0]), Errno::FAULT);
    assert_eq!(h.m.fds.len(), open_before);
    // Without fd_read on the listener: ENOTCAPABLE.
    h.m.install_at(
        2,
        Object::Listener { pending: 1 },
        FdRights { base: Rights::POLL_FD_READWRITE, inheriting },
    );
    assert_eq!(err(&mut h, nr::SOCK_RECV, [2, rip, out, 0, 0, 0]), Errno::NOTCAPABLE);
}

/// The lock and condition variable protocol of `sys::sync` on the
/// single-threaded model: what can be decided without another thread.
#[test]
fn lock_protocol_rules() {
    use host_tests::model::MODEL_TID;
    const WR: u32 = Lock::WRLOCKED.raw();
    const KM: u32 = Lock::KERNEL_MANAGED.raw();
    let mut h = world();
    let lock_sub = |word: u64, ty: Eventtype| {
        let mut sub = Subscription::ZERO;
        sub.userdata = Userdata::new(7);
        sub.set_type(ty);
        let mut l = SubscriptionLock::ZERO;
        l.lock = UserPtr::new(word);
        l.set_lock_scope(Scope::PRIVATE);
        sub.set_lock(l);
        sub
    };
    let poll1 = |h: &mut Harness, sub: Subscription| -> Event {
        let input = h.put_pod(&sub);
        let out = h.alloc(32);
        assert_eq!(h.ok(nr::POLL, [input, out, 1, 0, 0, 0])[0], 1);
        h.get_pod(out)
    };
    let word_at = |h: &Harness, w: u64| u32::from_le_bytes(h.get_pod::<[u8; 4]>(w));
    let private = u64::from(Scope::PRIVATE.raw());

    // A free lock is taken for writing; asking again is EDEADLK.
    let w = h.put(&0u32.to_le_bytes());
    assert_eq!(poll1(&mut h, lock_sub(w, Eventtype::LOCK_WRLOCK)).error(), Some(Errno::SUCCESS));
    assert_eq!(word_at(&h, w), MODEL_TID | WR);
    assert_eq!(poll1(&mut h, lock_sub(w, Eventtype::LOCK_WRLOCK)).error(), Some(Errno::DEADLK));
    // Read locks count up; a write-locked word blocks readers (here: the
    // model reports a wait nobody could end as EDEADLK). The reader left
    // the queue, so the word is not kernel-managed afterwards.
    let r = h.put(&2u32.to_le_bytes());
    assert_eq!(poll1(&mut h, lock_sub(r, Eventtype::LOCK_RDLOCK)).error(), Some(Errno::SUCCESS));
    assert_eq!(word_at(&h, r), 3);
    let busy = h.put(&(5 | WR).to_le_bytes());
    assert_eq!(poll1(&mut h, lock_sub(busy, Eventtype::LOCK_RDLOCK)).error(), Some(Errno::DEADLK));
    assert_eq!(word_at(&h, busy), 5 | WR);
    let busy = h.put(&(5 | WR | KM).to_le_bytes());

    // lock_unlock: a managed lock owned by someone else is EPERM; the
    // owner's unlock leaves it free (the managed bit goes when nobody
    // sleeps); an unmanaged lock is released without an ownership check.
    assert_eq!(err(&mut h, nr::LOCK_UNLOCK, [busy, private, 0, 0, 0, 0]), Errno::PERM);
    let mine = h.put(&(MODEL_TID | WR | KM).to_le_bytes());
    h.ok(nr::LOCK_UNLOCK, [mine, private, 0, 0, 0, 0]);
    assert_eq!(word_at(&h, mine), 0);
    let other = h.put(&(9 | WR).to_le_bytes());
    h.ok(nr::LOCK_UNLOCK, [other, private, 0, 0, 0, 0]);
    assert_eq!(word_at(&h, other), 0);
    // Misaligned words are EINVAL, unmapped ones EFAULT, a bad scope EINVAL.
    assert_eq!(err(&mut h, nr::LOCK_UNLOCK, [other + 1, private, 0, 0, 0, 0]), Errno::INVAL);
    assert_eq!(err(&mut h, nr::LOCK_UNLOCK, [BAD & !3, private, 0, 0, 0, 0]), Errno::FAULT);
    assert_eq!(err(&mut h, nr::LOCK_UNLOCK, [other, 5, 0, 0, 0, 0]), Errno::INVAL);

    // condvar_signal: no waiters asked for is a no-op, even on a bad
    // address; otherwise the word is cleared when nobody sleeps.
    h.ok(nr::CONDVAR_SIGNAL, [BAD, private, 0, 0, 0, 0]);
    let cv = h.put(&u32::MAX.to_le_bytes());
    h.ok(nr::CONDVAR_SIGNAL, [cv, private, 1, 0, 0, 0]);
    assert_eq!(word_at(&h, cv), 0);

    // A condition variable wait with a timeout: the waiter announces
    // itself (!0), releases the lock, times out, and holds the lock again
    // when the clock event comes back.
    let lock = h.put(&(MODEL_TID | WR).to_le_bytes());
    let cv = h.put(&0u32.to_le_bytes());
    let mut wait = Subscription::ZERO;
    wait.userdata = Userdata::new(8);
    wait.set_type(Eventtype::CONDVAR);
    let mut c = SubscriptionCondvar::ZERO;
    c.condvar = UserPtr::new(cv);
    c.lock = UserPtr::new(lock);
    c.set_condvar_scope(Scope::PRIVATE);
    c.set_lock_scope(Scope::PRIVATE);
    wait.set_condvar(c);
    let mut clock = Subscription::ZERO;
    clock.userdata = Userdata::new(9);
    clock.set_type(Eventtype::CLOCK);
    let mut cs = SubscriptionClock::ZERO;
    cs.set_clock_id(Clockid::MONOTONIC);
    cs.timeout = Timestamp::new(1000);
    clock.set_clock(cs);
    let input = h.put(&[wait, clock].iter().flat_map(|s| s.as_bytes().to_vec()).collect::<Vec<u8>>());
    let out = h.alloc(32);
    assert_eq!(h.ok(nr::POLL, [input, out, 2, 0, 0, 0])[0], 1);
    let ev: Event = h.get_pod(out);
    assert_eq!(
        (ev.userdata, ev.error(), ev.r#type()),
        (Userdata::new(9), Some(Errno::SUCCESS), Some(Eventtype::CLOCK))
    );
    assert_eq!(word_at(&h, lock), MODEL_TID | WR, "the lock is held again, unmanaged");
    assert_eq!(word_at(&h, cv), 0, "the waiter timed out and left: no waiters");
}
