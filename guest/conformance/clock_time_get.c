// clock_time_get: the monotonic clock never goes back, the realtime clock
// is a plausible date, CPU-time clocks count; undefined clocks are EINVAL.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#define SEC UINT64_C(1000000000)

void test_main(const argdata_t *config) {
  (void)config;
  cloudabi_timestamp_t t1 = 0, t2 = 0, t;

  if (T_OK("clock_time_get/monotonic", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_MONOTONIC, 0, &t1))) {
    bool ordered = true;
    for (int i = 0; i < 1000; ++i) {
      if (cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_MONOTONIC, 0, &t2) != 0 || t2 < t1)
        ordered = false;
      t1 = t2;
    }
    t_true("clock_time_get/monotonic-never-back", ordered, "1000 readings in order");
  }
  // Precision is only a hint; any value is accepted.
  T_OK("clock_time_get/coarse-precision", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_MONOTONIC, SEC, &t));
  T_OK("clock_time_get/max-precision", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_MONOTONIC, UINT64_MAX, &t));

  // After 2020-01-01 and before 2100-01-01.
  if (T_OK("clock_time_get/realtime", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_REALTIME, 0, &t)))
    t_true("clock_time_get/realtime-plausible", t > 1577836800 * SEC && t < 4102444800 * SEC,
           "a time between 2020 and 2100");

  // CPU time advances while this process computes.
  cloudabi_timestamp_t c1 = 0, c2 = 0;
  if (T_OK("clock_time_get/process-cputime", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_PROCESS_CPUTIME_ID, 0, &c1))) {
    volatile uint64_t spin = 0;
    for (cloudabi_timestamp_t start = t_now(CLOUDABI_CLOCK_MONOTONIC);
         t_now(CLOUDABI_CLOCK_MONOTONIC) - start < 20 * 1000 * 1000;)
      ++spin;
    if (T_OK("clock_time_get/process-cputime-again", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_PROCESS_CPUTIME_ID, 0, &c2)))
      t_true("clock_time_get/process-cputime-advances", c2 > c1, "CPU time to grow while spinning");
  }
  T_OK("clock_time_get/thread-cputime", cloudabi_sys_clock_time_get(CLOUDABI_CLOCK_THREAD_CPUTIME_ID, 0, &t));

  T_ERRNO("clock_time_get/clock-0", cloudabi_sys_clock_time_get(0, 0, &t), E(INVAL));
  T_ERRNO("clock_time_get/clock-5", cloudabi_sys_clock_time_get(5, 0, &t), E(INVAL));
  T_ERRNO("clock_time_get/clock-max", cloudabi_sys_clock_time_get(UINT32_MAX, 0, &t), E(INVAL));
}
