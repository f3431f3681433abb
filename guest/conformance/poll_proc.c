// poll with proc_terminate subscriptions: a child's exit status and the
// signal that killed it, reported again when polled again; a running
// child is not reported, also next to clock and descriptor subscriptions;
// closing the last process descriptor kills the child (closing one of two
// does not); errors for descriptors that are not processes, lack the right
// or are not open.
//
// Children here serve one-byte commands over a socket pair: 'e' echoes,
// 'w' writes "data", 'x' exits with status 7; EOF ends them with 0.
// SPDX-License-Identifier: BSD-2-Clause

#include "proc.h"

// Forks a child that serves commands on its end of a new socket pair; the
// parent keeps the other end in *sock.
static bool spawn_server(const char *name, cloudabi_fd_t *pd, cloudabi_fd_t *sock) {
  cloudabi_fd_t a, b;
  cloudabi_tid_t tid;
  if (!T_OK(name, cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)))
    return false;
  if (!T_OK(name, t_fork(pd, &tid)))
    return false;
  if (*pd != CLOUDABI_PROCESS_CHILD) {
    cloudabi_sys_fd_close(b);
    *sock = a;
    return true;
  }
  cloudabi_sys_fd_close(a);
  for (;;) {
    char c;
    size_t n;
    if (t_read(b, &c, 1, &n) != 0 || n == 0)
      cloudabi_sys_proc_exit(0);
    if (c == 'e')
      t_write_str(b, "e");
    else if (c == 'w')
      t_write_str(b, "data");
    else if (c == 'x')
      cloudabi_sys_proc_exit(7);
  }
}

// A child that only exits (or raises a signal).
static bool spawn(const char *name, cloudabi_fd_t *pd, cloudabi_exitcode_t code, cloudabi_signal_t sig) {
  cloudabi_tid_t tid;
  if (!T_OK(name, t_fork(pd, &tid)))
    return false;
  if (*pd != CLOUDABI_PROCESS_CHILD)
    return true;
  if (sig != 0)
    cloudabi_sys_proc_raise(sig);
  cloudabi_sys_proc_exit(code);
}

static void check_terminated(const char *name, const cloudabi_event_t *ev, size_t n, uint64_t userdata,
                             cloudabi_exitcode_t code, cloudabi_signal_t sig) {
  if (!t_check_only_event(name, ev, n, userdata, CLOUDABI_EVENTTYPE_PROC_TERMINATE, 0))
    return;
  char detail[80];
  fmt_snprintf(detail, sizeof(detail), "%s-status", name);
  t_check(detail, ev[0].proc_terminate.exitcode == code && ev[0].proc_terminate.signal == sig,
          "expected status %u signal %u got status %u signal %u", code, sig, ev[0].proc_terminate.exitcode,
          ev[0].proc_terminate.signal);
}

static void statuses(void) {
  cloudabi_fd_t pd;
  cloudabi_event_t ev[2];
  size_t n;
  cloudabi_subscription_t sub;

  if (spawn("poll_proc/exit-42", &pd, 42, 0)) {
    sub = t_sub_proc(1, pd);
    if (T_OK("poll_proc/exit-42-poll", t_poll(&sub, 1, ev, &n, NULL)))
      check_terminated("poll_proc/exit-42-event", ev, n, 1, 42, 0);
    // Still reported when asked again.
    sub.userdata = 2;
    if (T_OK("poll_proc/exit-42-again", t_poll(&sub, 1, ev, &n, NULL)))
      check_terminated("poll_proc/exit-42-again-event", ev, n, 2, 42, 0);
    cloudabi_sys_fd_close(pd);
  }
  if (spawn("poll_proc/exit-0", &pd, 0, 0)) {
    sub = t_sub_proc(3, pd);
    if (T_OK("poll_proc/exit-0-poll", t_poll(&sub, 1, ev, &n, NULL)))
      check_terminated("poll_proc/exit-0-event", ev, n, 3, 0, 0);
    cloudabi_sys_fd_close(pd);
  }
  static const struct {
    const char *name;
    cloudabi_signal_t sig;
  } killed[] = {
      {"poll_proc/sigusr1", CLOUDABI_SIGUSR1},
      {"poll_proc/sigterm", CLOUDABI_SIGTERM},
      {"poll_proc/sigkill", CLOUDABI_SIGKILL},
  };
  for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); ++i) {
    if (!spawn(killed[i].name, &pd, 99, killed[i].sig))
      continue;
    sub = t_sub_proc(4, pd);
    if (T_OK(killed[i].name, t_poll(&sub, 1, ev, &n, NULL)))
      check_terminated(killed[i].name, ev, n, 4, 0, killed[i].sig);
    cloudabi_sys_fd_close(pd);
  }
}

