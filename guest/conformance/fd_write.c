// fd_write: writes at the offset (or at the end with fdflags.append) and
// advances it; gather lists; sockets; and the errors: rights, EBADF,
// EFAULT, too many iovecs.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static void check_contents(const char *name, cloudabi_fd_t fd, const char *want) {
  char buf[64];
  size_t n;
  if (T_OK(name, t_pread_all(fd, buf, sizeof(buf), &n)))
    t_eq_str(name, buf, n, want);
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, ro, a, b;
  size_t n;
  cloudabi_filesize_t off;

  if (!T_OK("fd_write/setup",
            t_open(t_tmp, "f", CLOUDABI_O_CREAT, T_RIGHTS_FILE, 0, 0, &fd)))
    return;
  cloudabi_ciovec_t iov = {"hello", 5};
  if (T_OK("fd_write/file", cloudabi_sys_fd_write(fd, &iov, 1, &n)))
    t_eq("fd_write/count", n, 5);
  if (T_OK("fd_write/offset", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_CUR, &off)))
    t_eq("fd_write/advances", off, 5);
  cloudabi_ciovec_t gather[3] = {{", ", 2}, {"", 0}, {"world", 5}};
  if (T_OK("fd_write/gather", cloudabi_sys_fd_write(fd, gather, 3, &n)))
    t_eq("fd_write/gather-count", n, 7);
  check_contents("fd_write/contents", fd, "hello, world");
  if (T_OK("fd_write/no-iovecs", cloudabi_sys_fd_write(fd, gather, 0, &n)))
    t_eq("fd_write/no-iovecs-zero", n, 0);
  // Overwriting in the middle.
  T_OK("fd_write/seek", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_SET, &off));
  T_OK("fd_write/overwrite", t_write_str(fd, "J"));
  check_contents("fd_write/overwritten", fd, "Jello, world");

  cloudabi_ciovec_t bad = {T_BADPTR, 5};
  T_ERRNO("fd_write/efault-buffer", cloudabi_sys_fd_write(fd, &bad, 1, &n), E(FAULT));
  T_ERRNO("fd_write/efault-iovecs", cloudabi_sys_fd_write(fd, T_BADPTR, 1, &n), E(FAULT));
  T_ERRNO("fd_write/too-many-iovecs", cloudabi_sys_fd_write(fd, gather, 1025, &n), E(INVAL));
  T_ERRNO("fd_write/ebadf", cloudabi_sys_fd_write(T_BADFD, &iov, 1, &n), E(BADF));
  T_OK("fd_write/setup-drop", t_drop(fd, T_FAMILY_WRITE));
  T_ERRNO("fd_write/narrowed", cloudabi_sys_fd_write(fd, &iov, 1, &n), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);

  if (T_OK("fd_write/setup-read-only", t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &ro))) {
    T_ERRNO("fd_write/without-right", cloudabi_sys_fd_write(ro, &iov, 1, &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(ro);
  }

  // Append mode: every write lands at the end, wherever the offset was.
  if (T_OK("fd_write/setup-append",
           t_open(t_tmp, "f", 0, T_RIGHTS_FILE, 0, CLOUDABI_FDFLAG_APPEND, &fd))) {
    T_OK("fd_write/append-seek", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_SET, &off));
    T_OK("fd_write/append", t_write_str(fd, "!"));
    check_contents("fd_write/appended", fd, "Jello, world!");
    cloudabi_sys_fd_close(fd);
  }

  if (T_OK("fd_write/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    char buf[16];
    if (T_OK("fd_write/socket", t_write_str(a, "ping")) &&
        T_OK("fd_write/socket-recv", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("fd_write/socket-data", buf, n, "ping");
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
