// file_stat_put: timestamps by path (nothing else can be changed by path);
// without flags it only looks the path up.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#define SEC UINT64_C(1000000000)

static cloudabi_errno_t put(cloudabi_lookup_t at, const char *path, cloudabi_timestamp_t atim,
                            cloudabi_timestamp_t mtim, cloudabi_fsflags_t flags) {
  cloudabi_filestat_t st = {.st_atim = atim, .st_mtim = mtim};
  return cloudabi_sys_file_stat_put(at, P(path), &st, flags);
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t st;
  cloudabi_fd_t dir;
  const cloudabi_fsflags_t BOTH = CLOUDABI_FILESTAT_ATIM | CLOUDABI_FILESTAT_MTIM;

  T_OK("file_stat_put/setup", t_mkfile(t_tmp, "f", "x"));
  T_OK("file_stat_put/setup-link", cloudabi_sys_file_symlink(P("f"), t_tmp, P("l")));

  if (T_OK("file_stat_put/times", put(T_NOFOLLOW(t_tmp), "f", 1500000000 * SEC, 1600000000 * SEC, BOTH)) &&
      T_OK("file_stat_put/stat", t_stat(t_tmp, "f", false, &st))) {
    t_eq("file_stat_put/atim", st.st_atim, 1500000000 * SEC);
    t_eq("file_stat_put/mtim", st.st_mtim, 1600000000 * SEC);
  }
  // Through the link to its target.
  if (T_OK("file_stat_put/follow", put(T_FOLLOW(t_tmp), "l", 0, 1700000000 * SEC, CLOUDABI_FILESTAT_MTIM)) &&
      T_OK("file_stat_put/follow-stat", t_stat(t_tmp, "f", false, &st)))
    t_eq("file_stat_put/target-changed", st.st_mtim, 1700000000 * SEC);
  // On the link itself: the target keeps its time.
  if (T_OK("file_stat_put/nofollow", put(T_NOFOLLOW(t_tmp), "l", 0, 1300000000 * SEC, CLOUDABI_FILESTAT_MTIM)) &&
      T_OK("file_stat_put/nofollow-stat", t_stat(t_tmp, "f", false, &st)))
    t_eq("file_stat_put/target-unchanged", st.st_mtim, 1700000000 * SEC);
  cloudabi_timestamp_t now = t_now(CLOUDABI_CLOCK_REALTIME);
  if (T_OK("file_stat_put/now", put(T_NOFOLLOW(t_tmp), "f", 0, 0, CLOUDABI_FILESTAT_ATIM_NOW | CLOUDABI_FILESTAT_MTIM_NOW)) &&
      T_OK("file_stat_put/now-stat", t_stat(t_tmp, "f", false, &st)))
    t_true("file_stat_put/is-now", st.st_mtim + 5 * SEC >= now && st.st_mtim <= now + 5 * SEC,
           "mtim within 5 s of the realtime clock");
  // No flags: a lookup that changes nothing.
  T_OK("file_stat_put/no-flags", put(T_NOFOLLOW(t_tmp), "f", 0, 0, 0));
  T_ERRNO("file_stat_put/no-flags-missing", put(T_NOFOLLOW(t_tmp), "nope", 0, 0, 0), E(NOENT));

  T_ERRNO("file_stat_put/size", put(T_NOFOLLOW(t_tmp), "f", 0, 0, CLOUDABI_FILESTAT_SIZE), E(INVAL));
  T_ERRNO("file_stat_put/undefined-flag", put(T_NOFOLLOW(t_tmp), "f", 0, 0, 0x20), E(INVAL));
  T_ERRNO("file_stat_put/missing", put(T_NOFOLLOW(t_tmp), "nope", 0, 0, CLOUDABI_FILESTAT_MTIM_NOW), E(NOENT));
  T_ERRNO("file_stat_put/dotdot", put(T_NOFOLLOW(t_tmp), "../cloudabi64-escape-file_stat_put", 0, 0, CLOUDABI_FILESTAT_MTIM_NOW), E(NOTCAPABLE));
  T_ERRNO("file_stat_put/absolute", put(T_NOFOLLOW(t_tmp), "/tmp/cloudabi64-escape-file_stat_put", 0, 0, CLOUDABI_FILESTAT_MTIM_NOW), E(NOTCAPABLE));
  T_ERRNO("file_stat_put/efault-buffer",
          cloudabi_sys_file_stat_put(T_NOFOLLOW(t_tmp), P("f"), T_BADPTR, CLOUDABI_FILESTAT_MTIM_NOW), E(FAULT));
  T_ERRNO("file_stat_put/efault-path",
          cloudabi_sys_file_stat_put(T_NOFOLLOW(t_tmp), T_BADPTR, 1, &st, CLOUDABI_FILESTAT_MTIM_NOW), E(FAULT));
  T_ERRNO("file_stat_put/ebadf", put(T_NOFOLLOW(T_BADFD), "f", 0, 0, CLOUDABI_FILESTAT_MTIM_NOW), E(BADF));
  if (T_OK("file_stat_put/setup-narrow", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_stat_put/setup-drop", t_drop(dir, T_FAMILY_TIMES));
    T_ERRNO("file_stat_put/without-right", put(T_NOFOLLOW(dir), "f", 0, 0, CLOUDABI_FILESTAT_MTIM_NOW), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
}
