/*
 * argv-exec N [-s FD:KIND:ADDRESS]... PROGRAM ARG0 [ARG...]
 *
 * Makes the sockets asked for, closes every descriptor from N up, then
 * executes PROGRAM with exactly the argument vector ARG0 ARG... and an
 * empty environment. The in-VM runner (vm-run.sh) builds this with the
 * base system's cc, for what sh(1) cannot do:
 *
 * - a CloudABI program's argument data is its whole argument vector,
 *   argv[0] included, and sh cannot choose argv[0];
 * - sh cannot close descriptors above 9 that it inherited;
 * - sh cannot make sockets: -s makes descriptor FD a socket of KIND
 *   (stream: bound and listening with a backlog of 128; dgram: bound) at
 *   ADDRESS, which is HOST:PORT, [IPV6]:PORT or an absolute path for a
 *   UNIX-domain socket, as cloudabi-run's !socket tag has it (Internet
 *   sockets get SO_REUSEADDR).
 *
 * Descriptors 0..N-1 other than the sockets are what the shell's
 * redirections made. Exit status when the program cannot be started: 125
 * for a wrong command line or a socket that cannot be made, 126 when
 * execve(2) fails.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int usage(void) {
  fputs("usage: argv-exec N [-s FD:stream|dgram:ADDRESS]... PROGRAM ARG0 [ARG...]\n", stderr);
  return 125;
}

/* Puts the socket s at descriptor fd. */
static int place(int s, int fd) {
  if (s == fd)
    return 0;
  if (dup2(s, fd) < 0)
    return -1;
  close(s);
  return 0;
}

static int make_socket(char *spec) {
  char *end;
  long fd = strtol(spec, &end, 10);
  if (end == spec || *end != ':' || fd < 0 || fd > 1023)
    return -1;
  char *kind = end + 1, *address = strchr(kind, ':');
  if (address == NULL)
    return -1;
  *address++ = '\0';
  int type;
  if (strcmp(kind, "stream") == 0)
    type = SOCK_STREAM;
  else if (strcmp(kind, "dgram") == 0)
    type = SOCK_DGRAM;
  else
    return -1;
  int s = -1;
  if (address[0] == '/') {
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(address) >= sizeof(sun.sun_path))
      return -1;
    strcpy(sun.sun_path, address);
    s = socket(AF_UNIX, type, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) != 0)
      return -1;
  } else {
    char *host = address, *port = strrchr(address, ':');
    if (port == NULL)
      return -1;
    *port++ = '\0';
    if (host[0] == '[') {
      size_t n = strlen(host);
      if (n < 2 || host[n - 1] != ']')
        return -1;
      host[n - 1] = '\0';
      host++;
    }
    struct addrinfo hints, *list, *ai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = type;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &list) != 0)
      return -1;
    for (ai = list; ai != NULL; ai = ai->ai_next) {
      int one = 1;
      s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (s < 0)
        continue;
      if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
          bind(s, ai->ai_addr, ai->ai_addrlen) == 0)
        break;
      close(s);
      s = -1;
    }
    freeaddrinfo(list);
    if (s < 0)
      return -1;
  }
  if (type == SOCK_STREAM && listen(s, 128) != 0)
    return -1;
  return place(s, (int)fd);
}

int main(int argc, char **argv) {
  static char *const no_environment[] = {NULL};
  char *end;
  if (argc < 2)
    return usage();
  long n = strtol(argv[1], &end, 10);
  if (*end != '\0' || end == argv[1] || n < 0 || n > 1024)
    return usage();
  int i = 2;
  while (i + 1 < argc && strcmp(argv[i], "-s") == 0) {
    if (make_socket(argv[i + 1]) != 0) {
      perror("argv-exec: socket");
      return 125;
    }
    i += 2;
  }
  if (argc - i < 2)
    return usage();
#ifdef __FreeBSD__
  closefrom((int)n);
#else
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536)
    max = 65536;
  for (long fd = n; fd < max; fd++)
    close((int)fd);
#endif
  execve(argv[i], argv + i + 1, no_environment);
  return 126;
}
