//! Behaviour of the generated types: validating constructors, flags
//! algebra, byte conversion and by-register structs.

use abi::*;

#[test]
fn enums_accept_exactly_their_values() {
    let valid: Vec<u32> = (0..=300).filter(|&v| Clockid::new(v).is_some()).collect();
    assert_eq!(valid, vec![1, 2, 3, 4]);
    assert_eq!(Clockid::new(3), Some(Clockid::REALTIME));
    assert_eq!(Errno::new(76), Some(Errno::NOTCAPABLE));
    assert_eq!(Errno::new(77), None);
    assert_eq!(Errno::E2BIG.raw(), 1);
    assert_eq!(format!("{:?}", Errno::NOTCAPABLE), "NOTCAPABLE");
    assert_eq!(Filetype::VALUES.len(), 10);
    // Holes left by values removed from the ABI stay invalid.
    assert_eq!(Filetype::new(0x30), None);
    assert_eq!(Filetype::new(0x81), None);
}

#[test]
fn flags_reject_unknown_bits() {
    assert_eq!(
        Oflags::from_bits(0x0f),
        Some(Oflags::CREAT | Oflags::DIRECTORY | Oflags::EXCL | Oflags::TRUNC)
    );
    assert_eq!(Oflags::from_bits(0x10), None);
    assert_eq!(Oflags::from_bits_truncate(0x1f), Oflags::ALL);
    // Retired rights bits (file_create_fifo 0x800, poll_modify 0x2000_0000,
    // sock_accept 0x2_0000_0000 ...) are not part of the ABI any more.
    for retired in [0x800u64, 0x2000_0000, 0x8000_0000, 0x2_0000_0000, 0x100_0000_0000] {
        assert_eq!(Rights::from_bits(retired), None, "{retired:#x}");
    }
    assert_eq!(Rights::ALL.bits().count_ones(), 31);
    let r = Rights::FD_READ | Rights::FD_WRITE;
    assert!(r.contains(Rights::FD_READ));
    assert!(!r.contains(Rights::FD_READ | Rights::FD_SEEK));
    assert_eq!(r - Rights::FD_WRITE, Rights::FD_READ);
    assert_eq!(format!("{:?}", r), "FD_READ | FD_WRITE");
    assert_eq!(format!("{:?}", Siflags::EMPTY), "0");
}

#[test]
fn structs_round_trip_through_bytes_with_zeroed_padding() {
    let mut st = Fdstat::ZERO;
    st.set_fs_filetype(Filetype::DIRECTORY);
    st.set_fs_flags(Fdflags::APPEND);
    st.fs_rights_base = Rights::FILE_OPEN.bits();
    let bytes = st.as_bytes();
    assert_eq!(bytes.len(), 24);
    assert_eq!(bytes[0], 0x20);
    assert_eq!(bytes[1], 0, "padding is zero, never stale memory");
    assert_eq!(&bytes[2..4], &[1, 0]);
    assert_eq!(Fdstat::from_bytes(bytes), Some(st));
    assert_eq!(Fdstat::from_bytes(&bytes[1..]), None);
    // Invalid raw values survive as bytes but never as typed values.
    let mut bad = st;
    bad.fs_filetype = 0x30;
    assert_eq!(bad.fs_filetype(), None);
    assert!(!bad.is_valid());
}

#[test]
fn unions_are_read_and_written_per_case() {
    let mut s = Subscription::ZERO;
    s.set_type(Eventtype::CLOCK);
    let mut c = SubscriptionClock::ZERO;
    c.set_clock_id(Clockid::MONOTONIC);
    c.timeout = Timestamp::new(1_000_000);
    s.set_clock(c);
    let bytes = s.as_bytes();
    assert_eq!(bytes.len(), 56);
    assert_eq!(bytes[10], 1);
    assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 1);
    assert_eq!(u64::from_le_bytes(bytes[32..40].try_into().unwrap()), 1_000_000);
    assert_eq!(s.clock().timeout, Timestamp::new(1_000_000));
    // Storing another case clears what the previous one left behind.
    let mut fdrw = SubscriptionFdReadwrite::ZERO;
    fdrw.fd = Fd::new(7);
    s.set_fd_readwrite(fdrw);
    assert_eq!(s.fd_readwrite().fd, Fd::new(7));
    assert_eq!(s.clock().timeout, Timestamp::new(0));
}

