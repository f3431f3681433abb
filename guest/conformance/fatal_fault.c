// A program that dies of a fault: a store to an unmapped address ends it
// with SIGSEGV, as on FreeBSD. cloudabi-run reports the death on standard
// error with the faulting address (run/tests/fatal.rs checks that line).
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_true("fatal_fault/before", true, "");
  *(volatile int *)0x10 = 1;
  t_fail("fatal_fault/store", "expected termination by SIGSEGV got a return");
}
