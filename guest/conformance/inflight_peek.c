// Rights of descriptors in flight survive PEEK (issue 13, D1): a program
// handed an append-only log sends it to itself over a socket pair, peeks
// at the message, then receives it. The descriptor it gets back has no
// right the log had not: it still cannot clear APPEND, write at offset 0 or
// truncate, and the log is unchanged. A peek delivers no descriptors
// (docs/semantics.md, "Descriptors in flight"); it consumes nothing, so
// the real receive that follows gets the message's descriptors with their
// rights.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static cloudabi_errno_t send_fd(cloudabi_fd_t sock, const char *data, cloudabi_fd_t fd) {
  cloudabi_ciovec_t iov = {.buf = data, .buf_len = strlen(data)};
  cloudabi_send_in_t in = {.si_data = &iov, .si_data_len = 1, .si_fds = &fd, .si_fds_len = 1};
  cloudabi_send_out_t out;
  return cloudabi_sys_sock_send(sock, &in, &out);
}

static cloudabi_errno_t recv_fds(cloudabi_fd_t sock, cloudabi_riflags_t flags, cloudabi_fd_t *fds, size_t room,
                                 cloudabi_recv_out_t *out) {
  static char buf[16];
  cloudabi_iovec_t iov = {.buf = buf, .buf_len = sizeof(buf)};
  cloudabi_recv_in_t in = {.ri_data = &iov, .ri_data_len = 1, .ri_fds = fds, .ri_fds_len = room, .ri_flags = flags};
  memset(out, 0, sizeof(*out));
  return cloudabi_sys_sock_recv(sock, &in, out);
}

static bool subset(cloudabi_rights_t got, cloudabi_rights_t allowed) {
  return (got & ~allowed) == 0;
}

// `fd` may do nothing the log's own descriptor could not.
static void check_rights(const char *name, cloudabi_fd_t fd, const cloudabi_fdstat_t *held) {
  cloudabi_fdstat_t st;
  if (!T_OK(name, cloudabi_sys_fd_stat_get(fd, &st)))
    return;
  t_check(name, subset(st.fs_rights_base, held->fs_rights_base) && subset(st.fs_rights_inheriting, held->fs_rights_inheriting),
          "base 0x%lx inheriting 0x%lx within 0x%lx / 0x%lx", (unsigned long)st.fs_rights_base,
          (unsigned long)st.fs_rights_inheriting, (unsigned long)held->fs_rights_base,
          (unsigned long)held->fs_rights_inheriting);
}

// The escalation D1 reported: every step must fail on the received copy.
static void attack(const char *what, cloudabi_fd_t fd) {
  char name[80];
  cloudabi_fdstat_t flags = {.fs_flags = 0};
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-clear-append", what);
  T_ERRNO(name, cloudabi_sys_fd_stat_put(fd, &flags, CLOUDABI_FDSTAT_FLAGS), E(NOTCAPABLE));
  cloudabi_ciovec_t iov = {.buf = "XX", .buf_len = 2};
  size_t n;
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-pwrite-0", what);
  T_ERRNO(name, cloudabi_sys_fd_pwrite(fd, &iov, 1, 0, &n), E(NOTCAPABLE));
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-seek-0", what);
  cloudabi_filesize_t pos;
  T_ERRNO(name, cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_SET, &pos), E(NOTCAPABLE));
  cloudabi_filestat_t st = {.st_size = 0};
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-truncate", what);
  T_ERRNO(name, cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_SIZE), E(NOTCAPABLE));
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-read", what);
  char buf[4];
  T_ERRNO(name, t_read(fd, buf, sizeof(buf), &n), E(NOTCAPABLE));
}

