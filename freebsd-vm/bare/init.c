/*
 * ca64-init: the init (pid 1) of the rig's bare-kernel mode
 * (freebsd-vm/bare/boot, docs/testing.md). The boot ISO holds a FreeBSD
 * kernel, this program as /sbin/init and /ca64/ (the module, the
 * conformance programs, cases.sh made by `vmctl cases`, config). No base
 * system: this is freestanding C over raw FreeBSD system calls, built by
 * freebsd-vm/bare/build-init against the release's installed headers.
 *
 * What it does, printing the console protocol of vm-run.sh (every line
 * starts with "cloudabi64-vm: "; vmctl parse reads it):
 *  1. makes /dev/console descriptors 0, 1 and 2, prints the kernel's
 *     release, mounts tmpfs on /tmp and brings lo0 up with 127.0.0.1;
 *  2. kldload(2)s /ca64/cloudabi64.ko;
 *  3. runs every case of /ca64/cases.sh: the program is started with the
 *     argument data as its argument vector (the pieces between NUL bytes,
 *     which the kernel joins again with a NUL after each: the module hands
 *     the program exactly the argument data; run/src/native/argv.rs), its
 *     descriptors opened in order as 0..n-1, nothing else open, an empty
 *     environment; judged as vm-run.sh judges (exit status or signal within
 *     the timeout times the SCALE of config, every output line "ok ..."
 *     and at least one, no cloudabi64-escape* file in the case's directory
 *     or /tmp);
 *  4. prints the result line, kldunload(2)s the module, prints "done" and
 *     powers the machine off (reboot(2) with RB_POWEROFF).
 *
 * Built for the host with -DCA64_HOST_TEST, only the pure parts (word
 * decoding, case lines, expectations, output judging) are compiled, with a
 * test main (freebsd-vm/tests/run-offline runs it).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#ifdef CA64_HOST_TEST
#include <stdio.h>
#include <string.h>
#else
#include <sys/types.h>
#include <sys/dirent.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <time.h>
#endif

#define MAX_FDS 7
#define MAX_ARGS 512
#define MAX_WORDS (MAX_ARGS + MAX_FDS + 8)

/* ---- pure helpers (also built for the host tests) -------------------- */

static __attribute__((unused)) unsigned long slen(const char *s) {
  unsigned long n = 0;
  while (s[n] != '\0')
    n++;
  return n;
}

static int sstarts(const char *s, const char *prefix) {
  while (*prefix != '\0')
    if (*s++ != *prefix++)
      return 0;
  return 1;
}

static int seq(const char *a, const char *b) {
  while (*a != '\0' && *a == *b)
    a++, b++;
  return *a == *b;
}

/*
 * Decodes a word of cases.sh in place (freebsd-vm/vmctl/src/shenc.rs:
 * bytes outside a safe set are written \ooo). Returns its length, or -1
 * for a malformed escape or a NUL.
 */
static long decode_word(char *w) {
  char *out = w;
  const char *in = w;
  while (*in != '\0') {
    if (*in == '\\') {
      int v = 0;
      for (int i = 1; i <= 3; i++) {
        if (in[i] < '0' || in[i] > '7')
          return -1;
        v = v * 8 + (in[i] - '0');
      }
      if (v == 0 || v > 255)
        return -1;
      *out++ = (char)v;
      in += 4;
    } else {
      *out++ = *in++;
    }
  }
  *out = '\0';
  return out - w;
}

/*
 * Splits one line of cases.sh into words in place: bare words end at a
 * space, 'quoted' words at the closing quote (vmctl never puts a quote
 * inside one). Returns the number of words, or -1 for an unterminated
 * quote or too many words.
 */
static int split_line(char *line, char **words, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      return n;
    if (n == max)
      return -1;
    if (*p == '\'') {
      words[n++] = ++p;
      while (*p != '\'' && *p != '\0')
        p++;
      if (*p != '\'')
        return -1;
      *p++ = '\0';
    } else {
      words[n++] = p;
      while (*p != ' ' && *p != '\t' && *p != '\0')
        p++;
      if (*p != '\0')
        *p++ = '\0';
    }
  }
}

/* FreeBSD's numbers for the signal names a spec may use (sys/signal.h). */
static int signal_number(const char *name) {
  static const struct {
    const char *name;
    int number;
  } table[] = {{"ABRT", 6}, {"BUS", 10},  {"FPE", 8},   {"ILL", 4},   {"KILL", 9},  {"PIPE", 13},
               {"SEGV", 11}, {"SYS", 12}, {"TERM", 15}, {"USR1", 30}, {"USR2", 31}};
  for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (seq(name, table[i].name))
      return table[i].number;
  return -1;
}

/*
 * The status a case must end with, as vm-run.sh computes $status: the
 * exit code, or 128 + the signal. -1 for an expectation it cannot read.
 */
static int expected_status(const char *expect) {
  if (sstarts(expect, "exit ")) {
    const char *p = expect + 5;
    int v = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && v < 1000)
      v = v * 10 + (*p++ - '0'), digits++;
    return digits > 0 && *p == '\0' && v < 256 ? v : -1;
  }
  if (sstarts(expect, "signal ")) {
    int s = signal_number(expect + 7);
    return s < 0 ? -1 : 128 + s;
  }
  return -1;
}

/* Lines of the program's output: how many start with "ok " and how many do not. */
static void count_lines(const char *buf, long len, int *oks, int *others) {
  *oks = *others = 0;
  long start = 0;
  for (long i = 0; i <= len; i++) {
    if (i == len || buf[i] == '\n') {
      if (i > start || i < len) {
        if (i - start >= 3 && buf[start] == 'o' && buf[start + 1] == 'k' && buf[start + 2] == ' ')
          (*oks)++;
        else
          (*others)++;
      }
      start = i + 1;
    }
  }
}

