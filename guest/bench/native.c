// The native Linux side of scripts/bench: the same loops (loops.h) over
// the Linux system calls the CloudABI ones correspond to. Built with the
// host's C compiler by scripts/bench; not a CloudABI program.
//
//   native DIR ITERATIONS     DIR holds sub/file
// SPDX-License-Identifier: BSD-2-Clause

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef int bench_fd;

static void fail(const char *what) {
  perror(what);
  exit(1);
}

static uint64_t bench_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    fail("clock_gettime");
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define OP_WRITE(fd, buf, n) \
  if (write(fd, buf, n) != (ssize_t)(n)) fail("write")
#define OP_READ1(fd, buf) \
  if (read(fd, buf, 1) != 1) fail("read")
#define OP_CLOCK() (void)bench_now()
#define OP_STAT(fd)                   \
  do {                                \
    struct stat st;                   \
    if (fstat(fd, &st) != 0)          \
      fail("fstat");                  \
  } while (0)
#define OP_OPEN_CLOSE(dir, path, len)                       \
  do {                                                      \
    int fd_ = openat(dir, path, O_RDONLY | O_CLOEXEC);      \
    if (fd_ < 0 || close(fd_) != 0)                         \
      fail("openat");                                       \
  } while (0)
#include "loops.h"

// One line per loop: name, total nanoseconds, calls.
static void report(const char *name, uint64_t ns, uint64_t ops) {
  printf("%s %llu %llu\n", name, (unsigned long long)ns, (unsigned long long)ops);
}

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  uint64_t n = strtoull(argv[2], NULL, 10);
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int sv[2];
  if (dir < 0 || n == 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    fail("setup");
  int file = openat(dir, "sub/file", O_RDONLY | O_CLOEXEC);
  if (file < 0)
    fail("openat");
  uint64_t ns, ops;
  ns = loop_read(sv[0], sv[1], n, &ops);
  report("fd_read", ns, ops);
  ns = loop_clock(n, &ops);
  report("clock_time_get", ns, ops);
  ns = loop_stat(file, n, &ops);
  report("file_stat_fget", ns, ops);
  ns = loop_open(dir, n / 4, &ops);
  report("file_open+fd_close", ns, ops);
  return 0;
}
