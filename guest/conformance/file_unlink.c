// file_unlink: removes names of files, and with ulflags.removedir of empty
// directories.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t st;
  cloudabi_fd_t fd, dir;
  char buf[16];
  size_t n;
  const cloudabi_ulflags_t RMDIR = CLOUDABI_UNLINK_REMOVEDIR;

  T_OK("file_unlink/setup-f", t_mkfile(t_tmp, "f", "data"));
  T_OK("file_unlink/setup-g", t_mkfile(t_tmp, "g", "g"));
  T_OK("file_unlink/setup-empty", cloudabi_sys_file_create(t_tmp, P("empty"), CLOUDABI_FILETYPE_DIRECTORY));
  T_OK("file_unlink/setup-full", cloudabi_sys_file_create(t_tmp, P("full"), CLOUDABI_FILETYPE_DIRECTORY));
  T_OK("file_unlink/setup-full-file", t_mkfile(t_tmp, "full/x", "x"));
  T_OK("file_unlink/setup-link", cloudabi_sys_file_symlink(P("g"), t_tmp, P("l")));

  // An open file stays readable after its name is gone.
  if (T_OK("file_unlink/setup-open", t_open_file(t_tmp, "f", &fd))) {
    T_OK("file_unlink/file", cloudabi_sys_file_unlink(t_tmp, P("f"), 0));
    T_ERRNO("file_unlink/gone", t_stat(t_tmp, "f", false, &st), E(NOENT));
    if (T_OK("file_unlink/still-open", t_read(fd, buf, sizeof(buf), &n)))
      t_eq_str("file_unlink/still-readable", buf, n, "data");
    cloudabi_sys_fd_close(fd);
  }
  // A symbolic link is removed, not its target.
  T_OK("file_unlink/symlink", cloudabi_sys_file_unlink(t_tmp, P("l"), 0));
  T_OK("file_unlink/target-kept", t_stat(t_tmp, "g", false, &st));
  T_OK("file_unlink/empty-directory", cloudabi_sys_file_unlink(t_tmp, P("empty"), RMDIR));
  T_ERRNO("file_unlink/directory-gone", t_stat(t_tmp, "empty", false, &st), E(NOENT));

  T_ERRNO("file_unlink/missing", cloudabi_sys_file_unlink(t_tmp, P("nope"), 0), E(NOENT));
  // A directory without removedir: Linux says EISDIR, FreeBSD EPERM.
  // A directory without removedir: EPERM (FreeBSD's unlink(2) and
  // POSIX; Linux says EISDIR, which the Linux backend turns into EPERM).
  T_ERRNO("file_unlink/directory-without-flag", cloudabi_sys_file_unlink(t_tmp, P("full"), 0), E(PERM));
  // A symbolic link to a directory named with a trailing slash: the slash
  // follows the link (FreeBSD's namei), so removedir removes the directory
  // it points to and a plain unlink is EPERM (a directory). Without the
  // slash the name is the link itself: removedir is ENOTDIR.
  T_OK("file_unlink/setup-sd", cloudabi_sys_file_create(t_tmp, P("sd"), CLOUDABI_FILETYPE_DIRECTORY));
  T_OK("file_unlink/setup-sl", cloudabi_sys_file_symlink(P("sd"), t_tmp, P("sl")));
  T_ERRNO("file_unlink/symlink-slash-without-flag", cloudabi_sys_file_unlink(t_tmp, P("sl/"), 0), E(PERM));
  T_ERRNO("file_unlink/symlink-without-slash-with-flag", cloudabi_sys_file_unlink(t_tmp, P("sl"), RMDIR), E(NOTDIR));
  T_OK("file_unlink/symlink-slash-with-flag", cloudabi_sys_file_unlink(t_tmp, P("sl/"), RMDIR));
  T_ERRNO("file_unlink/symlink-slash-target-gone", t_stat(t_tmp, "sd", false, &st), E(NOENT));
  T_OK("file_unlink/symlink-slash-link-kept", t_stat(t_tmp, "sl", false, &st));
  // A directory named with a trailing slash is removed like one without.
  T_OK("file_unlink/setup-e2", cloudabi_sys_file_create(t_tmp, P("e2"), CLOUDABI_FILETYPE_DIRECTORY));
  T_OK("file_unlink/directory-slash", cloudabi_sys_file_unlink(t_tmp, P("e2/"), RMDIR));
  T_ERRNO("file_unlink/directory-slash-gone", t_stat(t_tmp, "e2", false, &st), E(NOENT));
  // The directory itself cannot be removed through its own name.
  T_ERRNO("file_unlink/dot", cloudabi_sys_file_unlink(t_tmp, P("."), RMDIR), E(INVAL), E(BUSY));
  T_ERRNO("file_unlink/file-with-flag", cloudabi_sys_file_unlink(t_tmp, P("g"), RMDIR), E(NOTDIR));
  T_ERRNO("file_unlink/non-empty-directory", cloudabi_sys_file_unlink(t_tmp, P("full"), RMDIR), E(NOTEMPTY), E(EXIST));
  T_ERRNO("file_unlink/undefined-flag", cloudabi_sys_file_unlink(t_tmp, P("g"), 2), E(INVAL));
  T_ERRNO("file_unlink/dotdot", cloudabi_sys_file_unlink(t_tmp, P("../cloudabi64-escape-file_unlink"), 0), E(NOTCAPABLE));
  T_ERRNO("file_unlink/absolute", cloudabi_sys_file_unlink(t_tmp, P("/tmp/cloudabi64-escape-file_unlink"), 0), E(NOTCAPABLE));
  T_ERRNO("file_unlink/efault", cloudabi_sys_file_unlink(t_tmp, T_BADPTR, 1, 0), E(FAULT));
  T_ERRNO("file_unlink/ebadf", cloudabi_sys_file_unlink(T_BADFD, P("g"), 0), E(BADF));
  if (T_OK("file_unlink/setup-narrow", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_unlink/setup-drop", t_drop(dir, CLOUDABI_RIGHT_FILE_UNLINK));
    T_ERRNO("file_unlink/without-right", cloudabi_sys_file_unlink(dir, P("g"), 0), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
  T_OK("file_unlink/untouched-by-errors", t_stat(t_tmp, "g", false, &st));
}