/*
 * A descriptor word may start with "lim:W0:W1:BASE:INH:" (vmctl cases
 * --limits, from cloudabi-run --dump-limits; 16 hex digits each): the
 * Capsicum rights words and the exact CloudABI base and inheriting rights
 * that cloudabi-run's native launch gives the descriptor
 * (run/src/native/caps.rs). Stores them in lim[] and returns the rest of
 * the word; returns w itself (lim untouched) without the prefix and 0 for
 * a malformed one.
 */
static const char *parse_limits(const char *w, unsigned long long lim[4]) {
  if (!sstarts(w, "lim:"))
    return w;
  const char *p = w + 4;
  for (int i = 0; i < 4; i++) {
    unsigned long long v = 0;
    for (int d = 0; d < 16; d++, p++) {
      int x = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
      if (x < 0)
        return 0;
      v = v << 4 | (unsigned long long)x;
    }
    if (*p++ != ':')
      return 0;
    lim[i] = v;
  }
  return p;
}

/*
 * The ioctl list carrying exact rights, as sys/src/caplist.rs encodes it:
 * the marker 0xCA64000000000000, then 0xCA64010000000000 | bit for each
 * base right and 0xCA64020000000000 | bit for each inheriting right.
 * out must hold 129 entries; returns their number.
 */
static int caplist_encode(unsigned long long base, unsigned long long inheriting, unsigned long long *out) {
  int n = 0;
  out[n++] = 0xCA64000000000000ULL;
  for (int k = 1; k <= 2; k++) {
    unsigned long long set = k == 1 ? base : inheriting;
    for (unsigned b = 0; b < 64; b++)
      if ((set >> b) & 1)
        out[n++] = 0xCA64000000000000ULL | (unsigned long long)k << 40 | b;
  }
  return n;
}


/*
 * The next file of an output_case's files word (decoded): lines of
 * "NAME<tab>TEXT". Splits the line in place, stores name and text, and
 * returns where the next line starts; 0 at the end or for a line without a
 * tab.
 */
static char *next_file(char *p, char **name, char **text) {
  if (*p == '\0')
    return 0;
  *name = p;
  while (*p != '\0' && *p != '\t' && *p != '\n')
    p++;
  if (*p != '\t')
    return 0;
  *p++ = '\0';
  *text = p;
  while (*p != '\0' && *p != '\n')
    p++;
  if (*p == '\n')
    *p++ = '\0';
  return p;
}

/* Whether the output (len bytes) is exactly the expected text. */
static int same_output(const char *out, long len, const char *expected) {
  long i = 0;
  for (; i < len; i++)
    if (expected[i] == '\0' || expected[i] != out[i])
      return 0;
  return expected[i] == '\0';
}

/*
 * The SCALE of /ca64/config (how many times longer than natively a case may
 * take under emulation; freebsd-vm/bare/boot): 1 to 999, else 1.
 */
static long parse_scale(const char *s) {
  long v = 0;
  int digits = 0;
  while (*s >= '0' && *s <= '9' && digits < 4)
    v = v * 10 + (*s++ - '0'), digits++;
  return *s == '\0' && v >= 1 && v <= 999 ? v : 1;
}

#ifdef CA64_HOST_TEST
/* ---- host tests of the pure parts -------------------------------------- */

static int failures;
#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                                           \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

int main(void) {
  char w1[] = "\\006\\210\\010tmpdir";
  CHECK(decode_word(w1) == 9 && memcmp(w1, "\x06\x88\x08tmpdir", 9) == 0);
  char w2[] = "/tmp/ca64.x/fd_read/scratch";
  CHECK(decode_word(w2) == 27 && strcmp(w2, "/tmp/ca64.x/fd_read/scratch") == 0);
  char w3[] = "\\000";
  CHECK(decode_word(w3) == -1);
  char w4[] = "\\09";
  CHECK(decode_word(w4) == -1);
  char w5[] = "\\055a\\040b";
  CHECK(decode_word(w5) == 4 && strcmp(w5, "-a b") == 0);

  char line[] = "run_case 'fd_read' 'fd_read' 'exit 0' 30 'fd:1' 'dir:/tmp/x' -- '' 'a\\040b'";
  char *words[16];
  int n = split_line(line, words, 16);
  CHECK(n == 10);
  CHECK(n == 10 && strcmp(words[0], "run_case") == 0 && strcmp(words[3], "exit 0") == 0 &&
        strcmp(words[4], "30") == 0 && strcmp(words[7], "--") == 0 && words[8][0] == '\0' &&
        strcmp(words[9], "a\\040b") == 0);
  char bad[] = "run_case 'x";
  CHECK(split_line(bad, words, 16) == -1);
  char many[] = "a b c d";
  CHECK(split_line(many, words, 3) == -1);

  CHECK(expected_status("exit 0") == 0);
  CHECK(expected_status("exit 3") == 3);
  CHECK(expected_status("signal SEGV") == 139);
  CHECK(expected_status("signal USR1") == 158);
  CHECK(expected_status("signal NOPE") == -1);
  CHECK(expected_status("exit") == -1);
  CHECK(expected_status("exit 1x") == -1);

  int ok, other;
  count_lines("ok a\nok b\n", 10, &ok, &other);
  CHECK(ok == 2 && other == 0);
  count_lines("ok a\nnot ok b", 14, &ok, &other);
  CHECK(ok == 1 && other == 1);
  count_lines("", 0, &ok, &other);
  CHECK(ok == 0 && other == 0);
  count_lines("\n", 1, &ok, &other);
  CHECK(ok == 0 && other == 1);
  count_lines("ok", 2, &ok, &other);
  CHECK(ok == 0 && other == 1);

  unsigned long long lim[4] = {0, 0, 0, 0};
  const char *rest = parse_limits("lim:0200000000000001:0400000000000080:0000000000000002:0000008000000000:read:/x", lim);
  CHECK(rest != 0 && strcmp(rest, "read:/x") == 0);
  CHECK(lim[0] == 0x0200000000000001ULL && lim[1] == 0x0400000000000080ULL && lim[2] == 2 &&
        lim[3] == 0x8000000000ULL);
  CHECK(strcmp(parse_limits("dir:/x", lim), "dir:/x") == 0);
  CHECK(parse_limits("lim:02:dir:/x", lim) == 0);
  CHECK(parse_limits("lim:0200000000000001:0400000000000080:0000000000000002:000000800000000G:x", lim) == 0);
  /* The entries sys/src/caplist.rs documents (its test asserts the same). */
  unsigned long long list[129];
  CHECK(caplist_encode(2, 4 | 0x8000000000ULL, list) == 4);
  CHECK(list[0] == 0xCA64000000000000ULL && list[1] == 0xCA64010000000001ULL &&
        list[2] == 0xCA64020000000002ULL && list[3] == 0xCA64020000000027ULL);
  CHECK(caplist_encode(~0ULL, ~0ULL, list) == 129);

  char files[] = "a.txt\thello world\nb\t\n";
  char *fname, *ftext, *fp = files;
  fp = next_file(fp, &fname, &ftext);
  CHECK(fp != 0 && strcmp(fname, "a.txt") == 0 && strcmp(ftext, "hello world") == 0);
  fp = fp ? next_file(fp, &fname, &ftext) : 0;
  CHECK(fp != 0 && strcmp(fname, "b") == 0 && ftext[0] == '\0');
  CHECK(fp != 0 && next_file(fp, &fname, &ftext) == 0);
  char notab[] = "x\n";
  CHECK(next_file(notab, &fname, &ftext) == 0);
  CHECK(same_output("a\nb\n", 4, "a\nb\n"));
  CHECK(!same_output("a\nb", 3, "a\nb\n"));
  CHECK(!same_output("a\nb\nc", 5, "a\nb\n"));
  CHECK(same_output("", 0, ""));
  CHECK(parse_scale("10") == 10);
  CHECK(parse_scale("1") == 1);
  CHECK(parse_scale("999") == 999);
  CHECK(parse_scale("") == 1);
  CHECK(parse_scale("0") == 1);
  CHECK(parse_scale("1000") == 1);
  CHECK(parse_scale("5x") == 1);
  CHECK(parse_scale("-5") == 1);

  printf("ca64-init host tests: %d failed\n", failures);
  return failures != 0;
}

