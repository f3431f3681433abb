/*
 * bench-native DIR ITERATIONS     (DIR holds sub/file)
 *
 * The native side of the in-VM benchmark (vm-run.sh): the loops of
 * guest/bench/loops.h over FreeBSD's own system calls, the ones the
 * CloudABI calls correspond to, printing "NAME NANOSECONDS OPERATIONS
 * CPU-NANOSECONDS" per loop, like guest/bench/native.c does with the C
 * library. Freestanding
 * (freestanding.h), so that it is cross-built here and shipped prebuilt in
 * the payload: the VM needs no C compiler for it. Every call is a system
 * call: clock_gettime(2) too, where FreeBSD's libc would read the clock
 * from the shared page instead, so that the clock ratio compares a system
 * call with a system call.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include "freestanding.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

typedef int bench_fd;

static __attribute__((noreturn)) void fail(const char *what, long err) {
  char buf[24];
  put_fd(2, "bench-native: ");
  put_fd(2, what);
  put_fd(2, " failed (errno ");
  put_fd(2, decimal((unsigned long)-err, buf));
  put_fd(2, ")\n");
#if defined(__linux__)
  SYS1(SYS_exit_group, 1);
#else
  SYS1(SYS_exit, 1);
#endif
  for (;;)
    ;
}

static uint64_t bench_now(void) {
  struct timespec ts;
  long r = SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  if (r != 0)
    fail("clock_gettime", r);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t bench_cpu(void) {
  struct timespec ts;
  long r = SYS2(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts);
  if (r != 0)
    fail("clock_gettime", r);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void op_write1(int fd, const void *buf) {
  long r = SYS3(SYS_write, fd, buf, 1);
  if (r != 1)
    fail("write", r < 0 ? r : 0);
}

static void op_read1(int fd, void *buf) {
  long r = SYS3(SYS_read, fd, buf, 1);
  if (r != 1)
    fail("read", r < 0 ? r : 0);
}

static void op_stat(int fd) {
  struct stat st;
  long r = SYS2(SYS_fstat, fd, &st);
  if (r != 0)
    fail("fstat", r);
}

static void op_open_close(int dir, const char *path) {
  long fd = SYS4(SYS_openat, dir, path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    fail("openat", fd);
  long r = SYS1(SYS_close, fd);
  if (r != 0)
    fail("close", r);
}

#define OP_WRITE1(fd, buf) op_write1(fd, buf)
#define OP_READ1(fd, buf) op_read1(fd, buf)
#define OP_CLOCK() (void)bench_now()
#define OP_STAT(fd) op_stat(fd)
#define OP_OPEN_CLOSE(dir, path) op_open_close(dir, path)
/* Freestanding: no TLS block is set up, so the counter is a plain static. */
#define BENCH_TLS
#define OP_NULL(fd) ((void)(fd), (void)SYS1(SYS_getppid, 0))
#include "loops.h"

/* One line per loop: name, total nanoseconds, operations, CPU ns. */
static void report(const char *name, uint64_t ns, uint64_t ops, uint64_t cpu) {
  char buf[24];
  put_fd(1, name);
  put_fd(1, " ");
  put_fd(1, decimal(ns, buf));
  put_fd(1, " ");
  put_fd(1, decimal(ops, buf));
  put_fd(1, " ");
  put_fd(1, decimal(cpu, buf));
  put_fd(1, "\n");
}

int freestanding_main(int argc, char **argv) {
  unsigned long n;
  if (argc != 3 || !number(argv[2], argv[2] + length(argv[2]), 1000000000, &n) || n == 0) {
    put_fd(2, "usage: bench-native DIR ITERATIONS\n");
    return 2;
  }
  long dir = SYS4(SYS_openat, AT_FDCWD, argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dir < 0)
    fail("open DIR", dir);
  int sv[2];
  long r = SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
  if (r != 0)
    fail("socketpair", r);
  long file = SYS4(SYS_openat, dir, "sub/file", O_RDONLY | O_CLOEXEC, 0);
  if (file < 0)
    fail("openat sub/file", file);
  uint64_t ns, ops, cpu;
  ns = loop_pipe(sv[0], sv[1], n, &ops, &cpu);
  report("write+read", ns, ops, cpu);
  ns = loop_clock(n, &ops, &cpu);
  report("clock_gettime", ns, ops, cpu);
  ns = loop_stat((int)file, n, &ops, &cpu);
  report("fstat", ns, ops, cpu);
  ns = loop_open((int)dir, n / 4, &ops, &cpu);
  report("openat+close", ns, ops, cpu);
  ns = loop_null((int)dir, n, &ops, &cpu);
  report("null", ns, ops, cpu);
  return 0;
}
