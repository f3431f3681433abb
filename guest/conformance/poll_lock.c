// poll with lock and condition-variable subscriptions, from one thread:
// the blocking shape (such a subscription first, alone or with one clock
// subscription as its timeout) acquiring free locks, reporting EDEADLK,
// timing out on a lock "held" by another thread (a lock word with a
// foreign owner, which is all the kernel ever sees of one), relative and
// absolute timeouts on MONOTONIC and REALTIME, a condition variable wait
// that times out with the lock held again; invalid scopes, EFAULT and
// invalid clocks as events; and lock/condvar subscriptions outside the
// blocking shape.
// SPDX-License-Identifier: BSD-2-Clause

#include "sync.h"

// Timers may fire a little early on coarse clocks; allow this much.
#define EARLY (1 * T_MS)
#define WAIT (20 * T_MS)

static t_lock_t lock;
static t_condvar_t cv;
static cloudabi_tid_t me, other;

static void set(t_lock_t *l, cloudabi_lock_t v) {
  atomic_store_explicit(l, v, memory_order_relaxed);
}

static cloudabi_lock_t get(t_lock_t *l) {
  return atomic_load_explicit(l, memory_order_relaxed);
}

// Polls a lock subscription alone.
static size_t poll1(const char *name, cloudabi_subscription_t s, cloudabi_event_t *ev, uint64_t *took) {
  size_t n;
  T_OK(name, t_poll(&s, 1, ev, &n, took));
  return n;
}

// Polls a lock or condvar subscription followed by a clock subscription.
static size_t poll2(const char *name, cloudabi_subscription_t s, cloudabi_subscription_t clock, cloudabi_event_t *ev,
                    uint64_t *took) {
  cloudabi_subscription_t subs[2] = {s, clock};
  size_t n;
  T_OK(name, t_poll(subs, 2, ev, &n, took));
  return n;
}

