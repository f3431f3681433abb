// fd_sync: flushes a file's data and metadata; needs rights.fd_sync, which
// regular files and directories have.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, dir, a, b;
  if (!T_OK("fd_sync/setup", t_mkfile(t_tmp, "f", "data")) ||
      !T_OK("fd_sync/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  T_OK("fd_sync/file", cloudabi_sys_fd_sync(fd));
  if (T_OK("fd_sync/write", t_write_str(fd, "more")))
    T_OK("fd_sync/after-write", cloudabi_sys_fd_sync(fd));
  T_OK("fd_sync/setup-narrow", t_drop(fd, T_FAMILY_SYNC));
  T_ERRNO("fd_sync/without-right", cloudabi_sys_fd_sync(fd), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);

  T_ERRNO("fd_sync/ebadf", cloudabi_sys_fd_sync(T_BADFD), E(BADF));
  if (T_OK("fd_sync/setup-dir", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("fd_sync/directory", cloudabi_sys_fd_sync(dir));
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("fd_sync/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("fd_sync/socket", cloudabi_sys_fd_sync(a), E(NOTCAPABLE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
