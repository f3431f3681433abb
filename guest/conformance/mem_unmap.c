// mem_unmap: removing mappings, wholly or in part; a zero length is
// EINVAL; unmapping what is not mapped is not an error.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  size_t pg = t_pagesz();
  char *m = t_map_anon("mem_unmap/setup", 3 * pg);
  if (m == NULL)
    return;
  m[0] = 1;
  m[2 * pg] = 3;
  T_OK("mem_unmap/middle", cloudabi_sys_mem_unmap(m + pg, pg));
  // The pages around it are still there; the middle one is not (mem_sync
  // of a range that is not mapped fails).
  t_true("mem_unmap/neighbours-kept", m[0] == 1 && m[2 * pg] == 3, "the other pages to stay");
  T_ERRNO("mem_unmap/gone", cloudabi_sys_mem_sync(m + pg, pg, CLOUDABI_MS_SYNC), E(NOMEM), E(INVAL));
  T_OK("mem_unmap/already-unmapped", cloudabi_sys_mem_unmap(m + pg, pg));
  T_OK("mem_unmap/across-hole", cloudabi_sys_mem_unmap(m, 3 * pg));
  // The address range can be used again.
  void *q;
  if (T_OK("mem_unmap/reuse", cloudabi_sys_mem_map(m, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                                    CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE | CLOUDABI_MAP_FIXED,
                                                    CLOUDABI_MAP_ANON_FD, 0, &q))) {
    t_true("mem_unmap/reused-fresh", q == (void *)m && ((volatile char *)q)[0] == 0, "fresh memory at the old address");
    cloudabi_sys_mem_unmap(q, pg);
  }
  T_ERRNO("mem_unmap/length-0", cloudabi_sys_mem_unmap(m, 0), E(INVAL));
}
