// hello: greets "name" on "out" (default: descriptor 1, for --exec); the
// program docs/guest.md builds with the SDK. SPDX-License-Identifier: BSD-2-Clause
#include <argdata.h>
#include <fmt.h>
#include <program.h>
#include <stdlib.h>

void program_main(const argdata_t *ad) {
  const char *name;
  cloudabi_fd_t out;
  if (argdata_map_get_str_c(ad, "name", &name) != 0)
    name = "world";
  if (argdata_map_get_fd(ad, "out", &out) != 0)
    out = 1;
  if (fmt_printf(out, "Hello, %s!\n", name) != 0)
    _Exit(1);
}
