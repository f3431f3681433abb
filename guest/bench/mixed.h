// The multi-threaded mixed workload of scripts/bench, shared by cloudabi.c
// and native.c like loops.h: five threads at once,
//
//   - two hand a turn to each other n times through one mutex and one
//     condition variable (every handoff is a wait and a signal);
//   - two echo 1 byte n times over a stream socket pair (each round trip
//     blocks the reader until the writer runs);
//   - one opens, fstats and closes a file beneath a directory n/4 times.
//
// What each side defines, besides the operations of loops.h:
//
//   bench_mutex, BENCH_MUTEX_INIT, bench_lock(m), bench_unlock(m)
//   bench_cond, BENCH_COND_INIT, bench_wait(c, m), bench_signal(c)
//   bench_thread, bench_spawn(t, fn, arg), bench_join(t)
//
// mixed_run returns the wall time in nanoseconds from the first thread
// started to the last joined.
// SPDX-License-Identifier: BSD-2-Clause

#ifndef BENCH_MIXED_H
#define BENCH_MIXED_H

#include <stdint.h>

struct mixed {
  uint64_t n;
  bench_fd dir;
  bench_fd sock[2];
  bench_mutex mutex;
  bench_cond cond;
  int turn;
};

struct mixed_player {
  struct mixed *m;
  int me;
};

static void mixed_handoff(void *arg) {
  struct mixed_player *p = arg;
  struct mixed *m = p->m;
  for (uint64_t i = 0; i < m->n; ++i) {
    bench_lock(&m->mutex);
    while (m->turn != p->me)
      bench_wait(&m->cond, &m->mutex);
    m->turn = 1 - p->me;
    bench_signal(&m->cond);
    bench_unlock(&m->mutex);
    ++bench_calls;
  }
}

static void mixed_ping(void *arg) {
  struct mixed *m = arg;
  char c = 'p';
  for (uint64_t i = 0; i < m->n; ++i) {
    OP_WRITE1(m->sock[0], &c);
    OP_READ1(m->sock[0], &c);
    bench_calls += 2;
  }
}

static void mixed_echo(void *arg) {
  struct mixed *m = arg;
  char c;
  for (uint64_t i = 0; i < m->n; ++i) {
    OP_READ1(m->sock[1], &c);
    OP_WRITE1(m->sock[1], &c);
    bench_calls += 2;
  }
}

static void mixed_opener(void *arg) {
  struct mixed *m = arg;
  for (uint64_t i = 0; i < m->n / 4; ++i) {
    OP_OPEN_STAT_CLOSE(m->dir, "sub/file");
    bench_calls += 3;
  }
}

static uint64_t mixed_run(struct mixed *m) {
  struct mixed_player players[2] = {{m, 0}, {m, 1}};
  bench_thread t[5];
  uint64_t t0 = bench_now();
  bench_spawn(&t[0], mixed_handoff, &players[0]);
  bench_spawn(&t[1], mixed_handoff, &players[1]);
  bench_spawn(&t[2], mixed_ping, m);
  bench_spawn(&t[3], mixed_echo, m);
  bench_spawn(&t[4], mixed_opener, m);
  for (int i = 0; i < 5; ++i)
    bench_join(&t[i]);
  return bench_now() - t0;
}

#endif
