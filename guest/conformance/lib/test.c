// The guest test library (see test.h).
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#include <rt.h>
#include <stdarg.h>

cloudabi_fd_t t_out = T_NOFD;
cloudabi_fd_t t_tmp = T_NOFD;
unsigned int t_failures;

// A case may define its own t_preflight to look at the configuration
// before "out" is required: a program that proc_exec runs again in
// another role may be given no descriptors at all.
__attribute__((weak)) void t_preflight(const argdata_t *ad) {
  (void)ad;
}

void program_main(const argdata_t *ad) {
  t_preflight(ad);
  // Without "out" there is nowhere to report to: exit 2, silently.
  if (argdata_map_get_fd(ad, "out", &t_out) != 0)
    _Exit(2);
  cloudabi_errno_t error = argdata_map_get_fd(ad, "tmpdir", &t_tmp);
  if (error != 0 && error != CLOUDABI_ENOENT) {
    fmt_printf(t_out, "FAIL config: tmpdir is not a descriptor\n");
    _Exit(2);
  }
  test_main(ad);
  _Exit(t_failures == 0 ? 0 : 1);
}

void t_need_tmpdir(void) {
  if (t_tmp == T_NOFD) {
    fmt_printf(t_out, "FAIL config: this test needs tmpdir: !file {path: @TMPDIR@, mode: directory}\n");
    _Exit(2);
  }
}

static void vreport(const char *name, bool pass, const char *fmt, va_list ap) {
  if (pass) {
    fmt_printf(t_out, "ok %s\n", name);
    return;
  }
  ++t_failures;
  // One line per check: format the detail first, then write it whole.
  char detail[400];
  fmt_vsnprintf(detail, sizeof(detail), fmt, ap);
  for (char *p = detail; *p != '\0'; ++p) {
    if (*p == '\n')
      *p = ' ';
  }
  fmt_printf(t_out, "FAIL %s: %s\n", name, detail);
}

bool t_check(const char *name, bool pass, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(name, pass, fmt, ap);
  va_end(ap);
  return pass;
}

void t_fail(const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(name, false, fmt, ap);
  va_end(ap);
}

bool t_errno(const char *name, cloudabi_errno_t got, const cloudabi_errno_t *want, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (got == want[i])
      return t_check(name, true, "");
  }
  // "expected ENOENT got EBADF", "expected one of EISDIR|EPERM got ...",
  // and "success" for 0.
  char list[200];
  size_t len = 0;
  for (size_t i = 0; i < n; ++i) {
    len += fmt_snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
                        i > 0 ? "|" : "", want[i] == 0 ? "success" : errno_name(want[i]));
  }
  return t_check(name, false, "expected %s%s got %s", n > 1 ? "one of " : "", list,
                 got == 0 ? "success" : errno_name(got));
}

bool t_eq(const char *name, uint64_t got, uint64_t want) {
  return t_check(name, got == want, "expected %lu got %lu", (unsigned long)want,
                 (unsigned long)got);
}

bool t_eq_hex(const char *name, uint64_t got, uint64_t want) {
  return t_check(name, got == want, "expected 0x%lx got 0x%lx", (unsigned long)want,
                 (unsigned long)got);
}

// Quotes bytes for a message, escaping what is not printable ASCII.
static void quote(char *out, size_t cap, const void *data, size_t len) {
  const unsigned char *p = data;
  size_t o = 0;
  for (size_t i = 0; i < len && o + 5 < cap; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
      out[o++] = (char)p[i];
    else
      o += fmt_snprintf(out + o, cap - o, "\\x%02x", p[i]);
  }
  out[o] = '\0';
}

bool t_eq_str(const char *name, const void *got, size_t got_len, const char *want) {
  return t_eq_mem(name, got, got_len, want, strlen(want));
}

bool t_eq_mem(const char *name, const void *got, size_t got_len, const void *want,
              size_t want_len) {
  bool pass = got_len == want_len && memcmp(got, want, want_len) == 0;
  char g[120], w[120];
  quote(g, sizeof(g), got, got_len);
  quote(w, sizeof(w), want, want_len);
  return t_check(name, pass, "expected \"%s\" got \"%s\"", w, g);
}

bool t_true(const char *name, bool cond, const char *expected) {
  return t_check(name, cond, "expected %s", expected);
}

