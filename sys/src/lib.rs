//! The platform-independent CloudABI syscall core (decoding, validation,
//! rights, errno mapping, user-memory access), shared by the FreeBSD kernel
//! module and the Linux backend. Being built in the "sys" issue.
#![no_std]
