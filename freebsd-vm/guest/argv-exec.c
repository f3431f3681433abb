/*
 * argv-exec N [-s FD:KIND:ADDRESS]... PROGRAM ARG0 [ARG...]
 *
 * Makes the sockets asked for, closes every descriptor from N up, then
 * executes PROGRAM with exactly the argument vector ARG0 ARG... and an
 * empty environment. The in-VM runner (vm-run.sh) needs it for what sh(1)
 * cannot do:
 *
 * - a CloudABI program's argument data is its whole argument vector,
 *   argv[0] included, and sh cannot choose argv[0];
 * - sh cannot close descriptors above 9 that it inherited;
 * - sh cannot make sockets: -s makes descriptor FD a socket of KIND
 *   (stream: bound and listening with a backlog of 128; dgram: bound) at
 *   ADDRESS, which is IPV4:PORT, [IPV6]:PORT, localhost:PORT (127.0.0.1)
 *   or an absolute path for a UNIX-domain socket (Internet sockets get
 *   SO_REUSEADDR). Host names other than localhost are refused: there is
 *   no resolver here (cloudabi-run would resolve them).
 *
 * Descriptors 0..N-1 other than the sockets are what the shell's
 * redirections made. Exit status when the program cannot be started: 125
 * for a wrong command line or a socket that cannot be made, 126 when
 * execve(2) fails; the reason (with the errno number) on descriptor 2.
 *
 * Freestanding (freestanding.h): no C library, only raw system calls, so
 * that it can be cross-built here and shipped prebuilt in the payload.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include "freestanding.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

/* --- messages on descriptor 2 ----------------------------------------- */

/* "argv-exec: WHAT: WHY" plus " (errno N)" when err < 0. */
static void complain(const char *what, const char *why, long err) {
  char buf[24];
  put_fd(2, "argv-exec: ");
  put_fd(2, what);
  put_fd(2, ": ");
  put_fd(2, why);
  if (err < 0) {
    put_fd(2, " (errno ");
    put_fd(2, decimal((unsigned long)-err, buf));
    put_fd(2, ")");
  }
  put_fd(2, "\n");
}

static int usage(void) {
  put_fd(2, "usage: argv-exec N [-s FD:stream|dgram:ADDRESS]... PROGRAM ARG0 [ARG...]\n");
  return 125;
}

/* --- numbers and addresses ---------------------------------------------- */

static const char *find_last(const char *s, char c) {
  const char *hit = NULL;
  for (; *s != '\0'; s++)
    if (*s == c)
      hit = s;
  return hit;
}

