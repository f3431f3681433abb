// Locks between threads, through poll and lock_unlock as cloudlibc uses
// them: a waiter sleeps until the holder unlocks and then owns the lock;
// lock_unlock of a lock that another thread holds while someone waits is
// EPERM; timeouts under real contention; readers share; a waiting writer
// keeps new readers out; many threads counting under one lock.
//
// The initial thread learns that a waiter has gone to sleep from the
// KERNEL_MANAGED bit it sets in the lock word (t_await), never by sleeping.
// Workers record what happened; only the initial thread checks and prints.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "sync.h"

#define PRIV CLOUDABI_SCOPE_PRIVATE
#define STACK (64 * 1024)

static t_lock_t lock, gate;

static cloudabi_lock_t get(t_lock_t *l) {
  return atomic_load_explicit(l, memory_order_acquire);
}

// What one worker did.
struct worker {
  struct rt_thread thread;
  cloudabi_errno_t lock_error, unlock_error, gate_error, gate_unlock_error;
  cloudabi_lock_t seen;      // the lock word right after acquiring
  _Atomic(uint32_t) holds;   // 1 once it holds `lock`
};

static bool start(const char *name, struct worker *w, void (*fn)(void *)) {
  memset(w, 0, sizeof(*w));
  return T_OK(name, rt_thread_start(&w->thread, fn, w, STACK));
}

// Write-locks `lock` (sleeping while it is held), notes the word, unlocks.
static void writer(void *arg) {
  struct worker *w = arg;
  w->lock_error = t_wrlock(&lock, PRIV);
  w->seen = get(&lock);
  atomic_store(&w->holds, 1);
  if (w->lock_error == 0)
    w->unlock_error = t_wrunlock(&lock, PRIV);
}

// Write-locks `lock`, then waits for `gate` (held by the initial thread)
// before unlocking: holds `lock` for as long as the initial thread wants.
static void holder(void *arg) {
  struct worker *w = arg;
  w->lock_error = t_wrlock(&lock, PRIV);
  w->seen = get(&lock);
  atomic_store(&w->holds, 1);
  w->gate_error = t_wrlock(&gate, PRIV);
  if (w->gate_error == 0)
    w->gate_unlock_error = t_wrunlock(&gate, PRIV);
  if (w->lock_error == 0)
    w->unlock_error = t_wrunlock(&lock, PRIV);
}

// Read-locks `lock`, then waits for `gate` before releasing it.
static void reader_holder(void *arg) {
  struct worker *w = arg;
  w->lock_error = t_rdlock(&lock, PRIV);
  w->seen = get(&lock);
  atomic_store(&w->holds, 1);
  w->gate_error = t_wrlock(&gate, PRIV);
  if (w->gate_error == 0)
    w->gate_unlock_error = t_wrunlock(&gate, PRIV);
  if (w->lock_error == 0)
    w->unlock_error = t_rdunlock(&lock, PRIV);
}

// Read-locks `lock`, notes the word, releases it.
static void reader(void *arg) {
  struct worker *w = arg;
  w->lock_error = t_rdlock(&lock, PRIV);
  w->seen = get(&lock);
  if (w->lock_error == 0)
    w->unlock_error = t_rdunlock(&lock, PRIV);
}

static void check_worker(const char *part, const char *what, struct worker *w, bool gated) {
  char name[96];
  fmt_snprintf(name, sizeof(name), "lock_threads/%s-%s-locked", part, what);
  T_OK(name, w->lock_error);
  fmt_snprintf(name, sizeof(name), "lock_threads/%s-%s-unlocked", part, what);
  T_OK(name, w->unlock_error);
  if (gated) {
    fmt_snprintf(name, sizeof(name), "lock_threads/%s-%s-gate", part, what);
    t_check(name, w->gate_error == 0 && w->gate_unlock_error == 0, "the gate to work got %s and %s",
            errno_name(w->gate_error), errno_name(w->gate_unlock_error));
  }
}

// A writer sleeps on a lock the initial thread holds; the unlock (through
// the kernel, since KERNEL_MANAGED is set) hands it over.
static void handoff(void) {
  struct worker w;
  atomic_store(&lock, 0);
  if (!T_OK("lock_threads/handoff-lock", t_wrlock(&lock, PRIV)) || !start("lock_threads/handoff-start", &w, writer))
    return;
  if (t_await("lock_threads/handoff-waiter-asleep", &lock, T_KM, T_KM))
    t_eq_hex("lock_threads/handoff-still-ours", get(&lock) & ~T_KM, t_tid() | T_WR);
  T_OK("lock_threads/handoff-unlock", t_wrunlock(&lock, PRIV));
  rt_thread_join(&w.thread);
  check_worker("handoff", "waiter", &w, false);
  t_eq_hex("lock_threads/handoff-new-owner", w.seen & ~T_KM, w.thread.tid | T_WR);
  t_eq_hex("lock_threads/handoff-unlocked-at-end", get(&lock), 0);
}

