// thread_create and thread_exit as the ABI defines them, without the
// runtime's thread helpers for the first part: the new thread starts at
// entry(tid, argument) with the tid thread_create returns, on the stack
// it was given (aligned as after a call), with a thread pointer to a TCB
// carved from the top of that stack (x86-64: %fs:0 is a writable slot
// holding the TCB's address). thread_exit releases the given lock word
// after the thread is gone: from tid|WRLOCKED to unlocked, waking a thread
// that waits for it with a LOCK_RDLOCK poll (how cloudlibc joins). Then
// many threads at once, and EFAULT.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "sync.h"

#define RAW_STACK (64 * 1024)

// What a raw thread saw; filled in by the thread itself.
struct raw {
  t_lock_t join;               // LOCK_BOGUS until claimed as tid|WRLOCKED
  _Atomic(uint32_t) started;   // 1 once the fields below are set
  _Atomic(uint32_t) go;        // the thread ends once this is 1
  cloudabi_tid_t tid;          // the entry's first argument
  void *argument;              // its second
  uintptr_t tcb;               // the TCB address the thread pointer gives
  uintptr_t frame;             // the entry's frame address
  uintptr_t local;             // the address of a local variable
  void *stack;
  size_t stack_len;
};

// The raw entry runs before anything set up TLS or an unsafe stack for
// the thread, so it may touch neither: no SafeStack instrumentation, no
// thread-local variables, nothing but plain memory and syscalls.
__attribute__((no_sanitize("safe-stack"), noinline)) static void raw_entry(cloudabi_tid_t tid, void *arg) {
  struct raw *r = arg;
  cloudabi_lock_t expected = CLOUDABI_LOCK_BOGUS;
  // The creator claims the join lock too, after thread_create returns;
  // whichever comes first stores tid|WRLOCKED.
  atomic_compare_exchange_strong(&r->join, &expected, tid | CLOUDABI_LOCK_WRLOCKED);
  r->tid = tid;
  r->argument = arg;
  uintptr_t tcb;
#if defined(__x86_64__)
  __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
  // The slot %fs points at must be writable: runtimes switch TCBs by
  // storing into it. Store the same value back.
  __asm__ volatile("mov %0, %%fs:0" : : "r"(tcb) : "memory");
#elif defined(__aarch64__)
  __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tcb));
#endif
  r->tcb = tcb;
  r->frame = (uintptr_t)__builtin_frame_address(0);
  r->local = (uintptr_t)&expected;
  atomic_store(&r->started, 1);
  while (atomic_load(&r->go) == 0)
    cloudabi_sys_thread_yield();
  cloudabi_sys_thread_exit(&r->join, CLOUDABI_SCOPE_PRIVATE);
}

static bool raw_start(const char *name, struct raw *r, cloudabi_tid_t *tid) {
  memset(r, 0, sizeof(*r));
  atomic_init(&r->join, CLOUDABI_LOCK_BOGUS);
  r->stack_len = RAW_STACK;
  r->stack = t_map_anon(name, r->stack_len);
  if (r->stack == NULL)
    return false;
  cloudabi_threadattr_t attr = {
      .entry_point = raw_entry,
      .stack = r->stack,
      .stack_len = r->stack_len,
      .argument = r,
  };
  if (!T_OK(name, cloudabi_sys_thread_create(&attr, tid))) {
    cloudabi_sys_mem_unmap(r->stack, r->stack_len);
    return false;
  }
  cloudabi_lock_t expected = CLOUDABI_LOCK_BOGUS;
  atomic_compare_exchange_strong(&r->join, &expected, *tid | CLOUDABI_LOCK_WRLOCKED);
  return true;
}

// The raw thread's view of the world.
static void entry_state(void) {
  struct raw r;
  cloudabi_tid_t tid;
  if (!raw_start("thread_create/raw", &r, &tid))
    return;
  if (!t_await("thread_create/raw-started", &r.started, ~UINT32_C(0), 1))
    return;  // the thread never ran: leave its stack mapped
  uintptr_t lo = (uintptr_t)r.stack, hi = lo + r.stack_len;
  t_eq("thread_create/entry-tid", r.tid, tid);
  t_true("thread_create/tid-valid", tid > 1 && tid < (UINT32_C(1) << 30) && tid != t_tid(),
         "a new thread id in [2, 2^30), not ours");
  t_true("thread_create/entry-argument", r.argument == &r, "the argument passed in the attributes");
  t_true("thread_create/tcb-top-of-stack", r.tcb >= hi - 64 && r.tcb + 8 <= hi && r.tcb % 8 == 0,
         "an 8-byte aligned TCB in the top 64 bytes of the given stack");
  t_true("thread_create/tcb-not-ours", r.tcb != (uintptr_t)rt_tcb_get(), "a TCB of its own");
  t_true("thread_create/runs-on-given-stack", r.local >= lo && r.local < r.tcb, "locals below the TCB");
  t_eq("thread_create/stack-aligned", r.frame % 16, 0);
  t_eq_hex("thread_create/join-lock-claimed", atomic_load(&r.join), tid | T_WR);

  // Nobody waits: thread_exit simply stores "unlocked".
  atomic_store(&r.go, 1);
  if (t_await("thread_create/exit-unlocks", &r.join, ~UINT32_C(0), CLOUDABI_LOCK_UNLOCKED))
    cloudabi_sys_mem_unmap(r.stack, r.stack_len);  // the thread is gone
}