cloudabi_errno_t t_open(cloudabi_fd_t dir, const char *path, cloudabi_oflags_t oflags,
                        cloudabi_rights_t base, cloudabi_rights_t inheriting,
                        cloudabi_fdflags_t fdflags, cloudabi_fd_t *fd) {
  cloudabi_fdstat_t fds = {
      .fs_flags = fdflags,
      .fs_rights_base = base,
      .fs_rights_inheriting = inheriting,
  };
  return cloudabi_sys_file_open(T_FOLLOW(dir), P(path), oflags, &fds, fd);
}

cloudabi_errno_t t_open_file(cloudabi_fd_t dir, const char *path, cloudabi_fd_t *fd) {
  return t_open(dir, path, 0, T_RIGHTS_FILE, 0, 0, fd);
}

cloudabi_errno_t t_open_dir(cloudabi_fd_t dir, const char *path, cloudabi_fd_t *fd) {
  return t_open(dir, path, CLOUDABI_O_DIRECTORY, T_RIGHTS_DIR, T_RIGHTS_DIR_INHERITING, 0, fd);
}

cloudabi_errno_t t_mkfile(cloudabi_fd_t dir, const char *path, const char *contents) {
  cloudabi_fd_t fd;
  cloudabi_errno_t error = t_open(dir, path, CLOUDABI_O_CREAT | CLOUDABI_O_TRUNC,
                                  CLOUDABI_RIGHT_FD_WRITE, 0, 0, &fd);
  if (error != 0)
    return error;
  error = write_all(fd, contents, strlen(contents));
  cloudabi_errno_t error2 = cloudabi_sys_fd_close(fd);
  return error != 0 ? error : error2;
}

cloudabi_errno_t t_drop_rights(cloudabi_fd_t fd, cloudabi_rights_t base,
                               cloudabi_rights_t inheriting) {
  cloudabi_fdstat_t st;
  cloudabi_errno_t error = cloudabi_sys_fd_stat_get(fd, &st);
  if (error != 0)
    return error;
  st.fs_rights_base &= ~base;
  st.fs_rights_inheriting &= ~inheriting;
  return cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_RIGHTS);
}

cloudabi_errno_t t_drop(cloudabi_fd_t fd, cloudabi_rights_t rights) {
  return t_drop_rights(fd, rights, rights);
}

cloudabi_errno_t t_write_str(cloudabi_fd_t fd, const char *s) {
  return write_all(fd, s, strlen(s));
}

cloudabi_errno_t t_read(cloudabi_fd_t fd, void *buf, size_t cap, size_t *len) {
  cloudabi_iovec_t iov = {.buf = buf, .buf_len = cap};
  return cloudabi_sys_fd_read(fd, &iov, 1, len);
}

cloudabi_errno_t t_pread_all(cloudabi_fd_t fd, void *buf, size_t cap, size_t *len) {
  size_t total = 0;
  for (;;) {
    cloudabi_iovec_t iov = {.buf = (char *)buf + total, .buf_len = cap - total};
    size_t n;
    cloudabi_errno_t error = cloudabi_sys_fd_pread(fd, &iov, 1, total, &n);
    if (error != 0)
      return error;
    total += n;
    if (n == 0 || total == cap)
      break;
  }
  *len = total;
  return 0;
}

cloudabi_errno_t t_stat(cloudabi_fd_t dir, const char *path, bool follow,
                        cloudabi_filestat_t *st) {
  return cloudabi_sys_file_stat_get(follow ? T_FOLLOW(dir) : T_NOFOLLOW(dir), P(path), st);
}

cloudabi_timestamp_t t_now(cloudabi_clockid_t clock) {
  cloudabi_timestamp_t t;
  return cloudabi_sys_clock_time_get(clock, 0, &t) == 0 ? t : 0;
}

size_t t_pagesz(void) {
  size_t p = rt_startinfo()->pagesz;
  return p >= 4096 ? p : 4096;
}

void *t_map_anon(const char *name, size_t len) {
  void *p;
  if (!T_OK(name, cloudabi_sys_mem_map(NULL, len, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                       CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE, CLOUDABI_MAP_ANON_FD,
                                       0, &p)))
    return NULL;
  return p;
}
