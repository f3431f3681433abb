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
// started to the last joined. `parts` selects the groups of threads
// (MIXED_HANDOFF, MIXED_SOCKETS, MIXED_OPENS; MIXED_ALL is the workload),
// so that scripts/bench can say which part costs what;
// mixed_parts maps a workload name ("mixed", "mixed-handoff", ...) to them.
// SPDX-License-Identifier: BSD-2-Clause

#ifndef BENCH_MIXED_H
#define BENCH_MIXED_H

#include <stdint.h>

enum { MIXED_HANDOFF = 1, MIXED_SOCKETS = 2, MIXED_OPENS = 4, MIXED_ALL = 7 };

// The parts a workload name selects, 0 if it names none.
static unsigned mixed_parts(const char *name) {
  static const struct {
    const char *name;
    unsigned parts;
  } names[] = {{"mixed", MIXED_ALL},
               {"mixed-handoff", MIXED_HANDOFF},
               {"mixed-sockets", MIXED_SOCKETS},
               {"mixed-opens", MIXED_OPENS}};
  for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
    if (strcmp(name, names[i].name) == 0)
      return names[i].parts;
  return 0;
}

struct mixed {
  uint64_t n;
  unsigned parts;
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

// The "threaded-loops" workload: the loops of loops.h with one more thread
// present, idle (blocked on a condition variable) until they are done: the
// per-call cost in a multi-threaded program (cloudabi-run's descriptor
// lookups then pin, see run/src/linux/fastpath.rs).
struct idle {
  bench_mutex mutex;
  bench_cond cond;
  int done;
  bench_thread t;
};

static void idle_main(void *arg) {
  struct idle *d = arg;
  bench_lock(&d->mutex);
  while (!d->done)
    bench_wait(&d->cond, &d->mutex);
  bench_unlock(&d->mutex);
}

static void idle_start(struct idle *d) {
  bench_spawn(&d->t, idle_main, d);
}

static void idle_stop(struct idle *d) {
  bench_lock(&d->mutex);
  d->done = 1;
  bench_signal(&d->cond);
  bench_unlock(&d->mutex);
  bench_join(&d->t);
}

static uint64_t mixed_run(struct mixed *m) {
  struct mixed_player players[2] = {{m, 0}, {m, 1}};
  bench_thread t[5];
  int started = 0;
  uint64_t t0 = bench_now();
  if (m->parts & MIXED_HANDOFF) {
    bench_spawn(&t[started++], mixed_handoff, &players[0]);
    bench_spawn(&t[started++], mixed_handoff, &players[1]);
  }
  if (m->parts & MIXED_SOCKETS) {
    bench_spawn(&t[started++], mixed_ping, m);
    bench_spawn(&t[started++], mixed_echo, m);
  }
  if (m->parts & MIXED_OPENS)
    bench_spawn(&t[started++], mixed_opener, m);
  for (int i = 0; i < started; ++i)
    bench_join(&t[i]);
  return bench_now() - t0;
}

#endif