// lock_unlock by a thread that does not own a lock somebody waits for.
static void eperm(void) {
  struct worker h, w;
  atomic_store(&lock, 0);
  atomic_store(&gate, 0);
  if (!T_OK("lock_threads/eperm-gate", t_wrlock(&gate, PRIV)) || !start("lock_threads/eperm-holder", &h, holder))
    return;
  if (t_await("lock_threads/eperm-held", &h.holds, ~UINT32_C(0), 1) && start("lock_threads/eperm-waiter", &w, writer)) {
    if (t_await("lock_threads/eperm-waiter-asleep", &lock, T_KM, T_KM)) {
      cloudabi_lock_t before = get(&lock);
      T_ERRNO("lock_threads/eperm", cloudabi_sys_lock_unlock(&lock, PRIV), E(PERM));
      t_eq_hex("lock_threads/eperm-unchanged", get(&lock), before);
      t_eq_hex("lock_threads/eperm-owner", before & ~T_KM, h.thread.tid | T_WR);
    }
    T_OK("lock_threads/eperm-open-gate", t_wrunlock(&gate, PRIV));
    rt_thread_join(&w.thread);
    check_worker("eperm", "waiter", &w, false);
    t_eq_hex("lock_threads/eperm-waiter-got-it", w.seen & ~T_KM, w.thread.tid | T_WR);
  } else {
    T_OK("lock_threads/eperm-open-gate", t_wrunlock(&gate, PRIV));
  }
  rt_thread_join(&h.thread);
  check_worker("eperm", "holder", &h, true);
}

