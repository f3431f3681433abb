// mem_advise: each advice on mapped memory; noreuse is EINVAL for memory.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  size_t pg = t_pagesz();
  char *m = t_map_anon("mem_advise/setup", 2 * pg);
  if (m == NULL)
    return;
  m[0] = 1;
  T_OK("mem_advise/normal", cloudabi_sys_mem_advise(m, 2 * pg, CLOUDABI_ADVICE_NORMAL));
  T_OK("mem_advise/random", cloudabi_sys_mem_advise(m, 2 * pg, CLOUDABI_ADVICE_RANDOM));
  T_OK("mem_advise/sequential", cloudabi_sys_mem_advise(m, 2 * pg, CLOUDABI_ADVICE_SEQUENTIAL));
  T_OK("mem_advise/willneed", cloudabi_sys_mem_advise(m, 2 * pg, CLOUDABI_ADVICE_WILLNEED));
  T_OK("mem_advise/dontneed", cloudabi_sys_mem_advise(m, pg, CLOUDABI_ADVICE_DONTNEED));
  T_OK("mem_advise/part", cloudabi_sys_mem_advise(m + pg, pg, CLOUDABI_ADVICE_NORMAL));
  T_ERRNO("mem_advise/noreuse", cloudabi_sys_mem_advise(m, pg, CLOUDABI_ADVICE_NOREUSE), E(INVAL));
  T_ERRNO("mem_advise/advice-0", cloudabi_sys_mem_advise(m, pg, 0), E(INVAL));
  T_ERRNO("mem_advise/advice-7", cloudabi_sys_mem_advise(m, pg, 7), E(INVAL));
  // The memory stays usable whatever the advice.
  m[pg] = 2;
  t_eq("mem_advise/still-usable", (uint8_t)m[pg], 2);
  cloudabi_sys_mem_unmap(m, 2 * pg);
}
