// cat: copies its input to its output, like cat(1) with no arguments.
// SPDX-License-Identifier: BSD-2-Clause
//
// Configuration:
//
//   in: !file {path: /some/file, mode: read}
//   out: !fd stdout
//
// Without "in" it reads descriptor 0, and without "out" it writes to
// descriptor 1, so that it works as a filter from a shell: `./cat < in >
// out` (FreeBSD with cloudabi64 loaded, or `cloudabi-run --exec` and its
// binfmt_misc registration on Linux). Exit status 0; on an error it prints
// "cat: <what>: <ERRNO>" to descriptor 2 and exits 1.

#include <argdata.h>
#include <cloudabi.h>
#include <fmt.h>
#include <program.h>
#include <stdlib.h>

static _Noreturn void fail(const char *what, cloudabi_errno_t error) {
  fmt_printf(2, "cat: %s: %s\n", what, errno_name(error));
  _Exit(1);
}

void program_main(const argdata_t *ad) {
  cloudabi_fd_t in, out;
  if (argdata_map_get_fd(ad, "in", &in) != 0)
    in = 0;
  if (argdata_map_get_fd(ad, "out", &out) != 0)
    out = 1;
  static char buf[65536];
  for (;;) {
    cloudabi_iovec_t iov = {buf, sizeof(buf)};
    size_t got;
    cloudabi_errno_t error = cloudabi_sys_fd_read(in, &iov, 1, &got);
    if (error != 0)
      fail("fd_read", error);
    if (got == 0)
      return;
    for (size_t done = 0; done < got;) {
      cloudabi_ciovec_t ciov = {buf + done, got - done};
      size_t put;
      if ((error = cloudabi_sys_fd_write(out, &ciov, 1, &put)) != 0)
        fail("fd_write", error);
      done += put;
    }
  }
}
