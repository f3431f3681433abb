// proc_fork followed by proc_exec in the child, the usual way to start a
// program: the process descriptor keeps referring to the child across the
// exec, so its exit status comes back through poll, and closing the
// descriptor kills the new program. The child runs this program again in
// another role (t_preflight, before the test library looks for "out"):
//
//   mode "exit":  checks it got no descriptors at all, exits with "code"
//   mode "hello": writes a greeting on descriptor 0 (a socket), exits 0
//   mode "block": writes "r" on descriptor 0, then reads it until EOF,
//                 which never comes
// SPDX-License-Identifier: BSD-2-Clause

#include "proc.h"

static bool none_open(cloudabi_fd_t from) {
  for (cloudabi_fd_t fd = from; fd < 64; ++fd) {
    cloudabi_fdstat_t st;
    if (cloudabi_sys_fd_stat_get(fd, &st) != CLOUDABI_EBADF)
      return false;
  }
  return true;
}

void t_preflight(const argdata_t *ad) {
  const char *mode;
  if (argdata_map_get_str_c(ad, "mode", &mode) != 0)
    return;  // the first image: an ordinary test
  if (strcmp(mode, "exit") == 0) {
    int64_t code = 60;
    argdata_map_get_int(ad, "code", &code);
    cloudabi_sys_proc_exit(none_open(0) ? (cloudabi_exitcode_t)code : 50);
  }
  if (strcmp(mode, "hello") == 0) {
    cloudabi_sys_proc_exit(none_open(1) && t_write_str(0, "hello from exec") == 0 ? 0 : 51);
  }
  if (strcmp(mode, "block") == 0) {
    char buf[16];
    size_t n;
    if (t_write_str(0, "r") != 0)
      cloudabi_sys_proc_exit(54);
    while (t_read(0, buf, sizeof(buf), &n) == 0 && n > 0) {
    }
    cloudabi_sys_proc_exit(52);
  }
  cloudabi_sys_proc_exit(53);
}

// Forks a child that execs this program with `entries` as its argdata and
// `fds` as its descriptors. A failed exec ends the child with 100+errno.
static bool spawn(const char *name, cloudabi_fd_t exe, const struct t_ad_entry *entries, size_t nentries,
                  const cloudabi_fd_t *fds, size_t nfds, cloudabi_fd_t *pd) {
  static char ad[256];
  size_t len = t_argdata_map(ad, sizeof(ad), entries, nentries);
  cloudabi_tid_t tid;
  if (!t_true(name, len > 0, "the argument data to fit") || !T_OK(name, t_fork(pd, &tid)))
    return false;
  if (*pd != CLOUDABI_PROCESS_CHILD)
    return true;
  cloudabi_errno_t error = cloudabi_sys_proc_exec(exe, ad, len, fds, nfds);
  cloudabi_sys_proc_exit(100 + error);
}

// Reads until EOF.
static size_t read_all(cloudabi_fd_t fd, char *buf, size_t cap) {
  size_t got = 0, n;
  while (got < cap && t_read(fd, buf + got, cap - got, &n) == 0 && n > 0)
    got += n;
  return got;
}

void test_main(const argdata_t *config) {
  cloudabi_fd_t exe, pd, a, b;
  if (argdata_map_get_fd(config, "exe", &exe) != 0) {
    t_fail("config", "this test needs exe: !executable");
    return;
  }

  // No descriptors at all; the exit status travels back.
  struct t_ad_entry exit9[] = {{.key = "mode", .kind = T_AD_STR, .str = "exit"},
                               {.key = "code", .kind = T_AD_INT, .i = 9}};
  if (spawn("proc_fork_exec/exit", exe, exit9, 2, NULL, 0, &pd)) {
    t_check_exit("proc_fork_exec/exit-status", pd, 9);
    cloudabi_sys_fd_close(pd);
  }

  // One descriptor, a socket: it becomes descriptor 0 of the new program.
  if (T_OK("proc_fork_exec/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    struct t_ad_entry hello[] = {{.key = "mode", .kind = T_AD_STR, .str = "hello"}};
    if (spawn("proc_fork_exec/hello", exe, hello, 1, &b, 1, &pd)) {
      cloudabi_sys_fd_close(b);
      char buf[32];
      size_t n = read_all(a, buf, sizeof(buf));
      t_eq_str("proc_fork_exec/hello-message", buf, n, "hello from exec");
      t_check_exit("proc_fork_exec/hello-status", pd, 0);
      cloudabi_sys_fd_close(pd);
    }
    cloudabi_sys_fd_close(a);
  }

  // Closing the process descriptor kills the program the child became.
  if (T_OK("proc_fork_exec/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    struct t_ad_entry block[] = {{.key = "mode", .kind = T_AD_STR, .str = "block"}};
    if (spawn("proc_fork_exec/block", exe, block, 1, &b, 1, &pd)) {
      cloudabi_sys_fd_close(b);
      // "r" says the new program runs; then it blocks for good.
      char buf[8];
      size_t n;
      if (T_OK("proc_fork_exec/block-ready", t_read(a, buf, 1, &n)))
        t_eq_str("proc_fork_exec/block-ready-byte", buf, n, "r");
      cloudabi_subscription_t subs[2] = {t_sub_proc(1, pd), t_sub_clock(2, CLOUDABI_CLOCK_MONOTONIC, 20 * T_MS, false)};
      cloudabi_event_t ev[2];
      if (T_OK("proc_fork_exec/block-running", t_poll(subs, 2, ev, &n, NULL)))
        t_check_only_event("proc_fork_exec/block-still-running", ev, n, 2, CLOUDABI_EVENTTYPE_CLOCK, 0);
      T_OK("proc_fork_exec/block-close", cloudabi_sys_fd_close(pd));
      cloudabi_errno_t error = t_read(a, buf, sizeof(buf), &n);
      t_true("proc_fork_exec/close-kills", (error == 0 && n == 0) || error == CLOUDABI_ECONNRESET,
             "EOF once the child is killed");
    }
    cloudabi_sys_fd_close(a);
  }
}
