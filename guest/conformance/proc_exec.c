// proc_exec: this program runs itself again (`exe: !executable`) with new
// argument data and a list of descriptors. In the new image only the
// listed descriptors exist, renumbered 0..n-1 in the order given, with the
// type and rights they had, still sharing their open files (offsets,
// unread socket data); memory starts afresh from the executable. Before
// that, the errors: E2BIG for 512 KiB of data or more than 65536
// descriptors, EBADF for the executable or a listed descriptor,
// ENOTCAPABLE without proc_exec, a file that is no executable, EFAULT.
//
// The configuration decides the role: without "mode" this is the first
// image; "mode: child" is the new one, which checks what it was given.
// SPDX-License-Identifier: BSD-2-Clause

#include "proc.h"

#define NFDS 5
static const char *const fd_names[NFDS] = {"out", "file", "dir", "sock-a", "sock-b"};
static const char text[] = "caf\xc3\xa9 \xe2\x98\x95 text";
static const char blob[] = {'b', 0, 'l', 0, 'o', 'b', 0};
#define NEGATIVE INT64_C(-123456789012)

// Reset by a new image: proves the memory was not carried over.
static int marker = 5;

static cloudabi_fd_t highest_open_fd(void) {
  cloudabi_fd_t top = 0;
  for (cloudabi_fd_t fd = 0; fd < 256; ++fd) {
    cloudabi_fdstat_t st;
    if (cloudabi_sys_fd_stat_get(fd, &st) == 0)
      top = fd;
  }
  return top;
}

// ---- The new image.

static int64_t get_int(const argdata_t *ad, const char *key) {
  int64_t v = -1;
  argdata_map_get_int(ad, key, &v);
  return v;
}

static void child(const argdata_t *ad) {
  t_eq("proc_exec/memory-fresh", (uint64_t)marker, 5);

  argdata_t v;
  const char *s;
  const void *b;
  size_t len;
  if (T_OK("proc_exec/argdata-text", argdata_map_get(ad, "text", &v)) &&
      T_OK("proc_exec/argdata-text-type", argdata_get_str(&v, &s, &len)))
    t_eq_str("proc_exec/argdata-text-value", s, len, text);
  if (T_OK("proc_exec/argdata-blob", argdata_map_get(ad, "blob", &v)) &&
      T_OK("proc_exec/argdata-blob-type", argdata_get_binary(&v, &b, &len)))
    t_eq_mem("proc_exec/argdata-blob-value", b, len, blob, sizeof(blob));
  t_eq("proc_exec/argdata-negative", (uint64_t)get_int(ad, "negative"), (uint64_t)NEGATIVE);

  // Exactly the listed descriptors, renumbered in order, with their rights.
  char name[80];
  for (cloudabi_fd_t fd = 0; fd < NFDS; ++fd) {
    cloudabi_fdstat_t st;
    char key[32];
    fmt_snprintf(name, sizeof(name), "proc_exec/fd-%u-%s", fd, fd_names[fd]);
    if (!T_OK(name, cloudabi_sys_fd_stat_get(fd, &st)))
      continue;
    fmt_snprintf(key, sizeof(key), "type%u", fd);
    fmt_snprintf(name, sizeof(name), "proc_exec/fd-%u-type", fd);
    t_eq(name, st.fs_filetype, (uint64_t)get_int(ad, key));
    fmt_snprintf(key, sizeof(key), "base%u", fd);
    fmt_snprintf(name, sizeof(name), "proc_exec/fd-%u-rights", fd);
    t_eq_hex(name, st.fs_rights_base, (uint64_t)get_int(ad, key));
    fmt_snprintf(key, sizeof(key), "inheriting%u", fd);
    fmt_snprintf(name, sizeof(name), "proc_exec/fd-%u-inheriting", fd);
    t_eq_hex(name, st.fs_rights_inheriting, (uint64_t)get_int(ad, key));
  }
  int64_t top = get_int(ad, "highest");
  bool closed = true;
  for (cloudabi_fd_t fd = NFDS; fd <= (cloudabi_fd_t)top + 8; ++fd) {
    cloudabi_fdstat_t st;
    closed &= cloudabi_sys_fd_stat_get(fd, &st) == CLOUDABI_EBADF;
  }
  t_true("proc_exec/nothing-else-open", closed, "every other descriptor number (up to the old highest) closed");

  // The open files are the same ones.
  char buf[16];
  size_t n;
  if (T_OK("proc_exec/file-read", t_read(1, buf, sizeof(buf), &n)))
    t_eq_str("proc_exec/file-offset-kept", buf, n, "3456789");
  if (T_OK("proc_exec/socket-unread", t_read(4, buf, 4, &n)))
    t_eq_str("proc_exec/socket-data-kept", buf, n, "kept");
  if (T_OK("proc_exec/socket-write", t_write_str(3, "ping")) && T_OK("proc_exec/socket-read", t_read(4, buf, 4, &n)))
    t_eq_str("proc_exec/socket-works", buf, n, "ping");
  // The directory's narrowed rights came along.
  cloudabi_fd_t f;
  T_ERRNO("proc_exec/dir-still-narrowed",
          t_open(2, "f", 0, CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FD_SEEK, 0, 0, &f), E(NOTCAPABLE));
  if (T_OK("proc_exec/dir-usable", t_open(2, "f", 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &f)))
    cloudabi_sys_fd_close(f);
}

