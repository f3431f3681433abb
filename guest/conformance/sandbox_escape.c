// sandbox_escape: a program that skips the vDSO and makes raw Linux system
// calls cannot leave what its configuration granted (cloudabi-run's
// sandbox: Landlock and seccomp, docs/cloudabi-run.1).
// SPDX-License-Identifier: BSD-2-Clause
//
// Linux backend only. On a kernel that runs CloudABI natively the `syscall`
// instruction enters CloudABI's own system call table, so there is nothing
// to get around: the program sees that its vDSO traps straight into the
// kernel, says so and stops.
//
// Every attempt is harmless if it succeeds (nonexistent paths, signal 0,
// no-op arguments), so that the same program run with --no-sandbox (run/
// tests/sandbox.rs) shows the attempts getting through without damage.
// Successful escapes that create files use names starting with
// cloudabi64-escape-, in /tmp or beside the scratch directory, where the
// runner looks for them.
//
// The configuration: `tmpdir` (read-write) and `ro`, the scratch
// directory's parent, read-only. With `reexec: true` the program only
// re-executes cloudabi-run (the one executable the sandbox lets it run)
// with --version.

#include "test.h"

#if defined(__x86_64__)

// Linux x86-64 system call numbers and constants (the kernel's uapi).
enum {
  L_open = 2, L_fstat = 5, L_ioctl = 16, L_getpid = 39, L_socket = 41, L_connect = 42,
  L_sendto = 44, L_bind = 49, L_listen = 50, L_socketpair = 53, L_clone = 56, L_execve = 59,
  L_kill = 62, L_shmctl = 31, L_fcntl = 72, L_truncate = 76, L_chdir = 80, L_creat = 85,
  L_chmod = 90, L_fchown = 93, L_ptrace = 101, L_setpriority = 141, L_personality = 135,
  L_modify_ldt = 154, L_pivot_root = 155, L_chroot = 161, L_settimeofday = 164, L_mount = 165,
  L_umount2 = 166, L_swapon = 167, L_reboot = 169, L_sethostname = 170, L_iopl = 172,
  L_ioperm = 173, L_init_module = 175, L_setxattr = 188, L_getxattr = 191, L_mq_open = 240,
  L_keyctl = 250, L_mkdirat = 258, L_mknodat = 259, L_fchownat = 260, L_unshare = 272,
  L_linkat = 265, L_renameat = 264, L_symlinkat = 266, L_fchmodat = 268, L_openat = 257,
  L_inotify_init1 = 294, L_perf_event_open = 298, L_name_to_handle_at = 303,
  L_open_by_handle_at = 304, L_setns = 308, L_process_vm_readv = 310, L_finit_module = 313,
  L_memfd_create = 319, L_bpf = 321, L_execveat = 322, L_userfaultfd = 323, L_prlimit64 = 302,
  L_io_uring_setup = 425, L_clone3 = 435, L_write = 1, L_dup2 = 33, L_dup3 = 292, L_close_range = 436,
};
enum { L_EPERM = 1, L_ENOENT = 2, L_EBADF = 9, L_EACCES = 13, L_EXDEV = 18, L_ENOTDIR = 20, L_EINVAL = 22, L_ENOSYS = 38 };
#define L_MFD_NOEXEC_SEAL 8L
#define L_AT_FDCWD (-100L)
#define L_AT_EMPTY_PATH 0x1000L
#define L_O_RDONLY 0L
#define L_O_WRONLY 1L
#define L_O_RDWR 2L
#define L_O_CREAT 0100L
#define L_O_EXCL 0200L
#define L_O_DIRECTORY 0200000L
#define L_O_CLOEXEC 02000000L
#define L_AF_UNIX 1L
#define L_AF_INET 2L
#define L_AF_NETLINK 16L
#define L_SOCK_STREAM 1L
#define L_CLONE_THREAD 0x10000L
#define L_CLONE_NEWUSER 0x10000000L
#define L_S_IFIFO 0010000L
#define L_F_SETOWN 8L
#define L_TIOCSTI 0x5412L
#define L_SIOCGIFCONF 0x8912L
#define L_MS_REMOUNT 32L

