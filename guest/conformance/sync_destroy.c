// The condvar and lock words after every kind of wait, as cloudlibc's
// destroy functions check them: pthread_cond_destroy asserts that the
// condvar word is CLOUDABI_CONDVAR_HAS_NO_WAITERS (0) once no thread is
// blocked on it (cloudlibc src/libc/pthread/pthread_cond_destroy.c), and a
// lock nobody waits for must not keep KERNEL_MANAGED (FreeBSD's
// cloudabi_futex.c: futex_lock_unmanage). Each part waits one way
// (signalled with nwaiters 1 or more than waiting, broadcast, timed out,
// a mix, a lock wait that got the lock or timed out, and shared scope
// across proc_fork), then "destroys" the objects: both words must be 0.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "proc.h"

#define STACK (64 * 1024)

struct objs {
  t_lock_t lock;
  t_condvar_t cv;
  int waiting;  // protected by the lock: waiters inside their wait
  int go;       // protected by the lock
};

static struct objs local;
static cloudabi_scope_t scope = CLOUDABI_SCOPE_PRIVATE;

struct waiter {
  struct rt_thread thread;
  struct objs *o;
  cloudabi_timestamp_t timeout;  // UINT64_MAX: none
  cloudabi_errno_t lock_error, wait_error, unlock_error;
};

// One wait (until `go` is set, or the timeout passes), counted in
// `waiting` while inside it.
static void waiter_main(void *arg) {
  struct waiter *w = arg;
  struct objs *o = w->o;
  if ((w->lock_error = t_wrlock(&o->lock, scope)) != 0)
    return;
  ++o->waiting;
  while (!o->go) {
    w->wait_error = t_cond_wait(&o->cv, scope, &o->lock, scope, CLOUDABI_CLOCK_MONOTONIC, w->timeout, false);
    if (w->wait_error != 0)
      break;
  }
  --o->waiting;
  w->unlock_error = t_wrunlock(&o->lock, scope);
}

static bool start(const char *name, struct waiter *w, struct objs *o, cloudabi_timestamp_t timeout) {
  memset(w, 0, sizeof(*w));
  w->o = o;
  w->timeout = timeout;
  return T_OK(name, rt_thread_start(&w->thread, waiter_main, w, STACK));
}

static void join(const char *name, struct waiter *w, cloudabi_errno_t want) {
  char d[96];
  rt_thread_join(&w->thread);
  fmt_snprintf(d, sizeof(d), "%s-lock", name);
  T_OK(d, w->lock_error);
  fmt_snprintf(d, sizeof(d), "%s-wait", name);
  T_ERRNO(d, w->wait_error, want);
  fmt_snprintf(d, sizeof(d), "%s-unlock", name);
  T_OK(d, w->unlock_error);
}

// Holds the lock with `n` waiters inside their wait (each counts itself
// with the lock held, and only its wait releases the lock).
static bool lock_with_waiters(const char *name, struct objs *o, int n) {
  cloudabi_timestamp_t deadline = t_now(CLOUDABI_CLOCK_MONOTONIC) + 20 * T_SEC;
  for (;;) {
    cloudabi_errno_t error = t_wrlock(&o->lock, scope);
    if (error == 0 && o->waiting == n)
      return true;
    if (error == 0)
      error = t_wrunlock(&o->lock, scope);
    if (error != 0) {
      t_fail(name, "locking and unlocking: %s", errno_name(error));
      return false;
    }
    if (t_now(CLOUDABI_CLOCK_MONOTONIC) > deadline) {
      t_fail(name, "only %d of %d waiters arrived in 20 s", o->waiting, n);
      return false;
    }
    cloudabi_sys_thread_yield();
  }
}

// What pthread_cond_destroy and pthread_mutex_destroy find.
static void destroyed(const char *part, struct objs *o) {
  char d[96];
  fmt_snprintf(d, sizeof(d), "sync_destroy/%s-condvar-word", part);
  t_eq_hex(d, atomic_load(&o->cv), CLOUDABI_CONDVAR_HAS_NO_WAITERS);
  fmt_snprintf(d, sizeof(d), "sync_destroy/%s-lock-word", part);
  t_eq_hex(d, atomic_load(&o->lock), CLOUDABI_LOCK_UNLOCKED);
  memset(o, 0, sizeof(*o));
}

