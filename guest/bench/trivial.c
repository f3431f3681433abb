// Does nothing: scripts/bench times cloudabi-run from start to exit with
// it, against a native static program that does nothing either.
// SPDX-License-Identifier: BSD-2-Clause

#include <program.h>

void program_main(const argdata_t *ad) {
  (void)ad;
}
