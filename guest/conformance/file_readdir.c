// file_readdir: entries as dirent headers followed by names, a buffer that
// is always filled (the last entry cut short), cookies to continue from,
// and the errors.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static const char *const names[] = {"a", "bb", "ccccccccc", "sub", "link"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

// Reads the whole directory with a buffer of `bufsize` bytes, continuing
// from the last complete entry each time. Counts how often each of
// `names` was seen; anything else but "." and ".." is an error.
static bool read_all(const char *name, cloudabi_fd_t dir, size_t bufsize, unsigned seen[NNAMES],
                     unsigned char types[NNAMES]) {
  static char buf[4096];
  cloudabi_dircookie_t cookie = CLOUDABI_DIRCOOKIE_START;
  memset(seen, 0, NNAMES * sizeof(seen[0]));
  for (int calls = 0; calls < 1000; ++calls) {
    size_t used;
    if (!T_OK(name, cloudabi_sys_file_readdir(dir, buf, bufsize, cookie, &used)))
      return false;
    if (used > bufsize)
      return t_check(name, false, "bufused <= %zu got %zu", bufsize, used);
    size_t pos = 0, complete = 0;
    while (used - pos >= sizeof(cloudabi_dirent_t)) {
      cloudabi_dirent_t d;
      memcpy(&d, buf + pos, sizeof(d));
      if (d.d_namlen > used - pos - sizeof(d))
        break;
      const char *n = buf + pos + sizeof(d);
      bool known = (d.d_namlen == 1 && n[0] == '.') || (d.d_namlen == 2 && n[0] == '.' && n[1] == '.');
      for (size_t i = 0; i < NNAMES; ++i) {
        if (strlen(names[i]) == d.d_namlen && memcmp(names[i], n, d.d_namlen) == 0) {
          ++seen[i];
          types[i] = d.d_type;
          known = true;
        }
      }
      if (!known)
        return t_check(name, false, "only the names created got \"%.*s\"", (int)d.d_namlen, n);
      cookie = d.d_next;
      pos += sizeof(d) + d.d_namlen;
      ++complete;
    }
    if (used < bufsize)
      return true;  // a buffer that is not full ends the directory
    if (complete == 0)
      return t_check(name, false, "a buffer of %zu bytes to hold an entry", bufsize);
  }
  return t_check(name, false, "the end of the directory within 1000 calls");
}

static void check_all_seen(const char *name, const unsigned seen[NNAMES]) {
  bool once = true;
  for (size_t i = 0; i < NNAMES; ++i)
    once &= seen[i] == 1;
  t_true(name, once, "each name exactly once");
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t dir, fd;
  unsigned seen[NNAMES];
  unsigned char types[NNAMES];
  char buf[64];
  size_t used;

  T_OK("file_readdir/setup", cloudabi_sys_file_create(t_tmp, P("d"), CLOUDABI_FILETYPE_DIRECTORY));
  if (!T_OK("file_readdir/setup-open", t_open_dir(t_tmp, "d", &dir)))
    return;
  T_OK("file_readdir/setup-a", t_mkfile(dir, "a", "1"));
  T_OK("file_readdir/setup-bb", t_mkfile(dir, "bb", "22"));
  T_OK("file_readdir/setup-c", t_mkfile(dir, "ccccccccc", "333"));
  T_OK("file_readdir/setup-sub", cloudabi_sys_file_create(dir, P("sub"), CLOUDABI_FILETYPE_DIRECTORY));
  T_OK("file_readdir/setup-link", cloudabi_sys_file_symlink(P("a"), dir, P("link")));

  if (read_all("file_readdir/large-buffer", dir, 4096, seen, types)) {
    check_all_seen("file_readdir/all-entries", seen);
    // d_type may be unknown on file systems that do not store it.
    t_true("file_readdir/type-file", types[0] == CLOUDABI_FILETYPE_REGULAR_FILE || types[0] == 0,
           "a regular file (or unknown)");
    t_true("file_readdir/type-directory", types[3] == CLOUDABI_FILETYPE_DIRECTORY || types[3] == 0,
           "a directory (or unknown)");
    t_true("file_readdir/type-symlink", types[4] == CLOUDABI_FILETYPE_SYMBOLIC_LINK || types[4] == 0,
           "a symbolic link (or unknown)");
  }
  // A small buffer: one entry or so per call, the rest cut off.
  if (read_all("file_readdir/small-buffer", dir, sizeof(cloudabi_dirent_t) + 12, seen, types))
    check_all_seen("file_readdir/small-buffer-all-entries", seen);

  // The buffer is filled completely, even in the middle of an entry.
  if (T_OK("file_readdir/partial", cloudabi_sys_file_readdir(dir, buf, 10, CLOUDABI_DIRCOOKIE_START, &used)))
    t_eq("file_readdir/partial-fills-buffer", used, 10);
  if (T_OK("file_readdir/zero-buffer", cloudabi_sys_file_readdir(dir, buf, 0, CLOUDABI_DIRCOOKIE_START, &used)))
    t_eq("file_readdir/zero-buffer-empty", used, 0);
  // Starting over gives the same first entry.
  cloudabi_dirent_t d1, d2;
  if (T_OK("file_readdir/first", cloudabi_sys_file_readdir(dir, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &used))) {
    memcpy(&d1, buf, sizeof(d1));
    if (T_OK("file_readdir/restart", cloudabi_sys_file_readdir(dir, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &used))) {
      memcpy(&d2, buf, sizeof(d2));
      t_true("file_readdir/restart-same", d1.d_ino == d2.d_ino && d1.d_next == d2.d_next, "the same first entry");
    }
  }
  // An empty directory has at most "." and "..".
  cloudabi_fd_t sub;
  if (T_OK("file_readdir/setup-empty", t_open_dir(dir, "sub", &sub))) {
    if (read_all("file_readdir/empty-directory", sub, 4096, seen, types)) {
      bool none = true;
      for (size_t i = 0; i < NNAMES; ++i)
        none &= seen[i] == 0;
      t_true("file_readdir/empty-directory-entries", none, "no entries but . and ..");
    }
    cloudabi_sys_fd_close(sub);
  }

  T_ERRNO("file_readdir/efault", cloudabi_sys_file_readdir(dir, T_BADPTR, 100, CLOUDABI_DIRCOOKIE_START, &used), E(FAULT));
  T_ERRNO("file_readdir/ebadf", cloudabi_sys_file_readdir(T_BADFD, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &used), E(BADF));
  if (T_OK("file_readdir/setup-file", t_open_file(dir, "a", &fd))) {
    T_ERRNO("file_readdir/on-a-file", cloudabi_sys_file_readdir(fd, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &used),
            E(NOTCAPABLE), E(NOTDIR));
    cloudabi_sys_fd_close(fd);
  }
  T_OK("file_readdir/setup-drop", t_drop(dir, T_FAMILY_READ));
  T_ERRNO("file_readdir/without-right", cloudabi_sys_file_readdir(dir, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &used),
          E(NOTCAPABLE));
  cloudabi_sys_fd_close(dir);
}