#else
/* What the compiler may call for struct copies and zeroing (no C library). */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
void *memset(void *d, int c, unsigned long n) {
  volatile unsigned char *p = d;
  while (n-- > 0)
    *p++ = (unsigned char)c;
  return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
  volatile unsigned char *p = d;
  const unsigned char *q = s;
  while (n-- > 0)
    *p++ = *q++;
  return d;
}

/* ---- raw system calls --------------------------------------------------- */

/* Returns the result, or -errno (the carry flag marks an error on both arches). */
static long sc6(long n, long a, long b, long c, long d, long e, long f, long *second) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long rax = n, rdx = c;
  unsigned char cf;
  __asm__ volatile("syscall; setc %2"
                   : "+a"(rax), "+d"(rdx), "=r"(cf), "+r"(r10), "+r"(r8), "+r"(r9)
                   : "D"(a), "S"(b)
                   : "rcx", "r11", "memory", "cc");
  if (second != 0)
    *second = rdx;
  return cf ? -rax : rax;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  long cs;
  __asm__ volatile("svc #0\n\tcset %7, cs"
                   : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x8), "=r"(cs)
                   :
                   : "memory", "cc");
  if (second != 0)
    *second = x1;
  return cs ? -x0 : x0;
#else
#error "amd64 or arm64 only"
#endif
}
#define SC(n, a, b, c, d, e, f) sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f), 0)

