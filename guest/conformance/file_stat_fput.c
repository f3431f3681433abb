// file_stat_fput: truncating or extending an open file, or setting its
// timestamps; one kind of change per call.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#define SEC UINT64_C(1000000000)

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t st, got;
  cloudabi_fd_t fd, ro;
  char buf[16];
  size_t n;

  if (!T_OK("file_stat_fput/setup", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("file_stat_fput/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;

  st = (cloudabi_filestat_t){.st_size = 3};
  if (T_OK("file_stat_fput/truncate", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_SIZE)) &&
      T_OK("file_stat_fput/truncated-read", t_pread_all(fd, buf, sizeof(buf), &n)))
    t_eq_str("file_stat_fput/truncated", buf, n, "012");
  st.st_size = 6;
  if (T_OK("file_stat_fput/extend", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_SIZE)) &&
      T_OK("file_stat_fput/extended-read", t_pread_all(fd, buf, sizeof(buf), &n)))
    t_eq_mem("file_stat_fput/extended-with-zeros", buf, n, "012\0\0\0", 6);

  // Timestamps: explicit values (whole seconds, which every file system
  // stores exactly), and "now".
  st = (cloudabi_filestat_t){.st_atim = 1500000000 * SEC, .st_mtim = 1600000000 * SEC};
  if (T_OK("file_stat_fput/times", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_ATIM | CLOUDABI_FILESTAT_MTIM)) &&
      T_OK("file_stat_fput/times-stat", cloudabi_sys_file_stat_fget(fd, &got))) {
    t_eq("file_stat_fput/atim", got.st_atim, 1500000000 * SEC);
    t_eq("file_stat_fput/mtim", got.st_mtim, 1600000000 * SEC);
  }
  st.st_atim = 1400000000 * SEC;
  if (T_OK("file_stat_fput/atim-only", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_ATIM)) &&
      T_OK("file_stat_fput/atim-only-stat", cloudabi_sys_file_stat_fget(fd, &got)))
    t_eq("file_stat_fput/mtim-kept", got.st_mtim, 1600000000 * SEC);
  cloudabi_timestamp_t now = t_now(CLOUDABI_CLOCK_REALTIME);
  // _NOW wins over the value flag.
  if (T_OK("file_stat_fput/mtim-now", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_MTIM | CLOUDABI_FILESTAT_MTIM_NOW)) &&
      T_OK("file_stat_fput/mtim-now-stat", cloudabi_sys_file_stat_fget(fd, &got)))
    t_true("file_stat_fput/mtim-is-now", got.st_mtim + 5 * SEC >= now && got.st_mtim <= now + 5 * SEC,
           "mtim within 5 s of the realtime clock");

  // One kind of change per call; valid flags only.
  T_ERRNO("file_stat_fput/size-and-times", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_SIZE | CLOUDABI_FILESTAT_MTIM), E(INVAL));
  T_ERRNO("file_stat_fput/no-flags", cloudabi_sys_file_stat_fput(fd, &st, 0), E(INVAL));
  T_ERRNO("file_stat_fput/undefined-flag", cloudabi_sys_file_stat_fput(fd, &st, 0x20), E(INVAL));
  st.st_size = UINT64_C(1) << 63;
  T_ERRNO("file_stat_fput/size-2^63", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_SIZE), E(INVAL));
  T_ERRNO("file_stat_fput/efault", cloudabi_sys_file_stat_fput(fd, T_BADPTR, CLOUDABI_FILESTAT_SIZE), E(FAULT));
  T_ERRNO("file_stat_fput/ebadf", cloudabi_sys_file_stat_fput(T_BADFD, &st, CLOUDABI_FILESTAT_MTIM_NOW), E(BADF));

  // Separate rights for size and times.
  st.st_size = 1;
  T_OK("file_stat_fput/setup-drop-size", t_drop(fd, CLOUDABI_RIGHT_FILE_STAT_FPUT_SIZE));
  T_ERRNO("file_stat_fput/size-without-right", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_SIZE), E(NOTCAPABLE));
  T_OK("file_stat_fput/times-right-kept", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_MTIM_NOW));
  T_OK("file_stat_fput/setup-drop-times", t_drop(fd, T_FAMILY_TIMES));
  T_ERRNO("file_stat_fput/times-without-right", cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_MTIM_NOW), E(NOTCAPABLE));
  cloudabi_sys_fd_close(fd);
  if (T_OK("file_stat_fput/setup-read-only", t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &ro))) {
    T_ERRNO("file_stat_fput/read-only", cloudabi_sys_file_stat_fput(ro, &st, CLOUDABI_FILESTAT_SIZE), E(NOTCAPABLE));
    cloudabi_sys_fd_close(ro);
  }
}