// A running child next to other subscriptions.
static void mixes(void) {
  cloudabi_fd_t pd, sock;
  cloudabi_event_t ev[3];
  size_t n;
  uint64_t took;
  char buf[16];
  if (!spawn_server("poll_proc/mix-setup", &pd, &sock))
    return;

  cloudabi_subscription_t subs[3] = {t_sub_proc(10, pd), t_sub_clock(11, CLOUDABI_CLOCK_MONOTONIC, 20 * T_MS, false)};
  if (T_OK("poll_proc/running", t_poll(subs, 2, ev, &n, &took)))
    t_check_only_event("poll_proc/running-timeout", ev, n, 11, CLOUDABI_EVENTTYPE_CLOCK, 0);

  // The child writes: only the descriptor is ready.
  T_OK("poll_proc/mix-send-w", t_write_str(sock, "w"));
  subs[0] = t_sub_fd(12, CLOUDABI_EVENTTYPE_FD_READ, sock);
  subs[1] = t_sub_proc(13, pd);
  subs[2] = t_sub_clock(14, CLOUDABI_CLOCK_MONOTONIC, 10 * T_SEC, false);
  if (T_OK("poll_proc/fd-ready", t_poll(subs, 3, ev, &n, &took)))
    t_check_only_event("poll_proc/fd-ready-event", ev, n, 12, CLOUDABI_EVENTTYPE_FD_READ, 0);
  size_t got = 0;
  while (got < 4 && t_read(sock, buf + got, 4 - got, &n) == 0 && n > 0)
    got += n;
  t_eq_str("poll_proc/fd-ready-data", buf, got, "data");

  // The child exits: the process event, with its status.
  T_OK("poll_proc/mix-send-x", t_write_str(sock, "x"));
  subs[0] = t_sub_proc(15, pd);
  subs[1] = t_sub_clock(16, CLOUDABI_CLOCK_MONOTONIC, 10 * T_SEC, false);
  if (T_OK("poll_proc/exits", t_poll(subs, 2, ev, &n, &took)))
    check_terminated("poll_proc/exits-event", ev, n, 15, 7, 0);
  cloudabi_sys_fd_close(sock);
  cloudabi_sys_fd_close(pd);
}

// Reads until EOF; true if the peer is gone (0 bytes, or a reset).
static bool peer_gone(cloudabi_fd_t sock) {
  char buf[16];
  size_t n;
  for (;;) {
    cloudabi_errno_t error = t_read(sock, buf, sizeof(buf), &n);
    if (error != 0)
      return error == CLOUDABI_ECONNRESET;
    if (n == 0)
      return true;
  }
}

// Closing the last process descriptor kills the child.
static void close_kills(void) {
  cloudabi_fd_t pd, copy, sock;
  char buf[4];
  size_t n;
  if (!spawn_server("poll_proc/close-setup", &pd, &sock))
    return;
  if (T_OK("poll_proc/close-dup", cloudabi_sys_fd_dup(pd, &copy))) {
    T_OK("poll_proc/close-first", cloudabi_sys_fd_close(pd));
    // One descriptor left: the child still answers.
    if (T_OK("poll_proc/close-ping", t_write_str(sock, "e")) && T_OK("poll_proc/close-pong", t_read(sock, buf, 1, &n)))
      t_eq_str("poll_proc/alive-after-closing-a-copy", buf, n, "e");
    pd = copy;
  }
  // The child blocks reading; closing the last descriptor kills it, which
  // closes its end of the socket pair.
  T_OK("poll_proc/close-last", cloudabi_sys_fd_close(pd));
  t_true("poll_proc/close-kills", peer_gone(sock), "EOF once the child is killed");
  cloudabi_sys_fd_close(sock);
}

static void errors(void) {
  cloudabi_fd_t pd, copy, a, b;
  cloudabi_event_t ev[2];
  size_t n;
  cloudabi_subscription_t sub = t_sub_proc(20, T_BADFD);
  if (T_OK("poll_proc/ebadf", t_poll(&sub, 1, ev, &n, NULL)))
    t_check_only_event("poll_proc/ebadf-event", ev, n, 20, CLOUDABI_EVENTTYPE_PROC_TERMINATE, E(BADF));

  // Not a process: cloudabi64 finds the right missing, FreeBSD the object
  // of the wrong kind.
  if (T_OK("poll_proc/setup-socketpair", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    sub = t_sub_proc(21, a);
    if (T_OK("poll_proc/not-a-process", t_poll(&sub, 1, ev, &n, NULL)) &&
        t_eq("poll_proc/not-a-process-one-event", n, 1))
      T_ERRNO("poll_proc/not-a-process-event", ev[0].error, E(NOTCAPABLE), E(INVAL));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }

  if (!spawn("poll_proc/right-setup", &pd, 5, 0))
    return;
  if (T_OK("poll_proc/right-dup", cloudabi_sys_fd_dup(pd, &copy)) &&
      T_OK("poll_proc/right-drop", t_drop(copy, T_FAMILY_POLL))) {
    sub = t_sub_proc(22, copy);
    if (T_OK("poll_proc/without-right", t_poll(&sub, 1, ev, &n, NULL)))
      t_check_only_event("poll_proc/without-right-event", ev, n, 22, CLOUDABI_EVENTTYPE_PROC_TERMINATE,
                         E(NOTCAPABLE));
    cloudabi_sys_fd_close(copy);
  }
  t_check_exit("poll_proc/right-child", pd, 5);
  cloudabi_sys_fd_close(pd);
}

void test_main(const argdata_t *config) {
  (void)config;
  statuses();
  mixes();
  close_kills();
  errors();
}
