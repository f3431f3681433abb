// Ending the process.
// SPDX-License-Identifier: BSD-2-Clause

#include <stdlib.h>

#include "rt_internal.h"

// proc_exit through the table, typed as a function that may return: with
// no vDSO the slot holds the ENOSYS stub, and a trap is better than running
// off into whatever follows.
_Noreturn void _Exit(int status) {
  void (*proc_exit)(cloudabi_exitcode_t) =
      (void (*)(cloudabi_exitcode_t))__cloudabi_syscalls[RT_SYS_proc_exit];
  proc_exit((cloudabi_exitcode_t)status);
  __builtin_trap();
}

_Noreturn void exit(int status) {
  _Exit(status);
}

_Noreturn void abort(void) {
  cloudabi_sys_proc_raise(CLOUDABI_SIGABRT);
  __builtin_trap();
}

// Called by code built with -fstack-protector when a guard was overwritten.
_Noreturn void __stack_chk_fail(void) {
  abort();
}
