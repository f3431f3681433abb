// Locks, condition variables and poll subscriptions (see sync.h).
// SPDX-License-Identifier: BSD-2-Clause

#include "sync.h"

#include <rt.h>

// Set in a forked child, where the runtime still holds the parent's id.
static _Thread_local cloudabi_tid_t self_tid;

cloudabi_tid_t t_tid(void) {
  return self_tid != 0 ? self_tid : rt_tid();
}

void t_set_tid(cloudabi_tid_t tid) {
  self_tid = tid;
}

cloudabi_subscription_t t_sub_clock(uint64_t userdata, cloudabi_clockid_t id, cloudabi_timestamp_t timeout,
                                    bool absolute) {
  return (cloudabi_subscription_t){
      .userdata = userdata,
      .type = CLOUDABI_EVENTTYPE_CLOCK,
      .clock = {.identifier = userdata,
                .clock_id = id,
                .timeout = timeout,
                .flags = absolute ? CLOUDABI_SUBSCRIPTION_CLOCK_ABSTIME : 0},
  };
}

cloudabi_subscription_t t_sub_lock(uint64_t userdata, cloudabi_eventtype_t type, t_lock_t *lock,
                                   cloudabi_scope_t scope) {
  return (cloudabi_subscription_t){
      .userdata = userdata,
      .type = type,
      .lock = {.lock = lock, .lock_scope = scope},
  };
}

cloudabi_subscription_t t_sub_condvar(uint64_t userdata, t_condvar_t *cv, cloudabi_scope_t cv_scope,
                                      t_lock_t *lock, cloudabi_scope_t lock_scope) {
  return (cloudabi_subscription_t){
      .userdata = userdata,
      .type = CLOUDABI_EVENTTYPE_CONDVAR,
      .condvar = {.condvar = cv, .lock = lock, .condvar_scope = cv_scope, .lock_scope = lock_scope},
  };
}

cloudabi_subscription_t t_sub_fd(uint64_t userdata, cloudabi_eventtype_t type, cloudabi_fd_t fd) {
  return (cloudabi_subscription_t){
      .userdata = userdata,
      .type = type,
      .fd_readwrite = {.fd = fd, .flags = CLOUDABI_SUBSCRIPTION_FD_READWRITE_POLL},
  };
}

cloudabi_subscription_t t_sub_proc(uint64_t userdata, cloudabi_fd_t fd) {
  return (cloudabi_subscription_t){
      .userdata = userdata,
      .type = CLOUDABI_EVENTTYPE_PROC_TERMINATE,
      .proc_terminate = {.fd = fd},
  };
}

cloudabi_errno_t t_poll(const cloudabi_subscription_t *subs, size_t n, cloudabi_event_t *ev, size_t *nevents,
                        uint64_t *took) {
  cloudabi_timestamp_t start = t_now(CLOUDABI_CLOCK_MONOTONIC);
  size_t got = 0;
  cloudabi_errno_t error = cloudabi_sys_poll(subs, ev, n, &got);
  if (took != NULL)
    *took = t_now(CLOUDABI_CLOCK_MONOTONIC) - start;
  *nevents = error == 0 ? got : 0;
  return error;
}

const cloudabi_event_t *t_find_event(const cloudabi_event_t *ev, size_t n, uint64_t userdata) {
  for (size_t i = 0; i < n; ++i) {
    if (ev[i].userdata == userdata)
      return &ev[i];
  }
  return NULL;
}

bool t_check_event(const char *name, const cloudabi_event_t *ev, cloudabi_eventtype_t type,
                   cloudabi_errno_t error) {
  if (ev == NULL) {
    t_fail(name, "expected an event of type %u got none", type);
    return false;
  }
  return t_check(name, ev->type == type && ev->error == error, "expected type %u error %s got type %u error %s",
                 type, errno_name(error), ev->type, errno_name(ev->error));
}

bool t_check_only_event(const char *name, const cloudabi_event_t *ev, size_t n, uint64_t userdata,
                        cloudabi_eventtype_t type, cloudabi_errno_t error) {
  if (n != 1) {
    t_fail(name, "expected exactly one event got %zu", n);
    return false;
  }
  if (ev[0].userdata != userdata) {
    t_fail(name, "expected the event of subscription %lu got %lu (type %u error %s)", (unsigned long)userdata,
           (unsigned long)ev[0].userdata, ev[0].type, errno_name(ev[0].error));
    return false;
  }
  return t_check_event(name, &ev[0], type, error);
}

// One blocking poll on a lone lock subscription: the event's error.
static cloudabi_errno_t poll_lock(cloudabi_eventtype_t type, t_lock_t *lock, cloudabi_scope_t scope) {
  cloudabi_subscription_t sub = t_sub_lock(0, type, lock, scope);
  cloudabi_event_t ev;
  size_t n;
  cloudabi_errno_t error = cloudabi_sys_poll(&sub, &ev, 1, &n);
  if (error != 0)
    return error;
  if (n != 1 || ev.type != type)
    return CLOUDABI_EIO;  // a malformed answer: not something a lock wait gives
  return ev.error;
}

