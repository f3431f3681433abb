// sock_recv: scatters data into several buffers; PEEK leaves it queued;
// WAITALL collects a whole buffer across sends and stops at EOF; datagrams
// longer than the buffers are cut (DATA_TRUNCATED) and the rest dropped;
// EOF and EAGAIN; EINVAL for undefined flags and more than 1024 buffers;
// EFAULT, EBADF, ENOTSOCK, ENOTCAPABLE. On a listening socket
// (cloudabi64's accept extension): EINVAL without room for a descriptor,
// EAGAIN when non-blocking with no connection pending.
// SPDX-License-Identifier: BSD-2-Clause

#include "sync.h"

static cloudabi_errno_t recv_iov(cloudabi_fd_t fd, const cloudabi_iovec_t *iov, size_t n, cloudabi_riflags_t flags,
                                 cloudabi_recv_out_t *out) {
  cloudabi_recv_in_t in = {.ri_data = iov, .ri_data_len = n, .ri_flags = flags};
  memset(out, 0, sizeof(*out));
  return cloudabi_sys_sock_recv(fd, &in, out);
}

static cloudabi_errno_t recv_buf(cloudabi_fd_t fd, char *buf, size_t len, cloudabi_riflags_t flags,
                                 cloudabi_recv_out_t *out) {
  cloudabi_iovec_t iov = {.buf = buf, .buf_len = len};
  return recv_iov(fd, &iov, 1, flags, out);
}

static void stream(void) {
  cloudabi_fd_t a, b;
  cloudabi_recv_out_t out;
  char buf[32], b1[3], b2[10];
  if (!T_OK("sock_recv/setup-stream", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)))
    return;

  // Scatter: the first buffer is filled before the second.
  T_OK("sock_recv/setup-send", t_write_str(a, "abcdefgh"));
  cloudabi_iovec_t iov[2] = {{b1, sizeof(b1)}, {b2, sizeof(b2)}};
  if (T_OK("sock_recv/scatter", recv_iov(b, iov, 2, 0, &out))) {
    t_eq("sock_recv/scatter-count", out.ro_datalen, 8);
    t_eq_str("sock_recv/scatter-first", b1, 3, "abc");
    t_eq_str("sock_recv/scatter-second", b2, out.ro_datalen - 3, "defgh");
    t_eq("sock_recv/scatter-no-fds", out.ro_fdslen, 0);
    t_eq_hex("sock_recv/scatter-no-flags", out.ro_flags, 0);
  }

  // PEEK: the data stays.
  T_OK("sock_recv/setup-peek", t_write_str(a, "peek"));
  if (T_OK("sock_recv/peek", recv_buf(b, buf, sizeof(buf), CLOUDABI_SOCK_RECV_PEEK, &out)))
    t_eq_str("sock_recv/peek-data", buf, out.ro_datalen, "peek");
  if (T_OK("sock_recv/after-peek", recv_buf(b, buf, sizeof(buf), 0, &out)))
    t_eq_str("sock_recv/after-peek-data", buf, out.ro_datalen, "peek");

  // WAITALL: two sends fill one buffer; EOF ends the wait early.
  T_OK("sock_recv/setup-waitall-1", t_write_str(a, "ab"));
  T_OK("sock_recv/setup-waitall-2", t_write_str(a, "cd"));
  if (T_OK("sock_recv/waitall", recv_buf(b, buf, 4, CLOUDABI_SOCK_RECV_WAITALL, &out)))
    t_eq_str("sock_recv/waitall-data", buf, out.ro_datalen, "abcd");
  T_OK("sock_recv/setup-waitall-eof", t_write_str(a, "xyz"));
  T_OK("sock_recv/setup-close", cloudabi_sys_fd_close(a));
  if (T_OK("sock_recv/waitall-eof", recv_buf(b, buf, 8, CLOUDABI_SOCK_RECV_WAITALL, &out)))
    t_eq_str("sock_recv/waitall-eof-data", buf, out.ro_datalen, "xyz");
  if (T_OK("sock_recv/eof", recv_buf(b, buf, sizeof(buf), 0, &out)))
    t_eq("sock_recv/eof-empty", out.ro_datalen, 0);
  cloudabi_sys_fd_close(b);
}

static void dgram(void) {
  cloudabi_fd_t a, b;
  cloudabi_recv_out_t out;
  char buf[32];
  if (!T_OK("sock_recv/setup-dgram", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_DGRAM, &a, &b)))
    return;
  T_OK("sock_recv/setup-long", t_write_str(a, "0123456789"));
  T_OK("sock_recv/setup-short", t_write_str(a, "xy"));
  if (T_OK("sock_recv/truncated", recv_buf(b, buf, 4, 0, &out))) {
    t_eq_str("sock_recv/truncated-data", buf, out.ro_datalen, "0123");
    t_true("sock_recv/truncated-flag", (out.ro_flags & CLOUDABI_SOCK_RECV_DATA_TRUNCATED) != 0, "DATA_TRUNCATED");
  }
  // The rest of the long datagram is gone; the next one is whole.
  if (T_OK("sock_recv/next-message", recv_buf(b, buf, sizeof(buf), 0, &out))) {
    t_eq_str("sock_recv/next-message-data", buf, out.ro_datalen, "xy");
    t_eq_hex("sock_recv/next-message-flags", out.ro_flags, 0);
  }
  // Scatter within one datagram.
  char b1[2], b2[8];
  cloudabi_iovec_t iov[2] = {{b1, sizeof(b1)}, {b2, sizeof(b2)}};
  T_OK("sock_recv/setup-dgram-scatter", t_write_str(a, "message"));
  if (T_OK("sock_recv/dgram-scatter", recv_iov(b, iov, 2, 0, &out))) {
    t_eq("sock_recv/dgram-scatter-count", out.ro_datalen, 7);
    t_eq_str("sock_recv/dgram-scatter-first", b1, 2, "me");
    t_eq_str("sock_recv/dgram-scatter-second", b2, 5, "ssage");
  }
  // Non-blocking with nothing queued.
  cloudabi_fdstat_t st = {.fs_flags = CLOUDABI_FDFLAG_NONBLOCK};
  if (T_OK("sock_recv/setup-nonblock", cloudabi_sys_fd_stat_put(b, &st, CLOUDABI_FDSTAT_FLAGS)))
    T_ERRNO("sock_recv/eagain", recv_buf(b, buf, sizeof(buf), 0, &out), E(AGAIN));
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