static long sys_write(int fd, const void *p, unsigned long n) { return SC(SYS_write, fd, p, n, 0, 0, 0); }
static long sys_read(int fd, void *p, unsigned long n) { return SC(SYS_read, fd, p, n, 0, 0, 0); }
static long sys_open(const char *path, int flags, int mode) {
  return SC(SYS_openat, AT_FDCWD, path, flags, mode, 0, 0);
}
static long sys_close(int fd) { return SC(SYS_close, fd, 0, 0, 0, 0, 0); }
static long sys_dup2(int from, int to) { return SC(SYS_dup2, from, to, 0, 0, 0, 0); }
static long sys_fcntl(int fd, int cmd, long arg) { return SC(SYS_fcntl, fd, cmd, arg, 0, 0, 0); }
static long sys_mkdir(const char *path) { return SC(SYS_mkdirat, AT_FDCWD, path, 0755, 0, 0, 0); }
static long sys_unlinkat(int dfd, const char *path, int flags) {
  return SC(SYS_unlinkat, dfd, path, flags, 0, 0, 0);
}
static long sys_chdir(const char *path) { return SC(SYS_chdir, path, 0, 0, 0, 0, 0); }
static long sys_wait4(int pid, int *status, int options) { return SC(SYS_wait4, pid, status, options, 0, 0, 0); }
static long sys_kill(int pid, int sig) { return SC(SYS_kill, pid, sig, 0, 0, 0, 0); }
static long sys_nanosleep(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  return SC(SYS_nanosleep, &ts, 0, 0, 0, 0, 0);
}
static long now_ms(void) {
  struct timespec ts;
  if (SC(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0, 0, 0, 0) != 0)
    return 0;
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static __attribute__((noreturn)) void sys_exit(int code) {
  SC(SYS_exit, code, 0, 0, 0, 0, 0);
  for (;;)
    ;
}

/* fork(2): the child sees 0 or a second return value of 1. */
static long sys_fork(int *is_child) {
  long second = 0;
  long r = sc6(SYS_fork, 0, 0, 0, 0, 0, 0, &second);
  *is_child = r == 0 || (r > 0 && second == 1);
  return r;
}

/* ---- console output -------------------------------------------------- */

static char obuf[1024];
static unsigned olen;

static void flush(void) {
  unsigned off = 0;
  while (off < olen) {
    long w = sys_write(1, obuf + off, olen - off);
    if (w <= 0)
      break;
    off += (unsigned)w;
  }
  olen = 0;
}
static void put(const char *s, unsigned long n) {
  for (unsigned long i = 0; i < n; i++) {
    if (olen == sizeof(obuf))
      flush();
    obuf[olen++] = s[i];
  }
}
static void puts_(const char *s) { put(s, slen(s)); }
static void putnum(long v) {
  char b[24];
  int i = 24;
  int neg = v < 0;
  unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
  do
    b[--i] = (char)('0' + u % 10);
  while ((u /= 10) != 0 && i > 1);
  if (neg)
    b[--i] = '-';
  put(b + i, (unsigned long)(24 - i));
}
/* Printable bytes as they are, the rest as '?' (console lines stay lines). */
static void putsafe(const char *s, long n) {
  for (long i = 0; i < n; i++) {
    char c = s[i];
    put(c >= 0x20 && c < 0x7f ? &c : "?", 1);
  }
}
static void begin(void) { puts_("cloudabi64-vm: "); }
/*
 * Ends a console line and waits until the terminal has sent it
 * (TIOCDRAIN): the kernel's own messages go to the console directly and
 * would otherwise land inside a line still queued (seen: "done" cut in two
 * by the shutdown messages, so that nothing saw it).
 */
static void end(void) {
  put("\n", 1);
  flush();
  SC(SYS_ioctl, 1, TIOCDRAIN, 0, 0, 0, 0);
}
static void say(const char *s) {
  begin();
  puts_(s);
  end();
}

static const char *errname(long e) {
  switch (e) {
  case 1: return "EPERM";
  case 2: return "ENOENT";
  case 8: return "ENOEXEC";
  case 9: return "EBADF";
  case 12: return "ENOMEM";
  case 13: return "EACCES";
  case 14: return "EFAULT";
  case 16: return "EBUSY";
  case 17: return "EEXIST";
  case 20: return "ENOTDIR";
  case 22: return "EINVAL";
  case 24: return "EMFILE";
  case 49: return "EADDRNOTAVAIL";
  case 78: return "ENOSYS";
  default: return "errno";
  }
}
static void puterr(long e) {
  puts_(errname(e));
  puts_(" (");
  putnum(e);
  puts_(")");
}

/* ---- files --------------------------------------------------------------- */

/* Reads up to cap-1 bytes of path into buf (NUL-terminated); the length or -errno. */
static long read_file(const char *path, char *buf, long cap) {
  long fd = sys_open(path, O_RDONLY, 0);
  if (fd < 0)
    return fd;
  long len = 0;
  while (len < cap - 1) {
    long r = sys_read((int)fd, buf + len, (unsigned long)(cap - 1 - len));
    if (r <= 0)
      break;
    len += r;
  }
  sys_close((int)fd);
  buf[len] = '\0';
  return len;
}

/* The value of KEY=VALUE in the config text, copied into out. */
static void config_value(const char *text, const char *key, char *out, unsigned long cap) {
  out[0] = '\0';
  const char *p = text;
  unsigned long k = slen(key);
  while (*p != '\0') {
    if (sstarts(p, key) && p[k] == '=') {
      p += k + 1;
      unsigned long i = 0;
      while (*p != '\0' && *p != '\n' && i + 1 < cap)
        out[i++] = *p++;
      out[i] = '\0';
      return;
    }
    while (*p != '\0' && *p++ != '\n')
      ;
  }
}

/* Joins a and b with a slash into out. */
static const char *join(char *out, unsigned long cap, const char *a, const char *b) {
  unsigned long i = 0;
  for (const char *p = a; *p != '\0' && i + 2 < cap; p++)
    out[i++] = *p;
  out[i++] = '/';
  for (const char *p = b; *p != '\0' && i + 1 < cap; p++)
    out[i++] = *p;
  out[i] = '\0';
  return out;
}

/*
 * Removes every cloudabi64-escape* entry of dir (a directory through
 * unlinkat AT_REMOVEDIR, one level); appends their names to found.
 */
static void escapes(const char *dir, char *found, unsigned long cap) {
  static char dbuf[8192];
  long fd = sys_open(dir, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0)
    return;
  long r;
  off_t base = 0;
  while ((r = SC(SYS_getdirentries, fd, dbuf, sizeof(dbuf), &base, 0, 0)) > 0) {
    for (long off = 0; off < r;) {
      struct dirent *d = (struct dirent *)(dbuf + off);
      if (d->d_reclen == 0)
        break;
      off += d->d_reclen;
      if (d->d_fileno == 0 || !sstarts(d->d_name, "cloudabi64-escape"))
        continue;
      unsigned long n = slen(found);
      char path[512];
      join(path, sizeof(path), dir, d->d_name);
      for (const char *p = " "; *p != '\0' && n + 1 < cap; p++)
        found[n++] = *p;
      for (const char *p = path; *p != '\0' && n + 1 < cap; p++)
        found[n++] = *p;
      found[n] = '\0';
      if (sys_unlinkat((int)fd, d->d_name, 0) != 0)
        sys_unlinkat((int)fd, d->d_name, AT_REMOVEDIR);
    }
  }
  sys_close((int)fd);
}

/* Up to max lines of buf as detail lines "    TAG LINE". */
static void details(const char *tag, const char *buf, long len, int max, int skip_ok) {
  long start = 0;
  int shown = 0;
  for (long i = 0; i <= len && shown < max; i++) {
    if (i == len || buf[i] == '\n') {
      long n = i - start;
      if (n > 0 && !(skip_ok && n >= 3 && sstarts(buf + start, "ok "))) {
        begin();
        puts_("    ");
        puts_(tag);
        puts_(" ");
        putsafe(buf + start, n > 200 ? 200 : n);
        end();
        shown++;
      }
      start = i + 1;
    }
  }
}

/* ---- sockets (cloudabi-run's !socket addresses) ------------------------ */

/* a.b.c.d into network order; 0 on success. */
static int parse_ipv4(const char *s, unsigned long n, unsigned *out) {
  unsigned v = 0, part = 0;
  int parts = 0, digits = 0;
  for (unsigned long i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      if (digits == 0 || part > 255)
        return -1;
      v = (v << 8) | part;
      part = 0, digits = 0, parts++;
    } else if (s[i] >= '0' && s[i] <= '9') {
      part = part * 10 + (unsigned)(s[i] - '0');
      if (++digits > 3)
        return -1;
    } else {
      return -1;
    }
  }
  if (parts != 4)
    return -1;
  *out = __builtin_bswap32(v);
  return 0;
}

