// proc_raise: signals take their fixed default action. Ignored ones
// return; undefined numbers are EINVAL; at the end SIGUSR1 terminates the
// process, which the spec expects (signal: SIGUSR1).
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  // Signal 0 is not a signal (cloudabi64 says EINVAL; FreeBSD 11-13 did
  // nothing), neither is anything past SIGXFSZ.
  T_ERRNO("proc_raise/signal-0", cloudabi_sys_proc_raise(0), E(INVAL));
  T_ERRNO("proc_raise/signal-27", cloudabi_sys_proc_raise(27), E(INVAL));
  T_ERRNO("proc_raise/signal-255", cloudabi_sys_proc_raise(255), E(INVAL));
  // Ignored by default: SIGCHLD and SIGURG; SIGPIPE is set to ignored for
  // every CloudABI process; SIGCONT continues a running process.
  T_OK("proc_raise/sigchld-ignored", cloudabi_sys_proc_raise(CLOUDABI_SIGCHLD));
  T_OK("proc_raise/sigurg-ignored", cloudabi_sys_proc_raise(CLOUDABI_SIGURG));
  T_OK("proc_raise/sigpipe-ignored", cloudabi_sys_proc_raise(CLOUDABI_SIGPIPE));
  T_OK("proc_raise/sigcont", cloudabi_sys_proc_raise(CLOUDABI_SIGCONT));
  t_true("proc_raise/still-running", true, "");
  cloudabi_sys_proc_raise(CLOUDABI_SIGUSR1);
  t_fail("proc_raise/sigusr1", "expected termination by SIGUSR1 got a return");
}
