// thread_exit of the initial thread while another thread runs: the process
// goes on, the initial thread's lock is released once it is gone (the
// other thread, waiting with LOCK_RDLOCK, wakes), and when that last
// thread exits too the process ends with status 0 (`#% exit: 0`). A failed
// check makes the last thread call proc_exit(1) instead.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "sync.h"

static t_lock_t initial_join;
static struct rt_thread last;  // not on the initial thread's stack
static cloudabi_tid_t initial_tid;

static void last_thread(void *arg) {
  (void)arg;
  // Only this thread is left once the poll returns, so it may report.
  cloudabi_subscription_t sub = t_sub_lock(5, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &initial_join, CLOUDABI_SCOPE_PRIVATE);
  cloudabi_event_t ev;
  size_t n;
  if (T_OK("thread_exit/wait-for-initial", t_poll(&sub, 1, &ev, &n, NULL)) &&
      t_eq("thread_exit/one-event", n, 1) &&
      t_check_event("thread_exit/initial-gone", &ev, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, 0))
    t_eq_hex("thread_exit/initial-lock-released", atomic_load(&initial_join) & ~T_KM, 1);
  t_true("thread_exit/other-thread", rt_tid() != initial_tid, "a thread id of its own");
  if (t_failures != 0)
    cloudabi_sys_proc_exit(1);
  fmt_printf(t_out, "ok thread_exit/last-thread-exiting\n");
  // Returning ends this thread with thread_exit (the runtime's thread
  // entry), which ends the process with status 0.
}

void test_main(const argdata_t *config) {
  (void)config;
  initial_tid = t_tid();
  atomic_store(&initial_join, initial_tid | T_WR);
  if (!T_OK("thread_exit/start", rt_thread_start(&last, last_thread, NULL, 0)))
    return;
  fmt_printf(t_out, "ok thread_exit/initial-exiting\n");
  cloudabi_sys_thread_exit(&initial_join, CLOUDABI_SCOPE_PRIVATE);
}
