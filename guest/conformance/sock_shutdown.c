// sock_shutdown: SHUT_WR ends the peer's stream after what was sent (and
// this end can still receive); SHUT_RD makes reads return EOF; SHUT_RDWR
// both; it applies to every descriptor of the socket. EINVAL for no or
// undefined directions (checked before the descriptor), ENOTCONN for an
// unconnected socket, EBADF, ENOTCAPABLE, and a file.
// SPDX-License-Identifier: BSD-2-Clause

#include "sync.h"

static bool pair(const char *name, cloudabi_filetype_t type, cloudabi_fd_t *a, cloudabi_fd_t *b) {
  return T_OK(name, cloudabi_sys_fd_create2(type, a, b));
}

static void close_pair(cloudabi_fd_t a, cloudabi_fd_t b) {
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

static void directions(void) {
  cloudabi_fd_t a, b, c;
  char buf[16];
  size_t n;

  if (pair("sock_shutdown/setup-wr", CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)) {
    T_OK("sock_shutdown/setup-pending", t_write_str(a, "last"));
    T_OK("sock_shutdown/wr", cloudabi_sys_sock_shutdown(a, CLOUDABI_SHUT_WR));
    // The peer reads what was sent, then EOF, and sees the hangup.
    cloudabi_subscription_t sub = t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_READ, b);
    cloudabi_event_t ev;
    if (T_OK("sock_shutdown/wr-peer-read", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("sock_shutdown/wr-peer-data", buf, n, "last");
    if (T_OK("sock_shutdown/wr-peer-poll", t_poll(&sub, 1, &ev, &n, NULL)) &&
        t_check_only_event("sock_shutdown/wr-peer-readable", &ev, n, 1, CLOUDABI_EVENTTYPE_FD_READ, 0))
      t_true("sock_shutdown/wr-peer-hangup", (ev.fd_readwrite.flags & CLOUDABI_EVENT_FD_READWRITE_HANGUP) != 0,
             "the hangup flag");
    if (T_OK("sock_shutdown/wr-peer-eof", t_read(b, buf, sizeof(buf), &n)))
      t_eq("sock_shutdown/wr-peer-eof-empty", n, 0);
    T_ERRNO("sock_shutdown/wr-no-more-writes", t_write_str(a, "x"), E(PIPE));
    // The other direction still works.
    if (T_OK("sock_shutdown/wr-reverse-send", t_write_str(b, "back")) &&
        T_OK("sock_shutdown/wr-reverse-read", t_read(a, buf, sizeof(buf), &n)))
      t_eq_str("sock_shutdown/wr-reverse", buf, n, "back");
    close_pair(a, b);
  }

  if (pair("sock_shutdown/setup-rd", CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)) {
    T_OK("sock_shutdown/rd", cloudabi_sys_sock_shutdown(a, CLOUDABI_SHUT_RD));
    if (T_OK("sock_shutdown/rd-read", t_read(a, buf, sizeof(buf), &n)))
      t_eq("sock_shutdown/rd-eof", n, 0);
    // Sending is still possible.
    if (T_OK("sock_shutdown/rd-send", t_write_str(a, "out")) && T_OK("sock_shutdown/rd-peer", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("sock_shutdown/rd-send-works", buf, n, "out");
    close_pair(a, b);
  }

  if (pair("sock_shutdown/setup-rdwr", CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)) {
    // Through a copy: the socket, not the descriptor, is shut down.
    if (T_OK("sock_shutdown/setup-dup", cloudabi_sys_fd_dup(a, &c))) {
      T_OK("sock_shutdown/rdwr", cloudabi_sys_sock_shutdown(c, CLOUDABI_SHUT_RD | CLOUDABI_SHUT_WR));
      T_ERRNO("sock_shutdown/rdwr-no-writes", t_write_str(a, "x"), E(PIPE));
      if (T_OK("sock_shutdown/rdwr-read", t_read(a, buf, sizeof(buf), &n)))
        t_eq("sock_shutdown/rdwr-eof", n, 0);
      if (T_OK("sock_shutdown/rdwr-peer-read", t_read(b, buf, sizeof(buf), &n)))
        t_eq("sock_shutdown/rdwr-peer-eof", n, 0);
      cloudabi_sys_fd_close(c);
    }
    close_pair(a, b);
  }

  if (pair("sock_shutdown/setup-dgram", CLOUDABI_FILETYPE_SOCKET_DGRAM, &a, &b)) {
    T_OK("sock_shutdown/dgram-wr", cloudabi_sys_sock_shutdown(a, CLOUDABI_SHUT_WR));
    T_ERRNO("sock_shutdown/dgram-no-more-sends", t_write_str(a, "x"), E(PIPE));
    close_pair(a, b);
  }
}

static void errors(const argdata_t *config) {
  cloudabi_fd_t a, b, c, f, udp, listen;
  // The direction is checked before the descriptor.
  T_ERRNO("sock_shutdown/none", cloudabi_sys_sock_shutdown(T_BADFD, 0), E(INVAL));
  T_ERRNO("sock_shutdown/undefined", cloudabi_sys_sock_shutdown(T_BADFD, 0x4), E(INVAL));
  T_ERRNO("sock_shutdown/ebadf", cloudabi_sys_sock_shutdown(T_BADFD, CLOUDABI_SHUT_WR), E(BADF));
  if (pair("sock_shutdown/setup-errors", CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)) {
    T_ERRNO("sock_shutdown/none-on-socket", cloudabi_sys_sock_shutdown(a, 0), E(INVAL));
    if (T_OK("sock_shutdown/setup-dup", cloudabi_sys_fd_dup(a, &c))) {
      T_OK("sock_shutdown/setup-drop", t_drop(c, CLOUDABI_RIGHT_SOCK_SHUTDOWN));
      T_ERRNO("sock_shutdown/without-right", cloudabi_sys_sock_shutdown(c, CLOUDABI_SHUT_WR), E(NOTCAPABLE));
      cloudabi_sys_fd_close(c);
    }
    close_pair(a, b);
  }
  // A file has no sock_shutdown right (and is no socket).
  if (T_OK("sock_shutdown/setup-file", t_mkfile(t_tmp, "f", "")) && T_OK("sock_shutdown/setup-open", t_open_file(t_tmp, "f", &f))) {
    T_ERRNO("sock_shutdown/file", cloudabi_sys_sock_shutdown(f, CLOUDABI_SHUT_WR), E(NOTCAPABLE), E(NOTSOCK));
    cloudabi_sys_fd_close(f);
  }
  // An unconnected datagram socket.
  if (argdata_map_get_fd(config, "udp", &udp) == 0)
    T_ERRNO("sock_shutdown/enotconn", cloudabi_sys_sock_shutdown(udp, CLOUDABI_SHUT_WR), E(NOTCONN));
  else
    t_fail("config", "this test needs udp: !socket {bind: ..., type: dgram}");
  // A listening socket from cloudabi-run only takes connections.
  if (argdata_map_get_fd(config, "listen", &listen) == 0)
    T_ERRNO("sock_shutdown/listening", cloudabi_sys_sock_shutdown(listen, CLOUDABI_SHUT_RD), E(NOTCAPABLE));
  else
    t_fail("config", "this test needs listen: !socket {bind: ...}");
}

void test_main(const argdata_t *config) {
  t_need_tmpdir();
  directions();
  errors(config);
}
