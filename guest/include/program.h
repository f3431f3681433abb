// The entry point of a program built with the cloudabi64 guest runtime.
// SPDX-License-Identifier: BSD-2-Clause
//
// CloudABI programs have no argv or environment: they receive one tree of
// argument data (see argdata.h), which holds their configuration and the
// numbers of the descriptors they were started with. The runtime's _start
// calls program_main with that tree once the process is set up (relocated,
// vDSO linked, TLS and the SafeStack unsafe stack in place).
//
// Returning from program_main ends the process with exit code 0; call
// _Exit (stdlib.h) for any other code.

#ifndef PROGRAM_H
#define PROGRAM_H

#include <argdata.h>

void program_main(const argdata_t *ad);

#endif