/* Dotted-quad IPv4 from s to end into out (network order). */
static int parse_ipv4(const char *s, const char *end, unsigned char out[4]) {
  for (int i = 0; i < 4; i++) {
    const char *dot = s;
    while (dot != end && *dot != '.')
      dot++;
    unsigned long part;
    if ((i < 3) != (dot != end) || dot - s > 3 || !number(s, dot, 255, &part))
      return 0;
    out[i] = (unsigned char)part;
    s = dot == end ? end : dot + 1;
  }
  return 1;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* An IPv6 address in hexadecimal groups, at most one "::", from s to end
 * (no embedded IPv4 form) into out (network order). */
static int parse_ipv6(const char *s, const char *end, unsigned char out[16]) {
  unsigned int groups[8];
  int n = 0, gap = -1;
  if (end - s >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    s += 2;
  }
  while (s != end) {
    unsigned int v = 0;
    int digits = 0;
    while (s != end && hex_digit(*s) >= 0) {
      if (++digits > 4)
        return 0;
      v = v * 16 + (unsigned int)hex_digit(*s++);
    }
    if (digits == 0 || n == 8)
      return 0;
    groups[n++] = v;
    if (s == end)
      break;
    if (*s++ != ':' || s == end)
      return 0;
    if (*s == ':') {
      if (gap >= 0)
        return 0;
      gap = n;
      s++;
    }
  }
  if (gap < 0 ? n != 8 : n > 7)
    return 0;
  unsigned int full[8] = {0};
  for (int i = 0; i < n; i++)
    full[gap >= 0 && i >= gap ? i + 8 - n : i] = groups[i];
  for (int i = 0; i < 8; i++) {
    out[2 * i] = (unsigned char)(full[i] >> 8);
    out[2 * i + 1] = (unsigned char)full[i];
  }
  return 1;
}

/* --- sockets -------------------------------------------------------------- */

/* Puts the socket s at descriptor fd. */
static long place(long s, long fd) {
  if (s == fd)
    return 0;
  long r = SYS2(SYS_dup2, s, fd);
  SYS1(SYS_close, s);
  return r < 0 ? r : 0;
}

/* Binds s to the address (and listens, for a stream); closes it on error. */
static const char *bind_listen(long s, int type, const void *addr, unsigned int len, long *err) {
  long r = SYS3(SYS_bind, s, addr, len);
  if (r == 0 && type == SOCK_STREAM)
    r = SYS2(SYS_listen, s, 128);
  if (r < 0) {
    *err = r;
    SYS1(SYS_close, s);
    return type == SOCK_STREAM ? "bind or listen failed" : "bind failed";
  }
  return NULL;
}

/* Makes the socket SPEC (FD:KIND:ADDRESS) asks for: NULL, or why not (and
 * *err < 0 when a system call failed). */
static const char *make_socket(const char *spec, long *err) {
  *err = 0;
  const char *colon = spec;
  while (*colon != '\0' && *colon != ':')
    colon++;
  unsigned long fd;
  if (*colon != ':' || !number(spec, colon, 1023, &fd))
    return "expected FD:KIND:ADDRESS";
  const char *kind = colon + 1, *address = kind;
  while (*address != '\0' && *address != ':')
    address++;
  if (*address != ':')
    return "expected FD:KIND:ADDRESS";
  int type;
  if (address - kind == 6 && same_n(kind, "stream", 6))
    type = SOCK_STREAM;
  else if (address - kind == 5 && same_n(kind, "dgram", 5))
    type = SOCK_DGRAM;
  else
    return "the kind is stream or dgram";
  address++;

  long s;
  const char *why;
  if (address[0] == '/') {
    struct sockaddr_un sun;
    size_t n = length(address);
    if (n >= sizeof(sun.sun_path))
      return "the UNIX socket path is too long";
    memset(&sun, 0, sizeof(sun));
#if defined(__FreeBSD__)
    sun.sun_len = sizeof(sun);
#endif
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, address, n);
    if ((s = SYS3(SYS_socket, AF_UNIX, type, 0)) < 0)
      return *err = s, "socket failed";
    if ((why = bind_listen(s, type, &sun, sizeof(sun), err)) != NULL)
      return why;
    return (*err = place(s, (long)fd)) < 0 ? "dup2 failed" : NULL;
  }

  const char *port_colon = find_last(address, ':');
  unsigned long port;
  if (port_colon == NULL || !number(port_colon + 1, port_colon + length(port_colon), 65535, &port))
    return "expected HOST:PORT, [IPV6]:PORT or an absolute path";
  const char *host = address, *host_end = port_colon;
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } sa;
  unsigned int len;
  memset(&sa, 0, sizeof(sa));
  unsigned short port_be = (unsigned short)(((port & 0xff) << 8) | (port >> 8));
  if (host_end - host >= 2 && host[0] == '[' && host_end[-1] == ']') {
    if (!parse_ipv6(host + 1, host_end - 1, (unsigned char *)&sa.v6.sin6_addr))
      return "not an IPv6 address in brackets";
    sa.v6.sin6_family = AF_INET6;
    sa.v6.sin6_port = port_be;
    len = sizeof(sa.v6);
  } else {
    static const char localhost[] = "localhost";
    if (host_end - host == (long)sizeof(localhost) - 1 && same_n(host, localhost, sizeof(localhost) - 1))
      host = "127.0.0.1", host_end = host + 9;
    if (!parse_ipv4(host, host_end, (unsigned char *)&sa.v4.sin_addr))
      return "not an IPv4 address (host names other than localhost cannot be resolved here)";
    sa.v4.sin_family = AF_INET;
    sa.v4.sin_port = port_be;
    len = sizeof(sa.v4);
  }
#if defined(__FreeBSD__)
  sa.v4.sin_len = (unsigned char)len; /* sin_len and sin6_len share the first byte */
#endif
  int family = sa.v4.sin_family;
  if ((s = SYS3(SYS_socket, family, type, 0)) < 0)
    return *err = s, "socket failed";
  int one = 1;
  long r = SYS5(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (r < 0) {
    SYS1(SYS_close, s);
    return *err = r, "setsockopt(SO_REUSEADDR) failed";
  }
  if ((why = bind_listen(s, type, &sa, len, err)) != NULL)
    return why;
  return (*err = place(s, (long)fd)) < 0 ? "dup2 failed" : NULL;
}

/* Closes every descriptor from n up. */
static void close_from(unsigned long n) {
  if (SYS3(SYS_close_range, n, ~0u, 0) == 0)
    return;
  for (unsigned long fd = n; fd < 65536; fd++)
    SYS1(SYS_close, fd);
}

int freestanding_main(int argc, char **argv) {
  static char *const no_environment[] = {NULL};
  unsigned long n;
  if (argc < 2 || !number(argv[1], argv[1] + length(argv[1]), 1024, &n))
    return usage();
  int i = 2;
  while (i + 1 < argc && same(argv[i], "-s")) {
    long err;
    const char *why = make_socket(argv[i + 1], &err);
    if (why != NULL) {
      complain(argv[i + 1], why, err);
      return 125;
    }
    i += 2;
  }
  if (argc - i < 2)
    return usage();
  close_from(n);
  long err = SYS3(SYS_execve, argv[i], argv + i + 1, no_environment);
  complain(argv[i], "execve failed", err);
  return 126;
}

