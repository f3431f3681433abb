// fd_seek: the three reference points (numbered cur=1, end=2, set=3, unlike
// POSIX), offsets that would be negative, telling with only fd_tell, and
// descriptors that cannot seek.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static void seek(const char *name, cloudabi_fd_t fd, int64_t offset, cloudabi_whence_t whence,
                 uint64_t want) {
  cloudabi_filesize_t got;
  if (T_OK(name, cloudabi_sys_fd_seek(fd, offset, whence, &got)))
    t_eq(name, got, want);
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, dir, a, b;
  cloudabi_filesize_t off;
  char buf[4];
  size_t n;

  if (!T_OK("fd_seek/setup", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("fd_seek/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  seek("fd_seek/set", fd, 3, CLOUDABI_WHENCE_SET, 3);
  if (T_OK("fd_seek/read-at-offset", t_read(fd, buf, 1, &n)))
    t_eq_str("fd_seek/read-at-offset", buf, n, "3");
  seek("fd_seek/cur", fd, 2, CLOUDABI_WHENCE_CUR, 6);
  seek("fd_seek/cur-negative", fd, -6, CLOUDABI_WHENCE_CUR, 0);
  seek("fd_seek/end", fd, -1, CLOUDABI_WHENCE_END, 9);
  seek("fd_seek/end-zero", fd, 0, CLOUDABI_WHENCE_END, 10);
  seek("fd_seek/tell", fd, 0, CLOUDABI_WHENCE_CUR, 10);
  // Beyond the end is allowed; writing there extends the file.
  seek("fd_seek/past-end", fd, 20, CLOUDABI_WHENCE_SET, 20);
  cloudabi_filestat_t st;
  if (T_OK("fd_seek/write-past-end", t_write_str(fd, "x")) &&
      T_OK("fd_seek/stat", cloudabi_sys_file_stat_fget(fd, &st)))
    t_eq("fd_seek/extended", st.st_size, 21);

  T_ERRNO("fd_seek/negative-set", cloudabi_sys_fd_seek(fd, -1, CLOUDABI_WHENCE_SET, &off), E(INVAL));
  T_ERRNO("fd_seek/before-start", cloudabi_sys_fd_seek(fd, -100, CLOUDABI_WHENCE_CUR, &off), E(INVAL));
  seek("fd_seek/unchanged-after-error", fd, 0, CLOUDABI_WHENCE_CUR, 21);
  T_ERRNO("fd_seek/whence-0", cloudabi_sys_fd_seek(fd, 0, 0, &off), E(INVAL));
  T_ERRNO("fd_seek/whence-4", cloudabi_sys_fd_seek(fd, 0, 4, &off), E(INVAL));
  T_ERRNO("fd_seek/ebadf", cloudabi_sys_fd_seek(T_BADFD, 0, CLOUDABI_WHENCE_CUR, &off), E(BADF));

  // With fd_tell only, the position can be read but not changed.
  T_OK("fd_seek/setup-tell-only", t_drop(fd, CLOUDABI_RIGHT_FD_SEEK));
  seek("fd_seek/tell-with-fd_tell", fd, 0, CLOUDABI_WHENCE_CUR, 21);
  T_ERRNO("fd_seek/set-with-fd_tell", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_SET, &off), E(NOTCAPABLE));
  T_ERRNO("fd_seek/cur-with-fd_tell", cloudabi_sys_fd_seek(fd, 1, CLOUDABI_WHENCE_CUR, &off), E(NOTCAPABLE));
  T_OK("fd_seek/setup-no-tell", t_drop(fd, CLOUDABI_RIGHT_FD_TELL));
  T_ERRNO("fd_seek/tell-without-rights", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_CUR, &off), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);

  // Neither directories nor sockets can seek.
  if (T_OK("fd_seek/setup-dir", t_open_dir(t_tmp, ".", &dir))) {
    T_ERRNO("fd_seek/directory", cloudabi_sys_fd_seek(dir, 0, CLOUDABI_WHENCE_SET, &off), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("fd_seek/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("fd_seek/socket", cloudabi_sys_fd_seek(a, 0, CLOUDABI_WHENCE_CUR, &off), E(NOTCAPABLE), E(SPIPE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
