// poll with several subscriptions at once: every ready descriptor is
// reported in the same call (with its byte count), nothing that is not
// ready, no clock event when something is ready; the earliest clock among
// several (absolute REALTIME next to relative MONOTONIC) when nothing is;
// a zero timeout as a non-blocking check; files ready with their
// remaining bytes; a failing subscription next to ready ones (only the
// failure is reported); never more events than subscriptions.
// SPDX-License-Identifier: BSD-2-Clause

#include "sync.h"

#define NPAIRS 16

static cloudabi_fd_t a[NPAIRS], b[NPAIRS];

static void drain(cloudabi_fd_t fd) {
  cloudabi_fdstat_t st = {.fs_flags = CLOUDABI_FDFLAG_NONBLOCK};
  char buf[64];
  size_t n;
  cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_FLAGS);
  while (t_read(fd, buf, sizeof(buf), &n) == 0 && n > 0) {
  }
  st.fs_flags = 0;
  cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_FLAGS);
}

static void all_ready(void) {
  cloudabi_subscription_t subs[NPAIRS + 1];
  // Room for exactly the subscriptions, plus a guard that must stay.
  cloudabi_event_t ev[NPAIRS + 2];
  size_t n;
  uint64_t took;
  for (int i = 0; i < NPAIRS; ++i) {
    char msg[NPAIRS + 1];
    memset(msg, 'x', (size_t)i + 1);  // i+1 bytes
    msg[i + 1] = '\0';
    T_OK("poll_mix/setup-send", t_write_str(b[i], msg));
    subs[i] = t_sub_fd(100 + i, CLOUDABI_EVENTTYPE_FD_READ, a[i]);
  }
  subs[NPAIRS] = t_sub_clock(999, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false);
  memset(&ev[NPAIRS + 1], 0x5a, sizeof(ev[0]));
  if (!T_OK("poll_mix/all-ready", t_poll(subs, NPAIRS + 1, ev, &n, &took)))
    return;
  t_eq("poll_mix/all-ready-count", n, NPAIRS);
  bool each = true;
  for (int i = 0; i < NPAIRS; ++i) {
    const cloudabi_event_t *e = t_find_event(ev, n, 100 + i);
    each &= e != NULL && e->type == CLOUDABI_EVENTTYPE_FD_READ && e->error == 0 &&
            e->fd_readwrite.nbytes == (cloudabi_filesize_t)(i + 1);
  }
  t_true("poll_mix/all-ready-each", each, "one read event per descriptor with its byte count");
  t_true("poll_mix/all-ready-no-clock", t_find_event(ev, n, 999) == NULL && took < 2 * T_SEC, "no clock event, no wait");
  const unsigned char *guard = (const unsigned char *)&ev[NPAIRS + 1];
  bool intact = true;
  for (size_t i = 0; i < sizeof(ev[0]); ++i)
    intact &= guard[i] == 0x5a;
  t_true("poll_mix/events-within-array", intact, "nothing written past nsubscriptions events");
}

static void some_ready(void) {
  cloudabi_event_t ev[4];
  size_t n;
  uint64_t took;
  // a[0] has data, a[1] has none; both are writable.
  drain(a[1]);
  cloudabi_subscription_t subs[4] = {
      t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_READ, a[0]),
      t_sub_fd(2, CLOUDABI_EVENTTYPE_FD_WRITE, a[0]),
      t_sub_fd(3, CLOUDABI_EVENTTYPE_FD_READ, a[1]),
      t_sub_clock(4, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false),
  };
  if (T_OK("poll_mix/some-ready", t_poll(subs, 4, ev, &n, &took))) {
    t_eq("poll_mix/some-ready-count", n, 2);
    t_check_event("poll_mix/some-ready-read", t_find_event(ev, n, 1), CLOUDABI_EVENTTYPE_FD_READ, 0);
    t_check_event("poll_mix/some-ready-write", t_find_event(ev, n, 2), CLOUDABI_EVENTTYPE_FD_WRITE, 0);
    t_true("poll_mix/some-ready-others-not", t_find_event(ev, n, 3) == NULL && t_find_event(ev, n, 4) == NULL,
           "no event for the empty socket or the clock");
  }
}

