// Minimal threads: enough to give each thread its own TLS and stacks.
// SPDX-License-Identifier: BSD-2-Clause
//
// thread_create starts the new thread at entry(tid, argument) on the stack
// we pass, with a thread pointer whose TCB the system carved out of the top
// of that stack (contents unspecified, except what an emulator put there).
// Like the initial thread, the new one must get its own TLS block before it
// runs instrumented code.
//
// Joining uses the lock word that thread_exit releases once the thread is
// gone. It starts as LOCK_BOGUS; whichever of parent and child gets there
// first stores tid | WRLOCKED (the lock is then write-locked by the child,
// which is what thread_exit expects). The parent blocks until thread_exit
// releases it by asking poll for a read lock on it, as cloudlibc's
// pthread_join does (src/libc/pthread/pthread_join.c): a joiner that
// spun with thread_yield instead kept a CPU busy for as long as the thread
// ran, which on a 2-core machine took the CPU the running threads needed.

#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "rt_internal.h"

#define DEFAULT_STACK_LEN (256 * 1024)

static void claim_join_lock(struct rt_thread *t, cloudabi_tid_t tid) {
  cloudabi_lock_t expected = CLOUDABI_LOCK_BOGUS;
  atomic_compare_exchange_strong_explicit(&t->join, &expected, tid | CLOUDABI_LOCK_WRLOCKED,
                                          memory_order_acq_rel, memory_order_relaxed);
}

RT_NO_SAFESTACK static void thread_entry(cloudabi_tid_t tid, void *arg) {
  struct rt_thread *t = arg;
  claim_join_lock(t, tid);
  rt_tls_install(t->tcb);
  rt_tls_thread_vars(tid, t->unsafe_top);
  t->fn(t->arg);
  cloudabi_sys_thread_exit(&t->join, CLOUDABI_SCOPE_PRIVATE);
}

cloudabi_errno_t rt_thread_start(struct rt_thread *t, void (*fn)(void *), void *arg,
                                 size_t stack_len) {
  if (stack_len == 0)
    stack_len = DEFAULT_STACK_LEN;
  memset(t, 0, sizeof(*t));
  atomic_init(&t->join, CLOUDABI_LOCK_BOGUS);
  t->fn = fn;
  t->arg = arg;

  // One mapping for both stacks: [guard][unsafe stack][guard][safe stack].
  size_t page = rt_pagesz();
  size_t len = (stack_len + page - 1) & ~(page - 1);
  void *mem;
  cloudabi_errno_t error = cloudabi_sys_mem_map(
      NULL, 2 * (len + page), CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
      CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE, CLOUDABI_MAP_ANON_FD, 0, &mem);
  if (error != 0)
    return error;
  char *m = mem;
  (void)cloudabi_sys_mem_protect(m, page, 0);
  (void)cloudabi_sys_mem_protect(m + page + len, page, 0);
  t->stacks = mem;
  t->stacks_len = 2 * (len + page);
  t->unsafe_top = m + page + len;

  error = rt_tls_alloc(&t->tls, &t->tls_len, &t->tcb);
  if (error != 0) {
    cloudabi_sys_mem_unmap(t->stacks, t->stacks_len);
    return error;
  }

  cloudabi_threadattr_t attr = {
      .entry_point = thread_entry,
      .stack = m + 2 * page + len,
      .stack_len = len,
      .argument = t,
  };
  cloudabi_tid_t tid;
  error = cloudabi_sys_thread_create(&attr, &tid);
  if (error != 0) {
    cloudabi_sys_mem_unmap(t->tls, t->tls_len);
    cloudabi_sys_mem_unmap(t->stacks, t->stacks_len);
    return error;
  }
  t->tid = tid;
  claim_join_lock(t, tid);
  return 0;
}

void rt_thread_join(struct rt_thread *t) {
  if ((atomic_load_explicit(&t->join, memory_order_acquire) & CLOUDABI_LOCK_WRLOCKED) != 0) {
    cloudabi_subscription_t sub = {
        .type = CLOUDABI_EVENTTYPE_LOCK_RDLOCK,
        .lock = {.lock = &t->join, .lock_scope = CLOUDABI_SCOPE_PRIVATE},
    };
    cloudabi_event_t ev;
    size_t n;
    cloudabi_errno_t error = cloudabi_sys_poll(&sub, &ev, 1, &n);
    // Failing to wait leaves nothing safe to free: end the program.
    if (error != 0 || n != 1 || ev.error != 0)
      abort();
  }
  cloudabi_sys_mem_unmap(t->tls, t->tls_len);
  cloudabi_sys_mem_unmap(t->stacks, t->stacks_len);
}
