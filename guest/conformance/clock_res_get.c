// clock_res_get: every clock has a resolution between 1 ns and 1 s; clock
// IDs outside the four defined ones are EINVAL.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  static const struct {
    const char *name;
    cloudabi_clockid_t id;
  } clocks[] = {
      {"clock_res_get/monotonic", CLOUDABI_CLOCK_MONOTONIC},
      {"clock_res_get/process-cputime", CLOUDABI_CLOCK_PROCESS_CPUTIME_ID},
      {"clock_res_get/realtime", CLOUDABI_CLOCK_REALTIME},
      {"clock_res_get/thread-cputime", CLOUDABI_CLOCK_THREAD_CPUTIME_ID},
  };
  for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); ++i) {
    cloudabi_timestamp_t res = 0;
    if (T_OK(clocks[i].name, cloudabi_sys_clock_res_get(clocks[i].id, &res)))
      t_check(clocks[i].name, res >= 1 && res <= 1000000000, "a resolution in 1 ns .. 1 s got %lu ns",
              (unsigned long)res);
  }
  cloudabi_timestamp_t res;
  T_ERRNO("clock_res_get/clock-0", cloudabi_sys_clock_res_get(0, &res), E(INVAL));
  T_ERRNO("clock_res_get/clock-5", cloudabi_sys_clock_res_get(5, &res), E(INVAL));
  T_ERRNO("clock_res_get/clock-max", cloudabi_sys_clock_res_get(UINT32_MAX, &res), E(INVAL));
}
