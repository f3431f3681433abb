// fd_create2: a connected pair of stream or datagram sockets. Data sent on
// one end arrives at the other; datagrams keep their boundaries; closing an
// end gives EOF to readers and EPIPE (not a signal: SIGPIPE is ignored in
// CloudABI processes) to writers.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static void check_pair(const char *what, cloudabi_filetype_t type, cloudabi_fd_t a,
                       cloudabi_fd_t b) {
  char name[64], buf[32];
  size_t n;
  cloudabi_fdstat_t st;
  fmt_snprintf(name, sizeof(name), "fd_create2/%s-filetype", what);
  if (T_OK(name, cloudabi_sys_fd_stat_get(a, &st))) {
    t_eq(name, st.fs_filetype, type);
    fmt_snprintf(name, sizeof(name), "fd_create2/%s-rights", what);
    t_eq_hex(name, st.fs_rights_base, T_RIGHTS_SOCKET);
  }
  fmt_snprintf(name, sizeof(name), "fd_create2/%s-a-to-b", what);
  if (T_OK(name, t_write_str(a, "ping")) && T_OK(name, t_read(b, buf, sizeof(buf), &n)))
    t_eq_str(name, buf, n, "ping");
  fmt_snprintf(name, sizeof(name), "fd_create2/%s-b-to-a", what);
  if (T_OK(name, t_write_str(b, "pong")) && T_OK(name, t_read(a, buf, sizeof(buf), &n)))
    t_eq_str(name, buf, n, "pong");
}

void test_main(const argdata_t *config) {
  (void)config;
  cloudabi_fd_t a, b;
  char buf[32];
  size_t n;

  if (T_OK("fd_create2/stream", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    t_true("fd_create2/stream-distinct", a != b, "two different descriptors");
    check_pair("stream", CLOUDABI_FILETYPE_SOCKET_STREAM, a, b);
    // Closing one end: the other reads EOF and cannot write.
    T_OK("fd_create2/close-a", cloudabi_sys_fd_close(a));
    if (T_OK("fd_create2/eof-read", t_read(b, buf, sizeof(buf), &n)))
      t_eq("fd_create2/eof", n, 0);
    T_ERRNO("fd_create2/epipe", t_write_str(b, "lost"), E(PIPE));
    cloudabi_sys_fd_close(b);
  }

  if (T_OK("fd_create2/dgram", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_DGRAM, &a, &b))) {
    check_pair("dgram", CLOUDABI_FILETYPE_SOCKET_DGRAM, a, b);
    // Two messages are read one at a time.
    if (T_OK("fd_create2/dgram-send", t_write_str(a, "one")) &&
        T_OK("fd_create2/dgram-send", t_write_str(a, "three"))) {
      if (T_OK("fd_create2/dgram-recv-1", t_read(b, buf, sizeof(buf), &n)))
        t_eq_str("fd_create2/dgram-boundary-1", buf, n, "one");
      if (T_OK("fd_create2/dgram-recv-2", t_read(b, buf, sizeof(buf), &n)))
        t_eq_str("fd_create2/dgram-boundary-2", buf, n, "three");
    }
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }

  // Only the two socket types.
  T_ERRNO("fd_create2/shared-memory", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SHARED_MEMORY, &a, &b), E(INVAL));
  T_ERRNO("fd_create2/regular-file", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_REGULAR_FILE, &a, &b), E(INVAL));
  T_ERRNO("fd_create2/directory", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_DIRECTORY, &a, &b), E(INVAL));
  T_ERRNO("fd_create2/undefined", cloudabi_sys_fd_create2(0x81, &a, &b), E(INVAL));
}
