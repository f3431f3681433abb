// Rights of descriptors in flight belong to the message, not to the file
// (issue 13, D2): a read-only copy of a file goes out on one socket pair
// and a read-write descriptor of the same file on another; received in
// the other order, each arrives with its own message's rights. The
// read-only copy cannot write, the read-write one still can. Also: the
// same file in one message twice, narrowed and not, and many messages
// received in reverse order.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static cloudabi_errno_t send_fds(cloudabi_fd_t sock, const cloudabi_fd_t *fds, size_t n) {
  cloudabi_ciovec_t iov = {.buf = "m", .buf_len = 1};
  cloudabi_send_in_t in = {.si_data = &iov, .si_data_len = 1, .si_fds = fds, .si_fds_len = n};
  cloudabi_send_out_t out;
  return cloudabi_sys_sock_send(sock, &in, &out);
}

static cloudabi_errno_t recv_fds(cloudabi_fd_t sock, cloudabi_fd_t *fds, size_t room, cloudabi_recv_out_t *out) {
  char buf[4];
  cloudabi_iovec_t iov = {.buf = buf, .buf_len = 1};
  cloudabi_recv_in_t in = {.ri_data = &iov, .ri_data_len = 1, .ri_fds = fds, .ri_fds_len = room};
  memset(out, 0, sizeof(*out));
  return cloudabi_sys_sock_recv(sock, &in, out);
}

static bool subset(cloudabi_rights_t got, cloudabi_rights_t allowed) {
  return (got & ~allowed) == 0;
}

static void check_within(const char *name, cloudabi_fd_t got, cloudabi_fd_t sent) {
  cloudabi_fdstat_t g, s;
  if (!T_OK(name, cloudabi_sys_fd_stat_get(got, &g)) || !T_OK(name, cloudabi_sys_fd_stat_get(sent, &s)))
    return;
  t_check(name, subset(g.fs_rights_base, s.fs_rights_base) && subset(g.fs_rights_inheriting, s.fs_rights_inheriting),
          "base 0x%lx inheriting 0x%lx within 0x%lx / 0x%lx", (unsigned long)g.fs_rights_base,
          (unsigned long)g.fs_rights_inheriting, (unsigned long)s.fs_rights_base, (unsigned long)s.fs_rights_inheriting);
}

static bool pair(const char *name, cloudabi_fd_t *a, cloudabi_fd_t *b) {
  return T_OK(name, cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, a, b));
}

// The case of the report: narrowed copy on pair 1, full descriptor on
// pair 2, pair 2 received first.
static void two_sockets(cloudabi_fd_t full, cloudabi_fd_t narrow) {
  cloudabi_fd_t a1, b1, a2, b2, r1 = T_NOFD, r2 = T_NOFD;
  cloudabi_recv_out_t out;
  if (!pair("inflight_order/pair-1", &a1, &b1) || !pair("inflight_order/pair-2", &a2, &b2))
    return;
  if (T_OK("inflight_order/send-narrow", send_fds(a1, &narrow, 1)) &&
      T_OK("inflight_order/send-full", send_fds(a2, &full, 1)) &&
      T_OK("inflight_order/recv-full", recv_fds(b2, &r2, 1, &out)) &&
      t_eq("inflight_order/recv-full-count", out.ro_fdslen, 1) &&
      T_OK("inflight_order/recv-narrow", recv_fds(b1, &r1, 1, &out)) &&
      t_eq("inflight_order/recv-narrow-count", out.ro_fdslen, 1)) {
    check_within("inflight_order/narrow-within-senders", r1, narrow);
    check_within("inflight_order/full-within-senders", r2, full);
    T_ERRNO("inflight_order/narrow-cannot-write", t_write_str(r1, "BAD"), E(NOTCAPABLE));
    T_ERRNO("inflight_order/narrow-cannot-pwrite", ({
              cloudabi_ciovec_t iov = {.buf = "BAD", .buf_len = 3};
              size_t n;
              cloudabi_sys_fd_pwrite(r1, &iov, 1, 0, &n);
            }),
            E(NOTCAPABLE));
    // The full descriptor keeps its rights: it was not narrowed by the
    // other message.
    T_OK("inflight_order/full-can-write", t_write_str(r2, "ok"));
  }
  cloudabi_sys_fd_close(r1);
  cloudabi_sys_fd_close(r2);
  cloudabi_sys_fd_close(a1);
  cloudabi_sys_fd_close(b1);
  cloudabi_sys_fd_close(a2);
  cloudabi_sys_fd_close(b2);
}

