// file_stat_fget: attributes of open files of every kind.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t st, st2;
  cloudabi_fd_t fd, dir, a, b;
  cloudabi_timestamp_t before = t_now(CLOUDABI_CLOCK_REALTIME);

  if (!T_OK("file_stat_fget/setup", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("file_stat_fget/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;
  if (T_OK("file_stat_fget/file", cloudabi_sys_file_stat_fget(fd, &st))) {
    t_eq("file_stat_fget/type", st.st_filetype, CLOUDABI_FILETYPE_REGULAR_FILE);
    t_eq("file_stat_fget/size", st.st_size, 10);
    t_eq("file_stat_fget/nlink", st.st_nlink, 1);
    t_true("file_stat_fget/ino", st.st_ino != 0, "an inode number");
    // Timestamps are nanoseconds since 1970 in the realtime clock's terms;
    // allow a few seconds for coarse file system clocks.
    uint64_t slack = UINT64_C(5) * 1000000000;
    t_true("file_stat_fget/mtim", st.st_mtim + slack >= before && st.st_mtim <= t_now(CLOUDABI_CLOCK_REALTIME) + slack,
           "mtim close to the realtime clock");
  }
  // The same file through a path gives the same identity.
  if (T_OK("file_stat_fget/stat-path", t_stat(t_tmp, "f", false, &st2)))
    t_true("file_stat_fget/same-as-path", st.st_ino == st2.st_ino && st.st_dev == st2.st_dev,
           "the same device and inode as file_stat_get");
  if (T_OK("file_stat_fget/grow", t_write_str(fd, "abc")) &&
      T_OK("file_stat_fget/stat-grown", cloudabi_sys_file_stat_fget(fd, &st)))
    t_eq("file_stat_fget/overwritten-same-size", st.st_size, 10);

  if (T_OK("file_stat_fget/setup-dir", t_open_dir(t_tmp, ".", &dir))) {
    if (T_OK("file_stat_fget/directory", cloudabi_sys_file_stat_fget(dir, &st)))
      t_eq("file_stat_fget/directory-type", st.st_filetype, CLOUDABI_FILETYPE_DIRECTORY);
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("file_stat_fget/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    if (T_OK("file_stat_fget/socket", cloudabi_sys_file_stat_fget(a, &st)))
      t_eq("file_stat_fget/socket-type", st.st_filetype, CLOUDABI_FILETYPE_SOCKET_STREAM);
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  if (T_OK("file_stat_fget/setup-shm", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_SHARED_MEMORY, &a))) {
    if (T_OK("file_stat_fget/shm", cloudabi_sys_file_stat_fget(a, &st)))
      t_eq("file_stat_fget/shm-type", st.st_filetype, CLOUDABI_FILETYPE_SHARED_MEMORY);
    cloudabi_sys_fd_close(a);
  }

  T_ERRNO("file_stat_fget/efault", cloudabi_sys_file_stat_fget(fd, T_BADPTR), E(FAULT));
  T_ERRNO("file_stat_fget/ebadf", cloudabi_sys_file_stat_fget(T_BADFD, &st), E(BADF));
  T_OK("file_stat_fget/setup-drop", t_drop(fd, T_FAMILY_STAT));
  T_ERRNO("file_stat_fget/without-right", cloudabi_sys_file_stat_fget(fd, &st), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);
}
