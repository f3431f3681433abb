// proc_exit: ends the process with the given exit code, at once. The spec
// expects exit code 42 and no line after "ok proc_exit/before".
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_true("proc_exit/before", true, "");
  cloudabi_sys_proc_exit(42);
}
