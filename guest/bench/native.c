// The native Linux side of scripts/bench: the same loops (loops.h) and
// mixed workload (mixed.h) over the glibc calls a program compiled for
// Linux makes (pipe() is a socket pair here too, as CloudABI's is). Built
// with the host's C compiler by scripts/bench; not a CloudABI program.
//
//   native DIR ITERATIONS [loops|threaded-loops|mixed|LOOP] [sandboxed]     DIR holds sub/file
//
// "sandboxed" first confines the program the way cloudabi-run's sandbox
// confines itself, minus its policy: no_new_privs, a seccomp filter that
// allows everything (the kernel caches its verdict for every number, so
// what remains is the fixed cost of running under seccomp) and a Landlock
// ruleset that handles every file-system access with one read-only rule
// for DIR. Its per-call figures are the floor a sandboxed cloudabi-run can
// reach on this kernel.
// SPDX-License-Identifier: BSD-2-Clause

#define _GNU_SOURCE
#include <fcntl.h>
#if defined(__linux__)
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef int bench_fd;

static void fail(const char *what) {
  perror(what);
  exit(1);
}

static uint64_t bench_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    fail("clock_gettime");
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t bench_cpu(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    fail("clock_gettime");
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define OP_WRITE1(fd, buf) \
  if (write(fd, buf, 1) != 1) fail("write")
#define OP_READ1(fd, buf) \
  if (read(fd, buf, 1) != 1) fail("read")
#define OP_CLOCK()                                    \
  do {                                                \
    struct timespec ts_;                              \
    if (clock_gettime(CLOCK_MONOTONIC, &ts_) != 0)    \
      fail("clock_gettime");                          \
  } while (0)
#define OP_STAT(fd)                   \
  do {                                \
    struct stat st_;                  \
    if (fstat(fd, &st_) != 0)         \
      fail("fstat");                  \
  } while (0)
#define OP_OPEN_CLOSE(dir, path)                        \
  do {                                                  \
    int fd_ = openat(dir, path, O_RDONLY | O_CLOEXEC);  \
    if (fd_ < 0 || close(fd_) != 0)                     \
      fail("openat");                                   \
  } while (0)
#define OP_OPEN_STAT_CLOSE(dir, path)                          \
  do {                                                         \
    struct stat st_;                                           \
    int fd_ = openat(dir, path, O_RDONLY | O_CLOEXEC);         \
    if (fd_ < 0 || fstat(fd_, &st_) != 0 || close(fd_) != 0)   \
      fail("openat");                                          \
  } while (0)
#define OP_NULL(fd) ((void)(fd), (void)getppid())
#include "loops.h"

typedef pthread_mutex_t bench_mutex;
typedef pthread_cond_t bench_cond;
#define BENCH_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define BENCH_COND_INIT PTHREAD_COND_INITIALIZER
#define bench_lock(m) pthread_mutex_lock(m)
#define bench_unlock(m) pthread_mutex_unlock(m)
#define bench_wait(c, m) pthread_cond_wait(c, m)
#define bench_signal(c) pthread_cond_signal(c)
typedef pthread_t bench_thread;

struct trampoline {
  void (*fn)(void *);
  void *arg;
};

static void *run_trampoline(void *p) {
  struct trampoline *t = p;
  t->fn(t->arg);
  free(t);
  return NULL;
}

static void bench_spawn(bench_thread *t, void (*fn)(void *), void *arg) {
  struct trampoline *tr = malloc(sizeof(*tr));
  if (tr == NULL)
    fail("malloc");
  *tr = (struct trampoline){fn, arg};
  if (pthread_create(t, NULL, run_trampoline, tr) != 0)
    fail("pthread_create");
}

static void bench_join(bench_thread *t) {
  pthread_join(*t, NULL);
}

#include "mixed.h"

// no_new_privs, an allow-all seccomp filter, Landlock with DIR read-only.
// (On other systems, such as FreeBSD where freebsd-vm/ builds this file,
// there is nothing to compare with: "sandboxed" is refused.)
static void confine(int dir) {
#if !defined(__linux__)
  (void)dir;
  fprintf(stderr, "native: sandboxed: Linux only\n");
  exit(2);
#else
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    fail("no_new_privs");
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {.len = 1, .filter = &allow};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    fail("seccomp");
  // The access rights of Landlock ABI 1 to 3 (every ABI since has them).
  uint64_t fs = (LANDLOCK_ACCESS_FS_REFER << 1) - 1;
  uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  struct landlock_ruleset_attr attr = {.handled_access_fs = fs};
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
  if (ruleset < 0)
    fail("landlock_create_ruleset");
  struct landlock_path_beneath_attr rule = {.allowed_access = read, .parent_fd = dir};
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0 ||
      syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
    fail("landlock");
  close(ruleset);
#endif
}

// One line per loop: name, total nanoseconds, operations, CPU nanoseconds.
static void report(const char *name, uint64_t ns, uint64_t ops, uint64_t cpu) {
  printf("%s %llu %llu %llu\n", name, (unsigned long long)ns, (unsigned long long)ops, (unsigned long long)cpu);
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 5)
    return 2;
  uint64_t n = strtoull(argv[2], NULL, 10);
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int sv[2];
  if (dir < 0 || n == 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    fail("setup");
  if (argc == 5 && strcmp(argv[4], "sandboxed") == 0)
    confine(dir);
  if (argc >= 4 && mixed_parts(argv[3]) != 0) {
    static struct mixed m = {.mutex = BENCH_MUTEX_INIT, .cond = BENCH_COND_INIT};
    m.n = n;
    m.parts = mixed_parts(argv[3]);
    m.dir = dir;
    m.sock[0] = sv[0];
    m.sock[1] = sv[1];
    report("mixed", mixed_run(&m), n, 0);
    return 0;
  }
  // "loops" (or nothing): every loop; "threaded-loops": every loop with an
  // idle thread present (mixed.h); a loop's name: that loop alone (for
  // profiling one operation).
  int threaded = argc >= 4 && strcmp(argv[3], "threaded-loops") == 0;
  const char *only = argc >= 4 && strcmp(argv[3], "loops") != 0 && !threaded ? argv[3] : NULL;
  static struct idle idle = {.mutex = BENCH_MUTEX_INIT, .cond = BENCH_COND_INIT};
  if (threaded)
    idle_start(&idle);
  int file = openat(dir, "sub/file", O_RDONLY | O_CLOEXEC);
  if (file < 0)
    fail("openat");
  uint64_t ns, ops, cpu;
  if (only == NULL || strcmp(only, "write+read") == 0) {
    ns = loop_pipe(sv[0], sv[1], n, &ops, &cpu);
    report("write+read", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "clock_gettime") == 0) {
    ns = loop_clock(n, &ops, &cpu);
    report("clock_gettime", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "fstat") == 0) {
    ns = loop_stat(file, n, &ops, &cpu);
    report("fstat", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "openat+close") == 0) {
    ns = loop_open(dir, n / 4, &ops, &cpu);
    report("openat+close", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "null") == 0) {
    ns = loop_null(dir, n, &ops, &cpu);
    report("null", ns, ops, cpu);
  }
  if (threaded)
    idle_stop(&idle);
  return 0;
}