/* Makes the socket of a "KIND:ADDRESS" word (stream: listening); its descriptor or -errno. */
static long make_socket(const char *spec) {
  int type;
  const char *addr;
  if (sstarts(spec, "stream:"))
    type = SOCK_STREAM, addr = spec + 7;
  else if (sstarts(spec, "dgram:"))
    type = SOCK_DGRAM, addr = spec + 6;
  else
    return -22;
  long s;
  if (addr[0] == '/') {
    struct sockaddr_un sun;
    char *b = (char *)&sun;
    for (unsigned i = 0; i < sizeof(sun); i++)
      b[i] = 0;
    unsigned long n = slen(addr);
    if (n >= sizeof(sun.sun_path))
      return -63;
    sun.sun_len = sizeof(sun);
    sun.sun_family = AF_UNIX;
    for (unsigned long i = 0; i < n; i++)
      sun.sun_path[i] = addr[i];
    s = SC(SYS_socket, AF_UNIX, type, 0, 0, 0, 0);
    if (s < 0)
      return s;
    long r = SC(SYS_bind, s, &sun, sizeof(sun), 0, 0, 0);
    if (r < 0)
      return r;
  } else {
    unsigned long n = slen(addr), colon = n;
    while (colon > 0 && addr[colon - 1] != ':')
      colon--;
    if (colon == 0)
      return -22;
    unsigned port = 0;
    for (unsigned long i = colon; i < n; i++) {
      if (addr[i] < '0' || addr[i] > '9' || port > 65535)
        return -22;
      port = port * 10 + (unsigned)(addr[i] - '0');
    }
    struct sockaddr_in sin;
    char *b = (char *)&sin;
    for (unsigned i = 0; i < sizeof(sin); i++)
      b[i] = 0;
    sin.sin_len = sizeof(sin);
    sin.sin_family = AF_INET;
    sin.sin_port = (unsigned short)(((port & 0xff) << 8) | (port >> 8));
    if (port > 65535 || parse_ipv4(addr, colon - 1, &sin.sin_addr.s_addr) != 0)
      return -22; /* IPv6 and names: not here (no resolver) */
    s = SC(SYS_socket, AF_INET, type, 0, 0, 0, 0);
    if (s < 0)
      return s;
    int one = 1;
    SC(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one), 0);
    long r = SC(SYS_bind, s, &sin, sizeof(sin), 0, 0, 0);
    if (r < 0)
      return r;
  }
  if (type == SOCK_STREAM) {
    long r = SC(SYS_listen, s, 128, 0, 0, 0, 0);
    if (r < 0)
      return r;
  }
  return s;
}

/* lo0 up with 127.0.0.1/8 (what rc's netif does), for the !socket cases. */
static void loopback_up(void) {
  long s = SC(SYS_socket, AF_INET, SOCK_DGRAM, 0, 0, 0, 0);
  if (s < 0) {
    begin(), puts_("loopback: no socket: "), puterr(-s), end();
    return;
  }
  struct ifaliasreq ifra;
  char *b = (char *)&ifra;
  for (unsigned i = 0; i < sizeof(ifra); i++)
    b[i] = 0;
  ifra.ifra_name[0] = 'l', ifra.ifra_name[1] = 'o', ifra.ifra_name[2] = '0';
  struct sockaddr_in *a = (struct sockaddr_in *)&ifra.ifra_addr;
  a->sin_len = sizeof(*a), a->sin_family = AF_INET, a->sin_addr.s_addr = __builtin_bswap32(0x7f000001);
  struct sockaddr_in *m = (struct sockaddr_in *)&ifra.ifra_mask;
  m->sin_len = sizeof(*m), m->sin_family = AF_INET, m->sin_addr.s_addr = __builtin_bswap32(0xff000000);
  long r = SC(SYS_ioctl, s, SIOCAIFADDR, &ifra, 0, 0, 0);
  struct ifreq ifr;
  b = (char *)&ifr;
  for (unsigned i = 0; i < sizeof(ifr); i++)
    b[i] = 0;
  ifr.ifr_name[0] = 'l', ifr.ifr_name[1] = 'o', ifr.ifr_name[2] = '0';
  long g = SC(SYS_ioctl, s, SIOCGIFFLAGS, &ifr, 0, 0, 0);
  ifr.ifr_flags |= IFF_UP;
  long u = g < 0 ? g : SC(SYS_ioctl, s, SIOCSIFFLAGS, &ifr, 0, 0, 0);
  sys_close((int)s);
  begin();
  puts_("loopback: ");
  if (r < 0)
    puts_("address not set: "), puterr(-r);
  else if (u < 0)
    puts_("not up: "), puterr(-u);
  else
    puts_("lo0 up, 127.0.0.1");
  end();
}

/* ---- one case ------------------------------------------------------------ */

static const char *BASE = "/tmp/ca64";
static char base_buf[256];
static long SCALE = 1;
static int passed, failed, skipped;
static char outbuf[65536], errbuf[16384];

/*
 * Child side: descriptors, working directory, execve. Never returns;
 * exit status 125 when a descriptor cannot be made, 126 when execve fails
 * (as vm-run.sh's helper).
 */
