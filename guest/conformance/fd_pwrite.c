// fd_pwrite: writes at a given offset without moving the descriptor's
// offset, extending the file when needed; needs fd_write and fd_seek.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, a, b;
  char buf[32];
  size_t n;
  cloudabi_filesize_t off;

  if (!T_OK("fd_pwrite/setup", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("fd_pwrite/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  cloudabi_ciovec_t iov = {"ab", 2};
  if (T_OK("fd_pwrite/file", cloudabi_sys_fd_pwrite(fd, &iov, 1, 2, &n)))
    t_eq("fd_pwrite/count", n, 2);
  if (T_OK("fd_pwrite/tell", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_CUR, &off)))
    t_eq("fd_pwrite/offset-unchanged", off, 0);
  if (T_OK("fd_pwrite/read-back", t_pread_all(fd, buf, sizeof(buf), &n)))
    t_eq_str("fd_pwrite/data", buf, n, "01ab456789");

  cloudabi_ciovec_t gather[2] = {{"X", 1}, {"YZ", 2}};
  if (T_OK("fd_pwrite/gather", cloudabi_sys_fd_pwrite(fd, gather, 2, 7, &n)))
    t_eq("fd_pwrite/gather-count", n, 3);
  // Past the end: the gap reads as zeros.
  if (T_OK("fd_pwrite/extend", cloudabi_sys_fd_pwrite(fd, &iov, 1, 12, &n)) &&
      T_OK("fd_pwrite/read-extended", t_pread_all(fd, buf, sizeof(buf), &n)))
    t_eq_mem("fd_pwrite/extended", buf, n, "01ab456XYZ\0\0ab", 14);

  T_ERRNO("fd_pwrite/offset-2^63", cloudabi_sys_fd_pwrite(fd, &iov, 1, UINT64_C(1) << 63, &n), E(INVAL));
  cloudabi_ciovec_t bad = {T_BADPTR, 4};
  T_ERRNO("fd_pwrite/efault-buffer", cloudabi_sys_fd_pwrite(fd, &bad, 1, 0, &n), E(FAULT));
  T_ERRNO("fd_pwrite/efault-iovecs", cloudabi_sys_fd_pwrite(fd, T_BADPTR, 1, 0, &n), E(FAULT));
  T_ERRNO("fd_pwrite/too-many-iovecs", cloudabi_sys_fd_pwrite(fd, &iov, 1025, 0, &n), E(INVAL));
  T_ERRNO("fd_pwrite/ebadf", cloudabi_sys_fd_pwrite(T_BADFD, &iov, 1, 0, &n), E(BADF));
  cloudabi_sys_fd_close(fd);

  if (T_OK("fd_pwrite/setup-no-seek", t_open_file(t_tmp, "f", &fd))) {
    T_OK("fd_pwrite/setup-drop-seek", t_drop(fd, CLOUDABI_RIGHT_FD_SEEK));
    T_ERRNO("fd_pwrite/without-seek", cloudabi_sys_fd_pwrite(fd, &iov, 1, 0, &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("fd_pwrite/setup-read-only",
           t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FD_SEEK, 0, 0, &fd))) {
    T_ERRNO("fd_pwrite/without-write", cloudabi_sys_fd_pwrite(fd, &iov, 1, 0, &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("fd_pwrite/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("fd_pwrite/socket", cloudabi_sys_fd_pwrite(a, &iov, 1, 0, &n), E(NOTCAPABLE), E(SPIPE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