// The sandbox's marker system call (run/src/linux/sandbox/seccomp.rs): its
// filter answers errno 2048 + the descriptor execveat may use, or 4095.
#define MARKER_NR 0xc10ab1L
#define MARKER_BASE 2048
#define MARKER_NONE 4095

static long sys6(long nr, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define SYS0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

// The i386 system call ABI (int 0x80), and x32 (bit 30 of the number).
static long int80(long nr) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
  return ret;
}

static const char *lname(long e) {
  switch (e) {
    case L_EPERM: return "EPERM";
    case L_ENOENT: return "ENOENT";
    case L_EBADF: return "EBADF";
    case L_EACCES: return "EACCES";
    case L_EXDEV: return "EXDEV";
    case L_ENOTDIR: return "ENOTDIR";
    case L_ENOSYS: return "ENOSYS";
    default: return "another error";
  }
}

static void close_if_fd(long r) {
  if (r >= 0)
    SYS1(3 /* close */, r);
}

// `ret` (a raw result) must be the Linux error `want`.
static bool expect(const char *name, long ret, long want) {
  if (ret >= 0)
    return t_check(name, false, "expected %s got success (%ld)", lname(want), ret);
  return t_check(name, ret == -want, "expected %s got %s (%ld)", lname(want), lname(-ret), -ret);
}

// Must fail with `want`; a descriptor it returns anyway is closed.
static bool expect_fd(const char *name, long ret, long want) {
  close_if_fd(ret);
  return expect(name, ret, want);
}

// Must succeed.
static bool expect_ok(const char *name, long ret) {
  return t_check(name, ret >= 0, "expected success got %s (%ld)", lname(-ret), -ret);
}

// Whether this program's system calls go through cloudabi-run's emulated
// vDSO (`call *slot(%rip)`, ff 15) rather than into a kernel (`syscall`,
// 0f 05): the first trap instruction of the vDSO's first entry point.
extern void *__cloudabi_syscalls[];
static bool emulated_vdso(void) {
  const unsigned char *p = __cloudabi_syscalls[0];
  for (int i = 0; i < 16; ++i) {
    if (p[i] == 0x0f && p[i + 1] == 0x05)
      return false;
    if (p[i] == 0xff && p[i + 1] == 0x15)
      return true;
  }
  return false;
}

// The host descriptor of CloudABI descriptor `fd`: the one with the same
// device and inode among the first 1024 (the guest never sees host
// numbers, but nothing stops it from trying them).
static long host_fd(cloudabi_fd_t fd) {
  cloudabi_filestat_t st;
  if (cloudabi_sys_file_stat_fget(fd, &st) != 0)
    return -1;
  for (long h = 0; h < 1024; ++h) {
    uint64_t buf[18];  // struct stat: st_dev, st_ino first
    if (SYS2(L_fstat, h, buf) == 0 && buf[0] == st.st_dev && buf[1] == st.st_ino)
      return h;
  }
  return -1;
}

// The descriptor the sandbox lets execveat run (cloudabi-run itself), from
// its marker; -1 without a sandbox.
static long exec_fd(void) {
  long r = SYS0(MARKER_NR);
  if (r <= -MARKER_BASE && r > -MARKER_NONE)
    return -r - MARKER_BASE;
  return -1;
}

static void reexec(void) {
  long fd = exec_fd();
  if (!t_check("sandbox/reexec-marker", fd >= 0, "expected the sandbox's marker got %ld", fd))
    return;
  static const char *argv[] = {"cloudabi-run", "--version", NULL};
  static const char *envp[] = {NULL};
  long r = SYS5(L_execveat, fd, "", argv, envp, L_AT_EMPTY_PATH);
  t_fail("sandbox/reexec", "execveat of cloudabi-run returned %ld", r);
}

