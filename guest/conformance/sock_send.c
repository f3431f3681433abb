// sock_send: gathers data from several buffers into one stream write or
// one datagram; EPIPE (never SIGPIPE) once the peer is gone; EAGAIN on a
// full non-blocking socket; EINVAL for send flags and more than 1024
// buffers; EFAULT, EBADF, ENOTSOCK and ENOTCAPABLE.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static cloudabi_errno_t send_iov(cloudabi_fd_t fd, const cloudabi_ciovec_t *iov, size_t n, size_t *sent) {
  cloudabi_send_in_t in = {.si_data = iov, .si_data_len = n};
  cloudabi_send_out_t out = {0};
  cloudabi_errno_t error = cloudabi_sys_sock_send(fd, &in, &out);
  *sent = out.so_datalen;
  return error;
}

static cloudabi_errno_t send_str(cloudabi_fd_t fd, const char *s) {
  cloudabi_ciovec_t iov = {.buf = s, .buf_len = strlen(s)};
  size_t sent;
  return send_iov(fd, &iov, 1, &sent);
}

// Reads exactly len bytes from a stream (or one datagram).
static cloudabi_errno_t read_n(cloudabi_fd_t fd, char *buf, size_t len, size_t *got) {
  *got = 0;
  while (*got < len) {
    size_t n;
    cloudabi_errno_t error = t_read(fd, buf + *got, len - *got, &n);
    if (error != 0)
      return error;
    if (n == 0)
      break;
    *got += n;
  }
  return 0;
}

static void gather(void) {
  cloudabi_fd_t a, b;
  char buf[32];
  size_t n;
  cloudabi_ciovec_t iov[3] = {{"he", 2}, {"llo", 3}, {" world", 6}};
  if (T_OK("sock_send/setup-stream", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    if (T_OK("sock_send/stream-gather", send_iov(a, iov, 3, &n)))
      t_eq("sock_send/stream-gather-count", n, 11);
    if (T_OK("sock_send/stream-gather-read", read_n(b, buf, 11, &n)))
      t_eq_str("sock_send/stream-gather-data", buf, n, "hello world");
    // Nothing to send is allowed, and sends nothing.
    if (T_OK("sock_send/stream-empty", send_iov(a, iov, 0, &n)))
      t_eq("sock_send/stream-empty-count", n, 0);
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  if (T_OK("sock_send/setup-dgram", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_DGRAM, &a, &b))) {
    // Three buffers make one datagram, read in one go.
    if (T_OK("sock_send/dgram-gather", send_iov(a, iov, 3, &n)))
      t_eq("sock_send/dgram-gather-count", n, 11);
    T_OK("sock_send/dgram-second", send_str(a, "next"));
    if (T_OK("sock_send/dgram-gather-read", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("sock_send/dgram-one-message", buf, n, "hello world");
    if (T_OK("sock_send/dgram-second-read", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("sock_send/dgram-second-message", buf, n, "next");
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}

static void closed_and_full(void) {
  cloudabi_fd_t a, b;
  if (T_OK("sock_send/setup-full", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    cloudabi_fdstat_t st = {.fs_flags = CLOUDABI_FDFLAG_NONBLOCK};
    if (T_OK("sock_send/setup-nonblock", cloudabi_sys_fd_stat_put(a, &st, CLOUDABI_FDSTAT_FLAGS))) {
      static char chunk[16384];
      cloudabi_ciovec_t iov = {chunk, sizeof(chunk)};
      cloudabi_errno_t error = 0;
      size_t n;
      // Nobody reads: the buffer fills up within a few megabytes.
      for (int i = 0; i < 4096 && error == 0; ++i)
        error = send_iov(a, &iov, 1, &n);
      T_ERRNO("sock_send/eagain-when-full", error, E(AGAIN));
    }
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  if (T_OK("sock_send/setup-epipe", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    cloudabi_sys_fd_close(b);
    // A signal would kill us here: SIGPIPE is not delivered.
    T_ERRNO("sock_send/epipe", send_str(a, "lost"), E(PIPE));
    T_ERRNO("sock_send/epipe-again", send_str(a, "lost"), E(PIPE));
    cloudabi_sys_fd_close(a);
  }
}

static void errors(void) {
  cloudabi_fd_t a, b, copy, f;
  cloudabi_send_out_t out;
  if (!T_OK("sock_send/setup-errors", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)))
    return;
  cloudabi_ciovec_t iov = {"x", 1};
  cloudabi_send_in_t in = {.si_data = &iov, .si_data_len = 1};

  in.si_flags = 1;  // no send flags are defined
  T_ERRNO("sock_send/undefined-flags", cloudabi_sys_sock_send(a, &in, &out), E(INVAL));
  in.si_flags = 0;
  size_t many = 1025;
  cloudabi_ciovec_t *iovs = t_map_anon("sock_send/setup-iovs", many * sizeof(*iovs));
  if (iovs != NULL) {
    for (size_t i = 0; i < many; ++i)
      iovs[i] = iov;
    cloudabi_send_in_t big = {.si_data = iovs, .si_data_len = many};
    T_ERRNO("sock_send/too-many-iovecs", cloudabi_sys_sock_send(a, &big, &out), E(INVAL));
    big.si_data_len = 1024;
    if (T_OK("sock_send/1024-iovecs", cloudabi_sys_sock_send(a, &big, &out)))
      t_eq("sock_send/1024-iovecs-count", out.so_datalen, 1024);
    cloudabi_sys_mem_unmap(iovs, many * sizeof(*iovs));
  }

  T_ERRNO("sock_send/efault-in", cloudabi_sys_sock_send(a, T_BADPTR, &out), E(FAULT));
  cloudabi_send_in_t bad = {.si_data = T_BADPTR, .si_data_len = 1};
  T_ERRNO("sock_send/efault-iovecs", cloudabi_sys_sock_send(a, &bad, &out), E(FAULT));
  cloudabi_ciovec_t bad_buf = {T_BADPTR, 8};
  bad.si_data = &bad_buf;
  T_ERRNO("sock_send/efault-buffer", cloudabi_sys_sock_send(a, &bad, &out), E(FAULT));
  // Descriptors and a bad iovec array: EFAULT, with nothing kept (the
  // module once built the control message before copying the iovecs in,
  // and leaked it here; kmod-sim's resource accounting catches that).
  cloudabi_fd_t pass[1] = {b};
  cloudabi_send_in_t bad_with_fds = {.si_data = T_BADPTR, .si_data_len = 1, .si_fds = pass, .si_fds_len = 1};
  T_ERRNO("sock_send/efault-iovecs-with-fds", cloudabi_sys_sock_send(a, &bad_with_fds, &out), E(FAULT));

  T_ERRNO("sock_send/ebadf", cloudabi_sys_sock_send(T_BADFD, &in, &out), E(BADF));
  if (T_OK("sock_send/setup-dup", cloudabi_sys_fd_dup(a, &copy))) {
    T_OK("sock_send/setup-drop", t_drop(copy, T_FAMILY_WRITE));
    T_ERRNO("sock_send/without-right", cloudabi_sys_sock_send(copy, &in, &out), E(NOTCAPABLE));
    cloudabi_sys_fd_close(copy);
  }
  if (T_OK("sock_send/setup-file", t_mkfile(t_tmp, "f", "")) && T_OK("sock_send/setup-open", t_open_file(t_tmp, "f", &f))) {
    T_ERRNO("sock_send/enotsock", cloudabi_sys_sock_send(f, &in, &out), E(NOTSOCK));
    cloudabi_sys_fd_close(f);
  }
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  gather();
  closed_and_full();
  errors();
}
