// The CloudABI side of scripts/bench: the loops of loops.h and the mixed
// workload of mixed.h over the C library calls a real program makes,
// written the way the original C library (cloudlibc) issues them, through
// whatever runs this program (cloudabi-run's Linux backend, or the
// FreeBSD module). Per cloudlibc (src/libc/...): errno is thread-local and
// set on failure; openat is fd_stat_get on the directory (for its
// inheriting rights) then file_open with SYMLINK_FOLLOW; fstat is
// file_stat_fget; clock_gettime is clock_time_get with precision 1 and a
// conversion to a timespec; pipe() is fd_create2(SOCKET_STREAM); read and
// write pass one iovec; mutexes and condition variables are the CloudABI
// lock and condvar words (a compare-and-swap when uncontended, poll and
// lock_unlock / condvar_signal when not).
//
// Configuration:
//   out: !fd stdout
//   dir: !file {path: D, mode: directory}    D holds sub/file
//   iterations: N
//   workload: loops | mixed | mixed-handoff | mixed-sockets | mixed-opens |
//             write+read | clock_gettime | fstat | openat+close | null
//             (default loops: every loop; a loop's name: that loop alone)
//
// Prints one line per loop, "<name> <total nanoseconds> <operations> <CPU
// nanoseconds>", or for the mixed workload "mixed <nanoseconds> <n> 0". Exits 1 if a call
// fails (the loops must measure successful calls only).
// SPDX-License-Identifier: BSD-2-Clause

#include <argdata.h>
#include <cloudabi.h>
#include <fmt.h>
#include <program.h>
#include <rt.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef cloudabi_fd_t bench_fd;

static cloudabi_fd_t out;
static _Thread_local cloudabi_errno_t bench_errno;

static _Noreturn void fail(const char *what) {
  fmt_printf(out, "bench: %s: %s\n", what, errno_name(bench_errno));
  _Exit(1);
}

// --- the C library calls, as cloudlibc makes them -----------------------

struct bench_timespec {
  int64_t tv_sec;
  long tv_nsec;
};

static int bench_clock_gettime(cloudabi_clockid_t id, struct bench_timespec *ts) {
  cloudabi_timestamp_t t;
  cloudabi_errno_t e = cloudabi_sys_clock_time_get(id, 1, &t);
  if (e != 0) {
    bench_errno = e;
    return -1;
  }
  ts->tv_sec = (int64_t)(t / 1000000000);
  ts->tv_nsec = (long)(t % 1000000000);
  return 0;
}

// The fields of a struct stat that cloudlibc fills in from a filestat.
struct bench_stat {
  uint64_t st_dev, st_ino, st_nlink, st_size;
  uint32_t st_mode;
  struct bench_timespec st_atim, st_mtim, st_ctim;
};

static struct bench_timespec ts_of(cloudabi_timestamp_t t) {
  return (struct bench_timespec){(int64_t)(t / 1000000000), (long)(t % 1000000000)};
}

static int bench_fstat(cloudabi_fd_t fd, struct bench_stat *sb) {
  cloudabi_filestat_t st;
  cloudabi_errno_t e = cloudabi_sys_file_stat_fget(fd, &st);
  if (e != 0) {
    bench_errno = e;
    return -1;
  }
  *sb = (struct bench_stat){.st_dev = st.st_dev,
                            .st_ino = st.st_ino,
                            .st_nlink = st.st_nlink,
                            .st_size = st.st_size,
                            .st_mode = st.st_filetype,
                            .st_atim = ts_of(st.st_atim),
                            .st_mtim = ts_of(st.st_mtim),
                            .st_ctim = ts_of(st.st_ctim)};
  return 0;
}