static __attribute__((noreturn)) void start_program(const char *prog, const char *cwd, int outfd,
                                                    int errfd, char **fds, int nfds, char **argv) {
  static char *const no_env[] = {0};
  int tmp[MAX_FDS];
  if (sys_chdir(cwd) != 0)
    sys_exit(125);
  for (int i = 0; i < nfds; i++) {
    unsigned long long lim[4];
    const char *w = parse_limits(fds[i], lim);
    long fd;
    if (w == 0)
      fd = -22;
    else if (seq(w, "fd:0"))
      fd = sys_open("/dev/null", O_RDONLY, 0);
    else if (seq(w, "fd:1"))
      fd = sys_fcntl(outfd, F_DUPFD, 32);
    else if (seq(w, "fd:2"))
      fd = sys_fcntl(errfd, F_DUPFD, 32);
    else if (sstarts(w, "dir:"))
      fd = sys_open(w + 4, O_RDONLY | O_DIRECTORY, 0);
    else if (sstarts(w, "read:"))
      fd = sys_open(w + 5, O_RDONLY, 0);
    else if (sstarts(w, "append:"))
      fd = sys_open(w + 7, O_WRONLY | O_APPEND | O_CREAT, 0666);
    else if (sstarts(w, "readwrite:"))
      fd = sys_open(w + 10, O_RDWR | O_CREAT, 0666);
    else if (sstarts(w, "exec:"))
      fd = sys_open(prog, O_RDONLY, 0);
    else if (sstarts(w, "sock:"))
      fd = make_socket(w + 5);
    else
      fd = -22;
    if (fd >= 0 && fd < 32) {
      long moved = sys_fcntl((int)fd, F_DUPFD, 32);
      sys_close((int)fd);
      fd = moved;
    }
    if (fd >= 0 && w != fds[i]) {
      /* cloudabi-run's native limits: rights, then the exact rights' list. */
      static unsigned long long list[129];
      unsigned long long rights[2] = {lim[0], lim[1]};
      int n = caplist_encode(lim[2], lim[3], list);
      long e = SC(SYS_cap_rights_limit, fd, rights, 0, 0, 0, 0);
      if (e == 0)
        e = SC(SYS_cap_ioctls_limit, fd, list, n, 0, 0, 0);
      if (e != 0) {
        sys_write(errfd, "ca64-init: cannot limit a descriptor\n", 37);
        fd = e;
      }
    }
    if (fd < 0) {
      sys_write(errfd, "ca64-init: cannot open a descriptor: ", 37);
      sys_write(errfd, fds[i], slen(fds[i]));
      sys_write(errfd, "\n", 1);
      sys_exit(125);
    }
    tmp[i] = (int)fd;
  }
  for (int i = 0; i < nfds; i++)
    if (sys_dup2(tmp[i], i) < 0)
      sys_exit(125);
  /* Nothing else open: close_range(nfds, ~0U, 0). */
  SC(SYS_close_range, nfds, ~0U, 0, 0, 0, 0);
  SC(SYS_execve, prog, argv, no_env, 0, 0, 0);
  sys_exit(126);
}

/*
 * Waits for pid up to timeout_s, reaping every other child meanwhile (init
 * inherits the orphans a case leaves). Sets *status (128+N for signal N,
 * -1 if unknown); returns 1 on a timeout (the program is then killed).
 */
static int wait_case(long pid, long timeout_s, int *status) {
  long deadline = now_ms() + timeout_s * 1000;
  int st = 0;
  for (;;) {
    long r = sys_wait4(-1, &st, WNOHANG);
    if (r == pid)
      break;
    if (r > 0 || r == -4) /* another child, or EINTR: look again */
      continue;
    if (r < 0) { /* ECHILD: it is gone without a status */
      *status = -1;
      return 0;
    }
    if (now_ms() > deadline) {
      sys_kill((int)pid, 9);
      sys_wait4((int)pid, &st, 0);
      *status = -1;
      return 1;
    }
    sys_nanosleep(20);
  }
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
  return 0;
}

/*
 * The client side of an output_case with requests ("PORT\nMETHOD PATH\n..."
 * decoded): each request is sent as HTTP/1.0 to 127.0.0.1:PORT (retrying
 * the connection for up to 30 s while the program starts), and the status
 * line of each response (up to CR or LF) is appended to out with a
 * newline; "no connection" or "no response" when there was none. Returns
 * the length written.
 */
static long http_client(char *requests, char *out, long cap) {
  long len = 0;
  unsigned port = 0;
  char *p = requests;
  while (*p >= '0' && *p <= '9')
    port = port * 10 + (unsigned)(*p++ - '0');
  if (*p == '\n')
    p++;
  static char resp[4096];
  while (*p != '\0' && len < cap - 64) {
    char *req = p;
    while (*p != '\0' && *p != '\n')
      p++;
    if (*p == '\n')
      *p++ = '\0';
    struct sockaddr_in sin;
    char *b = (char *)&sin;
    for (unsigned i = 0; i < sizeof(sin); i++)
      b[i] = 0;
    sin.sin_len = sizeof(sin);
    sin.sin_family = AF_INET;
    sin.sin_port = (unsigned short)(((port & 0xff) << 8) | (port >> 8));
    sin.sin_addr.s_addr = 0x0100007f; /* 127.0.0.1, network order */
    long s = -1;
    for (long deadline = now_ms() + 30000; now_ms() < deadline; sys_nanosleep(100)) {
      s = SC(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0);
      if (s >= 0 && SC(SYS_connect, s, &sin, sizeof(sin), 0, 0, 0) == 0)
        break;
      if (s >= 0)
        sys_close((int)s);
      s = -1;
    }
    const char *line = "no connection";
    long n = 0;
    if (s >= 0) {
      struct timeval tv = {20, 0};
      SC(SYS_setsockopt, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv), 0);
      sys_write((int)s, req, slen(req));
      sys_write((int)s, " HTTP/1.0\r\n\r\n", 13);
      long r;
      while (n < (long)sizeof(resp) - 1 && (r = sys_read((int)s, resp + n, sizeof(resp) - 1 - (unsigned long)n)) > 0)
        n += r;
      sys_close((int)s);
      long end = 0;
      while (end < n && resp[end] != '\r' && resp[end] != '\n')
        end++;
      resp[end] = '\0';
      line = end > 0 ? resp : "no response";
    }
    for (const char *q = line; *q != '\0' && len < cap - 2; q++)
      out[len++] = *q;
    out[len++] = '\n';
  }
  return len;
}

