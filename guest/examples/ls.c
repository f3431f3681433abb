// ls: lists the names in one directory, sorted by byte value, one per line.
// SPDX-License-Identifier: BSD-2-Clause
//
// Configuration:
//
//   dir: !file {path: /some/directory, mode: read}
//   out: !fd stdout
//
// Without "dir" it lists descriptor 0, and without "out" it prints to
// descriptor 1: the seed's way, `./ls < /some/directory` from a shell
// (FreeBSD with cloudabi64 loaded, or `cloudabi-run --exec` and its
// binfmt_misc registration on Linux), where the argument data holds the
// command's arguments rather than a map.
//
// "." and ".." are left out (as ls -A does). The program sees nothing but
// the directory it was given: it could not name any other file if it
// tried. Exit status 0; on an error it prints "ls: <what>: <ERRNO>" to out
// and exits 1.

#include <argdata.h>
#include <cloudabi.h>
#include <fmt.h>
#include <program.h>
#include <stdlib.h>
#include <string.h>

static cloudabi_fd_t out;

static _Noreturn void fail(const char *what, cloudabi_errno_t error) {
  fmt_printf(out, "ls: %s: %s\n", what, errno_name(error));
  _Exit(1);
}

// The names, stored back to back (each NUL-terminated) in an anonymous
// mapping that doubles when full, plus an array of their offsets.
struct names {
  char *bytes;
  size_t used, cap;
  size_t *offsets;
  size_t count, max;
};

static void *map_anon(size_t len) {
  void *mem;
  cloudabi_errno_t error =
      cloudabi_sys_mem_map(NULL, len, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                           CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE, CLOUDABI_MAP_ANON_FD, 0, &mem);
  if (error != 0)
    fail("mem_map", error);
  return mem;
}

// Returns a mapping of at least `need` bytes holding the `*cap` bytes of
// `mem`: mem itself if it is large enough, else a copy twice as large.
static void *grow(void *mem, size_t *cap, size_t need) {
  if (need <= *cap)
    return mem;
  size_t cap2 = *cap == 0 ? 65536 : *cap;
  while (cap2 < need)
    cap2 *= 2;
  void *mem2 = map_anon(cap2);
  if (*cap > 0) {
    memcpy(mem2, mem, *cap);
    cloudabi_sys_mem_unmap(mem, *cap);
  }
  *cap = cap2;
  return mem2;
}

static void add_name(struct names *n, const char *name, size_t len) {
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    return;
  n->bytes = grow(n->bytes, &n->cap, n->used + len + 1);
  size_t max_bytes = n->max * sizeof(size_t);
  n->offsets = grow(n->offsets, &max_bytes, (n->count + 1) * sizeof(size_t));
  n->max = max_bytes / sizeof(size_t);
  memcpy(n->bytes + n->used, name, len);
  n->bytes[n->used + len] = '\0';
  n->offsets[n->count++] = n->used;
  n->used += len + 1;
}

// Reads the whole directory. file_readdir fills the buffer completely, so
// the last entry in a full buffer is usually cut short: the next call
// starts at the cookie of the last complete entry (its d_next), and only a
// buffer that is not full ends the directory.
static void read_dir(cloudabi_fd_t dir, struct names *n) {
  static char buf[4096];
  cloudabi_dircookie_t cookie = CLOUDABI_DIRCOOKIE_START;
  for (;;) {
    size_t used;
    cloudabi_errno_t error = cloudabi_sys_file_readdir(dir, buf, sizeof(buf), cookie, &used);
    if (error != 0)
      fail("file_readdir", error);
    size_t pos = 0, complete = 0;
    while (used - pos >= sizeof(cloudabi_dirent_t)) {
      cloudabi_dirent_t d;
      memcpy(&d, buf + pos, sizeof(d));  // entries need not be aligned
      if (d.d_namlen > used - pos - sizeof(d))
        break;  // the name is cut off
      add_name(n, buf + pos + sizeof(d), d.d_namlen);
      cookie = d.d_next;
      pos += sizeof(d) + d.d_namlen;
      ++complete;
    }
    if (used < sizeof(buf))
      return;
    if (complete == 0)
      fail("file_readdir", CLOUDABI_ENAMETOOLONG);  // one entry larger than buf
  }
}

// Heapsort of the offsets by name: O(n log n) without allocating.
static int cmp(const struct names *n, size_t i, size_t j) {
  return strcmp(n->bytes + n->offsets[i], n->bytes + n->offsets[j]);
}

static void swap(struct names *n, size_t i, size_t j) {
  size_t t = n->offsets[i];
  n->offsets[i] = n->offsets[j];
  n->offsets[j] = t;
}

static void sift_down(struct names *n, size_t root, size_t end) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= end)
      return;
    if (child + 1 < end && cmp(n, child, child + 1) < 0)
      ++child;
    if (cmp(n, root, child) >= 0)
      return;
    swap(n, root, child);
    root = child;
  }
}

static void sort(struct names *n) {
  for (size_t i = n->count / 2; i-- > 0;)
    sift_down(n, i, n->count);
  for (size_t end = n->count; end-- > 1;) {
    swap(n, 0, end);
    sift_down(n, 0, end);
  }
}

void program_main(const argdata_t *ad) {
  if (argdata_map_get_fd(ad, "out", &out) != 0)
    out = 1;
  cloudabi_fd_t dir;
  if (argdata_map_get_fd(ad, "dir", &dir) != 0)
    dir = 0;
  cloudabi_errno_t error;

  struct names n = {0};
  read_dir(dir, &n);
  sort(&n);

  // Print through a buffer: one fd_write per 4 KiB rather than per name.
  static char obuf[4096];
  size_t olen = 0;
  for (size_t i = 0; i < n.count; ++i) {
    const char *name = n.bytes + n.offsets[i];
    size_t len = strlen(name);
    if (olen + len + 1 > sizeof(obuf)) {
      if ((error = write_all(out, obuf, olen)) != 0)
        fail("fd_write", error);
      olen = 0;
    }
    if (len + 1 > sizeof(obuf)) {
      if ((error = write_all(out, name, len)) != 0 || (error = write_all(out, "\n", 1)) != 0)
        fail("fd_write", error);
      continue;
    }
    memcpy(obuf + olen, name, len);
    obuf[olen + len] = '\n';
    olen += len + 1;
  }
  if ((error = write_all(out, obuf, olen)) != 0)
    fail("fd_write", error);
}
