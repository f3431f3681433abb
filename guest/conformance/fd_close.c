// fd_close: closing frees the number; closing twice, or a number that was
// never open, is EBADF. Closing needs no rights.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, dup, a, b;
  cloudabi_fdstat_t st;

  if (!T_OK("fd_close/setup", t_mkfile(t_tmp, "f", "x")) ||
      !T_OK("fd_close/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  T_OK("fd_close/file", cloudabi_sys_fd_close(fd));
  T_ERRNO("fd_close/twice", cloudabi_sys_fd_close(fd), E(BADF));
  T_ERRNO("fd_close/stat-after-close", cloudabi_sys_fd_stat_get(fd, &st), E(BADF));
  T_ERRNO("fd_close/never-open", cloudabi_sys_fd_close(T_BADFD), E(BADF));

  // Closing a copy leaves the original open.
  if (T_OK("fd_close/setup-dup", cloudabi_sys_fd_dup(t_out, &dup))) {
    T_OK("fd_close/dup", cloudabi_sys_fd_close(dup));
    T_OK("fd_close/original-still-open", cloudabi_sys_fd_stat_get(t_out, &st));
  }

  // A descriptor without any rights can still be closed.
  if (T_OK("fd_close/setup-open2", t_open_file(t_tmp, "f", &fd))) {
    T_OK("fd_close/setup-drop-rights", t_drop_rights(fd, ~UINT64_C(0), ~UINT64_C(0)));
    T_OK("fd_close/without-rights", cloudabi_sys_fd_close(fd));
  }

  if (T_OK("fd_close/setup-dir", t_open_dir(t_tmp, ".", &fd)))
    T_OK("fd_close/directory", cloudabi_sys_fd_close(fd));

  // Closing one end of a socket pair is seen at the other end as EOF.
  if (T_OK("fd_close/setup-socketpair",
           cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_OK("fd_close/socket", cloudabi_sys_fd_close(a));
    char buf[8];
    size_t n = 99;
    if (T_OK("fd_close/peer-read", t_read(b, buf, sizeof(buf), &n)))
      t_eq("fd_close/peer-eof", n, 0);
    cloudabi_sys_fd_close(b);
  }
}
