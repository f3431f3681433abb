// fd_datasync: flushes a file's data; needs rights.fd_datasync, which only
// regular files have.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, dir, a, b;
  if (!T_OK("fd_datasync/setup", t_mkfile(t_tmp, "f", "data")) ||
      !T_OK("fd_datasync/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  T_OK("fd_datasync/file", cloudabi_sys_fd_datasync(fd));
  if (T_OK("fd_datasync/write", t_write_str(fd, "more")))
    T_OK("fd_datasync/after-write", cloudabi_sys_fd_datasync(fd));

  T_OK("fd_datasync/setup-narrow", t_drop(fd, T_FAMILY_SYNC));
  T_ERRNO("fd_datasync/without-right", cloudabi_sys_fd_datasync(fd), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);

  T_ERRNO("fd_datasync/ebadf", cloudabi_sys_fd_datasync(T_BADFD), E(BADF));
  if (T_OK("fd_datasync/setup-dir", t_open_dir(t_tmp, ".", &dir))) {
    T_ERRNO("fd_datasync/directory", cloudabi_sys_fd_datasync(dir), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("fd_datasync/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("fd_datasync/socket", cloudabi_sys_fd_datasync(a), E(NOTCAPABLE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
