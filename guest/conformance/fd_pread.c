// fd_pread: reads at a given offset without moving the descriptor's
// offset; needs fd_read and fd_seek.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, a, b;
  char buf[16], x[2], y[3];
  size_t n;
  cloudabi_filesize_t off;

  if (!T_OK("fd_pread/setup", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("fd_pread/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  cloudabi_iovec_t iov = {buf, 4};
  if (T_OK("fd_pread/file", cloudabi_sys_fd_pread(fd, &iov, 1, 3, &n)))
    t_eq_str("fd_pread/data", buf, n, "3456");
  if (T_OK("fd_pread/tell", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_CUR, &off)))
    t_eq("fd_pread/offset-unchanged", off, 0);
  cloudabi_iovec_t iovs[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  if (T_OK("fd_pread/scatter", cloudabi_sys_fd_pread(fd, iovs, 2, 5, &n))) {
    t_eq("fd_pread/scatter-count", n, 5);
    t_eq_str("fd_pread/scatter-first", x, 2, "56");
    t_eq_str("fd_pread/scatter-second", y, 3, "789");
  }
  iov.buf_len = sizeof(buf);
  if (T_OK("fd_pread/short", cloudabi_sys_fd_pread(fd, &iov, 1, 8, &n)))
    t_eq_str("fd_pread/short-data", buf, n, "89");
  if (T_OK("fd_pread/at-eof", cloudabi_sys_fd_pread(fd, &iov, 1, 10, &n)))
    t_eq("fd_pread/at-eof-zero", n, 0);
  if (T_OK("fd_pread/past-eof", cloudabi_sys_fd_pread(fd, &iov, 1, 1000, &n)))
    t_eq("fd_pread/past-eof-zero", n, 0);

  // Offsets must fit a signed 64-bit file offset.
  T_ERRNO("fd_pread/offset-2^63", cloudabi_sys_fd_pread(fd, &iov, 1, UINT64_C(1) << 63, &n), E(INVAL));
  T_ERRNO("fd_pread/offset-max", cloudabi_sys_fd_pread(fd, &iov, 1, UINT64_MAX, &n), E(INVAL));
  cloudabi_iovec_t bad = {T_BADPTR, 4};
  T_ERRNO("fd_pread/efault-buffer", cloudabi_sys_fd_pread(fd, &bad, 1, 0, &n), E(FAULT));
  T_ERRNO("fd_pread/efault-iovecs", cloudabi_sys_fd_pread(fd, T_BADPTR, 1, 0, &n), E(FAULT));
  T_ERRNO("fd_pread/too-many-iovecs", cloudabi_sys_fd_pread(fd, &iov, 1025, 0, &n), E(INVAL));
  T_ERRNO("fd_pread/ebadf", cloudabi_sys_fd_pread(T_BADFD, &iov, 1, 0, &n), E(BADF));
  cloudabi_sys_fd_close(fd);

  // Both rights are needed.
  if (T_OK("fd_pread/setup-no-seek", t_open_file(t_tmp, "f", &fd))) {
    T_OK("fd_pread/setup-drop-seek", t_drop(fd, CLOUDABI_RIGHT_FD_SEEK));
    T_ERRNO("fd_pread/without-seek", cloudabi_sys_fd_pread(fd, &iov, 1, 0, &n), E(NOTCAPABLE));
    T_OK("fd_pread/read-still-works", t_read(fd, buf, sizeof(buf), &n));
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("fd_pread/setup-no-read", t_open_file(t_tmp, "f", &fd))) {
    T_OK("fd_pread/setup-drop-read", t_drop(fd, T_FAMILY_READ));
    T_ERRNO("fd_pread/without-read", cloudabi_sys_fd_pread(fd, &iov, 1, 0, &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(fd);
  }
  // Sockets cannot seek (no fd_seek right; a kernel would say ESPIPE).
  if (T_OK("fd_pread/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("fd_pread/socket", cloudabi_sys_fd_pread(a, &iov, 1, 0, &n), E(NOTCAPABLE), E(SPIPE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
