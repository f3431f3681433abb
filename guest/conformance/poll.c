// poll: clock subscriptions (relative and absolute), descriptor readiness
// on a socket pair, mixes of both, and subscriptions that fail, which are
// reported as events with an error while nothing is waited for.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#define MS UINT64_C(1000000)
#define SEC (1000 * MS)
// Timers may fire a little early on coarse clocks; allow this much.
#define EARLY (1 * MS)

static cloudabi_subscription_t clock_sub(uint64_t userdata, cloudabi_clockid_t id,
                                         cloudabi_timestamp_t timeout, bool absolute) {
  return (cloudabi_subscription_t){
      .userdata = userdata,
      .type = CLOUDABI_EVENTTYPE_CLOCK,
      .clock = {.identifier = userdata,
                .clock_id = id,
                .timeout = timeout,
                .flags = absolute ? CLOUDABI_SUBSCRIPTION_CLOCK_ABSTIME : 0},
  };
}

static cloudabi_subscription_t fd_sub(uint64_t userdata, cloudabi_eventtype_t type, cloudabi_fd_t fd) {
  return (cloudabi_subscription_t){
      .userdata = userdata,
      .type = type,
      .fd_readwrite = {.fd = fd, .flags = CLOUDABI_SUBSCRIPTION_FD_READWRITE_POLL},
  };
}

// Runs poll; returns the number of events (0 if poll itself failed, which
// is reported) and how long it took.
static size_t run(const char *name, const cloudabi_subscription_t *subs, size_t n, cloudabi_event_t *events,
                  uint64_t *elapsed) {
  size_t nevents = 0;
  cloudabi_timestamp_t start = t_now(CLOUDABI_CLOCK_MONOTONIC);
  bool ok = T_OK(name, cloudabi_sys_poll(subs, events, n, &nevents));
  *elapsed = t_now(CLOUDABI_CLOCK_MONOTONIC) - start;
  return ok ? nevents : 0;
}

// The event with the given userdata, or NULL.
static const cloudabi_event_t *find(const cloudabi_event_t *events, size_t n, uint64_t userdata) {
  for (size_t i = 0; i < n; ++i) {
    if (events[i].userdata == userdata)
      return &events[i];
  }
  return NULL;
}

static void check_event(const char *name, const cloudabi_event_t *ev, cloudabi_eventtype_t type,
                        cloudabi_errno_t error) {
  if (ev == NULL) {
    t_fail(name, "expected an event got none");
    return;
  }
  t_check(name, ev->type == type && ev->error == error, "expected type %u error %s got type %u error %s",
          type, errno_name(error), ev->type, errno_name(ev->error));
}

static void clocks(void) {
  cloudabi_subscription_t subs[2];
  cloudabi_event_t ev[2];
  uint64_t took;
  size_t n;

  if (T_OK("poll/no-subscriptions", cloudabi_sys_poll(subs, ev, 0, &n)))
    t_eq("poll/no-subscriptions-no-events", n, 0);

  subs[0] = clock_sub(0x1234, CLOUDABI_CLOCK_MONOTONIC, 10 * MS, false);
  n = run("poll/relative", subs, 1, ev, &took);
  t_eq("poll/relative-one-event", n, 1);
  check_event("poll/relative-event", find(ev, n, 0x1234), CLOUDABI_EVENTTYPE_CLOCK, 0);
  t_check("poll/relative-waited", took + EARLY >= 10 * MS, "at least 10 ms got %lu ns", (unsigned long)took);

  cloudabi_timestamp_t deadline = t_now(CLOUDABI_CLOCK_MONOTONIC) + 20 * MS;
  subs[0] = clock_sub(7, CLOUDABI_CLOCK_MONOTONIC, deadline, true);
  n = run("poll/absolute", subs, 1, ev, &took);
  check_event("poll/absolute-event", find(ev, n, 7), CLOUDABI_EVENTTYPE_CLOCK, 0);
  t_true("poll/absolute-waited", t_now(CLOUDABI_CLOCK_MONOTONIC) + EARLY >= deadline, "to return after the deadline");

  subs[0] = clock_sub(8, CLOUDABI_CLOCK_MONOTONIC, 1, true);  // long past
  n = run("poll/absolute-past", subs, 1, ev, &took);
  check_event("poll/absolute-past-event", find(ev, n, 8), CLOUDABI_EVENTTYPE_CLOCK, 0);
  t_check("poll/absolute-past-immediate", took < SEC, "no wait got %lu ns", (unsigned long)took);

  subs[0] = clock_sub(9, CLOUDABI_CLOCK_REALTIME, 5 * MS, false);
  n = run("poll/realtime", subs, 1, ev, &took);
  check_event("poll/realtime-event", find(ev, n, 9), CLOUDABI_EVENTTYPE_CLOCK, 0);

  // Two timers: the earlier one fires, the later one is not reported.
  subs[0] = clock_sub(1, CLOUDABI_CLOCK_MONOTONIC, 2 * SEC, false);
  subs[1] = clock_sub(2, CLOUDABI_CLOCK_MONOTONIC, 10 * MS, false);
  n = run("poll/two-clocks", subs, 2, ev, &took);
  check_event("poll/two-clocks-earlier", find(ev, n, 2), CLOUDABI_EVENTTYPE_CLOCK, 0);
  t_true("poll/two-clocks-later-pending", find(ev, n, 1) == NULL && took < 2 * SEC,
         "only the 10 ms timer to fire");

  // An invalid clock fails on its own; nothing is waited for.
  subs[0] = clock_sub(3, 99, 10 * MS, false);
  subs[1] = clock_sub(4, CLOUDABI_CLOCK_MONOTONIC, 5 * SEC, false);
  n = run("poll/invalid-clock", subs, 2, ev, &took);
  check_event("poll/invalid-clock-event", find(ev, n, 3), CLOUDABI_EVENTTYPE_CLOCK, E(INVAL));
  t_true("poll/invalid-clock-no-wait", find(ev, n, 4) == NULL && took < 2 * SEC,
         "only the failure, at once");
  subs[0] = clock_sub(5, CLOUDABI_CLOCK_MONOTONIC, 0, false);
  subs[0].clock.flags = 0x2;  // undefined subclockflags bit
  n = run("poll/undefined-clock-flag", subs, 1, ev, &took);
  check_event("poll/undefined-clock-flag-event", find(ev, n, 5), CLOUDABI_EVENTTYPE_CLOCK, E(INVAL));
}

