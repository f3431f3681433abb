// mem_protect: changing the access to mapped pages, W^X included.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  size_t pg = t_pagesz();
  volatile char *p = t_map_anon("mem_protect/setup", 3 * pg);
  if (p == NULL)
    return;
  void *m = (void *)p;
  T_OK("mem_protect/read", cloudabi_sys_mem_protect(m, 3 * pg, CLOUDABI_PROT_READ));
  t_true("mem_protect/read-readable", p[0] == 0, "the page to stay readable");
  T_OK("mem_protect/none", cloudabi_sys_mem_protect(m, pg, 0));
  T_OK("mem_protect/read-exec", cloudabi_sys_mem_protect(m, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_EXEC));
  T_OK("mem_protect/read-write", cloudabi_sys_mem_protect(m, 3 * pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE));
  p[pg] = 7;
  t_true("mem_protect/writable-again", p[pg] == 7, "stores to work again");
  T_OK("mem_protect/part", cloudabi_sys_mem_protect((char *)m + pg, pg, CLOUDABI_PROT_READ));
  t_true("mem_protect/part-readable", p[pg] == 7, "the data to survive");

  // W^X: never write and execute together; nothing changes then.
  T_ERRNO("mem_protect/write-exec", cloudabi_sys_mem_protect(m, pg, CLOUDABI_PROT_WRITE | CLOUDABI_PROT_EXEC), E(NOTSUP));
  T_ERRNO("mem_protect/read-write-exec",
          cloudabi_sys_mem_protect(m, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE | CLOUDABI_PROT_EXEC), E(NOTSUP));
  T_ERRNO("mem_protect/undefined-bit", cloudabi_sys_mem_protect(m, pg, CLOUDABI_PROT_READ | 0x8), E(NOTSUP));

  // A hole in the range: Linux says ENOMEM; FreeBSD has said ENOMEM or
  // EINVAL for addresses that are not mapped.
  T_OK("mem_protect/setup-hole", cloudabi_sys_mem_unmap((char *)m + pg, pg));
  T_ERRNO("mem_protect/unmapped", cloudabi_sys_mem_protect((char *)m + pg, pg, CLOUDABI_PROT_READ), E(NOMEM), E(INVAL));
  cloudabi_sys_mem_unmap(m, 3 * pg);
}
