// The benchmark loops, shared by the CloudABI program (cloudabi.c) and
// its native Linux counterpart (native.c), so both sides run exactly the
// same code around the calls being measured. Each side defines, before
// including this file:
//
//   bench_fd                       its descriptor type
//   uint64_t bench_now(void)       monotonic nanoseconds
//   OP_WRITE(fd, buf, n)           write n bytes (one call)
//   OP_READ1(fd, buf)              read 1 byte (one call)
//   OP_CLOCK()                     read the monotonic clock (one call)
//   OP_STAT(fd)                    stat an open file (one call)
//   OP_OPEN_CLOSE(dir, path, len)  open path beneath dir, then close it
//
// Each loop returns the nanoseconds it took; *ops says how many calls.
// SPDX-License-Identifier: BSD-2-Clause

#ifndef BENCH_LOOPS_H
#define BENCH_LOOPS_H

#include <stdint.h>

// 1-byte reads from a stream socket pair: refilled 4096 bytes at a time,
// so the refill is 1/4096 of the cost on both sides.
static uint64_t loop_read(bench_fd rd, bench_fd wr, uint64_t n, uint64_t *ops) {
  static char buf[4096];
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; i += sizeof(buf)) {
    OP_WRITE(wr, buf, sizeof(buf));
    for (uint64_t j = 0; j < sizeof(buf); ++j)
      OP_READ1(rd, buf);
  }
  *ops = (n + sizeof(buf) - 1) / sizeof(buf) * sizeof(buf);
  return bench_now() - t0;
}

static uint64_t loop_clock(uint64_t n, uint64_t *ops) {
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i)
    OP_CLOCK();
  *ops = n;
  return bench_now() - t0;
}

static uint64_t loop_stat(bench_fd fd, uint64_t n, uint64_t *ops) {
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i)
    OP_STAT(fd);
  *ops = n;
  return bench_now() - t0;
}

static uint64_t loop_open(bench_fd dir, uint64_t n, uint64_t *ops) {
  static const char path[] = "sub/file";
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i)
    OP_OPEN_CLOSE(dir, path, sizeof(path) - 1);
  *ops = n;
  return bench_now() - t0;
}

#endif
