// fd_read: reads at the descriptor's offset and advances it; scatter
// lists; EOF; sockets; EAGAIN without data on a non-blocking socket; and
// the errors: rights, EBADF, EFAULT, too many iovecs.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, wo, dir, a, b;
  char buf[32], x[2], y[3];
  size_t n;

  if (!T_OK("fd_read/setup", t_mkfile(t_tmp, "f", "hello world")) ||
      !T_OK("fd_read/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  if (T_OK("fd_read/file", t_read(fd, buf, 5, &n)))
    t_eq_str("fd_read/data", buf, n, "hello");
  if (T_OK("fd_read/advances", t_read(fd, buf, sizeof(buf), &n)))
    t_eq_str("fd_read/rest", buf, n, " world");
  if (T_OK("fd_read/at-eof", t_read(fd, buf, sizeof(buf), &n)))
    t_eq("fd_read/eof-is-zero", n, 0);

  // Scatter: consecutive bytes fill the buffers in order.
  cloudabi_filesize_t off;
  T_OK("fd_read/rewind", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_SET, &off));
  cloudabi_iovec_t iovs[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  if (T_OK("fd_read/scatter", cloudabi_sys_fd_read(fd, iovs, 2, &n))) {
    t_eq("fd_read/scatter-count", n, 5);
    t_eq_str("fd_read/scatter-first", x, 2, "he");
    t_eq_str("fd_read/scatter-second", y, 3, "llo");
  }
  if (T_OK("fd_read/no-iovecs", cloudabi_sys_fd_read(fd, iovs, 0, &n)))
    t_eq("fd_read/no-iovecs-zero", n, 0);

  // Errors. Bad buffers: the file has data left, so the system must touch them.
  cloudabi_iovec_t bad = {T_BADPTR, 4};
  T_ERRNO("fd_read/efault-buffer", cloudabi_sys_fd_read(fd, &bad, 1, &n), E(FAULT));
  T_ERRNO("fd_read/efault-iovecs", cloudabi_sys_fd_read(fd, T_BADPTR, 1, &n), E(FAULT));
  // More than 1024 iovecs is EINVAL before anything is read.
  T_ERRNO("fd_read/too-many-iovecs", cloudabi_sys_fd_read(fd, iovs, 1025, &n), E(INVAL));
  T_ERRNO("fd_read/ebadf", cloudabi_sys_fd_read(T_BADFD, iovs, 1, &n), E(BADF));
  cloudabi_sys_fd_close(fd);
  T_ERRNO("fd_read/closed", cloudabi_sys_fd_read(fd, iovs, 1, &n), E(BADF));

  // Rights: a descriptor opened for writing only.
  if (T_OK("fd_read/setup-write-only",
           t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FD_SEEK, 0, 0, &wo))) {
    T_ERRNO("fd_read/without-right", t_read(wo, buf, sizeof(buf), &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(wo);
  }
  if (T_OK("fd_read/setup-narrowed", t_open_file(t_tmp, "f", &fd))) {
    T_OK("fd_read/setup-drop", t_drop(fd, T_FAMILY_READ));
    T_ERRNO("fd_read/narrowed", t_read(fd, buf, sizeof(buf), &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(fd);
  }
  // Directories have no fd_read right (file_readdir reads them).
  if (T_OK("fd_read/setup-dir", t_open_dir(t_tmp, ".", &dir))) {
    T_ERRNO("fd_read/directory", t_read(dir, buf, sizeof(buf), &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }

  // Sockets: what was written, and EAGAIN when nothing is there and the
  // descriptor is non-blocking.
  if (T_OK("fd_read/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    if (T_OK("fd_read/socket-send", t_write_str(a, "ping")) &&
        T_OK("fd_read/socket", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("fd_read/socket-data", buf, n, "ping");
    cloudabi_fdstat_t st = {.fs_flags = CLOUDABI_FDFLAG_NONBLOCK};
    if (T_OK("fd_read/setup-nonblock", cloudabi_sys_fd_stat_put(b, &st, CLOUDABI_FDSTAT_FLAGS)))
      T_ERRNO("fd_read/eagain", t_read(b, buf, sizeof(buf), &n), E(AGAIN));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