// int 0x80 in a forked child: a kernel without i386 emulation kills it
// (nothing to get around there), so the parent survives either way.
static void check_int80(void) {
  cloudabi_fd_t child;
  cloudabi_tid_t tid;
  // Checked only in the parent: the child must print nothing.
  cloudabi_errno_t error = cloudabi_sys_proc_fork(&child, &tid);
  if (error == 0 && child == CLOUDABI_PROCESS_CHILD) {
    long r = int80(20 /* i386 getpid */);
    cloudabi_sys_proc_exit(r == -L_EPERM ? 0 : r >= 0 ? 1 : 2);
  }
  if (!T_OK("sandbox/int80-fork", error))
    return;
  cloudabi_subscription_t sub = {
      .userdata = 80, .type = CLOUDABI_EVENTTYPE_PROC_TERMINATE, .proc_terminate = {.fd = child}};
  cloudabi_event_t ev;
  size_t n;
  if (T_OK("sandbox/int80-wait", cloudabi_sys_poll(&sub, &ev, 1, &n))) {
    bool no_ia32 = ev.proc_terminate.signal == CLOUDABI_SIGSEGV;
    t_check("sandbox/int80-getpid", ev.proc_terminate.exitcode == 0 || no_ia32,
            "expected EPERM got %s", ev.proc_terminate.exitcode == 1 ? "the process id" : "another error");
  }
  cloudabi_sys_fd_close(child);
}

// Issue 13, D3: a Linux program the guest writes into a memory object of
// its own must not run through the one exec the filter allows
// (cloudabi-run's pinned descriptor): not by a /proc/self/fd path next to
// that descriptor, nor put onto its number with dup2/dup3 or after closing
// it. The program is a static x86-64 ELF that prints a FAIL line and exits
// 97, so an exec that gets through shows in the output and the status.
// Each attempt must end in EPERM or EACCES; the pinned descriptor is only
// executed if an attempt to replace it got through (else it would run
// cloudabi-run itself).
static const unsigned char linux_program[] = {
    0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x3e, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x78, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xdf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xdf, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xb8, 0x01, 0x00, 0x00, 0x00, 0xbf, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8d,
    0x35, 0x13, 0x00, 0x00, 0x00, 0xba, 0x43, 0x00, 0x00, 0x00, 0x0f, 0x05,
    0xb8, 0x3c, 0x00, 0x00, 0x00, 0xbf, 0x61, 0x00, 0x00, 0x00, 0x0f, 0x05,
    0x46, 0x41, 0x49, 0x4c, 0x20, 0x73, 0x61, 0x6e, 0x64, 0x62, 0x6f, 0x78,
    0x2f, 0x65, 0x78, 0x65, 0x63, 0x2d, 0x6d, 0x65, 0x6d, 0x66, 0x64, 0x2d,
    0x72, 0x61, 0x6e, 0x3a, 0x20, 0x61, 0x20, 0x4c, 0x69, 0x6e, 0x75, 0x78,
    0x20, 0x70, 0x72, 0x6f, 0x67, 0x72, 0x61, 0x6d, 0x20, 0x6d, 0x61, 0x64,
    0x65, 0x20, 0x62, 0x79, 0x20, 0x74, 0x68, 0x65, 0x20, 0x67, 0x75, 0x65,
    0x73, 0x74, 0x20, 0x72, 0x61, 0x6e, 0x0a,
};

static bool refused(const char *name, long r) {
  return t_check(name, r == -L_EPERM || r == -L_EACCES, "expected one of EPERM|EACCES got %s (%ld)",
                 r >= 0 ? "success" : lname(-r), r < 0 ? -r : r);
}

// A memory object holding the program, as executable as the filter lets
// it be made: plain if allowed, else with MFD_NOEXEC_SEAL.
static long memfd_program(void) {
  long m = SYS2(L_memfd_create, "cloudabi64-escape", 0);
  if (m == -L_EPERM)
    m = SYS2(L_memfd_create, "cloudabi64-escape", L_MFD_NOEXEC_SEAL);
  if (m >= 0 && SYS3(L_write, m, linux_program, sizeof(linux_program)) != (long)sizeof(linux_program)) {
    close_if_fd(m);
    return -1;
  }
  return m;
}