// openat(dir, path, O_RDONLY): cloudlibc's rights computation for a
// read-only open, then the two calls it makes.
static int bench_openat_rdonly(cloudabi_fd_t dir, const char *path) {
  cloudabi_rights_t min = CLOUDABI_RIGHT_FD_READ;
  cloudabi_rights_t max =
      ~(CLOUDABI_RIGHT_FD_DATASYNC | CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FD_SYNC | CLOUDABI_RIGHT_FD_WRITE |
        CLOUDABI_RIGHT_FILE_ALLOCATE | CLOUDABI_RIGHT_FILE_READDIR | CLOUDABI_RIGHT_FILE_STAT_FPUT_SIZE |
        CLOUDABI_RIGHT_MEM_MAP_EXEC | CLOUDABI_RIGHT_PROC_EXEC) |
      CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FILE_READDIR | CLOUDABI_RIGHT_MEM_MAP_EXEC;
  cloudabi_fdstat_t cur;
  cloudabi_errno_t e = cloudabi_sys_fd_stat_get(dir, &cur);
  if (e == 0 && (min & cur.fs_rights_inheriting) != min)
    e = CLOUDABI_ENOTCAPABLE;
  if (e != 0) {
    bench_errno = e;
    return -1;
  }
  cloudabi_fdstat_t want = {
      .fs_rights_base = max & cur.fs_rights_inheriting,
      .fs_rights_inheriting = cur.fs_rights_inheriting,
  };
  cloudabi_fd_t fd;
  e = cloudabi_sys_file_open((cloudabi_lookup_t){.fd = dir, .flags = CLOUDABI_LOOKUP_SYMLINK_FOLLOW}, path,
                             strlen(path), 0, &want, &fd);
  if (e != 0) {
    bench_errno = e;
    return -1;
  }
  return (int)fd;
}

static int bench_close(cloudabi_fd_t fd) {
  cloudabi_errno_t e = cloudabi_sys_fd_close(fd);
  if (e != 0) {
    bench_errno = e;
    return -1;
  }
  return 0;
}

static long bench_read(cloudabi_fd_t fd, void *buf, size_t n) {
  cloudabi_iovec_t iov = {.buf = buf, .buf_len = n};
  size_t done;
  cloudabi_errno_t e = cloudabi_sys_fd_read(fd, &iov, 1, &done);
  if (e != 0) {
    bench_errno = e;
    return -1;
  }
  return (long)done;
}

static long bench_write(cloudabi_fd_t fd, const void *buf, size_t n) {
  cloudabi_ciovec_t iov = {.buf = buf, .buf_len = n};
  size_t done;
  cloudabi_errno_t e = cloudabi_sys_fd_write(fd, &iov, 1, &done);
  if (e != 0) {
    bench_errno = e;
    return -1;
  }
  return (long)done;
}