#[test]
fn lookup_is_decoded_from_one_register() {
    let l = Lookup::from_register(0x0000_0001_0000_0005);
    assert_eq!(l.fd, Fd::new(5));
    assert_eq!(l.flags(), Some(Lookupflags::SYMLINK_FOLLOW));
    assert!(l.is_valid());
    assert!(!Lookup::from_register(0x0000_0002_0000_0005).is_valid());
}

#[test]
fn descriptor_tables_describe_registers() {
    let open = SyscallDesc::by_name("file_open").unwrap();
    assert_eq!(open.number, nr::FILE_OPEN);
    let kinds: Vec<ParamKind> = open.params.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![ParamKind::Lookup, ParamKind::Pointer, ParamKind::Length, ParamKind::Value, ParamKind::Pointer]
    );
    assert_eq!(open.results.len(), 1);
    let map = SyscallDesc::by_name("mem_map").unwrap();
    assert_eq!(map.params.len(), 6);
    assert_eq!(map.params[2].width, 1, "mprot is one byte wide");
    assert!(SyscallDesc::by_name("proc_exit").unwrap().noreturn);
    assert!(SyscallDesc::by_number(49).is_none());
    assert_eq!(TYPES.len(), 57);
    let names: Vec<&str> = SYSCALLS.iter().map(|s| s.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "numbers follow the sorted names");
    assert_eq!(names.first(), Some(&"clock_res_get"));
    assert_eq!(names.last(), Some(&"thread_yield"));
}

#[test]
fn unimplemented_handler_and_dispatch_errors() {
    let mut h = Unimplemented;
    // Every defined syscall reaches the handler (ENOSYS from it), provided
    // its arguments decode: use valid enum values where one is required.
    for desc in SYSCALLS.iter() {
        let mut regs = [0u64; 6];
        for (i, p) in desc.params.iter().enumerate() {
            regs[i] = match p.ty {
                "clockid" => 1,
                "filetype" if desc.name == "fd_create1" => 0x70,
                "filetype" if desc.name == "fd_create2" => 0x80,
                "filetype" => 0x20,
                "whence" => 1,
                "advice" => 3,
                "scope" => 4,
                "signal" => 1,
                _ => 0,
            };
        }
        assert_eq!(dispatch(&mut h, u64::from(desc.number), &regs), Err(Errno::NOSYS), "{}", desc.name);
    }
    // Undefined numbers give ENOSYS too.
    assert_eq!(dispatch(&mut h, 49, &[0; 6]), Err(Errno::NOSYS));
    assert_eq!(dispatch(&mut h, u64::MAX, &[0; 6]), Err(Errno::NOSYS));
    // Invalid enum and flags values are rejected before the handler runs,
    // and narrow arguments are read at their width only.
    assert_eq!(dispatch(&mut h, u64::from(nr::CLOCK_RES_GET), &[9, 0, 0, 0, 0, 0]), Err(Errno::INVAL));
    assert_eq!(
        dispatch(&mut h, u64::from(nr::CLOCK_RES_GET), &[0xdead_0000_0001, 0, 0, 0, 0, 0]),
        Err(Errno::NOSYS)
    );
    assert_eq!(dispatch(&mut h, u64::from(nr::FD_CREATE1), &[0x80, 0, 0, 0, 0, 0]), Err(Errno::INVAL));
    assert_eq!(dispatch(&mut h, u64::from(nr::FILE_UNLINK), &[0, 0, 0, 2, 0, 0]), Err(Errno::INVAL));
    assert_eq!(
        dispatch(&mut h, u64::from(nr::FILE_OPEN), &[0x2_0000_0003, 0, 0, 0, 0, 0]),
        Err(Errno::INVAL)
    );
    assert_eq!(dispatch(&mut h, u64::from(nr::FILE_OPEN), &[0, 0, 0, 0x10, 0, 0]), Err(Errno::INVAL));
}
