// rt_threads: every thread gets its own TLS block, initialised from the
// program's TLS image, and its own unsafe stack (thread_create and
// thread_exit through the runtime's minimal threads).
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "test.h"

#define NTHREADS 4

static _Thread_local int counter = 1000;
static _Thread_local uint64_t zeroed;

struct result {
  int index;
  cloudabi_tid_t tid;
  int initial_counter;
  uint64_t initial_zeroed;
  int final_counter;
  const void *counter_addr;
  bool unsafe_ok;
  uintptr_t tcb_parent;
};

__attribute__((noinline)) static void fill(volatile char *buf, size_t len) {
  for (size_t i = 0; i < len; ++i)
    buf[i] = (char)i;
}

static void worker(void *arg) {
  struct result *r = arg;
  r->tid = rt_tid();
  r->initial_counter = counter;
  r->initial_zeroed = zeroed;
  r->counter_addr = &counter;
  r->tcb_parent = (uintptr_t)rt_tcb_get()->parent;
  // Each thread counts on its own copy, yielding so the threads interleave.
  for (int i = 0; i < 100; ++i) {
    counter += r->index;
    cloudabi_sys_thread_yield();
  }
  r->final_counter = counter;
  char buf[8192];  // its address escapes: on this thread's unsafe stack
  fill(buf, sizeof(buf));
  r->unsafe_ok = buf[100] == 100;
}

void test_main(const argdata_t *config) {
  (void)config;
  counter = 5;  // the initial thread's copy only
  struct rt_thread threads[NTHREADS];
  struct result results[NTHREADS];
  int started = 0;
  for (int i = 0; i < NTHREADS; ++i) {
    results[i] = (struct result){.index = i + 1};
    if (!T_OK("thread_create/start", rt_thread_start(&threads[i], worker, &results[i], 0)))
      break;
    ++started;
  }
  for (int i = 0; i < started; ++i)
    rt_thread_join(&threads[i]);
  if (started != NTHREADS)
    return;

  const struct rt_startinfo *si = rt_startinfo();
  bool tids_ok = true, distinct = true, init_ok = true, counts_ok = true, unsafe_ok = true;
  for (int i = 0; i < NTHREADS; ++i) {
    struct result *r = &results[i];
    tids_ok &= r->tid == threads[i].tid && r->tid != 0 && r->tid < (UINT32_C(1) << 30) &&
               r->tid != si->tid;
    init_ok &= r->initial_counter == 1000 && r->initial_zeroed == 0;
    counts_ok &= r->final_counter == 1000 + 100 * r->index;
    unsafe_ok &= r->unsafe_ok;
    for (int j = 0; j < i; ++j)
      distinct &= r->counter_addr != results[j].counter_addr && r->tid != results[j].tid;
  }
  t_true("threads/tids", tids_ok, "each thread's tid nonzero, below 2^30, not the initial one");
  t_true("tls/per-thread-copies", distinct, "a distinct TLS block and tid per thread");
  t_true("tls/initialised-per-thread", init_ok, "each thread to start from the TLS image");
  t_true("tls/independent", counts_ok, "each thread's counter to count on its own");
  t_eq("tls/initial-thread-untouched", (uint64_t)counter, 5);
  t_true("safestack/per-thread", unsafe_ok, "each thread to have a usable unsafe stack");
}