static void descriptors(void) {
  cloudabi_subscription_t subs[3];
  cloudabi_event_t ev[3];
  uint64_t took;
  size_t n;
  cloudabi_fd_t a, b, d;

  if (!T_OK("poll/setup-socketpair", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)))
    return;

  // Nothing to read: the timeout fires.
  subs[0] = fd_sub(10, CLOUDABI_EVENTTYPE_FD_READ, a);
  subs[1] = clock_sub(11, CLOUDABI_CLOCK_MONOTONIC, 20 * MS, false);
  n = run("poll/not-readable", subs, 2, ev, &took);
  t_true("poll/not-readable-timeout", n == 1 && find(ev, n, 11) != NULL, "only the clock event");

  // Writable at once (an empty socket buffer), and not waiting for the clock.
  subs[0] = fd_sub(12, CLOUDABI_EVENTTYPE_FD_WRITE, a);
  subs[1] = clock_sub(13, CLOUDABI_CLOCK_MONOTONIC, 5 * SEC, false);
  n = run("poll/writable", subs, 2, ev, &took);
  const cloudabi_event_t *e = find(ev, n, 12);
  check_event("poll/writable-event", e, CLOUDABI_EVENTTYPE_FD_WRITE, 0);
  if (e != NULL)
    t_true("poll/writable-room", e->fd_readwrite.nbytes > 0, "room to write (nbytes > 0)");
  t_true("poll/writable-no-timeout", find(ev, n, 13) == NULL && took < 2 * SEC, "no clock event, no wait");

  // Data arrives: readable, with the number of bytes.
  T_OK("poll/setup-send", t_write_str(b, "hello"));
  subs[0] = fd_sub(14, CLOUDABI_EVENTTYPE_FD_READ, a);
  n = run("poll/readable", subs, 1, ev, &took);
  e = find(ev, n, 14);
  check_event("poll/readable-event", e, CLOUDABI_EVENTTYPE_FD_READ, 0);
  if (e != NULL) {
    t_eq("poll/readable-nbytes", e->fd_readwrite.nbytes, 5);
    t_eq("poll/readable-no-hangup", e->fd_readwrite.flags & CLOUDABI_EVENT_FD_READWRITE_HANGUP, 0);
  }
  char buf[16];
  T_OK("poll/setup-drain", t_read(a, buf, sizeof(buf), &n));

  // A mix: the ready one is reported, the others not.
  subs[0] = fd_sub(15, CLOUDABI_EVENTTYPE_FD_READ, a);
  subs[1] = fd_sub(16, CLOUDABI_EVENTTYPE_FD_WRITE, a);
  subs[2] = clock_sub(17, CLOUDABI_CLOCK_MONOTONIC, 5 * SEC, false);
  n = run("poll/mix", subs, 3, ev, &took);
  check_event("poll/mix-writable", find(ev, n, 16), CLOUDABI_EVENTTYPE_FD_WRITE, 0);
  t_true("poll/mix-only-ready", find(ev, n, 15) == NULL && find(ev, n, 17) == NULL && took < 2 * SEC,
         "neither the read nor the clock event");

  // Regular files are always readable.
  if (T_OK("poll/setup-file", t_mkfile(t_tmp, "f", "x")) && T_OK("poll/setup-open", t_open_file(t_tmp, "f", &d))) {
    subs[0] = fd_sub(18, CLOUDABI_EVENTTYPE_FD_READ, d);
    n = run("poll/file", subs, 1, ev, &took);
    check_event("poll/file-readable", find(ev, n, 18), CLOUDABI_EVENTTYPE_FD_READ, 0);
    cloudabi_sys_fd_close(d);
  }

  // Failing subscriptions: reported as events, nothing is waited for.
  subs[0] = fd_sub(20, CLOUDABI_EVENTTYPE_FD_READ, T_BADFD);
  subs[1] = clock_sub(21, CLOUDABI_CLOCK_MONOTONIC, 5 * SEC, false);
  n = run("poll/ebadf", subs, 2, ev, &took);
  check_event("poll/ebadf-event", find(ev, n, 20), CLOUDABI_EVENTTYPE_FD_READ, E(BADF));
  t_true("poll/ebadf-no-wait", n == 1 && took < 2 * SEC, "only the failure, at once");
  if (T_OK("poll/setup-dup", cloudabi_sys_fd_dup(a, &d))) {
    T_OK("poll/setup-drop", t_drop(d, T_FAMILY_POLL));
    subs[0] = fd_sub(22, CLOUDABI_EVENTTYPE_FD_WRITE, d);
    n = run("poll/without-right", subs, 1, ev, &took);
    check_event("poll/without-right-event", find(ev, n, 22), CLOUDABI_EVENTTYPE_FD_WRITE, E(NOTCAPABLE));
    cloudabi_sys_fd_close(d);
  }
  subs[0] = fd_sub(23, CLOUDABI_EVENTTYPE_FD_READ, a);
  subs[0].fd_readwrite.flags = 0x2;
  n = run("poll/undefined-rw-flag", subs, 1, ev, &took);
  check_event("poll/undefined-rw-flag-event", find(ev, n, 23), CLOUDABI_EVENTTYPE_FD_READ, E(INVAL));
  subs[0] = (cloudabi_subscription_t){.userdata = 24, .type = 99};
  n = run("poll/undefined-type", subs, 1, ev, &took);
  check_event("poll/undefined-type-event", find(ev, n, 24), 99, E(INVAL));
  // A lock subscription is only allowed first.
  static _Atomic(cloudabi_lock_t) lock;
  subs[0] = clock_sub(25, CLOUDABI_CLOCK_MONOTONIC, 5 * SEC, false);
  subs[1] = (cloudabi_subscription_t){.userdata = 26,
                                      .type = CLOUDABI_EVENTTYPE_LOCK_RDLOCK,
                                      .lock = {.lock = &lock, .lock_scope = CLOUDABI_SCOPE_PRIVATE}};
  n = run("poll/lock-not-first", subs, 2, ev, &took);
  check_event("poll/lock-not-first-event", find(ev, n, 26), CLOUDABI_EVENTTYPE_LOCK_RDLOCK, E(INVAL));
  t_true("poll/lock-not-first-no-wait", n == 1 && took < 2 * SEC, "only the failure, at once");

  // The peer goes away: readable with hangup.
  T_OK("poll/setup-close-peer", cloudabi_sys_fd_close(b));
  subs[0] = fd_sub(27, CLOUDABI_EVENTTYPE_FD_READ, a);
  subs[1] = clock_sub(28, CLOUDABI_CLOCK_MONOTONIC, 5 * SEC, false);
  n = run("poll/hangup", subs, 2, ev, &took);
  e = find(ev, n, 27);
  check_event("poll/hangup-event", e, CLOUDABI_EVENTTYPE_FD_READ, 0);
  if (e != NULL)
    t_true("poll/hangup-flag", (e->fd_readwrite.flags & CLOUDABI_EVENT_FD_READWRITE_HANGUP) != 0,
           "the hangup flag");
  cloudabi_sys_fd_close(a);

  // The arrays themselves.
  subs[0] = clock_sub(29, CLOUDABI_CLOCK_MONOTONIC, 0, false);
  T_ERRNO("poll/efault-subscriptions", cloudabi_sys_poll(T_BADPTR, ev, 1, &n), E(FAULT));
  T_ERRNO("poll/efault-events", cloudabi_sys_poll(subs, T_BADPTR, 1, &n), E(FAULT));
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  clocks();
  descriptors();
}