static void check_exec_memfd(void) {
  static const char *argv[] = {"x", NULL};
  static const char *envp[] = {NULL};
  long self = exec_fd();
  // Without the sandbox there is no pinned descriptor, and nothing stops
  // the exec: do not try.
  if (!t_check("sandbox/memfd-program-exec-fd", self >= 0, "expected the sandbox's marker got %ld", self))
    return;
  // Where the kernel can make memory objects non-executable, one that is
  // not must not be made at all.
  long plain = SYS2(L_memfd_create, "cloudabi64-escape", 0);
  long probe = SYS2(L_memfd_create, "cloudabi64-escape", L_MFD_NOEXEC_SEAL);
  close_if_fd(probe);
  if (probe != -L_EINVAL)
    expect_fd("sandbox/memfd-executable", plain, L_EPERM);
  else
    t_true("sandbox/memfd-executable-kernel-before-6.3", true, "");
  long m = memfd_program();
  if (!expect_ok("sandbox/memfd-program", m))
    return;
  char path[40];
  fmt_snprintf(path, sizeof(path), "/proc/self/fd/%ld", m);
  refused("sandbox/exec-memfd-by-proc-path", SYS5(L_execveat, self, path, argv, envp, L_AT_EMPTY_PATH));
  refused("sandbox/exec-memfd-by-descriptor", SYS5(L_execveat, m, "", argv, envp, L_AT_EMPTY_PATH));
  if (!refused("sandbox/dup3-onto-exec-fd", SYS3(L_dup3, m, self, 0)))
    refused("sandbox/exec-memfd-dup3", SYS5(L_execveat, self, "", argv, envp, L_AT_EMPTY_PATH));
  if (!refused("sandbox/dup2-onto-exec-fd", SYS2(L_dup2, m, self)))
    refused("sandbox/exec-memfd-dup2", SYS5(L_execveat, self, "", argv, envp, L_AT_EMPTY_PATH));
  close_if_fd(m);
  // Closed, the number goes to the next new descriptor.
  bool closed = !refused("sandbox/close-exec-fd", SYS1(3 /* close */, self));
  if (!closed)
    closed = !refused("sandbox/close-range-exec-fd", SYS3(L_close_range, self, self, 0));
  if (closed) {
    long again = memfd_program();
    if (again == self)
      refused("sandbox/exec-memfd-reused-number", SYS5(L_execveat, self, "", argv, envp, L_AT_EMPTY_PATH));
    close_if_fd(again);
  }
}

