// file_create: makes directories (the only type it creates) beneath a
// directory descriptor, and nowhere else.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static char long_path[1100];

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t d, dir;
  cloudabi_filestat_t st;
  const cloudabi_filetype_t DIR = CLOUDABI_FILETYPE_DIRECTORY;

  if (T_OK("file_create/directory", cloudabi_sys_file_create(t_tmp, P("d"), DIR)) &&
      T_OK("file_create/stat", t_stat(t_tmp, "d", false, &st)))
    t_eq("file_create/is-directory", st.st_filetype, DIR);
  T_OK("file_create/nested", cloudabi_sys_file_create(t_tmp, P("d/e"), DIR));
  T_OK("file_create/trailing-slash", cloudabi_sys_file_create(t_tmp, P("d/f/"), DIR));
  if (T_OK("file_create/open-created", t_open_dir(t_tmp, "d/e", &d))) {
    T_OK("file_create/relative-to-new", cloudabi_sys_file_create(d, P("g"), DIR));
    cloudabi_sys_fd_close(d);
  }
  T_OK("file_create/dotdot-inside", cloudabi_sys_file_create(t_tmp, P("d/../h"), DIR));
  T_OK("file_create/dotdot-inside-exists", t_stat(t_tmp, "h", false, &st));

  T_ERRNO("file_create/exists", cloudabi_sys_file_create(t_tmp, P("d"), DIR), E(EXIST));
  T_OK("file_create/setup-file", t_mkfile(t_tmp, "file", "x"));
  T_ERRNO("file_create/file-exists", cloudabi_sys_file_create(t_tmp, P("file"), DIR), E(EXIST));
  T_ERRNO("file_create/missing-parent", cloudabi_sys_file_create(t_tmp, P("nope/x"), DIR), E(NOENT));
  T_ERRNO("file_create/parent-is-file", cloudabi_sys_file_create(t_tmp, P("file/x"), DIR), E(NOTDIR));
  T_ERRNO("file_create/empty-path", cloudabi_sys_file_create(t_tmp, P(""), DIR), E(NOENT));

  // Never outside the directory.
  T_ERRNO("file_create/dotdot", cloudabi_sys_file_create(t_tmp, P("../cloudabi64-escape-file_create"), DIR), E(NOTCAPABLE));
  T_ERRNO("file_create/dotdot-deeper", cloudabi_sys_file_create(t_tmp, P("d/../../cloudabi64-escape-file_create"), DIR), E(NOTCAPABLE));
  T_ERRNO("file_create/absolute", cloudabi_sys_file_create(t_tmp, P("/tmp/cloudabi64-escape-file_create"), DIR), E(NOTCAPABLE));

  // Only directories.
  T_ERRNO("file_create/regular-file", cloudabi_sys_file_create(t_tmp, P("r"), CLOUDABI_FILETYPE_REGULAR_FILE), E(INVAL));
  T_ERRNO("file_create/symlink", cloudabi_sys_file_create(t_tmp, P("r"), CLOUDABI_FILETYPE_SYMBOLIC_LINK), E(INVAL));
  T_ERRNO("file_create/type-0", cloudabi_sys_file_create(t_tmp, P("r"), 0), E(INVAL));

  // Path arguments: NUL inside, too long, unreadable.
  T_ERRNO("file_create/embedded-nul", cloudabi_sys_file_create(t_tmp, "a\0b", 3, DIR), E(INVAL));
  memset(long_path, 'a', sizeof(long_path));
  T_ERRNO("file_create/name-too-long", cloudabi_sys_file_create(t_tmp, long_path, 1024, DIR), E(NAMETOOLONG));
  T_ERRNO("file_create/efault", cloudabi_sys_file_create(t_tmp, T_BADPTR, 3, DIR), E(FAULT));
  T_ERRNO("file_create/ebadf", cloudabi_sys_file_create(T_BADFD, P("x"), DIR), E(BADF));

  if (T_OK("file_create/setup-dir", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_create/setup-drop", t_drop(dir, CLOUDABI_RIGHT_FILE_CREATE_DIRECTORY));
    T_ERRNO("file_create/without-right", cloudabi_sys_file_create(dir, P("x"), DIR), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("file_create/setup-open-file", t_open_file(t_tmp, "file", &d))) {
    T_ERRNO("file_create/on-a-file", cloudabi_sys_file_create(d, P("x"), DIR), E(NOTCAPABLE), E(NOTDIR));
    cloudabi_sys_fd_close(d);
  }
}
