// The part of <stdlib.h> the guest runtime provides.
// SPDX-License-Identifier: BSD-2-Clause

#ifndef STDLIB_H
#define STDLIB_H

#include <stddef.h>

// Ends the process at once with `status` (cloudabi_sys_proc_exit). There
// are no atexit handlers and no stdio buffers to flush.
_Noreturn void _Exit(int status);
_Noreturn void exit(int status);

// Kills the process with SIGABRT (cloudabi_sys_proc_raise).
_Noreturn void abort(void);

#endif
