// thread_yield: gives up the processor and comes back; it cannot fail.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  T_OK("thread_yield/once", cloudabi_sys_thread_yield());
  bool all = true;
  for (int i = 0; i < 100; ++i)
    all &= cloudabi_sys_thread_yield() == 0;
  t_true("thread_yield/repeated", all, "100 calls to succeed");
}
