/*
 * A stand-in for a CloudABI program, to test the in-VM runner
 * (freebsd-vm/guest/vm-run.sh) on any POSIX system: built natively, it
 * reports what it was started with the way the kernel module would hand
 * it over.
 *
 * - The argument data is its argument vector, argv[0] included, each
 *   string followed by its NUL, less the last NUL (as cloudabi64.ko builds
 *   it). It is reported in hex: "ok fake/argdata HEX".
 * - Its descriptors: "ok fake/fds 0:dir:r 1:reg:w ..." for every open
 *   descriptor 0..15 (kind dir, reg, chr, fifo, sock or other; access r,
 *   w or rw, with +a for append).
 * - "ok fake/argc N".
 *
 * Reports go to every descriptor open for writing. What it does then is
 * chosen by marker strings anywhere in the argument data: fake-exit-3,
 * fake-signal-usr1, fake-hang, fake-fail (a FAIL line), fake-noise (a line
 * that is neither ok nor FAIL), fake-silent (no output at all),
 * fake-escape (creates cloudabi64-escape-fake in its working directory);
 * with "iterations" it prints benchmark lines instead.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char data[65536];
static size_t len;

static int has(const char *marker) {
  size_t m = strlen(marker);
  for (size_t i = 0; i + m <= len; i++)
    if (memcmp(data + i, marker, m) == 0)
      return 1;
  return 0;
}

static void say(const char *text) {
  for (int fd = 0; fd < 16; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
      continue;
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))
      continue;
    if (write(fd, text, strlen(text)) < 0)
      continue;
  }
}

int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    size_t n = strlen(argv[i]) + 1;
    if (len + n > sizeof(data))
      return 99;
    memcpy(data + len, argv[i], n);
    len += n;
  }
  if (len > 0)
    len--; /* the NUL the kernel adds after the argument data */

  if (has("fake-silent"))
    return 0;
  if (has("iterations")) {
    say("write+read 2000 10 1900\nclock_gettime 1000 10 900\nfstat 1500 10 1400\nopenat+close 9000 10 8000\n"
        "null 100 10 90\n");
    return 0;
  }

  static char line[200000];
  size_t p = (size_t)snprintf(line, sizeof(line), "ok fake/argdata ");
  for (size_t i = 0; i < len; i++)
    p += (size_t)snprintf(line + p, sizeof(line) - p, "%02x", data[i]);
  snprintf(line + p, sizeof(line) - p, "\n");
  say(line);

  p = (size_t)snprintf(line, sizeof(line), "ok fake/fds");
  for (int fd = 0; fd < 16; fd++) {
    int fl = fcntl(fd, F_GETFL);
    struct stat st;
    if (fl < 0 || fstat(fd, &st) != 0)
      continue;
    const char *kind = S_ISDIR(st.st_mode)    ? "dir"
                       : S_ISREG(st.st_mode)  ? "reg"
                       : S_ISCHR(st.st_mode)  ? "chr"
                       : S_ISFIFO(st.st_mode) ? "fifo"
                       : S_ISSOCK(st.st_mode) ? "sock"
                                              : "other";
    const char *mode = (fl & O_ACCMODE) == O_RDONLY ? "r" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "rw";
    p += (size_t)snprintf(line + p, sizeof(line) - p, " %d:%s:%s%s", fd, kind, mode, (fl & O_APPEND) ? "+a" : "");
  }
  snprintf(line + p, sizeof(line) - p, "\n");
  say(line);

  snprintf(line, sizeof(line), "ok fake/argc %d\n", argc);
  say(line);

  if (has("fake-fail"))
    say("FAIL fake/check: expected EBADF got ENOSYS\n");
  if (has("fake-noise"))
    say("this line is neither ok nor FAIL\n");
  if (has("fake-escape")) {
    int fd = open("cloudabi64-escape-fake", O_CREAT | O_WRONLY, 0644);
    if (fd >= 0)
      close(fd);
  }
  if (has("fake-hang"))
    sleep(100);
  if (has("fake-signal-usr1")) {
    signal(SIGUSR1, SIG_DFL);
    raise(SIGUSR1);
  }
  if (has("fake-exit-3"))
    return 3;
  return 0;
}