// ---- The first image.

static void errors(cloudabi_fd_t exe) {
  static const char data[] = "\x06";  // an empty argdata map
  cloudabi_fd_t fds[2] = {t_out, T_BADFD};
  T_ERRNO("proc_exec/ebadf", cloudabi_sys_proc_exec(T_BADFD, data, 1, fds, 1), E(BADF));
  T_ERRNO("proc_exec/ebadf-listed", cloudabi_sys_proc_exec(exe, data, 1, fds, 2), E(BADF));
  T_ERRNO("proc_exec/efault-data", cloudabi_sys_proc_exec(exe, T_BADPTR, 16, fds, 1), E(FAULT));
  T_ERRNO("proc_exec/efault-fds", cloudabi_sys_proc_exec(exe, data, 1, T_BADPTR, 1), E(FAULT));

  // Limits: data of 512 KiB or more, more than 65536 descriptors.
  size_t big = 512 * 1024;
  void *p = t_map_anon("proc_exec/setup-big", big);
  if (p != NULL) {
    T_ERRNO("proc_exec/e2big-data", cloudabi_sys_proc_exec(exe, p, big, fds, 1), E(2BIG));
    cloudabi_sys_mem_unmap(p, big);
  }
  size_t many = 65537;
  size_t many_len = (many * sizeof(cloudabi_fd_t) + t_pagesz() - 1) & ~(t_pagesz() - 1);
  cloudabi_fd_t *list = t_map_anon("proc_exec/setup-fds", many_len);
  if (list != NULL) {
    for (size_t i = 0; i < many; ++i)
      list[i] = t_out;
    T_ERRNO("proc_exec/e2big-fds", cloudabi_sys_proc_exec(exe, data, 1, list, many), E(2BIG));
    cloudabi_sys_mem_unmap(list, many_len);
  }

  // The right, and things that are not executables.
  cloudabi_fd_t copy, dir, f, a, b;
  if (T_OK("proc_exec/setup-dup", cloudabi_sys_fd_dup(exe, &copy))) {
    T_OK("proc_exec/setup-drop", t_drop(copy, CLOUDABI_RIGHT_PROC_EXEC));
    T_ERRNO("proc_exec/without-right", cloudabi_sys_proc_exec(copy, data, 1, fds, 1), E(NOTCAPABLE));
    cloudabi_sys_fd_close(copy);
  }
  if (T_OK("proc_exec/setup-dir", t_open_dir(t_tmp, ".", &dir))) {
    T_ERRNO("proc_exec/directory", cloudabi_sys_proc_exec(dir, data, 1, fds, 1), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("proc_exec/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("proc_exec/socket", cloudabi_sys_proc_exec(a, data, 1, fds, 1), E(NOTCAPABLE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  // A text file and an empty one: no executable format (FreeBSD may first
  // refuse them for lacking execute permission, EACCES).
  static const char *const junk[][2] = {{"text", "this is not a program\n"}, {"empty", ""}};
  for (size_t i = 0; i < 2; ++i) {
    char name[64];
    fmt_snprintf(name, sizeof(name), "proc_exec/not-executable-%s", junk[i][0]);
    if (T_OK(name, t_mkfile(t_tmp, junk[i][0], junk[i][1])) &&
        T_OK(name, t_open(t_tmp, junk[i][0], 0, CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_PROC_EXEC, 0, 0, &f))) {
      T_ERRNO(name, cloudabi_sys_proc_exec(f, data, 1, fds, 1), E(NOEXEC), E(INVAL), E(ACCES));
      cloudabi_sys_fd_close(f);
    }
  }
}

static void first(const argdata_t *config) {
  cloudabi_fd_t exe;
  if (argdata_map_get_fd(config, "exe", &exe) != 0) {
    t_fail("config", "this test needs exe: !executable");
    return;
  }
  errors(exe);

  // What the new image gets: out, a file read up to offset 3, the scratch
  // directory with narrowed rights, a socket pair with unread data.
  cloudabi_fd_t fds[NFDS] = {t_out};
  char buf[4];
  size_t n;
  if (!T_OK("proc_exec/setup-file", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("proc_exec/setup-open", t_open_file(t_tmp, "f", &fds[1])) ||
      !T_OK("proc_exec/setup-read", t_read(fds[1], buf, 3, &n)) ||
      !T_OK("proc_exec/setup-dir", t_open_dir(t_tmp, ".", &fds[2])) ||
      !T_OK("proc_exec/setup-narrow", t_drop(fds[2], T_FAMILY_WRITE)) ||
      !T_OK("proc_exec/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &fds[3], &fds[4])) ||
      !T_OK("proc_exec/setup-unread", t_write_str(fds[3], "kept")))
    return;

  struct t_ad_entry e[6 + 3 * NFDS] = {
      {.key = "mode", .kind = T_AD_STR, .str = "child"},
      {.key = "out", .kind = T_AD_FD, .fd = 0},
      {.key = "tmpdir", .kind = T_AD_FD, .fd = 2},
      {.key = "text", .kind = T_AD_STR, .str = text},
      {.key = "blob", .kind = T_AD_BINARY, .str = blob, .len = sizeof(blob)},
      {.key = "negative", .kind = T_AD_INT, .i = NEGATIVE},
  };
  static char keys[3 * NFDS][16];
  size_t k = 6;
  for (size_t i = 0; i < NFDS; ++i) {
    cloudabi_fdstat_t st;
    if (!T_OK("proc_exec/setup-stat", cloudabi_sys_fd_stat_get(fds[i], &st)))
      return;
    const char *what[3] = {"type", "base", "inheriting"};
    uint64_t val[3] = {st.fs_filetype, st.fs_rights_base, st.fs_rights_inheriting};
    for (size_t j = 0; j < 3; ++j, ++k) {
      fmt_snprintf(keys[k - 6], sizeof(keys[0]), "%s%zu", what[j], i);
      e[k] = (struct t_ad_entry){.key = keys[k - 6], .kind = T_AD_INT, .i = (int64_t)val[j]};
    }
  }
  struct t_ad_entry all[sizeof(e) / sizeof(e[0]) + 1];
  memcpy(all, e, sizeof(e));
  all[k++] = (struct t_ad_entry){.key = "highest", .kind = T_AD_INT, .i = highest_open_fd()};

  static char ad[4096];
  size_t len = t_argdata_map(ad, sizeof(ad), all, k);
  if (!t_true("proc_exec/setup-argdata", len > 0, "the argument data to fit"))
    return;
  marker = 99;
  fmt_printf(t_out, "ok proc_exec/replacing\n");
  // Only returns on failure.
  T_OK("proc_exec/exec", cloudabi_sys_proc_exec(exe, ad, len, fds, NFDS));
}

void test_main(const argdata_t *config) {
  t_need_tmpdir();
  const char *mode;
  if (argdata_map_get_str_c(config, "mode", &mode) == 0 && strcmp(mode, "child") == 0)
    child(config);
  else
    first(config);
}
