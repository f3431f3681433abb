// file_allocate: reserves space, growing the file when the range ends past
// its end; never shrinks it. Some file systems (ZFS) cannot do this at all
// and say ENOTSUP (FreeBSD's ZFS has said EINVAL); then only the error
// paths are checked.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static uint64_t size_of(cloudabi_fd_t fd) {
  cloudabi_filestat_t st;
  return cloudabi_sys_file_stat_fget(fd, &st) == 0 ? st.st_size : UINT64_MAX;
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, ro, a, b;
  if (!T_OK("file_allocate/setup", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("file_allocate/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;

  cloudabi_errno_t error = cloudabi_sys_file_allocate(fd, 0, 4096);
  T_ERRNO("file_allocate/grow", error, 0, E(NOTSUP), E(INVAL));
  if (error == 0) {
    t_eq("file_allocate/grown", size_of(fd), 4096);
    T_OK("file_allocate/inside", cloudabi_sys_file_allocate(fd, 100, 100));
    t_eq("file_allocate/not-shrunk", size_of(fd), 4096);
    T_OK("file_allocate/offset", cloudabi_sys_file_allocate(fd, 8192, 1));
    t_eq("file_allocate/offset-grown", size_of(fd), 8193);
    char buf[16];
    size_t n;
    if (T_OK("file_allocate/read", t_pread_all(fd, buf, 12, &n)))
      t_eq_mem("file_allocate/data-kept", buf, n, "0123456789\0\0", 12);
  }

  T_ERRNO("file_allocate/len-0", cloudabi_sys_file_allocate(fd, 0, 0), E(INVAL));
  T_ERRNO("file_allocate/offset-2^63", cloudabi_sys_file_allocate(fd, UINT64_C(1) << 63, 1), E(INVAL));
  T_ERRNO("file_allocate/len-2^63", cloudabi_sys_file_allocate(fd, 0, UINT64_C(1) << 63), E(INVAL));
  T_ERRNO("file_allocate/ebadf", cloudabi_sys_file_allocate(T_BADFD, 0, 1), E(BADF));
  T_OK("file_allocate/setup-drop", t_drop(fd, T_FAMILY_WRITE));
  T_ERRNO("file_allocate/without-right", cloudabi_sys_file_allocate(fd, 0, 1), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);
  if (T_OK("file_allocate/setup-read-only", t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &ro))) {
    T_ERRNO("file_allocate/read-only", cloudabi_sys_file_allocate(ro, 0, 1), E(NOTCAPABLE));
    cloudabi_sys_fd_close(ro);
  }
  if (T_OK("file_allocate/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("file_allocate/socket", cloudabi_sys_file_allocate(a, 0, 1), E(NOTCAPABLE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