static void clocks_first(void) {
  cloudabi_event_t ev[4];
  size_t n;
  uint64_t took;
  for (int i = 0; i < 2; ++i)
    drain(a[i]);
  cloudabi_timestamp_t at = t_now(CLOUDABI_CLOCK_REALTIME) + 30 * T_MS;
  cloudabi_subscription_t subs[4] = {
      t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_READ, a[0]),
      t_sub_clock(2, CLOUDABI_CLOCK_MONOTONIC, 5 * T_SEC, false),
      t_sub_clock(3, CLOUDABI_CLOCK_REALTIME, at, true),
      t_sub_fd(4, CLOUDABI_EVENTTYPE_FD_READ, a[1]),
  };
  if (T_OK("poll_mix/earliest-clock", t_poll(subs, 4, ev, &n, &took))) {
    t_check_only_event("poll_mix/earliest-clock-event", ev, n, 3, CLOUDABI_EVENTTYPE_CLOCK, 0);
    t_true("poll_mix/earliest-clock-waited", t_now(CLOUDABI_CLOCK_REALTIME) + T_MS >= at, "to wait for the deadline");
  }
  // A zero timeout: a check that does not block.
  subs[1] = t_sub_clock(5, CLOUDABI_CLOCK_MONOTONIC, 0, false);
  if (T_OK("poll_mix/zero-timeout", t_poll(subs, 2, ev, &n, &took))) {
    t_check_only_event("poll_mix/zero-timeout-event", ev, n, 5, CLOUDABI_EVENTTYPE_CLOCK, 0);
    t_check("poll_mix/zero-timeout-at-once", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  }
}

static void files(void) {
  cloudabi_fd_t f;
  cloudabi_event_t ev[2];
  size_t n;
  char buf[4];
  if (!T_OK("poll_mix/setup-file", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("poll_mix/setup-open", t_open_file(t_tmp, "f", &f)) || !T_OK("poll_mix/setup-read", t_read(f, buf, 3, &n)))
    return;
  cloudabi_subscription_t subs[2] = {t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_READ, f), t_sub_fd(2, CLOUDABI_EVENTTYPE_FD_WRITE, f)};
  if (T_OK("poll_mix/file", t_poll(subs, 2, ev, &n, NULL))) {
    const cloudabi_event_t *r = t_find_event(ev, n, 1);
    if (t_check_event("poll_mix/file-readable", r, CLOUDABI_EVENTTYPE_FD_READ, 0))
      t_eq("poll_mix/file-readable-bytes-left", r->fd_readwrite.nbytes, 7);
    t_check_event("poll_mix/file-writable", t_find_event(ev, n, 2), CLOUDABI_EVENTTYPE_FD_WRITE, 0);
  }
  cloudabi_sys_fd_close(f);
}

static void failure_among_ready(void) {
  cloudabi_event_t ev[3];
  size_t n;
  uint64_t took;
  cloudabi_subscription_t subs[3] = {
      t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_WRITE, a[2]),
      t_sub_fd(2, CLOUDABI_EVENTTYPE_FD_READ, T_BADFD),
      t_sub_fd(3, CLOUDABI_EVENTTYPE_FD_READ, a[3]),
  };
  if (T_OK("poll_mix/failure-among-ready", t_poll(subs, 3, ev, &n, &took))) {
    t_check_only_event("poll_mix/failure-only", ev, n, 2, CLOUDABI_EVENTTYPE_FD_READ, E(BADF));
    t_check("poll_mix/failure-at-once", took < 2 * T_SEC, "no wait got %lu ns", (unsigned long)took);
  }
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  for (int i = 0; i < NPAIRS; ++i) {
    if (!T_OK("poll_mix/setup-pairs", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a[i], &b[i])))
      return;
  }
  all_ready();
  some_ready();
  clocks_first();
  files();
  failure_among_ready();
}