// n waiters, woken by `signals` calls of condvar_signal(nwaiters); the
// word must be 0 as soon as the last waiter was taken off (before the
// waiters even return), and again after all are joined.
static void signalled(const char *part, int n, cloudabi_nthreads_t nwaiters, int signals) {
  char d[96];
  struct waiter w[4];
  struct objs *o = &local;
  int started = 0;
  memset(o, 0, sizeof(*o));
  for (int i = 0; i < n; ++i) {
    fmt_snprintf(d, sizeof(d), "sync_destroy/%s-start", part);
    if (!start(d, &w[i], o, UINT64_MAX))
      break;
    ++started;
  }
  fmt_snprintf(d, sizeof(d), "sync_destroy/%s-waiting", part);
  if (started < n || !lock_with_waiters(d, o, n))
    return;  // a started waiter stays blocked; the case has failed anyway
  fmt_snprintf(d, sizeof(d), "sync_destroy/%s-word-set", part);
  t_true(d, atomic_load(&o->cv) != CLOUDABI_CONDVAR_HAS_NO_WAITERS, "a non-zero condvar word");
  o->go = 1;
  for (int i = 0; i < signals; ++i) {
    fmt_snprintf(d, sizeof(d), "sync_destroy/%s-signal", part);
    T_OK(d, t_cond_signal(&o->cv, scope, nwaiters));
  }
  // Everybody was taken off the condvar: nobody is blocked on it now
  // (they wait for the lock we hold).
  fmt_snprintf(d, sizeof(d), "sync_destroy/%s-word-cleared-by-signal", part);
  t_eq_hex(d, atomic_load(&o->cv), CLOUDABI_CONDVAR_HAS_NO_WAITERS);
  fmt_snprintf(d, sizeof(d), "sync_destroy/%s-unlock", part);
  T_OK(d, t_wrunlock(&o->lock, scope));
  for (int i = 0; i < started; ++i) {
    fmt_snprintf(d, sizeof(d), "sync_destroy/%s-waiter", part);
    join(d, &w[i], 0);
  }
  destroyed(part, o);
}

// One waiter times out; nobody signals.
static void timed_out(void) {
  struct waiter w;
  memset(&local, 0, sizeof(local));
  if (!start("sync_destroy/timeout-start", &w, &local, 50 * T_MS))
    return;
  join("sync_destroy/timeout-waiter", &w, E(TIMEDOUT));
  destroyed("timeout", &local);
}

// Two waiters: one with a short timeout, one without. After the first
// timed out the word still says someone waits; a signal then takes the
// second off and clears it.
static void mixed(void) {
  struct waiter a, b;
  struct objs *o = &local;
  memset(o, 0, sizeof(*o));
  if (!start("sync_destroy/mixed-start", &b, o, UINT64_MAX) ||
      !lock_with_waiters("sync_destroy/mixed-waiting-1", o, 1))
    return;
  T_OK("sync_destroy/mixed-unlock-1", t_wrunlock(&o->lock, scope));
  if (!start("sync_destroy/mixed-start", &a, o, 50 * T_MS))
    return;
  rt_thread_join(&a.thread);
  T_ERRNO("sync_destroy/mixed-timed-out", a.wait_error, E(TIMEDOUT));
  if (!lock_with_waiters("sync_destroy/mixed-waiting-2", o, 1))
    return;
  t_true("sync_destroy/mixed-word-still-set", atomic_load(&o->cv) != CLOUDABI_CONDVAR_HAS_NO_WAITERS,
         "a non-zero condvar word while one waiter remains");
  o->go = 1;
  T_OK("sync_destroy/mixed-signal", t_cond_signal(&o->cv, scope, 1));
  t_eq_hex("sync_destroy/mixed-word-cleared", atomic_load(&o->cv), CLOUDABI_CONDVAR_HAS_NO_WAITERS);
  T_OK("sync_destroy/mixed-unlock-2", t_wrunlock(&o->lock, scope));
  join("sync_destroy/mixed-waiter", &b, 0);
  destroyed("mixed", o);
}

struct locker {
  struct rt_thread thread;
  t_lock_t *lock;
  cloudabi_timestamp_t timeout;
  cloudabi_errno_t error;
  cloudabi_lock_t seen;  // the word once it had the lock
};

static void locker_main(void *arg) {
  struct locker *l = arg;
  if (l->timeout == UINT64_MAX) {
    if ((l->error = t_wrlock(l->lock, scope)) == 0) {
      l->seen = atomic_load(l->lock);
      l->error = t_wrunlock(l->lock, scope);
    }
    return;
  }
  cloudabi_subscription_t subs[2] = {
      t_sub_lock(1, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, l->lock, scope),
      t_sub_clock(2, CLOUDABI_CLOCK_MONOTONIC, l->timeout, false),
  };
  cloudabi_event_t ev[2];
  size_t n;
  cloudabi_errno_t error = t_poll(subs, 2, ev, &n, NULL);
  l->error = error != 0 ? error : n == 1 && ev[0].userdata == 2 ? E(TIMEDOUT) : ev[0].error;
}