static void run_case(char **w, int n, int output_case) {
  /*
   * run_case NAME PROGRAM EXPECT TIMEOUT DESCRIPTOR... -- PIECE...
   * output_case NAME PROGRAM EXPECT TIMEOUT OUTPUT FILES REQUESTS DESCRIPTOR... -- PIECE...
   * (output_case: the output must be exactly OUTPUT; FILES, lines of
   * NAME<tab>TEXT, are written to the scratch directory first; with
   * REQUESTS, the output judged is the client's, see http_client.)
   */
  const char *name = w[1], *pname = w[2], *expect = w[3];
  long timeout = 0;
  for (const char *p = w[4]; *p >= '0' && *p <= '9' && timeout < 100000; p++)
    timeout = timeout * 10 + (*p - '0');
  int first = output_case ? 8 : 5;
  const char *why = 0;
  char *expected_out = 0, *files = 0, *requests = 0;
  if (output_case) {
    if (n < 8 || decode_word(w[5]) < 0 || decode_word(w[6]) < 0 || decode_word(w[7]) < 0)
      why = "a malformed output, files or requests word";
    else
      expected_out = w[5], files = w[6], requests = w[7][0] != '\0' ? w[7] : 0;
  }
  long spec_timeout = timeout;
  timeout *= SCALE;
  int sep = first;
  while (sep < n && !seq(w[sep], "--"))
    sep++;
  char **fds = w + first;
  int nfds = sep - first;
  char *argv[MAX_ARGS + 1];
  int argc = 0;
  for (int i = first; i < sep; i++)
    if (decode_word(w[i]) < 0)
      why = "a malformed descriptor word";
  for (int i = sep + 1; i < n && argc < MAX_ARGS; i++) {
    if (decode_word(w[i]) < 0)
      why = "a malformed argument word";
    argv[argc++] = w[i];
  }
  argv[argc] = 0;
  if (sep == n)
    why = "no -- in the case line";
  if (nfds > MAX_FDS)
    why = "too many descriptors";
  int want = expected_status(expect);
  if (want < 0)
    why = "an unreadable expectation";

  char parent[256], scratch[300], prog[300], outp[300], errp[300];
  join(parent, sizeof(parent), BASE, name);
  join(scratch, sizeof(scratch), parent, "scratch");
  join(prog, sizeof(prog), "/ca64/conformance", pname);
  join(outp, sizeof(outp), base_buf, "out");
  join(errp, sizeof(errp), base_buf, "err");
  sys_mkdir(parent);
  sys_mkdir(scratch);
  for (char *fp = files, *fname, *ftext; why == 0 && fp != 0 && *fp != '\0';) {
    fp = next_file(fp, &fname, &ftext);
    char path[400];
    join(path, sizeof(path), scratch, fname);
    long fd = fp == 0 ? -1 : sys_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || sys_write((int)fd, ftext, slen(ftext)) < 0 || sys_write((int)fd, "\n", 1) != 1)
      why = "cannot write the case's files";
    if (fd >= 0)
      sys_close((int)fd);
  }
  long outfd = sys_open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  long errfd = sys_open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (outfd < 0 || errfd < 0)
    why = "cannot create the output files";

  int status = -1, timed_out = 0;
  static char clientbuf[4096];
  long client_len = 0;
  if (why == 0) {
    int is_child;
    long pid = sys_fork(&is_child);
    if (pid < 0) {
      why = "fork failed";
    } else if (is_child) {
      start_program(prog, parent, (int)outfd, (int)errfd, fds, nfds, argv);
    } else {
      if (requests != 0) /* the client's transcript is the output judged */
        client_len = http_client(requests, clientbuf, sizeof(clientbuf));
      timed_out = wait_case(pid, timeout, &status);
    }
  }
  if (outfd >= 0)
    sys_close((int)outfd);
  if (errfd >= 0)
    sys_close((int)errfd);
  long olen_ = read_file(outp, outbuf, sizeof(outbuf));
  long elen = read_file(errp, errbuf, sizeof(errbuf));
  if (olen_ < 0)
    olen_ = 0;
  if (elen < 0)
    elen = 0;
  int oks, others;
  count_lines(outbuf, olen_, &oks, &others);
  static char found[1024];
  found[0] = '\0';
  escapes(parent, found, sizeof(found));
  escapes("/tmp", found, sizeof(found));

  if (requests != 0) {
    for (long i = 0; i < client_len; i++)
      outbuf[i] = clientbuf[i];
    olen_ = client_len;
  }
  int output_ok = output_case ? expected_out != 0 && same_output(outbuf, olen_, expected_out)
                              : others == 0 && oks > 0;
  int ok = why == 0 && !timed_out && status == want && output_ok && found[0] == '\0';
  begin();
  if (ok) {
    passed++;
    puts_("ok ");
    puts_(name);
  } else {
    failed++;
    puts_("FAIL ");
    puts_(name);
    puts_(": ");
    if (why != 0) {
      puts_("cannot start: ");
      puts_(why);
    } else if (timed_out) {
      puts_("no exit within ");
      putnum(timeout);
      puts_(" s");
      if (SCALE != 1)
        puts_(" (timeout "), putnum(spec_timeout), puts_(" s x"), putnum(SCALE), puts_(")");
    } else if (output_case && status == want && !output_ok) {
      puts_("status ");
      putnum(status);
      puts_(", output not as expected");
    } else if (status != want || !output_ok) {
      puts_("status ");
      putnum(status);
      puts_(" (expected ");
      puts_(expect);
      puts_(")");
      if (status == 125 || status == 126)
        puts_(": the program could not be started");
      puts_(", ");
      putnum(oks);
      puts_(" ok, ");
      putnum(others);
      puts_(" other lines");
    }
    if (found[0] != '\0') {
      puts_("; escaped the scratch directory:");
      puts_(found);
    }
  }
  end();
  if (!ok) {
    details("|", outbuf, olen_, 10, !output_case);
    details("stderr|", errbuf, elen, 5, 0);
  }
}

