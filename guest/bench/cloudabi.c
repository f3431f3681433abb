// The CloudABI side of scripts/bench: the loops of loops.h over CloudABI
// system calls, through whatever runs this program (cloudabi-run's Linux
// backend, or the FreeBSD module).
//
// Configuration:
//   out: !fd stdout
//   dir: !file {path: D, mode: directory}    D holds sub/file
//   iterations: N
//
// Prints one line per loop: "<name> <total nanoseconds> <calls>". Exits 1 if a
// call fails (the loops must measure successful calls only).
// SPDX-License-Identifier: BSD-2-Clause

#include <argdata.h>
#include <cloudabi.h>
#include <fmt.h>
#include <program.h>
#include <stdlib.h>

typedef cloudabi_fd_t bench_fd;

static cloudabi_fd_t out;

static _Noreturn void fail(const char *what, cloudabi_errno_t e) {
  fmt_printf(out, "bench: %s: %s\n", what, errno_name(e));
  _Exit(1);
}

#define CHECK(what, call)             \
  do {                                \
    cloudabi_errno_t e_ = (call);     \
    if (e_ != 0)                      \
      fail(what, e_);                 \
  } while (0)

static uint64_t bench_now(void) {
  cloudabi_timestamp_t t;
  CHECK("clock_time_get", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_MONOTONIC, 0, &t));
  return t;
}

static void op_write(cloudabi_fd_t fd, const void *buf, size_t n) {
  cloudabi_ciovec_t iov = {.buf = buf, .buf_len = n};
  size_t done;
  CHECK("fd_write", cloudabi_sys_fd_write(fd, &iov, 1, &done));
}

static void op_read1(cloudabi_fd_t fd, void *buf) {
  cloudabi_iovec_t iov = {.buf = buf, .buf_len = 1};
  size_t done;
  CHECK("fd_read", cloudabi_sys_fd_read(fd, &iov, 1, &done));
}

static void op_clock(void) {
  cloudabi_timestamp_t t;
  CHECK("clock_time_get", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_MONOTONIC, 0, &t));
}

static void op_stat(cloudabi_fd_t fd) {
  cloudabi_filestat_t st;
  CHECK("file_stat_fget", cloudabi_sys_file_stat_fget(fd, &st));
}

static void op_open_close(cloudabi_fd_t dir, const char *path, size_t len) {
  cloudabi_fdstat_t want = {.fs_rights_base = CLOUDABI_RIGHT_FD_READ};
  cloudabi_fd_t fd;
  CHECK("file_open", cloudabi_sys_file_open((cloudabi_lookup_t){.fd = dir}, path, len, 0, &want, &fd));
  CHECK("fd_close", cloudabi_sys_fd_close(fd));
}

#define OP_WRITE(fd, buf, n) op_write(fd, buf, n)
#define OP_READ1(fd, buf) op_read1(fd, buf)
#define OP_CLOCK() op_clock()
#define OP_STAT(fd) op_stat(fd)
#define OP_OPEN_CLOSE(dir, path, len) op_open_close(dir, path, len)
#include "loops.h"

// One line per loop: name, total nanoseconds, calls.
static void report(cloudabi_fd_t fd, const char *name, uint64_t ns, uint64_t ops) {
  fmt_printf(fd, "%s %llu %llu\n", name, (unsigned long long)ns, (unsigned long long)ops);
}

void program_main(const argdata_t *ad) {
  cloudabi_fd_t dir;
  int64_t n;
  if (argdata_map_get_fd(ad, "out", &out) != 0)
    _Exit(2);
  if (argdata_map_get_fd(ad, "dir", &dir) != 0 || argdata_map_get_int(ad, "iterations", &n) != 0 || n <= 0)
    fail("configuration", CLOUDABI_EINVAL);

  cloudabi_fd_t rd, wr;
  CHECK("fd_create2", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &rd, &wr));
  cloudabi_fdstat_t want = {.fs_rights_base = CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FILE_STAT_FGET};
  cloudabi_fd_t file;
  CHECK("file_open", cloudabi_sys_file_open((cloudabi_lookup_t){.fd = dir}, "sub/file", 8, 0, &want, &file));
  uint64_t ns, ops;

  ns = loop_read(rd, wr, (uint64_t)n, &ops);
  report(out, "fd_read", ns, ops);
  ns = loop_clock((uint64_t)n, &ops);
  report(out, "clock_time_get", ns, ops);
  ns = loop_stat(file, (uint64_t)n, &ops);
  report(out, "file_stat_fget", ns, ops);
  ns = loop_open(dir, (uint64_t)n / 4, &ops);
  report(out, "file_open+fd_close", ns, ops);
}