static uint64_t bench_now(void) {
  struct bench_timespec ts;
  if (bench_clock_gettime(CLOUDABI_CLOCK_MONOTONIC, &ts) != 0)
    fail("clock_gettime");
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// The thread's CPU time; where the system has no such clock, the
// monotonic one (the figures are then wall time, as the first field).
static uint64_t bench_cpu(void) {
  struct bench_timespec ts;
  if (bench_clock_gettime(CLOUDABI_CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return bench_now();
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define OP_WRITE1(fd, buf) \
  if (bench_write(fd, buf, 1) != 1) fail("write")
#define OP_READ1(fd, buf) \
  if (bench_read(fd, buf, 1) != 1) fail("read")
#define OP_CLOCK()                                                      \
  do {                                                                  \
    struct bench_timespec ts_;                                          \
    if (bench_clock_gettime(CLOUDABI_CLOCK_MONOTONIC, &ts_) != 0)       \
      fail("clock_gettime");                                            \
  } while (0)
#define OP_STAT(fd)                  \
  do {                               \
    struct bench_stat st_;           \
    if (bench_fstat(fd, &st_) != 0)  \
      fail("fstat");                 \
  } while (0)
#define OP_OPEN_CLOSE(dir, path)                         \
  do {                                                   \
    int fd_ = bench_openat_rdonly(dir, path);            \
    if (fd_ < 0 || bench_close((cloudabi_fd_t)fd_) != 0) \
      fail("openat");                                    \
  } while (0)
#define OP_OPEN_STAT_CLOSE(dir, path)                                  \
  do {                                                                 \
    struct bench_stat st_;                                             \
    int fd_ = bench_openat_rdonly(dir, path);                          \
    if (fd_ < 0 || bench_fstat((cloudabi_fd_t)fd_, &st_) != 0 ||       \
        bench_close((cloudabi_fd_t)fd_) != 0)                          \
      fail("openat");                                                  \
  } while (0)
#define OP_NULL(fd)                                   \
  do {                                                \
    char c_ = 0;                                      \
    if (bench_write(fd, &c_, 1) != -1 ||              \
        bench_errno != CLOUDABI_ENOTCAPABLE)          \
      fail("write to a read-only directory");         \
  } while (0)
#include "loops.h"

// --- mutexes, condition variables and threads, as cloudlibc's -------------

typedef _Atomic(cloudabi_lock_t) bench_mutex;
typedef _Atomic(cloudabi_condvar_t) bench_cond;
#define BENCH_MUTEX_INIT CLOUDABI_LOCK_UNLOCKED
#define BENCH_COND_INIT CLOUDABI_CONDVAR_HAS_NO_WAITERS

static void bench_lock(bench_mutex *m) {
  cloudabi_lock_t expected = CLOUDABI_LOCK_UNLOCKED;
  if (atomic_compare_exchange_strong_explicit(m, &expected, rt_tid() | CLOUDABI_LOCK_WRLOCKED,
                                              memory_order_acquire, memory_order_relaxed))
    return;
  cloudabi_subscription_t sub = {
      .type = CLOUDABI_EVENTTYPE_LOCK_WRLOCK,
      .lock = {.lock = m, .lock_scope = CLOUDABI_SCOPE_PRIVATE},
  };
  cloudabi_event_t ev;
  size_t n;
  cloudabi_errno_t e = cloudabi_sys_poll(&sub, &ev, 1, &n);
  if (e == 0 && (n != 1 || ev.error != 0))
    e = n != 1 ? CLOUDABI_EIO : ev.error;
  if (e != 0) {
    bench_errno = e;
    fail("pthread_mutex_lock");
  }
}

static void bench_unlock(bench_mutex *m) {
  cloudabi_lock_t expected = rt_tid() | CLOUDABI_LOCK_WRLOCKED;
  if (atomic_compare_exchange_strong_explicit(m, &expected, CLOUDABI_LOCK_UNLOCKED, memory_order_release,
                                              memory_order_relaxed))
    return;
  cloudabi_errno_t e = cloudabi_sys_lock_unlock(m, CLOUDABI_SCOPE_PRIVATE);
  if (e != 0) {
    bench_errno = e;
    fail("pthread_mutex_unlock");
  }
}

static void bench_wait(bench_cond *c, bench_mutex *m) {
  cloudabi_subscription_t sub = {
      .type = CLOUDABI_EVENTTYPE_CONDVAR,
      .condvar = {.condvar = c,
                  .lock = m,
                  .condvar_scope = CLOUDABI_SCOPE_PRIVATE,
                  .lock_scope = CLOUDABI_SCOPE_PRIVATE},
  };
  cloudabi_event_t ev;
  size_t n;
  cloudabi_errno_t e = cloudabi_sys_poll(&sub, &ev, 1, &n);
  if (e == 0 && (n != 1 || ev.error != 0))
    e = n != 1 ? CLOUDABI_EIO : ev.error;
  if (e != 0) {
    bench_errno = e;
    fail("pthread_cond_wait");
  }
}

static void bench_signal(bench_cond *c) {
  if (atomic_load_explicit(c, memory_order_relaxed) == CLOUDABI_CONDVAR_HAS_NO_WAITERS)
    return;
  cloudabi_errno_t e = cloudabi_sys_condvar_signal(c, CLOUDABI_SCOPE_PRIVATE, 1);
  if (e != 0) {
    bench_errno = e;
    fail("pthread_cond_signal");
  }
}

typedef struct rt_thread bench_thread;

static void bench_spawn(bench_thread *t, void (*fn)(void *), void *arg) {
  bench_errno = rt_thread_start(t, fn, arg, 0);
  if (bench_errno != 0)
    fail("pthread_create");
}

static void bench_join(bench_thread *t) {
  rt_thread_join(t);
}

#include "mixed.h"

// One line per loop: name, total nanoseconds, operations, CPU nanoseconds.
static void report(cloudabi_fd_t fd, const char *name, uint64_t ns, uint64_t ops, uint64_t cpu) {
  fmt_printf(fd, "%s %llu %llu %llu\n", name, (unsigned long long)ns, (unsigned long long)ops,
             (unsigned long long)cpu);
}

static void pipe_pair(cloudabi_fd_t *rd, cloudabi_fd_t *wr) {
  bench_errno = cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, rd, wr);
  if (bench_errno != 0)
    fail("pipe");
}

void program_main(const argdata_t *ad) {
  cloudabi_fd_t dir;
  int64_t n;
  const char *workload = "loops";
  if (argdata_map_get_fd(ad, "out", &out) != 0)
    _Exit(2);
  (void)argdata_map_get_str_c(ad, "workload", &workload);
  if (argdata_map_get_fd(ad, "dir", &dir) != 0 || argdata_map_get_int(ad, "iterations", &n) != 0 || n <= 0) {
    bench_errno = CLOUDABI_EINVAL;
    fail("configuration");
  }

  if (mixed_parts(workload) != 0) {
    static struct mixed m = {.mutex = BENCH_MUTEX_INIT, .cond = BENCH_COND_INIT};
    m.n = (uint64_t)n;
    m.parts = mixed_parts(workload);
    m.dir = dir;
    pipe_pair(&m.sock[0], &m.sock[1]);
    report(out, "mixed", mixed_run(&m), m.n, 0);
    return;
  }

  cloudabi_fd_t sock[2];
  pipe_pair(&sock[0], &sock[1]);
  // "loops": every loop; "threaded-loops": every loop with an idle thread
  // present (mixed.h); a loop's name: that loop alone (for profiling one
  // operation).
  int threaded = strcmp(workload, "threaded-loops") == 0;
  const char *only = strcmp(workload, "loops") != 0 && !threaded ? workload : NULL;
  static struct idle idle = {.mutex = BENCH_MUTEX_INIT, .cond = BENCH_COND_INIT};
  if (threaded)
    idle_start(&idle);
  int file = bench_openat_rdonly(dir, "sub/file");
  if (file < 0)
    fail("openat");
  uint64_t ns, ops, cpu;
  if (only == NULL || strcmp(only, "write+read") == 0) {
    ns = loop_pipe(sock[0], sock[1], (uint64_t)n, &ops, &cpu);
    report(out, "write+read", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "clock_gettime") == 0) {
    ns = loop_clock((uint64_t)n, &ops, &cpu);
    report(out, "clock_gettime", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "fstat") == 0) {
    ns = loop_stat((cloudabi_fd_t)file, (uint64_t)n, &ops, &cpu);
    report(out, "fstat", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "openat+close") == 0) {
    ns = loop_open(dir, (uint64_t)n / 4, &ops, &cpu);
    report(out, "openat+close", ns, ops, cpu);
  }
  if (only == NULL || strcmp(only, "null") == 0) {
    ns = loop_null(dir, (uint64_t)n, &ops, &cpu);
    report(out, "null", ns, ops, cpu);
  }
  if (threaded)
    idle_stop(&idle);
}