// A joiner, as cloudlibc's pthread_join: a LOCK_RDLOCK poll on the
// exiting thread's join lock.
struct joiner {
  struct rt_thread thread;
  struct raw *target;
  cloudabi_errno_t poll_error, unlock_error;
  size_t nevents;
  cloudabi_event_t ev;
  cloudabi_lock_t seen;
};

static void join_raw(void *arg) {
  struct joiner *j = arg;
  cloudabi_subscription_t sub = t_sub_lock(77, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &j->target->join, CLOUDABI_SCOPE_PRIVATE);
  j->poll_error = cloudabi_sys_poll(&sub, &j->ev, 1, &j->nevents);
  j->seen = atomic_load(&j->target->join);
  if (j->poll_error == 0 && j->ev.error == 0)
    j->unlock_error = t_rdunlock(&j->target->join, CLOUDABI_SCOPE_PRIVATE);
}

static void join_wakes(void) {
  struct raw r;
  struct joiner j = {.target = &r};
  cloudabi_tid_t tid;
  if (!raw_start("thread_exit/join-target", &r, &tid))
    return;
  if (!t_await("thread_exit/join-target-started", &r.started, ~UINT32_C(0), 1))
    return;
  if (!T_OK("thread_exit/joiner-start", rt_thread_start(&j.thread, join_raw, &j, 64 * 1024))) {
    atomic_store(&r.go, 1);
    return;
  }
  // The joiner sleeps in the kernel once the join lock is marked managed.
  if (t_await("thread_exit/joiner-asleep", &r.join, T_KM, T_KM))
    t_eq_hex("thread_exit/join-lock-before-exit", atomic_load(&r.join), tid | T_WR | T_KM);
  atomic_store(&r.go, 1);
  rt_thread_join(&j.thread);
  if (T_OK("thread_exit/joiner-poll", j.poll_error)) {
    t_eq("thread_exit/joiner-one-event", j.nevents, 1);
    t_check_event("thread_exit/joiner-woken", &j.ev, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, 0);
    t_eq("thread_exit/joiner-userdata", j.ev.userdata, 77);
    t_eq_hex("thread_exit/joiner-read-locked", j.seen & ~T_KM, 1);
    T_OK("thread_exit/joiner-released", j.unlock_error);
  }
  if (t_await("thread_exit/join-lock-free", &r.join, ~UINT32_C(0), CLOUDABI_LOCK_UNLOCKED))
    cloudabi_sys_mem_unmap(r.stack, r.stack_len);
}

// Many threads at once, each with its own id and TLS.
#define MANY 48
static _Thread_local int tls_value = 7;
static _Atomic(int) ran;

struct many {
  struct rt_thread thread;
  cloudabi_tid_t tid;
  int index;
  bool tls_ok;
};

static void many_body(void *arg) {
  struct many *m = arg;
  m->tid = rt_tid();
  m->tls_ok = tls_value == 7;
  tls_value = m->index;
  cloudabi_sys_thread_yield();
  m->tls_ok &= tls_value == m->index;
  atomic_fetch_add(&ran, 1);
}

static void many(void) {
  static struct many m[MANY];
  int started = 0;
  tls_value = -1;
  for (int i = 0; i < MANY; ++i) {
    m[i] = (struct many){.index = i};
    if (!T_OK("thread_create/many-start", rt_thread_start(&m[i].thread, many_body, &m[i], 32 * 1024)))
      break;
    ++started;
  }
  for (int i = 0; i < started; ++i)
    rt_thread_join(&m[i].thread);
  t_eq("thread_create/many-ran", (uint64_t)atomic_load(&ran), (uint64_t)started);
  t_eq("thread_create/many-started", (uint64_t)started, MANY);
  bool ids = true, tls = true;
  for (int i = 0; i < started; ++i) {
    ids &= m[i].tid == m[i].thread.tid && m[i].tid != t_tid();
    tls &= m[i].tls_ok;
    for (int k = 0; k < i; ++k)
      ids &= m[i].tid != m[k].tid;
  }
  t_true("thread_create/many-distinct-ids", ids, "a distinct id per thread, as returned");
  t_true("thread_create/many-own-tls", tls, "each thread its own TLS copy");
  t_eq("thread_create/initial-tls-untouched", (uint64_t)(int64_t)tls_value, (uint64_t)(int64_t)-1);
}

void test_main(const argdata_t *config) {
  (void)config;
  entry_state();
  join_wakes();
  many();
  cloudabi_tid_t tid;
  T_ERRNO("thread_create/efault", cloudabi_sys_thread_create(T_BADPTR, &tid), E(FAULT));
}