// Timeouts while another thread really holds the lock.
static void timeouts(void) {
  struct worker h;
  atomic_store(&lock, 0);
  atomic_store(&gate, 0);
  if (!T_OK("lock_threads/timeout-gate", t_wrlock(&gate, PRIV)) || !start("lock_threads/timeout-holder", &h, holder))
    return;
  if (t_await("lock_threads/timeout-held", &h.holds, ~UINT32_C(0), 1)) {
    static const struct {
      const char *name;
      cloudabi_eventtype_t type;
      cloudabi_clockid_t clock;
      bool absolute;
    } cases[] = {
        {"lock_threads/timeout-wrlock-relative", CLOUDABI_EVENTTYPE_LOCK_WRLOCK, CLOUDABI_CLOCK_MONOTONIC, false},
        {"lock_threads/timeout-rdlock-realtime-abs", CLOUDABI_EVENTTYPE_LOCK_RDLOCK, CLOUDABI_CLOCK_REALTIME, true},
        {"lock_threads/timeout-wrlock-monotonic-abs", CLOUDABI_EVENTTYPE_LOCK_WRLOCK, CLOUDABI_CLOCK_MONOTONIC, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
      cloudabi_timestamp_t at = (cases[i].absolute ? t_now(cases[i].clock) : 0) + 30 * T_MS;
      cloudabi_subscription_t subs[2] = {t_sub_lock(1, cases[i].type, &lock, PRIV),
                                         t_sub_clock(2, cases[i].clock, at, cases[i].absolute)};
      cloudabi_event_t ev[2];
      size_t n;
      if (T_OK(cases[i].name, t_poll(subs, 2, ev, &n, NULL)))
        t_check_only_event(cases[i].name, ev, n, 2, CLOUDABI_EVENTTYPE_CLOCK, 0);
    }
    t_eq_hex("lock_threads/timeout-holder-keeps-it", get(&lock) & ~T_KM, h.thread.tid | T_WR);
  }
  T_OK("lock_threads/timeout-open-gate", t_wrunlock(&gate, PRIV));
  rt_thread_join(&h.thread);
  check_worker("timeout", "holder", &h, true);
  // The holder's unlock leaves it free for us, whatever the timed-out
  // waits left in the word.
  t_eq_hex("lock_threads/timeout-free-after", get(&lock) & ~T_KM, 0);
  if (T_OK("lock_threads/timeout-lock-after", t_wrlock(&lock, PRIV)))
    T_OK("lock_threads/timeout-unlock-after", t_wrunlock(&lock, PRIV));
}

// Readers share the lock; a writer that waits for them keeps new readers
// out (writers are not starved), and gets it when the last reader leaves.
// Which of the writer and a reader that went to sleep after it goes first
// is not specified (cloudabi64 wakes sleepers to compete; FreeBSD handed
// over in FIFO order, writers first), so only both getting it is checked.
static void readers_and_writer(void) {
  struct worker r1, w, r2;
  atomic_store(&lock, 0);
  atomic_store(&gate, 0);
  if (!T_OK("lock_threads/rw-gate", t_wrlock(&gate, PRIV)) || !start("lock_threads/rw-reader1", &r1, reader_holder))
    return;
  if (!t_await("lock_threads/rw-reader1-holds", &r1.holds, ~UINT32_C(0), 1)) {
    T_OK("lock_threads/rw-open-gate", t_wrunlock(&gate, PRIV));
    rt_thread_join(&r1.thread);
    return;
  }
  // A second reader (us) gets in at once.
  cloudabi_subscription_t subs[2] = {t_sub_lock(1, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &lock, PRIV),
                                     t_sub_clock(2, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false)};
  cloudabi_event_t ev[2];
  size_t n;
  if (T_OK("lock_threads/rw-second-reader", t_poll(subs, 2, ev, &n, NULL)) &&
      t_check_only_event("lock_threads/rw-second-reader-event", ev, n, 1, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, 0)) {
    t_eq_hex("lock_threads/rw-two-readers", get(&lock), 2);
    T_OK("lock_threads/rw-second-reader-unlock", t_rdunlock(&lock, PRIV));
  }

  // A writer comes and has to wait for the reader.
  bool writer_started = start("lock_threads/rw-writer", &w, writer);
  if (writer_started && t_await("lock_threads/rw-writer-asleep", &lock, T_KM, T_KM)) {
    // Now a new reader is kept out while the writer waits.
    subs[1] = t_sub_clock(2, CLOUDABI_CLOCK_MONOTONIC, 30 * T_MS, false);
    if (T_OK("lock_threads/rw-reader-behind-writer", t_poll(subs, 2, ev, &n, NULL)))
      t_check_only_event("lock_threads/rw-reader-behind-writer-times-out", ev, n, 2, CLOUDABI_EVENTTYPE_CLOCK, 0);
  }
  bool reader2_started = writer_started && start("lock_threads/rw-reader2", &r2, reader);
  // The first reader leaves: the writer goes first, then the late reader.
  T_OK("lock_threads/rw-open-gate", t_wrunlock(&gate, PRIV));
  rt_thread_join(&r1.thread);
  check_worker("rw", "reader1", &r1, true);
  if (writer_started) {
    rt_thread_join(&w.thread);
    check_worker("rw", "writer", &w, false);
    t_eq_hex("lock_threads/rw-writer-owned", w.seen & ~T_KM, w.thread.tid | T_WR);
  }
  if (reader2_started) {
    rt_thread_join(&r2.thread);
    check_worker("rw", "reader2", &r2, false);
  }
  t_eq_hex("lock_threads/rw-unlocked-at-end", get(&lock) & ~T_KM, 0);
}

// Many threads increment a plain counter under one lock, yielding while
// they hold it so that others pile up behind it.
#define NCOUNTERS 8
#define ROUNDS 200
static uint64_t counter;

struct counter_worker {
  struct rt_thread thread;
  cloudabi_errno_t error;
};

static void count(void *arg) {
  struct counter_worker *c = arg;
  for (int i = 0; i < ROUNDS && c->error == 0; ++i) {
    c->error = t_wrlock(&lock, PRIV);
    if (c->error != 0)
      break;
    uint64_t v = counter;
    cloudabi_sys_thread_yield();
    counter = v + 1;
    c->error = t_wrunlock(&lock, PRIV);
  }
}

static void many(void) {
  static struct counter_worker c[NCOUNTERS];
  int started = 0;
  atomic_store(&lock, 0);
  counter = 0;
  for (int i = 0; i < NCOUNTERS; ++i) {
    c[i].error = 0;
    if (!T_OK("lock_threads/many-start", rt_thread_start(&c[i].thread, count, &c[i], STACK)))
      break;
    ++started;
  }
  cloudabi_errno_t error = 0;
  for (int i = 0; i < started; ++i) {
    rt_thread_join(&c[i].thread);
    if (error == 0)
      error = c[i].error;
  }
  T_OK("lock_threads/many-no-errors", error);
  t_eq("lock_threads/many-count", counter, (uint64_t)started * ROUNDS);
  t_eq_hex("lock_threads/many-unlocked-at-end", get(&lock) & ~T_KM, 0);
}

void test_main(const argdata_t *config) {
  (void)config;
  handoff();
  eperm();
  timeouts();
  readers_and_writer();
  many();
}