/* ---- main ------------------------------------------------------------------ */

static char cases[1 << 20];
static char config[4096];

static void mount_tmpfs(void) {
  struct iovec iov[4] = {
      {(void *)"fstype", 7}, {(void *)"tmpfs", 6}, {(void *)"fspath", 7}, {(void *)"/tmp", 5}};
  long r = SC(SYS_nmount, iov, 4, 0, 0, 0, 0);
  begin();
  if (r == 0)
    puts_("tmpfs: mounted on /tmp");
  else
    puts_("tmpfs: cannot mount on /tmp: "), puterr(-r);
  end();
}

static void print_sysctl(const char *label, int a, int b, int is_int) {
  int mib[2] = {a, b};
  char buf[256];
  unsigned long len = sizeof(buf) - 1;
  long r = SC(SYS___sysctl, mib, 2, buf, &len, 0, 0);
  begin();
  puts_(label);
  if (r != 0)
    puts_("unknown");
  else if (is_int)
    putnum(*(int *)buf);
  else
    putsafe(buf, (long)(len > 0 && buf[len - 1] == '\0' ? len - 1 : len));
  end();
}

static __attribute__((noreturn)) void power_off(void) {
  flush();
  SC(SYS_sync, 0, 0, 0, 0, 0, 0);
  SC(SYS_reboot, RB_POWEROFF, 0, 0, 0, 0, 0);
  for (;;)
    sys_nanosleep(1000);
}

static __attribute__((noreturn, used)) void ca64_main(void) {
  /* The console as 0, 1 and 2. */
  long c = sys_open("/dev/console", O_RDWR, 0);
  if (c >= 0) {
    for (int i = 0; i < 3; i++)
      if (c != i)
        sys_dup2((int)c, i);
    if (c > 2)
      sys_close((int)c);
  }
  char release[64], arch[16];
  if (read_file("/ca64/config", config, sizeof(config)) < 0)
    config[0] = '\0';
  config_value(config, "RELEASE", release, sizeof(release));
  config_value(config, "ARCH", arch, sizeof(arch));
  config_value(config, "BASE", base_buf, sizeof(base_buf));
  char scale[8];
  config_value(config, "SCALE", scale, sizeof(scale));
  SCALE = parse_scale(scale);
  if (base_buf[0] == '/')
    BASE = base_buf;
  else
    join(base_buf, sizeof(base_buf), "/tmp", "ca64");
  begin(), puts_("start "), puts_(release), puts_(" "), puts_(arch), puts_(" (bare kernel)"), end();
  if (SCALE != 1)
    begin(), puts_("case timeouts x"), putnum(SCALE), puts_(" (emulation)"), end();
  print_sysctl("kern.osrelease: ", 1, 2, 0);
  print_sysctl("kern.osreldate: ", 1, 24, 1);
  mount_tmpfs();
  loopback_up();
  sys_mkdir(BASE);

  long fileid = SC(SYS_kldload, "/ca64/cloudabi64.ko", 0, 0, 0, 0, 0);
  if (fileid < 0) {
    begin(), puts_("kldload failed: "), puterr(-fileid), end();
  } else {
    say("kldload: ok");
    long len = read_file("/ca64/cases.sh", cases, sizeof(cases));
    if (len < 0) {
      begin(), puts_("cannot read /ca64/cases.sh: "), puterr(-len), end();
    }
    char *p = cases;
    while (len > 0 && *p != '\0') {
      char *line = p;
      while (*p != '\0' && *p != '\n')
        p++;
      if (*p == '\n')
        *p++ = '\0';
      if (line[0] == '#' || line[0] == '\0')
        continue;
      char *w[MAX_WORDS];
      int n = split_line(line, w, MAX_WORDS);
      if (n >= 5 && seq(w[0], "run_case")) {
        run_case(w, n, 0);
      } else if (n >= 8 && seq(w[0], "output_case")) {
        run_case(w, n, 1);
      } else if (n == 3 && seq(w[0], "skip_case")) {
        skipped++;
        decode_word(w[2]);
        begin(), puts_("SKIP "), puts_(w[1]), puts_(": "), puts_(w[2]), end();
      } else if (n > 0) {
        failed++;
        begin(), puts_("FAIL "), puts_(n > 1 ? w[1] : "?"), puts_(": unreadable case line"), end();
      }
    }
    begin();
    puts_("result: "), puts_(release), puts_(" "), puts_(arch), puts_(": ");
    putnum(passed), puts_(" passed, "), putnum(failed), puts_(" failed, "), putnum(skipped), puts_(" skipped");
    end();
    /* A process a test left behind keeps the module busy: let exiting ones go. */
    int st;
    for (int i = 0; i < 20; i++) {
      while (sys_wait4(-1, &st, WNOHANG) > 0)
        ;
      sys_nanosleep(50);
    }
    long r = SC(SYS_kldunload, fileid, 0, 0, 0, 0, 0);
    if (r == 0)
      say("kldunload: ok");
    else
      begin(), puts_("kldunload failed: "), puterr(-r), end();
  }
  say("done");
  power_off();
}

/* The entry point: a 16-byte aligned stack, then ca64_main. */
#if defined(__x86_64__)
__asm__(".text\n.globl _start\n_start:\n\txor %rbp, %rbp\n\tand $-16, %rsp\n\tcall ca64_main\n\thlt\n");
#else
__asm__(".text\n.globl _start\n_start:\n\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n\tand x0, x0, #-16\n"
        "\tmov sp, x0\n\tbl ca64_main\n\tbrk #0\n");
#endif

/* The FreeBSD ABI note (NT_FREEBSD_ABI_TAG), which brands the executable. */
__asm__(".section .note.tag,\"a\",%note\n.p2align 2\n.long 8\n.long 4\n.long 1\n.asciz \"FreeBSD\"\n"
        ".long " CA64_OSRELDATE "\n.text\n");
#endif