void test_main(const argdata_t *config) {
  if (!emulated_vdso()) {
    t_true("sandbox/native-kernel", true, "");
    return;
  }
  bool only_reexec = false;
  argdata_map_get_bool(config, "reexec", &only_reexec);
  if (only_reexec) {
    reexec();
    return;
  }
  t_need_tmpdir();
  cloudabi_fd_t ro;
  if (!T_OK("sandbox/config-ro", argdata_map_get_fd(config, "ro", &ro)))
    return;
  long tmp = host_fd(t_tmp), rodir = host_fd(ro);
  if (!t_check("sandbox/host-fds", tmp >= 0 && rodir >= 0, "host descriptors not found (%ld, %ld)", tmp, rodir))
    return;
  static const char *argv[] = {"x", NULL};
  static const char *envp[] = {NULL};

  // The file system (Landlock): only what was granted, read-only where
  // granted so.
  expect_fd("sandbox/open-absolute", SYS2(L_open, "/etc/passwd", L_O_RDONLY), L_EPERM);
  expect_fd("sandbox/openat-absolute", SYS3(L_openat, L_AT_FDCWD, "/etc/passwd", L_O_RDONLY), L_EACCES);
  expect_fd("sandbox/openat-dotdot",
            SYS3(L_openat, tmp, "../../../../../../../../../../etc/passwd", L_O_RDONLY), L_EACCES);
  long worst = 0, at = -1;
  bool some_dir = false;
  for (long h = 0; h < 1024; ++h) {
    long r = SYS3(L_openat, h, "../../../../../../../../../../etc/passwd", L_O_RDONLY);
    close_if_fd(r);
    some_dir |= r == -L_EACCES;
    if (r != -L_EBADF && r != -L_ENOTDIR && r != -L_EACCES && worst == 0)
      worst = r, at = h;
  }
  t_check("sandbox/openat-dotdot-every-fd", worst == 0 && some_dir,
          "descriptor %ld got %ld (expected EACCES, ENOTDIR or EBADF)", at, worst);
  expect_fd("sandbox/create-in-tmp",
            SYS4(L_openat, L_AT_FDCWD, "/tmp/cloudabi64-escape-sandbox", L_O_CREAT | L_O_EXCL | L_O_WRONLY, 0600),
            L_EACCES);
  expect_fd("sandbox/create-beside",
            SYS4(L_openat, tmp, "../cloudabi64-escape-beside", L_O_CREAT | L_O_EXCL | L_O_WRONLY, 0600), L_EACCES);
  expect_fd("sandbox/ro-create",
            SYS4(L_openat, rodir, "cloudabi64-escape-ro", L_O_CREAT | L_O_EXCL | L_O_WRONLY, 0600), L_EACCES);
  long r = SYS3(L_openat, rodir, "scratch", L_O_RDONLY | L_O_DIRECTORY | L_O_CLOEXEC);
  expect_ok("sandbox/ro-read", r);
  close_if_fd(r);
  r = SYS4(L_openat, tmp, "inside", L_O_CREAT | L_O_RDWR | L_O_CLOEXEC, 0600);
  expect_ok("sandbox/rw-create", r);
  close_if_fd(r);
  expect("sandbox/mkdir-in-tmp", SYS3(L_mkdirat, L_AT_FDCWD, "/tmp/cloudabi64-escape-dir", 0700), L_EACCES);
  expect("sandbox/symlink-in-tmp", SYS3(L_symlinkat, "/etc", L_AT_FDCWD, "/tmp/cloudabi64-escape-link"),
         L_EACCES);
  expect("sandbox/link-out",
         SYS5(L_linkat, tmp, "inside", L_AT_FDCWD, "/tmp/cloudabi64-escape-hardlink", 0), L_EACCES);
  expect("sandbox/rename-out", SYS4(L_renameat, tmp, "inside", L_AT_FDCWD, "/tmp/cloudabi64-escape-renamed"),
         L_EACCES);
  long self = exec_fd();
  if (t_check("sandbox/marker", self >= 0, "expected the sandbox's marker got %ld", self))
    expect("sandbox/exec-other", SYS5(L_execveat, self, "/bin/false", argv, envp, L_AT_EMPTY_PATH), L_EACCES);
  // Signals (Landlock scope): signal 0 only checks permission.
  expect("sandbox/kill-init", SYS2(L_kill, 1, 0), L_EPERM);

  // System calls a CloudABI process never makes (seccomp).
  expect_fd("sandbox/creat", SYS2(L_creat, "/tmp/cloudabi64-escape-creat", 0600), L_EPERM);
  expect_fd("sandbox/socket-inet", SYS3(L_socket, L_AF_INET, L_SOCK_STREAM, 0), L_EPERM);
  expect_fd("sandbox/socket-unix", SYS3(L_socket, L_AF_UNIX, L_SOCK_STREAM, 0), L_EPERM);
  expect_fd("sandbox/socket-netlink", SYS3(L_socket, L_AF_NETLINK, 3, 0), L_EPERM);
  int pair[2] = {-1, -1};
  expect("sandbox/socketpair-inet", SYS4(L_socketpair, L_AF_INET, L_SOCK_STREAM, 0, pair), L_EPERM);
  if (expect_ok("sandbox/socketpair-unix", SYS4(L_socketpair, L_AF_UNIX, L_SOCK_STREAM, 0, pair))) {
    // struct sockaddr_un: the family, then the path (abstract: NUL first).
    static const char addr[] = "\1\0/tmp/cloudabi64-escape-sock";
    static const char abstract[] = "\1\0\0cloudabi64-escape";
    expect("sandbox/connect", SYS3(L_connect, pair[0], addr, sizeof(addr)), L_EPERM);
    expect("sandbox/bind", SYS3(L_bind, pair[0], abstract, sizeof(abstract) - 1), L_EPERM);
    expect("sandbox/listen", SYS2(L_listen, pair[0], 1), L_EPERM);
    expect("sandbox/sendto-address", sys6(L_sendto, pair[0], (long)"x", 1, 0, (long)addr, sizeof(addr)), L_EPERM);
    expect("sandbox/fcntl-setown", SYS3(L_fcntl, pair[0], L_F_SETOWN, SYS0(L_getpid)), L_EPERM);
    expect("sandbox/fchown", SYS3(L_fchown, pair[0], -1, -1), L_EPERM);
    close_if_fd(pair[0]);
    close_if_fd(pair[1]);
  }
  expect("sandbox/execve", SYS3(L_execve, "/nonexistent/cloudabi64-escape", argv, envp), L_EPERM);
  expect("sandbox/execveat-path", SYS5(L_execveat, L_AT_FDCWD, "/nonexistent/cloudabi64-escape", argv, envp, 0),
         L_EPERM);
  long memfd = SYS2(L_memfd_create, "x", L_MFD_NOEXEC_SEAL);
  if (memfd == -L_EINVAL)  // a kernel before 6.3
    memfd = SYS2(L_memfd_create, "x", 0);
  if (expect_ok("sandbox/memfd", memfd)) {
    expect("sandbox/execveat-memfd", SYS5(L_execveat, memfd, "", argv, envp, L_AT_EMPTY_PATH), L_EPERM);
    close_if_fd(memfd);
  }
  expect("sandbox/ptrace", SYS4(L_ptrace, 0x7fffffff, 0, 0, 0), L_EPERM);
  char mine[8] = "secret", copy[8];
  struct {
    void *base;
    size_t len;
  } local = {copy, sizeof(copy)}, remote = {mine, sizeof(mine)};
  expect("sandbox/process-vm-readv",
         sys6(L_process_vm_readv, SYS0(L_getpid), (long)&local, 1, (long)&remote, 1, 0), L_EPERM);
  expect("sandbox/kill-everyone", SYS2(L_kill, -1, 0), L_EPERM);
  expect("sandbox/kill-group", SYS2(L_kill, 0, 0), L_EPERM);
  expect("sandbox/mount", sys6(L_mount, 0, (long)"/nonexistent/cloudabi64-escape", 0, L_MS_REMOUNT, 0, 0), L_EPERM);
  expect("sandbox/umount", SYS2(L_umount2, "/nonexistent/cloudabi64-escape", 0), L_EPERM);
  expect("sandbox/chroot", SYS1(L_chroot, "/nonexistent/cloudabi64-escape"), L_EPERM);
  expect("sandbox/pivot-root",
         SYS2(L_pivot_root, "/nonexistent/cloudabi64-escape", "/nonexistent/cloudabi64-escape"), L_EPERM);
  expect("sandbox/unshare", SYS1(L_unshare, 0), L_EPERM);
  expect("sandbox/setns", SYS2(L_setns, -1, 0), L_EPERM);
  expect("sandbox/clone-newuser", SYS2(L_clone, L_CLONE_NEWUSER | L_CLONE_THREAD, 0), L_EPERM);
  expect("sandbox/clone3", SYS2(L_clone3, 0, 0), L_ENOSYS);
  expect_fd("sandbox/io-uring", SYS2(L_io_uring_setup, 1, 0), L_EPERM);
  expect_fd("sandbox/bpf", SYS3(L_bpf, 5, 0, 0), L_EPERM);
  expect_fd("sandbox/perf-event-open", sys6(L_perf_event_open, 0, 0, -1, -1, 0, 0), L_EPERM);
  expect_fd("sandbox/userfaultfd", SYS1(L_userfaultfd, 0), L_EPERM);
  expect("sandbox/keyctl", SYS3(L_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0), L_EPERM);
  expect("sandbox/init-module", SYS3(L_init_module, 0, 0, ""), L_EPERM);
  expect("sandbox/finit-module", SYS3(L_finit_module, -1, "", 0), L_EPERM);
  expect("sandbox/reboot", SYS4(L_reboot, 0, 0, 0, 0), L_EPERM);
  expect("sandbox/settimeofday", SYS2(L_settimeofday, 0, 0), L_EPERM);
  static char name[100000];
  expect("sandbox/sethostname", SYS2(L_sethostname, name, sizeof(name)), L_EPERM);
  expect("sandbox/swapon", SYS2(L_swapon, "/nonexistent/cloudabi64-escape", 0), L_EPERM);
  expect("sandbox/personality", SYS1(L_personality, 0xffffffffL), L_EPERM);
  expect("sandbox/name-to-handle",
         SYS5(L_name_to_handle_at, L_AT_FDCWD, "/nonexistent/cloudabi64-escape", 0, 0, 0), L_EPERM);
  expect_fd("sandbox/open-by-handle", SYS3(L_open_by_handle_at, -1, 0, 0), L_EPERM);
  expect("sandbox/chmod", SYS2(L_chmod, "/tmp/cloudabi64-escape-chmod", 0777), L_EPERM);
  expect("sandbox/fchmodat", SYS4(L_fchmodat, L_AT_FDCWD, "/tmp/cloudabi64-escape-chmod", 0777, 0), L_EPERM);
  expect("sandbox/fchownat", SYS5(L_fchownat, L_AT_FDCWD, "/tmp/cloudabi64-escape-chown", 0, 0, 0), L_EPERM);
  expect("sandbox/setxattr", SYS5(L_setxattr, "/tmp/cloudabi64-escape-xattr", "user.x", "y", 1, 0), L_EPERM);
  expect("sandbox/getxattr", SYS4(L_getxattr, "/etc/passwd", "user.x", 0, 0), L_EPERM);
  expect("sandbox/mknod-fifo", SYS4(L_mknodat, L_AT_FDCWD, "/tmp/cloudabi64-escape-fifo", L_S_IFIFO | 0600, 0),
         L_EPERM);
  expect("sandbox/truncate", SYS2(L_truncate, "/tmp/cloudabi64-escape-truncate", 0), L_EPERM);
  expect("sandbox/chdir", SYS1(L_chdir, "/"), L_EPERM);
  expect("sandbox/shmctl", SYS3(L_shmctl, -1, 2 /* IPC_STAT */, name), L_EPERM);
  expect_fd("sandbox/mq-open", SYS4(L_mq_open, "cloudabi64-escape", L_O_RDONLY, 0, 0), L_EPERM);
  expect_fd("sandbox/inotify", SYS1(L_inotify_init1, 0), L_EPERM);
  expect("sandbox/ioctl-tiocsti", SYS3(L_ioctl, -1, L_TIOCSTI, "x"), L_EPERM);
  expect("sandbox/ioctl-siocgifconf", SYS3(L_ioctl, -1, L_SIOCGIFCONF, name), L_EPERM);
  long limits[2];
  expect("sandbox/prlimit-other", SYS4(L_prlimit64, 1, 7 /* NOFILE */, 0, limits), L_EPERM);
  expect("sandbox/setpriority", SYS3(L_setpriority, 0 /* PROCESS */, 0, 0), L_EPERM);
  expect("sandbox/modify-ldt", SYS3(L_modify_ldt, 0, name, 16), L_EPERM);
  expect("sandbox/iopl", SYS1(L_iopl, 4), L_EPERM);
  expect("sandbox/ioperm", SYS3(L_ioperm, 0x10000, 1, 1), L_EPERM);
  expect("sandbox/x32-getpid", SYS0(0x40000000L | L_getpid), L_EPERM);
  check_int80();
  check_exec_memfd();
  // What the backend itself does keeps working.
  expect_ok("sandbox/getpid", SYS0(L_getpid));
}

#else

void test_main(const argdata_t *config) {
  (void)config;
  // The raw-call attempts are written for x86-64 only. On aarch64 the
  // Linux backend's filter (run/src/linux/sandbox/seccomp_aarch64.rs) is
  // checked in cloudabi-run's unit tests, not from a program; on a kernel
  // that runs CloudABI natively raw system calls are CloudABI's own.
  t_true("sandbox/not-x86-64", true, "");
}

#endif