static void errors(void) {
  cloudabi_fd_t a, b, copy, f;
  cloudabi_recv_out_t out;
  char buf[8];
  if (!T_OK("sock_recv/setup-errors", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)))
    return;
  T_OK("sock_recv/setup-data", t_write_str(a, "data"));
  T_ERRNO("sock_recv/undefined-flags", recv_buf(b, buf, sizeof(buf), 0x1, &out), E(INVAL));
  size_t many = 1025;
  cloudabi_iovec_t *iovs = t_map_anon("sock_recv/setup-iovs", many * sizeof(*iovs));
  if (iovs != NULL) {
    for (size_t i = 0; i < many; ++i)
      iovs[i] = (cloudabi_iovec_t){buf, 1};
    T_ERRNO("sock_recv/too-many-iovecs", recv_iov(b, iovs, many, 0, &out), E(INVAL));
    cloudabi_sys_mem_unmap(iovs, many * sizeof(*iovs));
  }
  T_ERRNO("sock_recv/efault-in", cloudabi_sys_sock_recv(b, T_BADPTR, &out), E(FAULT));
  T_ERRNO("sock_recv/efault-iovecs", recv_iov(b, T_BADPTR, 1, 0, &out), E(FAULT));
  T_ERRNO("sock_recv/efault-buffer", recv_buf(b, T_BADPTR, 8, 0, &out), E(FAULT));
  T_ERRNO("sock_recv/ebadf", recv_buf(T_BADFD, buf, sizeof(buf), 0, &out), E(BADF));
  if (T_OK("sock_recv/setup-dup", cloudabi_sys_fd_dup(b, &copy))) {
    T_OK("sock_recv/setup-drop", t_drop(copy, T_FAMILY_READ));
    T_ERRNO("sock_recv/without-right", recv_buf(copy, buf, sizeof(buf), 0, &out), E(NOTCAPABLE));
    cloudabi_sys_fd_close(copy);
  }
  if (T_OK("sock_recv/setup-file", t_mkfile(t_tmp, "f", "file")) && T_OK("sock_recv/setup-open", t_open_file(t_tmp, "f", &f))) {
    T_ERRNO("sock_recv/enotsock", recv_buf(f, buf, sizeof(buf), 0, &out), E(NOTSOCK));
    cloudabi_sys_fd_close(f);
  }
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

// The accept extension's error paths on a listening socket nobody
// connects to.
static void listening(const argdata_t *config) {
  cloudabi_fd_t l, conn;
  cloudabi_recv_out_t out;
  char buf[8];
  if (argdata_map_get_fd(config, "listen", &l) != 0) {
    t_fail("config", "this test needs listen: !socket {bind: ...}");
    return;
  }
  cloudabi_iovec_t iov = {buf, sizeof(buf)};
  cloudabi_recv_in_t in = {.ri_data = &iov, .ri_data_len = 1, .ri_fds = &conn, .ri_fds_len = 0};
  T_ERRNO("sock_recv/accept-no-room", cloudabi_sys_sock_recv(l, &in, &out), E(INVAL));
  // Nothing pending: not readable, and EAGAIN when non-blocking.
  cloudabi_subscription_t subs[2] = {t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_READ, l),
                                     t_sub_clock(2, CLOUDABI_CLOCK_MONOTONIC, 20 * T_MS, false)};
  cloudabi_event_t ev[2];
  size_t n;
  if (T_OK("sock_recv/accept-nothing-pending", t_poll(subs, 2, ev, &n, NULL)))
    t_check_only_event("sock_recv/accept-nothing-pending-event", ev, n, 2, CLOUDABI_EVENTTYPE_CLOCK, 0);
  cloudabi_fdstat_t st = {.fs_flags = CLOUDABI_FDFLAG_NONBLOCK};
  if (T_OK("sock_recv/setup-listen-nonblock", cloudabi_sys_fd_stat_put(l, &st, CLOUDABI_FDSTAT_FLAGS))) {
    in.ri_fds_len = 1;
    T_ERRNO("sock_recv/accept-eagain", cloudabi_sys_sock_recv(l, &in, &out), E(AGAIN));
  }
}

void test_main(const argdata_t *config) {
  t_need_tmpdir();
  stream();
  dgram();
  errors();
  listening(config);
}