cloudabi_errno_t t_wrlock(t_lock_t *lock, cloudabi_scope_t scope) {
  cloudabi_lock_t expected = CLOUDABI_LOCK_UNLOCKED;
  if (atomic_compare_exchange_strong_explicit(lock, &expected, t_tid() | T_WR, memory_order_acquire,
                                              memory_order_relaxed))
    return 0;
  return poll_lock(CLOUDABI_EVENTTYPE_LOCK_WRLOCK, lock, scope);
}

cloudabi_errno_t t_rdlock(t_lock_t *lock, cloudabi_scope_t scope) {
  cloudabi_lock_t old = atomic_load_explicit(lock, memory_order_relaxed);
  while ((old & (T_WR | T_KM)) == 0) {
    if (atomic_compare_exchange_weak_explicit(lock, &old, old + 1, memory_order_acquire, memory_order_relaxed))
      return 0;
  }
  return poll_lock(CLOUDABI_EVENTTYPE_LOCK_RDLOCK, lock, scope);
}

cloudabi_errno_t t_wrunlock(t_lock_t *lock, cloudabi_scope_t scope) {
  cloudabi_lock_t expected = t_tid() | T_WR;
  if (atomic_compare_exchange_strong_explicit(lock, &expected, CLOUDABI_LOCK_UNLOCKED, memory_order_release,
                                              memory_order_relaxed))
    return 0;
  return cloudabi_sys_lock_unlock(lock, scope);
}

cloudabi_errno_t t_rdunlock(t_lock_t *lock, cloudabi_scope_t scope) {
  cloudabi_lock_t old = atomic_load_explicit(lock, memory_order_relaxed);
  for (;;) {
    if (old == (1 | T_KM)) {
      // The last reader while someone waits: become the writer, so that the
      // kernel (which only releases write locks) can hand the lock on.
      if (atomic_compare_exchange_weak_explicit(lock, &old, t_tid() | T_WR | T_KM, memory_order_release,
                                                memory_order_relaxed))
        return cloudabi_sys_lock_unlock(lock, scope);
      continue;
    }
    if ((old & T_WR) != 0 || (old & ~T_KM) == 0)
      return CLOUDABI_EPERM;  // not read-locked: a bug in the case
    if (atomic_compare_exchange_weak_explicit(lock, &old, old - 1, memory_order_release, memory_order_relaxed))
      return 0;
  }
}

cloudabi_errno_t t_cond_wait(t_condvar_t *cv, cloudabi_scope_t cv_scope, t_lock_t *lock,
                             cloudabi_scope_t lock_scope, cloudabi_clockid_t clock, cloudabi_timestamp_t timeout,
                             bool absolute) {
  cloudabi_subscription_t subs[2] = {
      t_sub_condvar(1, cv, cv_scope, lock, lock_scope),
      t_sub_clock(2, clock, timeout, absolute),
  };
  size_t nsubs = timeout == UINT64_MAX ? 1 : 2;
  cloudabi_event_t ev[2];
  size_t n;
  cloudabi_errno_t error = cloudabi_sys_poll(subs, ev, nsubs, &n);
  if (error != 0)
    return error;
  if (n != 1)
    return CLOUDABI_EIO;
  if (ev[0].userdata == 2 && ev[0].type == CLOUDABI_EVENTTYPE_CLOCK)
    return ev[0].error == 0 ? CLOUDABI_ETIMEDOUT : ev[0].error;
  if (ev[0].userdata != 1 || ev[0].type != CLOUDABI_EVENTTYPE_CONDVAR)
    return CLOUDABI_EIO;
  return ev[0].error;
}

cloudabi_errno_t t_cond_signal(t_condvar_t *cv, cloudabi_scope_t scope, cloudabi_nthreads_t n) {
  if (atomic_load_explicit(cv, memory_order_relaxed) == CLOUDABI_CONDVAR_HAS_NO_WAITERS)
    return 0;
  return cloudabi_sys_condvar_signal(cv, scope, n);
}

// Polls a word until `done` says so, yielding in between, for at most 10 s.
static bool await(const char *name, _Atomic(uint32_t) *word, bool (*done)(uint32_t, uint32_t, uint32_t),
                  uint32_t a, uint32_t b) {
  cloudabi_timestamp_t deadline = t_now(CLOUDABI_CLOCK_MONOTONIC) + 10 * T_SEC;
  uint32_t v;
  for (;;) {
    v = atomic_load_explicit(word, memory_order_acquire);
    if (done(v, a, b))
      return true;
    if (t_now(CLOUDABI_CLOCK_MONOTONIC) > deadline)
      break;
    cloudabi_sys_thread_yield();
  }
  t_fail(name, "gave up waiting after 10 s: the word is 0x%x", v);
  return false;
}

static bool masked_equal(uint32_t v, uint32_t mask, uint32_t want) {
  return (v & mask) == want;
}

static bool at_least(uint32_t v, uint32_t want, uint32_t unused) {
  (void)unused;
  return v >= want;
}

bool t_await(const char *name, _Atomic(uint32_t) *word, uint32_t mask, uint32_t want) {
  return await(name, word, masked_equal, mask, want);
}

bool t_await_at_least(const char *name, _Atomic(uint32_t) *word, uint32_t want) {
  return await(name, word, at_least, want, 0);
}