static void free_locks(void) {
  cloudabi_event_t ev[2];
  uint64_t took;
  size_t n;

  set(&lock, 0);
  n = poll1("poll_lock/wrlock-free", t_sub_lock(1, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            ev, &took);
  t_check_only_event("poll_lock/wrlock-free-event", ev, n, 1, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, 0);
  t_eq_hex("poll_lock/wrlock-owner", get(&lock), me | T_WR);

  // Asking again for a write lock the caller holds is a deadlock, reported
  // at once (also with a timeout).
  n = poll1("poll_lock/wrlock-again", t_sub_lock(2, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            ev, &took);
  t_check_only_event("poll_lock/edeadlk", ev, n, 2, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, E(DEADLK));
  n = poll2("poll_lock/wrlock-again-clock",
            t_sub_lock(3, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(4, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/edeadlk-with-clock", ev, n, 3, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, E(DEADLK));
  t_check("poll_lock/edeadlk-at-once", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  t_eq_hex("poll_lock/edeadlk-unchanged", get(&lock), me | T_WR);

  // Read locks count readers.
  set(&lock, 0);
  n = poll1("poll_lock/rdlock-free", t_sub_lock(5, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            ev, &took);
  t_check_only_event("poll_lock/rdlock-free-event", ev, n, 5, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, 0);
  t_eq_hex("poll_lock/rdlock-one-reader", get(&lock), 1);
  n = poll1("poll_lock/rdlock-second",
            t_sub_lock(6, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &lock, CLOUDABI_SCOPE_PRIVATE), ev, &took);
  t_check_only_event("poll_lock/rdlock-second-event", ev, n, 6, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, 0);
  t_eq_hex("poll_lock/rdlock-two-readers", get(&lock), 2);
  // Held by two other readers: read locks are shared.
  set(&lock, 2);
  n = poll2("poll_lock/rdlock-shared", t_sub_lock(7, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(8, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/rdlock-shared-event", ev, n, 7, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, 0);
  t_eq_hex("poll_lock/rdlock-three-readers", get(&lock), 3);

  // A free lock with a timeout: the lock event, not the clock's.
  set(&lock, 0);
  n = poll2("poll_lock/wrlock-free-clock",
            t_sub_lock(9, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(10, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/wrlock-free-clock-event", ev, n, 9, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, 0);
  t_check("poll_lock/wrlock-free-clock-no-wait", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  t_eq_hex("poll_lock/wrlock-free-clock-owner", get(&lock), me | T_WR);

  // Process-shared scope works on any memory within one process.
  set(&lock, 0);
  n = poll1("poll_lock/shared-scope", t_sub_lock(11, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_SHARED),
            ev, &took);
  t_check_only_event("poll_lock/shared-scope-event", ev, n, 11, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, 0);
  t_eq_hex("poll_lock/shared-scope-owner", get(&lock), me | T_WR);
  set(&lock, 0);
}

// One timed-out wait on a lock someone else holds: exactly the clock event,
// after the timeout, and the lock still the other's.
static void timeout(const char *name, cloudabi_eventtype_t type, cloudabi_lock_t held, cloudabi_clockid_t clock,
                    bool absolute) {
  char n1[80], n2[80], n3[80];
  fmt_snprintf(n1, sizeof(n1), "%s-event", name);
  fmt_snprintf(n2, sizeof(n2), "%s-waited", name);
  fmt_snprintf(n3, sizeof(n3), "%s-lock-unchanged", name);
  cloudabi_event_t ev[2];
  uint64_t took;
  set(&lock, held);
  cloudabi_timestamp_t at = absolute ? t_now(clock) + WAIT : WAIT;
  size_t n = poll2(name, t_sub_lock(20, type, &lock, CLOUDABI_SCOPE_PRIVATE), t_sub_clock(21, clock, at, absolute),
                   ev, &took);
  t_check_only_event(n1, ev, n, 21, CLOUDABI_EVENTTYPE_CLOCK, 0);
  if (absolute)
    t_true(n2, t_now(clock) + EARLY >= at, "to return after the deadline");
  else
    t_check(n2, took + EARLY >= WAIT, "at least 20 ms got %lu ns", (unsigned long)took);
  // KERNEL_MANAGED may stay set or be cleared after the last waiter left.
  t_eq_hex(n3, get(&lock) & ~T_KM, held);
}

static void timeouts(void) {
  cloudabi_lock_t wr = other | T_WR;
  timeout("poll_lock/wrlock-timeout-monotonic", CLOUDABI_EVENTTYPE_LOCK_WRLOCK, wr, CLOUDABI_CLOCK_MONOTONIC, false);
  timeout("poll_lock/rdlock-timeout-monotonic", CLOUDABI_EVENTTYPE_LOCK_RDLOCK, wr, CLOUDABI_CLOCK_MONOTONIC, false);
  timeout("poll_lock/wrlock-timeout-monotonic-abs", CLOUDABI_EVENTTYPE_LOCK_WRLOCK, wr, CLOUDABI_CLOCK_MONOTONIC,
          true);
  timeout("poll_lock/rdlock-timeout-monotonic-abs", CLOUDABI_EVENTTYPE_LOCK_RDLOCK, wr, CLOUDABI_CLOCK_MONOTONIC,
          true);
  timeout("poll_lock/wrlock-timeout-realtime", CLOUDABI_EVENTTYPE_LOCK_WRLOCK, wr, CLOUDABI_CLOCK_REALTIME, false);
  timeout("poll_lock/rdlock-timeout-realtime-abs", CLOUDABI_EVENTTYPE_LOCK_RDLOCK, wr, CLOUDABI_CLOCK_REALTIME,
          true);
  timeout("poll_lock/wrlock-timeout-realtime-abs", CLOUDABI_EVENTTYPE_LOCK_WRLOCK, wr, CLOUDABI_CLOCK_REALTIME,
          true);
  // Readers keep a writer out.
  timeout("poll_lock/wrlock-timeout-readers", CLOUDABI_EVENTTYPE_LOCK_WRLOCK, 3, CLOUDABI_CLOCK_MONOTONIC, false);

  // A deadline already past, or a zero relative timeout: the clock event at
  // once.
  cloudabi_event_t ev[2];
  uint64_t took;
  size_t n;
  set(&lock, wr);
  n = poll2("poll_lock/timeout-past", t_sub_lock(22, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(23, CLOUDABI_CLOCK_MONOTONIC, 1, true), ev, &took);
  t_check_only_event("poll_lock/timeout-past-event", ev, n, 23, CLOUDABI_EVENTTYPE_CLOCK, 0);
  t_check("poll_lock/timeout-past-at-once", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  set(&lock, wr);
  n = poll2("poll_lock/timeout-zero", t_sub_lock(24, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(25, CLOUDABI_CLOCK_MONOTONIC, 0, false), ev, &took);
  t_check_only_event("poll_lock/timeout-zero-event", ev, n, 25, CLOUDABI_EVENTTYPE_CLOCK, 0);
  t_check("poll_lock/timeout-zero-at-once", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  set(&lock, 0);
}

// The condition variable: waiting releases the lock; when the timeout
// passes, the clock event comes back with the lock held again.
static void condvar_timeouts(void) {
  static const struct {
    const char *name;
    cloudabi_clockid_t clock;
    bool absolute;
  } cases[] = {
      {"poll_lock/condvar-timeout-monotonic", CLOUDABI_CLOCK_MONOTONIC, false},
      {"poll_lock/condvar-timeout-monotonic-abs", CLOUDABI_CLOCK_MONOTONIC, true},
      {"poll_lock/condvar-timeout-realtime-abs", CLOUDABI_CLOCK_REALTIME, true},
  };
  char name[80];
  cloudabi_event_t ev[2];
  uint64_t took;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    set(&lock, me | T_WR);
    atomic_store(&cv, CLOUDABI_CONDVAR_HAS_NO_WAITERS);
    cloudabi_timestamp_t at = cases[i].absolute ? t_now(cases[i].clock) + WAIT : WAIT;
    size_t n = poll2(cases[i].name, t_sub_condvar(30, &cv, CLOUDABI_SCOPE_PRIVATE, &lock, CLOUDABI_SCOPE_PRIVATE),
                     t_sub_clock(31, cases[i].clock, at, cases[i].absolute), ev, &took);
    fmt_snprintf(name, sizeof(name), "%s-event", cases[i].name);
    t_check_only_event(name, ev, n, 31, CLOUDABI_EVENTTYPE_CLOCK, 0);
    fmt_snprintf(name, sizeof(name), "%s-waited", cases[i].name);
    t_check(name, took + EARLY >= WAIT, "at least 20 ms got %lu ns", (unsigned long)took);
    fmt_snprintf(name, sizeof(name), "%s-lock-held-again", cases[i].name);
    t_eq_hex(name, get(&lock) & ~T_KM, me | T_WR);
  }

  // Errors before anything is released: the lock stays held.
  set(&lock, me | T_WR);
  size_t n = poll2("poll_lock/condvar-efault",
                   t_sub_condvar(32, T_BADPTR, CLOUDABI_SCOPE_PRIVATE, &lock, CLOUDABI_SCOPE_PRIVATE),
                   t_sub_clock(33, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/condvar-efault-event", ev, n, 32, CLOUDABI_EVENTTYPE_CONDVAR, E(FAULT));
  t_eq_hex("poll_lock/condvar-efault-lock-kept", get(&lock), me | T_WR);
  n = poll2("poll_lock/condvar-bad-scope", t_sub_condvar(34, &cv, 5, &lock, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(35, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/condvar-bad-scope-event", ev, n, 34, CLOUDABI_EVENTTYPE_CONDVAR, E(INVAL));
  n = poll2("poll_lock/condvar-bad-lock-scope", t_sub_condvar(36, &cv, CLOUDABI_SCOPE_PRIVATE, &lock, 0),
            t_sub_clock(37, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/condvar-bad-lock-scope-event", ev, n, 36, CLOUDABI_EVENTTYPE_CONDVAR, E(INVAL));
  t_eq_hex("poll_lock/condvar-bad-scope-lock-kept", get(&lock), me | T_WR);
  set(&lock, 0);
}

// Subscriptions the lock wait itself cannot use: events with errors.
static void errors(void) {
  cloudabi_event_t ev[2];
  uint64_t took;
  size_t n;

  set(&lock, other | T_WR);  // would block forever if the error were missed
  n = poll1("poll_lock/bad-scope", t_sub_lock(40, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, 5), ev, &took);
  t_check_only_event("poll_lock/bad-scope-event", ev, n, 40, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, E(INVAL));
  n = poll2("poll_lock/bad-scope-clock", t_sub_lock(41, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &lock, 0),
            t_sub_clock(42, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/bad-scope-clock-event", ev, n, 41, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, E(INVAL));
  t_check("poll_lock/bad-scope-at-once", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);

  // Lock words are 32-bit and aligned.
  static _Alignas(8) char raw[8];
  n = poll2("poll_lock/misaligned",
            t_sub_lock(48, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, (t_lock_t *)(raw + 1), CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(49, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/misaligned-event", ev, n, 48, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, E(INVAL));

  n = poll1("poll_lock/efault", t_sub_lock(43, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, T_BADPTR, CLOUDABI_SCOPE_PRIVATE), ev,
            &took);
  t_check_only_event("poll_lock/efault-event", ev, n, 43, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, E(FAULT));
  n = poll2("poll_lock/efault-clock", t_sub_lock(44, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, T_BADPTR, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(45, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false), ev, &took);
  t_check_only_event("poll_lock/efault-clock-event", ev, n, 44, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, E(FAULT));

  // An invalid timeout (undefined clock, undefined clock flag) is one event
  // with EINVAL: cloudabi64 reports it on the clock subscription, FreeBSD
  // on the lock's. The lock (free here) must not be taken.
  static const struct {
    const char *name;
    cloudabi_clockid_t clock;
    uint16_t flags;
  } bad[] = {
      {"poll_lock/invalid-clock", 99, CLOUDABI_SUBSCRIPTION_CLOCK_ABSTIME},
      {"poll_lock/undefined-clock-flag", CLOUDABI_CLOCK_MONOTONIC, CLOUDABI_SUBSCRIPTION_CLOCK_ABSTIME | 0x2},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    char name[80];
    set(&lock, 0);
    cloudabi_subscription_t clock = t_sub_clock(47, bad[i].clock, 5 * T_SEC, true);
    clock.clock.flags = bad[i].flags;
    cloudabi_subscription_t subs[2] = {t_sub_lock(46, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
                                       clock};
    cloudabi_errno_t error = t_poll(subs, 2, ev, &n, &took);
    fmt_snprintf(name, sizeof(name), "%s-event", bad[i].name);
    if (error == 0)
      t_check(name, n == 1 && ev[0].error == E(INVAL), "one event with EINVAL got %zu, the first with %s", n,
              n > 0 ? errno_name(ev[0].error) : "-");
    else
      T_ERRNO(name, error, E(INVAL));
    fmt_snprintf(name, sizeof(name), "%s-lock-not-taken", bad[i].name);
    t_eq_hex(name, get(&lock), 0);
  }
}

// A lock or condvar subscription outside the blocking shape. cloudabi64
// reports each such subscription as an event with EINVAL and waits for
// nothing; FreeBSD 11-13 silently ignored them and waited for the rest.
// Every list here has a subscription that is ready at once (`ready`), so
// both outcomes come back without waiting; either is accepted, and the
// lock is never taken.
static void shape(const char *name, const cloudabi_subscription_t *subs, size_t nsubs, uint64_t ready) {
  cloudabi_event_t ev[4];
  uint64_t took;
  size_t n, nsync = 0, einval = 0;
  set(&lock, 0);
  if (!T_OK(name, t_poll(subs, nsubs, ev, &n, &took)))
    return;
  for (size_t i = 0; i < nsubs; ++i) {
    cloudabi_eventtype_t t = subs[i].type;
    if (t == CLOUDABI_EVENTTYPE_LOCK_RDLOCK || t == CLOUDABI_EVENTTYPE_LOCK_WRLOCK || t == CLOUDABI_EVENTTYPE_CONDVAR)
      ++nsync;
  }
  for (size_t i = 0; i < n; ++i)
    einval += ev[i].error == E(INVAL) && ev[i].userdata != ready;
  const cloudabi_event_t *r = t_find_event(ev, n, ready);
  bool rejected = n == nsync && einval == nsync;        // cloudabi64
  bool ignored = einval == 0 && r != NULL && r->error == 0;  // FreeBSD 11-13
  char detail[80];
  fmt_snprintf(detail, sizeof(detail), "%s-outcome", name);
  t_check(detail, rejected || ignored,
          "one EINVAL event per lock/condvar subscription (or those ignored) got %zu events, %zu with EINVAL", n,
          einval);
  fmt_snprintf(detail, sizeof(detail), "%s-no-wait", name);
  t_check(detail, took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  fmt_snprintf(detail, sizeof(detail), "%s-lock-not-taken", name);
  t_eq_hex(detail, get(&lock), 0);
}

static void shapes(void) {
  cloudabi_fd_t a, b;
  if (!T_OK("poll_lock/setup-socketpair", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)))
    return;
  // `a` is writable at once (an empty socket buffer).
  cloudabi_subscription_t w = t_sub_fd(99, CLOUDABI_EVENTTYPE_FD_WRITE, a);
  cloudabi_subscription_t wr = t_sub_lock(50, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE);
  cloudabi_subscription_t rd = t_sub_lock(51, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &lock, CLOUDABI_SCOPE_PRIVATE);
  cloudabi_subscription_t cond = t_sub_condvar(52, &cv, CLOUDABI_SCOPE_PRIVATE, &lock, CLOUDABI_SCOPE_PRIVATE);
  cloudabi_subscription_t clock = t_sub_clock(53, CLOUDABI_CLOCK_MONOTONIC, 10 * T_MS, false);

  shape("poll_lock/lock-then-fd", (cloudabi_subscription_t[]){wr, w}, 2, 99);
  shape("poll_lock/condvar-then-fd", (cloudabi_subscription_t[]){cond, w}, 2, 99);
  shape("poll_lock/fd-then-lock", (cloudabi_subscription_t[]){w, rd}, 2, 99);
  shape("poll_lock/fd-then-condvar", (cloudabi_subscription_t[]){w, cond}, 2, 99);
  shape("poll_lock/lock-clock-fd", (cloudabi_subscription_t[]){wr, clock, w}, 3, 99);
  shape("poll_lock/two-locks-fd", (cloudabi_subscription_t[]){rd, wr, w}, 3, 99);
  shape("poll_lock/lock-fd-clock", (cloudabi_subscription_t[]){rd, w, clock}, 3, 99);
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

// Deadlines already passed, and huge ones (issue 21: on FreeBSD a wait
// with an absolute MONOTONIC deadline of 0, which the C library passes for
// an expired timeout, never returned). A condvar wait whose deadline is
// past returns the clock event at once with the lock held again; so does a
// lock wait; of two clocks, a huge one does not fire before a short one.
static void deadline_forms(void) {
  static const struct {
    const char *name;
    cloudabi_clockid_t clock;
    cloudabi_timestamp_t at;
    bool absolute;
  } cases[] = {
      {"poll_lock/condvar-past-monotonic-0", CLOUDABI_CLOCK_MONOTONIC, 0, true},
      {"poll_lock/condvar-past-monotonic-1", CLOUDABI_CLOCK_MONOTONIC, 1, true},
      {"poll_lock/condvar-past-realtime-0", CLOUDABI_CLOCK_REALTIME, 0, true},
      {"poll_lock/condvar-past-realtime-1", CLOUDABI_CLOCK_REALTIME, 1, true},
      {"poll_lock/condvar-relative-0", CLOUDABI_CLOCK_MONOTONIC, 0, false},
  };
  char name[80];
  cloudabi_event_t ev[2];
  uint64_t took;
  size_t n;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    set(&lock, me | T_WR);
    atomic_store(&cv, CLOUDABI_CONDVAR_HAS_NO_WAITERS);
    n = poll2(cases[i].name, t_sub_condvar(40, &cv, CLOUDABI_SCOPE_PRIVATE, &lock, CLOUDABI_SCOPE_PRIVATE),
              t_sub_clock(41, cases[i].clock, cases[i].at, cases[i].absolute), ev, &took);
    fmt_snprintf(name, sizeof(name), "%s-event", cases[i].name);
    t_check_only_event(name, ev, n, 41, CLOUDABI_EVENTTYPE_CLOCK, 0);
    fmt_snprintf(name, sizeof(name), "%s-at-once", cases[i].name);
    t_check(name, took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
    fmt_snprintf(name, sizeof(name), "%s-lock-held-again", cases[i].name);
    t_eq_hex(name, get(&lock) & ~T_KM, me | T_WR);
  }
  set(&lock, other | T_WR);
  n = poll2("poll_lock/lock-past-monotonic-0",
            t_sub_lock(42, CLOUDABI_EVENTTYPE_LOCK_WRLOCK, &lock, CLOUDABI_SCOPE_PRIVATE),
            t_sub_clock(43, CLOUDABI_CLOCK_MONOTONIC, 0, true), ev, &took);
  t_check_only_event("poll_lock/lock-past-monotonic-0-event", ev, n, 43, CLOUDABI_EVENTTYPE_CLOCK, 0);
  t_check("poll_lock/lock-past-monotonic-0-at-once", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  set(&lock, 0);

  cloudabi_subscription_t clocks[2] = {t_sub_clock(44, CLOUDABI_CLOCK_MONOTONIC, UINT64_MAX - 1, false),
                                       t_sub_clock(45, CLOUDABI_CLOCK_MONOTONIC, WAIT, false)};
  if (T_OK("poll_lock/huge-clock", t_poll(clocks, 2, ev, &n, &took))) {
    t_check_only_event("poll_lock/huge-clock-short-one-fires", ev, n, 45, CLOUDABI_EVENTTYPE_CLOCK, 0);
    t_check("poll_lock/huge-clock-waited", took + EARLY >= WAIT, "at least 20 ms got %lu ns", (unsigned long)took);
  }
  clocks[0] = t_sub_clock(46, CLOUDABI_CLOCK_REALTIME, UINT64_MAX, true);
  clocks[1] = t_sub_clock(47, CLOUDABI_CLOCK_MONOTONIC, WAIT, false);
  if (T_OK("poll_lock/huge-realtime-abs", t_poll(clocks, 2, ev, &n, &took)))
    t_check_only_event("poll_lock/huge-realtime-abs-short-one-fires", ev, n, 47, CLOUDABI_EVENTTYPE_CLOCK, 0);
}

void test_main(const argdata_t *config) {
  (void)config;
  me = t_tid();
  other = me == 0x1234567 ? 0x1234568 : 0x1234567;  // any id that is not ours
  t_true("poll_lock/tid-fits", me != 0 && me < (UINT32_C(1) << 30), "the thread id to fit the lock word");
  free_locks();
  timeouts();
  condvar_timeouts();
  deadline_forms();
  errors();
  shapes();
}
