// The benchmark loops, shared by the CloudABI program (cloudabi.c) and
// its native Linux counterpart (native.c), so both sides run exactly the
// same code around the calls being measured. Each side defines, before
// including this file, functions shaped like the C library calls a real
// program makes (cloudabi.c writes them the way cloudlibc does: errno in
// TLS, openat = fd_stat_get + file_open, ...; native.c calls glibc):
//
//   bench_fd                        its descriptor type
//   uint64_t bench_now(void)        monotonic nanoseconds
//   uint64_t bench_cpu(void)        the calling thread's CPU time, in ns
//   OP_WRITE1(fd, buf)              write 1 byte (one call)
//   OP_READ1(fd, buf)               read 1 byte (one call)
//   OP_CLOCK()                      clock_gettime(CLOCK_MONOTONIC)
//   OP_STAT(fd)                     fstat
//   OP_OPEN_CLOSE(dir, path)        openat(dir, path, O_RDONLY), close
//   OP_NULL(fd)                     the cheapest call there is (for the cost
//                                   budget, not a target): natively getppid,
//                                   under CloudABI a write to a descriptor
//                                   without the right, which the syscall
//                                   core refuses before any Linux call
//
// Every operation also counts itself in a thread-local variable, so the
// programs use TLS while they run, as C library programs do (errno). A
// program without TLS (freebsd-vm's freestanding bench-native) defines
// BENCH_TLS as nothing.
//
// Each loop returns the nanoseconds it took and stores the thread's CPU
// time in *cpu (what the per-call figures use: on a machine shared with
// other work, wall time also counts the time the loop was not running);
// *ops says how many operations (a write+read pair counts as one).
// SPDX-License-Identifier: BSD-2-Clause

#ifndef BENCH_LOOPS_H
#define BENCH_LOOPS_H

#include <stdint.h>

#ifndef BENCH_TLS
#define BENCH_TLS _Thread_local
#endif
static BENCH_TLS uint64_t bench_calls;

// 1-byte write then 1-byte read on a stream socket pair (CloudABI's
// pipe() is a socket pair): what a program passing small messages does.
static uint64_t loop_pipe(bench_fd rd, bench_fd wr, uint64_t n, uint64_t *ops, uint64_t *cpu) {
  char c = 'x';
  uint64_t c0 = bench_cpu();
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i) {
    OP_WRITE1(wr, &c);
    OP_READ1(rd, &c);
    bench_calls += 2;
  }
  *ops = n;
  uint64_t t1 = bench_now();
  *cpu = bench_cpu() - c0;
  return t1 - t0;
}

static uint64_t loop_clock(uint64_t n, uint64_t *ops, uint64_t *cpu) {
  uint64_t c0 = bench_cpu();
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i) {
    OP_CLOCK();
    ++bench_calls;
  }
  *ops = n;
  uint64_t t1 = bench_now();
  *cpu = bench_cpu() - c0;
  return t1 - t0;
}

static uint64_t loop_stat(bench_fd fd, uint64_t n, uint64_t *ops, uint64_t *cpu) {
  uint64_t c0 = bench_cpu();
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i) {
    OP_STAT(fd);
    ++bench_calls;
  }
  *ops = n;
  uint64_t t1 = bench_now();
  *cpu = bench_cpu() - c0;
  return t1 - t0;
}

static uint64_t loop_open(bench_fd dir, uint64_t n, uint64_t *ops, uint64_t *cpu) {
  uint64_t c0 = bench_cpu();
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i) {
    OP_OPEN_CLOSE(dir, "sub/file");
    bench_calls += 2;
  }
  *ops = n;
  uint64_t t1 = bench_now();
  *cpu = bench_cpu() - c0;
  return t1 - t0;
}

static uint64_t loop_null(bench_fd fd, uint64_t n, uint64_t *ops, uint64_t *cpu) {
  uint64_t c0 = bench_cpu();
  uint64_t t0 = bench_now();
  for (uint64_t i = 0; i < n; ++i) {
    OP_NULL(fd);
    ++bench_calls;
  }
  *ops = n;
  uint64_t t1 = bench_now();
  *cpu = bench_cpu() - c0;
  return t1 - t0;
}

#endif
