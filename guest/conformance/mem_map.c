// mem_map: anonymous and file mappings, private and shared, fixed
// addresses; W^X; flag and argument checks; rights of the descriptor.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#define R CLOUDABI_PROT_READ
#define W CLOUDABI_PROT_WRITE
#define X CLOUDABI_PROT_EXEC
#define ANON CLOUDABI_MAP_ANON
#define PRIV CLOUDABI_MAP_PRIVATE
#define SHARED CLOUDABI_MAP_SHARED
#define ANON_FD CLOUDABI_MAP_ANON_FD

static cloudabi_errno_t map(void *addr, size_t len, cloudabi_mprot_t prot, cloudabi_mflags_t flags,
                            cloudabi_fd_t fd, cloudabi_filesize_t off, void **out) {
  void *p = NULL;
  cloudabi_errno_t error = cloudabi_sys_mem_map(addr, len, prot, flags, fd, off, &p);
  if (error == 0 && out != NULL)
    *out = p;
  else if (error == 0)
    cloudabi_sys_mem_unmap(p, len);
  return error;
}

// Opens the test file with the given rights.
static cloudabi_fd_t open_with(const char *name, cloudabi_rights_t rights) {
  cloudabi_fd_t fd = T_BADFD;
  T_OK(name, t_open(t_tmp, "f", 0, rights, 0, 0, &fd));
  return fd;
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  size_t pg = t_pagesz();
  void *p, *q;
  cloudabi_fd_t fd;

  // Anonymous memory: zeroed, writable.
  if (T_OK("mem_map/anonymous", map(NULL, 2 * pg, R | W, ANON | PRIV, ANON_FD, 0, &p))) {
    t_true("mem_map/page-aligned", (uintptr_t)p % pg == 0, "a page-aligned address");
    volatile char *c = p;
    t_true("mem_map/zeroed", c[0] == 0 && c[2 * pg - 1] == 0, "zero-filled memory");
    c[0] = 1;
    c[2 * pg - 1] = 2;
    t_true("mem_map/writable", c[0] == 1 && c[2 * pg - 1] == 2, "stores to stick");
    // MAP_FIXED replaces part of it, at exactly that address.
    if (T_OK("mem_map/fixed", map((char *)p + pg, pg, R | W, ANON | PRIV | CLOUDABI_MAP_FIXED, ANON_FD, 0, &q)))
      t_eq_hex("mem_map/fixed-address", (uintptr_t)q, (uintptr_t)p + pg);
    t_true("mem_map/fixed-fresh", c[2 * pg - 1] == 0, "the fixed mapping to be fresh memory");
    T_ERRNO("mem_map/fixed-unaligned",
            map((char *)p + 1, pg, R | W, ANON | PRIV | CLOUDABI_MAP_FIXED, ANON_FD, 0, NULL), E(INVAL));
    cloudabi_sys_mem_unmap(p, 2 * pg);
  }
  T_OK("mem_map/read-exec", map(NULL, pg, R | X, ANON | PRIV, ANON_FD, 0, NULL));
  T_OK("mem_map/shared-anonymous", map(NULL, pg, R | W, ANON | SHARED, ANON_FD, 0, NULL));

  // W^X, flags, arguments.
  T_ERRNO("mem_map/write-exec", map(NULL, pg, W | X, ANON | PRIV, ANON_FD, 0, NULL), E(NOTSUP));
  T_ERRNO("mem_map/read-write-exec", map(NULL, pg, R | W | X, ANON | PRIV, ANON_FD, 0, NULL), E(NOTSUP));
  T_ERRNO("mem_map/private-and-shared", map(NULL, pg, R, ANON | PRIV | SHARED, ANON_FD, 0, NULL), E(INVAL));
  T_ERRNO("mem_map/neither-private-nor-shared", map(NULL, pg, R, ANON, ANON_FD, 0, NULL), E(INVAL));
  // Undefined protection bits: ENOTSUP, as W+X (FreeBSD's convert_mprot).
  T_ERRNO("mem_map/undefined-prot", map(NULL, pg, R | 0x8, ANON | PRIV, ANON_FD, 0, NULL), E(NOTSUP));
  T_ERRNO("mem_map/undefined-prot-high", map(NULL, pg, 0x80, ANON | PRIV, ANON_FD, 0, NULL), E(NOTSUP));
  T_ERRNO("mem_map/undefined-flag", map(NULL, pg, R, ANON | PRIV | 0x10, ANON_FD, 0, NULL), E(INVAL));
  T_ERRNO("mem_map/anonymous-with-fd", map(NULL, pg, R, ANON | PRIV, t_tmp, 0, NULL), E(INVAL));
  T_ERRNO("mem_map/anonymous-with-offset", map(NULL, pg, R, ANON | PRIV, ANON_FD, pg, NULL), E(INVAL));
  T_ERRNO("mem_map/length-0", map(NULL, 0, R, ANON | PRIV, ANON_FD, 0, NULL), E(INVAL));
  T_ERRNO("mem_map/too-large", map(NULL, (size_t)1 << 62, R, ANON | PRIV, ANON_FD, 0, NULL), E(NOMEM), E(INVAL));

  // Files: private copies and shared views.
  static char contents[8192];
  memset(contents, 'A', sizeof(contents));
  contents[sizeof(contents) - 1] = '\0';
  if (!T_OK("mem_map/setup-file", t_mkfile(t_tmp, "f", contents)))
    return;
  fd = open_with("mem_map/setup-open", T_RIGHTS_FILE);
  if (T_OK("mem_map/file-private", map(NULL, 2 * pg, R | W, PRIV, fd, 0, &p))) {
    t_true("mem_map/file-contents", ((char *)p)[0] == 'A' && ((char *)p)[100] == 'A', "the file's bytes");
    ((char *)p)[0] = 'P';
    char c = 0;
    size_t n;
    cloudabi_iovec_t iov = {&c, 1};
    if (T_OK("mem_map/private-read-back", cloudabi_sys_fd_pread(fd, &iov, 1, 0, &n)))
      t_eq("mem_map/private-not-written-back", (uint8_t)c, 'A');
    cloudabi_sys_mem_unmap(p, 2 * pg);
  }
  if (T_OK("mem_map/file-shared", map(NULL, 2 * pg, R | W, SHARED, fd, 0, &p))) {
    ((char *)p)[1] = 'S';
    char c = 0;
    size_t n;
    cloudabi_iovec_t iov = {&c, 1};
    if (T_OK("mem_map/shared-read-back", cloudabi_sys_fd_pread(fd, &iov, 1, 1, &n)))
      t_eq("mem_map/shared-written-back", (uint8_t)c, 'S');
    cloudabi_sys_mem_unmap(p, 2 * pg);
  }
  if (T_OK("mem_map/file-offset", map(NULL, pg, R, PRIV, fd, pg, &p))) {
    t_eq("mem_map/file-offset-contents", (uint8_t)((char *)p)[0], 'A');
    cloudabi_sys_mem_unmap(p, pg);
  }
  T_ERRNO("mem_map/ebadf", map(NULL, pg, R, PRIV, T_BADFD, 0, NULL), E(BADF));
  cloudabi_sys_fd_close(fd);

  // Rights: mem_map itself, fd_read to read, fd_write for shared writing,
  // mem_map_exec to execute.
  const cloudabi_rights_t MAP_RO = CLOUDABI_RIGHT_MEM_MAP | CLOUDABI_RIGHT_FD_READ;
  fd = open_with("mem_map/setup-no-map", CLOUDABI_RIGHT_FD_READ);
  T_ERRNO("mem_map/without-mem_map", map(NULL, pg, R, PRIV, fd, 0, NULL), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);
  fd = open_with("mem_map/setup-no-read", CLOUDABI_RIGHT_MEM_MAP | CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FD_SEEK);
  T_ERRNO("mem_map/read-without-fd_read", map(NULL, pg, R, PRIV, fd, 0, NULL), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);
  fd = open_with("mem_map/setup-read-only", MAP_RO);
  T_OK("mem_map/private-write-of-read-only", map(NULL, pg, R | W, PRIV, fd, 0, NULL));
  T_ERRNO("mem_map/shared-write-without-fd_write", map(NULL, pg, R | W, SHARED, fd, 0, NULL), E(NOTCAPABLE));
  T_ERRNO("mem_map/exec-without-mem_map_exec", map(NULL, pg, R | X, PRIV, fd, 0, NULL), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);
  fd = open_with("mem_map/setup-exec", MAP_RO | CLOUDABI_RIGHT_MEM_MAP_EXEC | CLOUDABI_RIGHT_FD_SEEK);
  // A file system mounted noexec refuses executable mappings (EPERM).
  T_ERRNO("mem_map/exec", map(NULL, pg, R | X, PRIV, fd, 0, NULL), 0, E(PERM));
  cloudabi_sys_fd_close(fd);
  // Directories cannot be mapped.
  T_ERRNO("mem_map/directory", map(NULL, pg, R, PRIV, t_tmp, 0, NULL), E(NOTCAPABLE));
}