// One message holding the narrowed copy and the full descriptor (in both
// orders): each position keeps its own rights.
static void one_message(cloudabi_fd_t full, cloudabi_fd_t narrow) {
  cloudabi_fd_t a, b;
  cloudabi_recv_out_t out;
  if (!pair("inflight_order/pair-one", &a, &b))
    return;
  cloudabi_fd_t orders[2][2] = {{narrow, full}, {full, narrow}};
  for (int o = 0; o < 2; ++o) {
    cloudabi_fd_t r[2] = {T_NOFD, T_NOFD};
    if (!T_OK("inflight_order/one-send", send_fds(a, orders[o], 2)) ||
        !T_OK("inflight_order/one-recv", recv_fds(b, r, 2, &out)) ||
        !t_eq("inflight_order/one-count", out.ro_fdslen, 2))
      break;
    int ni = orders[o][0] == narrow ? 0 : 1;
    check_within("inflight_order/one-narrow-within", r[ni], narrow);
    T_ERRNO("inflight_order/one-narrow-cannot-write", t_write_str(r[ni], "BAD"), E(NOTCAPABLE));
    T_OK("inflight_order/one-full-can-write", t_write_str(r[1 - ni], "ok"));
    cloudabi_sys_fd_close(r[0]);
    cloudabi_sys_fd_close(r[1]);
  }
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

// Eight messages alternating narrowed and full on one pair, received in
// order, while the same file also waits on a second pair.
static void many(cloudabi_fd_t full, cloudabi_fd_t narrow) {
  cloudabi_fd_t a, b, c, d;
  cloudabi_recv_out_t out;
  if (!pair("inflight_order/pair-many", &a, &b) || !pair("inflight_order/pair-many-2", &c, &d))
    return;
  bool ok = true;
  for (int i = 0; i < 8 && ok; ++i) {
    ok &= send_fds(a, (i & 1) ? &full : &narrow, 1) == 0;
    ok &= send_fds(c, (i & 1) ? &narrow : &full, 1) == 0;
  }
  t_true("inflight_order/many-send", ok, "16 sends");
  for (int k = 0; k < 2; ++k) {
    // First the second pair, then the first.
    cloudabi_fd_t s = k == 0 ? d : b;
    bool good = true;
    for (int i = 0; i < 8; ++i) {
      cloudabi_fd_t r = T_NOFD;
      if (recv_fds(s, &r, 1, &out) != 0 || out.ro_fdslen != 1) {
        good = false;
        break;
      }
      bool narrowed = ((i & 1) != 0) == (k == 0);
      cloudabi_errno_t e = t_write_str(r, "ok");
      good &= narrowed ? e == CLOUDABI_ENOTCAPABLE : e == 0;
      cloudabi_sys_fd_close(r);
    }
    t_true(k == 0 ? "inflight_order/many-second-pair" : "inflight_order/many-first-pair", good,
           "each descriptor with its own message's rights");
  }
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
  cloudabi_sys_fd_close(c);
  cloudabi_sys_fd_close(d);
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t full, narrow;
  if (!T_OK("inflight_order/setup-file", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("inflight_order/setup-open", t_open_file(t_tmp, "f", &full)) ||
      !T_OK("inflight_order/setup-dup", cloudabi_sys_fd_dup(full, &narrow)) ||
      !T_OK("inflight_order/setup-narrow", t_drop(narrow, T_FAMILY_WRITE)))
    return;
  T_ERRNO("inflight_order/narrow-original", t_write_str(narrow, "BAD"), E(NOTCAPABLE));
  two_sockets(full, narrow);
  one_message(full, narrow);
  many(full, narrow);
  // No "BAD" anywhere in the file.
  char buf[128];
  size_t n;
  if (T_OK("inflight_order/read-back", t_pread_all(full, buf, sizeof(buf), &n))) {
    bool clean = true;
    for (size_t i = 0; i + 3 <= n; ++i)
      clean &= memcmp(buf + i, "BAD", 3) != 0;
    t_true("inflight_order/nothing-written-through-narrow", clean, "no BAD in the file");
  }
}
