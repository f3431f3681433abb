// mem_sync: writing a shared file mapping back; exactly one of async and
// sync; invalidate only with sync.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  size_t pg = t_pagesz();
  cloudabi_fd_t fd;
  void *m;
  static char contents[8192];
  memset(contents, 'A', sizeof(contents));
  contents[sizeof(contents) - 1] = '\0';
  if (!T_OK("mem_sync/setup", t_mkfile(t_tmp, "f", contents)) ||
      !T_OK("mem_sync/setup-open", t_open_file(t_tmp, "f", &fd)) ||
      !T_OK("mem_sync/setup-map", cloudabi_sys_mem_map(NULL, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                                         CLOUDABI_MAP_SHARED, fd, 0, &m)))
    return;

  ((char *)m)[0] = 'Z';
  if (T_OK("mem_sync/sync", cloudabi_sys_mem_sync(m, pg, CLOUDABI_MS_SYNC))) {
    char c = 0;
    size_t n;
    cloudabi_iovec_t iov = {&c, 1};
    if (T_OK("mem_sync/read-back", cloudabi_sys_fd_pread(fd, &iov, 1, 0, &n)))
      t_eq("mem_sync/written", (uint8_t)c, 'Z');
  }
  T_OK("mem_sync/async", cloudabi_sys_mem_sync(m, pg, CLOUDABI_MS_ASYNC));
  T_OK("mem_sync/sync-invalidate", cloudabi_sys_mem_sync(m, pg, CLOUDABI_MS_SYNC | CLOUDABI_MS_INVALIDATE));
  t_eq("mem_sync/data-kept", (uint8_t)((char *)m)[0], 'Z');

  T_ERRNO("mem_sync/async-and-sync", cloudabi_sys_mem_sync(m, pg, CLOUDABI_MS_ASYNC | CLOUDABI_MS_SYNC), E(INVAL));
  T_ERRNO("mem_sync/neither", cloudabi_sys_mem_sync(m, pg, 0), E(INVAL));
  T_ERRNO("mem_sync/invalidate-alone", cloudabi_sys_mem_sync(m, pg, CLOUDABI_MS_INVALIDATE), E(INVAL));
  T_ERRNO("mem_sync/async-invalidate", cloudabi_sys_mem_sync(m, pg, CLOUDABI_MS_ASYNC | CLOUDABI_MS_INVALIDATE), E(INVAL));
  T_ERRNO("mem_sync/undefined-flag", cloudabi_sys_mem_sync(m, pg, CLOUDABI_MS_SYNC | 0x8), E(INVAL));

  // Anonymous memory has nothing to write back, which is fine.
  void *a = t_map_anon("mem_sync/setup-anonymous", 2 * pg);
  if (a != NULL) {
    T_OK("mem_sync/anonymous", cloudabi_sys_mem_sync(a, 2 * pg, CLOUDABI_MS_SYNC));
    // Not mapped: ENOMEM (POSIX), or EINVAL.
    T_OK("mem_sync/setup-hole", cloudabi_sys_mem_unmap((char *)a + pg, pg));
    T_ERRNO("mem_sync/unmapped", cloudabi_sys_mem_sync((char *)a + pg, pg, CLOUDABI_MS_SYNC), E(NOMEM), E(INVAL));
    cloudabi_sys_mem_unmap(a, pg);
  }
  cloudabi_sys_mem_unmap(m, pg);
  cloudabi_sys_fd_close(fd);
}
