// file_stat_get: attributes by path, following symbolic links or not.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t st;
  cloudabi_fd_t dir;

  T_OK("file_stat_get/setup-file", t_mkfile(t_tmp, "f", "12345"));
  T_OK("file_stat_get/setup-dir", cloudabi_sys_file_create(t_tmp, P("d"), CLOUDABI_FILETYPE_DIRECTORY));
  T_OK("file_stat_get/setup-link", cloudabi_sys_file_symlink(P("f"), t_tmp, P("l")));
  T_OK("file_stat_get/setup-dangling", cloudabi_sys_file_symlink(P("nowhere"), t_tmp, P("dangling")));
  T_OK("file_stat_get/setup-loop-1", cloudabi_sys_file_symlink(P("loop2"), t_tmp, P("loop1")));
  T_OK("file_stat_get/setup-loop-2", cloudabi_sys_file_symlink(P("loop1"), t_tmp, P("loop2")));
  T_OK("file_stat_get/setup-out", cloudabi_sys_file_symlink(P("/etc"), t_tmp, P("out")));

  if (T_OK("file_stat_get/file", t_stat(t_tmp, "f", false, &st))) {
    t_eq("file_stat_get/file-type", st.st_filetype, CLOUDABI_FILETYPE_REGULAR_FILE);
    t_eq("file_stat_get/file-size", st.st_size, 5);
  }
  if (T_OK("file_stat_get/directory", t_stat(t_tmp, "d", false, &st)))
    t_eq("file_stat_get/directory-type", st.st_filetype, CLOUDABI_FILETYPE_DIRECTORY);
  if (T_OK("file_stat_get/dot", t_stat(t_tmp, ".", false, &st)))
    t_eq("file_stat_get/dot-type", st.st_filetype, CLOUDABI_FILETYPE_DIRECTORY);
  if (T_OK("file_stat_get/symlink-nofollow", t_stat(t_tmp, "l", false, &st))) {
    t_eq("file_stat_get/symlink-type", st.st_filetype, CLOUDABI_FILETYPE_SYMBOLIC_LINK);
    t_eq("file_stat_get/symlink-size", st.st_size, 1);  // the length of "f"
  }
  if (T_OK("file_stat_get/symlink-follow", t_stat(t_tmp, "l", true, &st)))
    t_eq("file_stat_get/followed-type", st.st_filetype, CLOUDABI_FILETYPE_REGULAR_FILE);
  T_OK("file_stat_get/dangling-nofollow", t_stat(t_tmp, "dangling", false, &st));
  T_ERRNO("file_stat_get/dangling-follow", t_stat(t_tmp, "dangling", true, &st), E(NOENT));
  T_ERRNO("file_stat_get/loop", t_stat(t_tmp, "loop1", true, &st), E(LOOP));
  // A link pointing out is fine to look at, not to follow.
  T_OK("file_stat_get/out-nofollow", t_stat(t_tmp, "out", false, &st));
  T_ERRNO("file_stat_get/out-follow", t_stat(t_tmp, "out", true, &st), E(NOTCAPABLE));

  T_ERRNO("file_stat_get/missing", t_stat(t_tmp, "nope", false, &st), E(NOENT));
  T_ERRNO("file_stat_get/through-file", t_stat(t_tmp, "f/x", false, &st), E(NOTDIR));
  T_ERRNO("file_stat_get/dotdot", t_stat(t_tmp, "..", false, &st), E(NOTCAPABLE));
  T_ERRNO("file_stat_get/absolute", t_stat(t_tmp, "/etc", false, &st), E(NOTCAPABLE));
  cloudabi_lookup_t bad = {.fd = t_tmp, .flags = 2};
  T_ERRNO("file_stat_get/undefined-lookup-flags", cloudabi_sys_file_stat_get(bad, P("f"), &st), E(INVAL));
  T_ERRNO("file_stat_get/efault-path", cloudabi_sys_file_stat_get(T_NOFOLLOW(t_tmp), T_BADPTR, 1, &st), E(FAULT));
  T_ERRNO("file_stat_get/efault-buffer", cloudabi_sys_file_stat_get(T_NOFOLLOW(t_tmp), P("f"), T_BADPTR), E(FAULT));
  T_ERRNO("file_stat_get/ebadf", t_stat(T_BADFD, "f", false, &st), E(BADF));
  if (T_OK("file_stat_get/setup-narrow", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_stat_get/setup-drop", t_drop(dir, T_FAMILY_STAT));
    T_ERRNO("file_stat_get/without-right", t_stat(dir, "f", false, &st), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
}
