// The process ends when its last thread has gone, however it went (issue
// 13, D5): under cloudabi-run on Linux a thread can leave with a raw Linux
// `exit` instead of thread_exit. Three forked children each must end with
// status 0 (a child that hangs makes the case time out):
// - worker-first: a thread leaves with a raw exit, then the initial thread
//   calls thread_exit;
// - initial-first: the initial thread calls thread_exit, then (once its
//   join lock shows it has gone) the other thread leaves with a raw exit;
// - initial-raw: the initial thread leaves with a raw exit, the other with
//   thread_exit.
// On a native kernel the `syscall` instruction is CloudABI's own: the case
// only checks its vDSO.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "proc.h"
#include "sync.h"

#if defined(__x86_64__)

extern void *__cloudabi_syscalls[];
static bool emulated_vdso(void) {
  const unsigned char *p = __cloudabi_syscalls[0];
  for (int i = 0; i < 16; ++i) {
    if (p[i] == 0x0f && p[i + 1] == 0x05)
      return false;
    if (p[i] == 0xff && p[i + 1] == 0x15)
      return true;
  }
  return false;
}

// Linux `exit` (60): ends the calling thread only.
static _Noreturn void raw_exit(void) {
  __asm__ volatile("syscall" : : "a"(60L), "D"(0L) : "rcx", "r11", "memory");
  for (;;)
    ;
}

static t_lock_t initial_join;
static _Atomic(uint32_t) leaving;
static struct rt_thread other;

static void raw_exit_now(void *arg) {
  (void)arg;
  atomic_store(&leaving, 1);
  raw_exit();
}

static void raw_exit_after_initial(void *arg) {
  (void)arg;
  cloudabi_subscription_t sub = t_sub_lock(5, CLOUDABI_EVENTTYPE_LOCK_RDLOCK, &initial_join, CLOUDABI_SCOPE_PRIVATE);
  cloudabi_event_t ev;
  size_t n;
  t_poll(&sub, 1, &ev, &n, NULL);
  raw_exit();
}

static void thread_exit_now(void *arg) {
  (void)arg;
  // Returning from the entry point is thread_exit.
}

// The forked child's role; it never returns.
static _Noreturn void child(int role) {
  atomic_store(&initial_join, t_tid() | T_WR);
  void (*fn)(void *) = role == 0 ? raw_exit_now : role == 1 ? raw_exit_after_initial : thread_exit_now;
  if (rt_thread_start(&other, fn, NULL, 0) != 0)
    cloudabi_sys_proc_exit(3);
  if (role == 0) {
    // The other thread is on its way out (or gone) by the time this one
    // exits; either order must end the process.
    while (atomic_load(&leaving) == 0)
      cloudabi_sys_thread_yield();
  }
  if (role == 2)
    raw_exit();
  cloudabi_sys_thread_exit(&initial_join, CLOUDABI_SCOPE_PRIVATE);
}

void test_main(const argdata_t *config) {
  (void)config;
  if (!emulated_vdso()) {
    t_true("thread_raw_exit/native-kernel", true, "");
    return;
  }
  static const char *names[] = {"thread_raw_exit/worker-first", "thread_raw_exit/initial-first",
                                "thread_raw_exit/initial-raw"};
  for (int role = 0; role < 3; ++role) {
    cloudabi_fd_t fd;
    cloudabi_tid_t tid;
    if (!T_OK(names[role], t_fork(&fd, &tid)))
      return;
    if (fd == CLOUDABI_PROCESS_CHILD)
      child(role);
    t_check_exit(names[role], fd, 0);
    cloudabi_sys_fd_close(fd);
  }
}

#else

void test_main(const argdata_t *config) {
  (void)config;
  t_true("thread_raw_exit/not-x86-64", true, "");
}

#endif
