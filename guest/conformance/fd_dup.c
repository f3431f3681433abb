// fd_dup: a second number for the same open file: shared offset, same
// rights, independent lifetime.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, dup, dup2;
  cloudabi_fdstat_t s1, s2;
  cloudabi_filesize_t off;
  char buf[16];
  size_t n;

  if (!T_OK("fd_dup/setup", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("fd_dup/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  if (!T_OK("fd_dup/file", cloudabi_sys_fd_dup(fd, &dup)))
    return;
  t_true("fd_dup/new-number", dup != fd, "a different number");

  // The offset is shared: reading through one moves the other.
  if (T_OK("fd_dup/read-original", t_read(fd, buf, 4, &n)) &&
      T_OK("fd_dup/tell-copy", cloudabi_sys_fd_seek(dup, 0, CLOUDABI_WHENCE_CUR, &off)))
    t_eq("fd_dup/shared-offset", off, 4);
  if (T_OK("fd_dup/read-copy", t_read(dup, buf, 3, &n)))
    t_eq_str("fd_dup/copy-continues", buf, n, "456");

  // Same rights, also after narrowing the original before copying.
  if (T_OK("fd_dup/stat", cloudabi_sys_fd_stat_get(fd, &s1)) &&
      T_OK("fd_dup/stat-copy", cloudabi_sys_fd_stat_get(dup, &s2)))
    t_true("fd_dup/same-rights",
           s1.fs_rights_base == s2.fs_rights_base && s1.fs_rights_inheriting == s2.fs_rights_inheriting &&
               s1.fs_filetype == s2.fs_filetype,
           "the copy to have the same type and rights");
  T_OK("fd_dup/setup-narrow", t_drop(fd, T_FAMILY_WRITE));
  if (T_OK("fd_dup/narrowed", cloudabi_sys_fd_dup(fd, &dup2))) {
    T_ERRNO("fd_dup/narrowed-copy-cannot-write", t_write_str(dup2, "x"), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dup2);
  }
  // Narrowing the original does not change the earlier copy.
  T_OK("fd_dup/earlier-copy-keeps-rights", t_write_str(dup, "x"));

  // Each lives on when the other is closed.
  T_OK("fd_dup/close-original", cloudabi_sys_fd_close(fd));
  T_OK("fd_dup/copy-still-open", cloudabi_sys_fd_stat_get(dup, &s2));
  T_OK("fd_dup/close-copy", cloudabi_sys_fd_close(dup));

  T_ERRNO("fd_dup/ebadf", cloudabi_sys_fd_dup(T_BADFD, &dup), E(BADF));
  T_ERRNO("fd_dup/closed", cloudabi_sys_fd_dup(fd, &dup), E(BADF));

  // Sockets: data sent through a copy arrives at the peer.
  cloudabi_fd_t a, b;
  if (T_OK("fd_dup/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)) &&
      T_OK("fd_dup/socket", cloudabi_sys_fd_dup(a, &dup))) {
    if (T_OK("fd_dup/socket-send", t_write_str(dup, "via copy")) &&
        T_OK("fd_dup/socket-recv", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("fd_dup/socket-data", buf, n, "via copy");
    cloudabi_sys_fd_close(dup);
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
