// sock_recv with WAITALL while the data arrives in pieces from another
// thread: one call returns the whole buffer, however the pieces fall, and
// EOF ends it early with what arrived.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "sync.h"

struct receiver {
  struct rt_thread thread;
  cloudabi_fd_t sock;
  cloudabi_riflags_t flags;
  size_t want;
  char buf[16];
  cloudabi_errno_t error;
  size_t got;
  _Atomic(uint32_t) started;
};

static void receive(void *arg) {
  struct receiver *r = arg;
  cloudabi_iovec_t iov = {.buf = r->buf, .buf_len = r->want};
  cloudabi_recv_in_t in = {.ri_data = &iov, .ri_data_len = 1, .ri_flags = r->flags};
  cloudabi_recv_out_t out = {0};
  atomic_store(&r->started, 1);
  r->error = cloudabi_sys_sock_recv(r->sock, &in, &out);
  r->got = out.ro_datalen;
}

void test_main(const argdata_t *config) {
  (void)config;
  cloudabi_fd_t a, b;
  if (!T_OK("sock_waitall/setup", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)))
    return;
  static struct receiver r = {.flags = CLOUDABI_SOCK_RECV_WAITALL, .want = 12};
  r.sock = b;
  if (!T_OK("sock_waitall/start", rt_thread_start(&r.thread, receive, &r, 64 * 1024)))
    return;
  t_await("sock_waitall/receiver-started", &r.started, ~UINT32_C(0), 1);
  // Three pieces, with yields in between so that the receiver runs while
  // only part of the data is there.
  static const char *const pieces[] = {"abcd", "efgh", "ijkl"};
  for (int i = 0; i < 3; ++i) {
    T_OK("sock_waitall/send", t_write_str(a, pieces[i]));
    for (int k = 0; k < 50; ++k)
      cloudabi_sys_thread_yield();
  }
  rt_thread_join(&r.thread);
  T_OK("sock_waitall/recv", r.error);
  t_eq_str("sock_waitall/whole-buffer", r.buf, r.got, "abcdefghijkl");

  // EOF ends a WAITALL receive early.
  static struct receiver e = {.flags = CLOUDABI_SOCK_RECV_WAITALL, .want = 12};
  e.sock = b;
  if (T_OK("sock_waitall/start-eof", rt_thread_start(&e.thread, receive, &e, 64 * 1024))) {
    t_await("sock_waitall/receiver-eof-started", &e.started, ~UINT32_C(0), 1);
    T_OK("sock_waitall/send-part", t_write_str(a, "xyz"));
    T_OK("sock_waitall/close", cloudabi_sys_fd_close(a));
    rt_thread_join(&e.thread);
    T_OK("sock_waitall/recv-eof", e.error);
    t_eq_str("sock_waitall/until-eof", e.buf, e.got, "xyz");
  }
  cloudabi_sys_fd_close(b);
}