// Lock waits: one that gets the lock as the last waiter, and one that
// times out while we hold it. KERNEL_MANAGED goes once nobody waits.
static void lock_waits(void) {
  t_lock_t lock = 0;
  struct locker l;
  memset(&l, 0, sizeof(l));
  l.lock = &lock;
  l.timeout = UINT64_MAX;
  T_OK("sync_destroy/lock-take", t_wrlock(&lock, scope));
  if (!T_OK("sync_destroy/lock-start", rt_thread_start(&l.thread, locker_main, &l, STACK)))
    return;
  if (t_await("sync_destroy/lock-waiter-asleep", &lock, T_KM, T_KM))
    T_OK("sync_destroy/lock-unlock", t_wrunlock(&lock, scope));
  rt_thread_join(&l.thread);
  T_OK("sync_destroy/lock-waiter", l.error);
  t_eq_hex("sync_destroy/lock-last-waiter-unmanaged", l.seen, l.thread.tid | T_WR);
  t_eq_hex("sync_destroy/lock-word", atomic_load(&lock), CLOUDABI_LOCK_UNLOCKED);

  memset(&l, 0, sizeof(l));
  l.lock = &lock;
  l.timeout = 50 * T_MS;
  T_OK("sync_destroy/lock-timeout-take", t_wrlock(&lock, scope));
  if (!T_OK("sync_destroy/lock-timeout-start", rt_thread_start(&l.thread, locker_main, &l, STACK)))
    return;
  rt_thread_join(&l.thread);
  T_ERRNO("sync_destroy/lock-timeout-waiter", l.error, E(TIMEDOUT));
  t_eq_hex("sync_destroy/lock-timeout-unmanaged", atomic_load(&lock), t_tid() | T_WR);
  T_OK("sync_destroy/lock-timeout-unlock", t_wrunlock(&lock, scope));
  t_eq_hex("sync_destroy/lock-timeout-word", atomic_load(&lock), CLOUDABI_LOCK_UNLOCKED);
}

// Shared scope across proc_fork: the child waits (once signalled, once
// timed out) on a condition variable in shared memory; the parent checks
// the words after each.
static void shared(void) {
  struct objs *o = t_map_shared("sync_destroy/shared-setup", t_pagesz());
  if (o == NULL)
    return;
  scope = CLOUDABI_SCOPE_SHARED;
  cloudabi_fd_t pd;
  cloudabi_tid_t tid;
  if (!T_OK("sync_destroy/shared-fork", t_fork(&pd, &tid)))
    return;
  if (pd == CLOUDABI_PROCESS_CHILD) {
    struct waiter w;
    memset(&w, 0, sizeof(w));
    w.o = o;
    w.timeout = UINT64_MAX;
    waiter_main(&w);
    T_OK("sync_destroy/shared-child-wait", w.wait_error);
    w.timeout = 50 * T_MS;
    T_OK("sync_destroy/shared-child-lock", t_wrlock(&o->lock, scope));
    T_ERRNO("sync_destroy/shared-child-timeout",
            t_cond_wait(&o->cv, scope, &o->lock, scope, CLOUDABI_CLOCK_MONOTONIC, w.timeout, false), E(TIMEDOUT));
    T_OK("sync_destroy/shared-child-unlock", t_wrunlock(&o->lock, scope));
    t_child_exit();
  }
  if (lock_with_waiters("sync_destroy/shared-waiting", o, 1)) {
    o->go = 1;
    T_OK("sync_destroy/shared-signal", t_cond_signal(&o->cv, scope, 1));
    t_eq_hex("sync_destroy/shared-word-cleared-by-signal", atomic_load(&o->cv), CLOUDABI_CONDVAR_HAS_NO_WAITERS);
    T_OK("sync_destroy/shared-unlock", t_wrunlock(&o->lock, scope));
  }
  t_check_exit("sync_destroy/shared-child", pd, 0);
  destroyed("shared", o);
  scope = CLOUDABI_SCOPE_PRIVATE;
}

void test_main(const argdata_t *config) {
  (void)config;
  signalled("signal-one", 1, 1, 1);
  signalled("signal-more-than-waiting", 1, 5, 1);
  signalled("signal-each", 3, 1, 3);
  signalled("broadcast", 3, UINT32_MAX, 1);
  timed_out();
  mixed();
  lock_waits();
  shared();
}