static void round_trip(const char *what, cloudabi_filetype_t type, cloudabi_fd_t log, const cloudabi_fdstat_t *held,
                       int peeks) {
  char name[80];
  cloudabi_fd_t a, b, r[2];
  cloudabi_recv_out_t out;
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-pair", what);
  if (!T_OK(name, cloudabi_sys_fd_create2(type, &a, &b)))
    return;
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-send", what);
  if (!T_OK(name, send_fd(a, "log", log)))
    goto out;
  for (int i = 0; i < peeks; ++i) {
    r[0] = r[1] = T_NOFD;
    fmt_snprintf(name, sizeof(name), "inflight_peek/%s-peek", what);
    if (!T_OK(name, recv_fds(b, CLOUDABI_SOCK_RECV_PEEK, r, 2, &out)))
      goto out;
    fmt_snprintf(name, sizeof(name), "inflight_peek/%s-peek-data", what);
    t_eq(name, out.ro_datalen, 3);
    fmt_snprintf(name, sizeof(name), "inflight_peek/%s-peek-no-fds", what);
    t_eq(name, out.ro_fdslen, 0);
    // Whatever a peek might hand over is held to the same bound.
    for (size_t j = 0; j < out.ro_fdslen && j < 2; ++j) {
      fmt_snprintf(name, sizeof(name), "inflight_peek/%s-peeked-rights", what);
      check_rights(name, r[j], held);
      cloudabi_sys_fd_close(r[j]);
    }
  }
  r[0] = T_NOFD;
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-recv", what);
  if (!T_OK(name, recv_fds(b, 0, r, 2, &out)))
    goto out;
  fmt_snprintf(name, sizeof(name), "inflight_peek/%s-recv-count", what);
  if (t_eq(name, out.ro_fdslen, 1)) {
    fmt_snprintf(name, sizeof(name), "inflight_peek/%s-received-rights", what);
    check_rights(name, r[0], held);
    attack(what, r[0]);
    cloudabi_sys_fd_close(r[0]);
  }
out:
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

void test_main(const argdata_t *config) {
  t_need_tmpdir();
  cloudabi_fd_t log;
  if (!t_true("inflight_peek/config-log", argdata_map_get_fd(config, "log", &log) == 0, "a log descriptor"))
    return;
  // cloudabi-run makes `mode: append` append-only; a runner without its
  // ceilings (the FreeBSD rig, docs/testing.md) may not, so narrow it here
  // to the same rights (run/src/rights.rs, NOT_APPEND_ONLY).
  cloudabi_fdstat_t held;
  if (!T_OK("inflight_peek/log-narrow",
            t_drop(log, T_FAMILY_READ | T_FAMILY_MMAP | CLOUDABI_RIGHT_FD_SEEK | CLOUDABI_RIGHT_FD_STAT_PUT_FLAGS |
                            CLOUDABI_RIGHT_FILE_ALLOCATE | CLOUDABI_RIGHT_FILE_STAT_FPUT_SIZE)) ||
      !T_OK("inflight_peek/log-stat", cloudabi_sys_fd_stat_get(log, &held)) ||
      !T_OK("inflight_peek/log-write", t_write_str(log, "0123456789")))
    return;
  // The log really is append-only here, so the attack is meaningful.
  attack("original", log);

  round_trip("stream", CLOUDABI_FILETYPE_SOCKET_STREAM, log, &held, 1);
  round_trip("stream-twice", CLOUDABI_FILETYPE_SOCKET_STREAM, log, &held, 2);
  round_trip("dgram", CLOUDABI_FILETYPE_SOCKET_DGRAM, log, &held, 1);
  round_trip("no-peek", CLOUDABI_FILETYPE_SOCKET_STREAM, log, &held, 0);

  // Appending still works, and nothing was overwritten or truncated.
  T_OK("inflight_peek/log-append", t_write_str(log, "ab"));
  cloudabi_fd_t reader;
  char buf[32];
  size_t n;
  if (T_OK("inflight_peek/log-open", t_open_file(t_tmp, "log", &reader)) &&
      T_OK("inflight_peek/log-read", t_pread_all(reader, buf, sizeof(buf), &n)))
    t_eq_str("inflight_peek/log-unchanged", buf, n, "0123456789ab");
}
