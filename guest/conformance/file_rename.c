// file_rename: moving names within and between directories, replacing
// what the new name held where POSIX allows it.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static bool contents(const char *name, const char *path, const char *want) {
  cloudabi_fd_t fd;
  char buf[32];
  size_t n;
  bool ok = T_OK(name, t_open_file(t_tmp, path, &fd));
  if (ok) {
    ok = T_OK(name, t_read(fd, buf, sizeof(buf), &n)) && t_eq_str(name, buf, n, want);
    cloudabi_sys_fd_close(fd);
  }
  return ok;
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t st;
  cloudabi_fd_t sub, dir;
  const cloudabi_filetype_t DIR = CLOUDABI_FILETYPE_DIRECTORY;

  T_OK("file_rename/setup-a", t_mkfile(t_tmp, "a", "A"));
  T_OK("file_rename/setup-b", t_mkfile(t_tmp, "b", "B"));
  T_OK("file_rename/setup-d", cloudabi_sys_file_create(t_tmp, P("d"), DIR));
  T_OK("file_rename/setup-full", cloudabi_sys_file_create(t_tmp, P("full"), DIR));
  T_OK("file_rename/setup-full-file", t_mkfile(t_tmp, "full/x", "x"));

  if (T_OK("file_rename/file", cloudabi_sys_file_rename(t_tmp, P("a"), t_tmp, P("a2")))) {
    T_ERRNO("file_rename/old-name-gone", t_stat(t_tmp, "a", false, &st), E(NOENT));
    contents("file_rename/new-name", "a2", "A");
  }
  // Over an existing file: it is replaced.
  if (T_OK("file_rename/replace", cloudabi_sys_file_rename(t_tmp, P("a2"), t_tmp, P("b"))))
    contents("file_rename/replaced", "b", "A");
  // Into another directory, through another descriptor.
  if (T_OK("file_rename/setup-sub", t_open_dir(t_tmp, "d", &sub))) {
    if (T_OK("file_rename/other-directory", cloudabi_sys_file_rename(t_tmp, P("b"), sub, P("moved"))))
      contents("file_rename/moved", "d/moved", "A");
    cloudabi_sys_fd_close(sub);
  }
  // Directories move too, with their contents.
  if (T_OK("file_rename/directory", cloudabi_sys_file_rename(t_tmp, P("d"), t_tmp, P("d2"))))
    contents("file_rename/directory-contents", "d2/moved", "A");
  T_OK("file_rename/setup-empty", cloudabi_sys_file_create(t_tmp, P("empty"), DIR));
  T_OK("file_rename/over-empty-directory", cloudabi_sys_file_rename(t_tmp, P("d2"), t_tmp, P("empty")));
  T_OK("file_rename/same-name", cloudabi_sys_file_rename(t_tmp, P("full"), t_tmp, P("full")));

  T_OK("file_rename/setup-c", t_mkfile(t_tmp, "c", "C"));
  T_ERRNO("file_rename/missing", cloudabi_sys_file_rename(t_tmp, P("nope"), t_tmp, P("x")), E(NOENT));
  // "." as the source is the directory itself: EINVAL (FreeBSD's
  // kern_renameat, fvp == tdvp; Linux says EBUSY).
  T_ERRNO("file_rename/source-dot", cloudabi_sys_file_rename(t_tmp, P("."), t_tmp, P("dot2")), E(INVAL));
  T_ERRNO("file_rename/source-dir-dot", cloudabi_sys_file_rename(t_tmp, P("full/."), t_tmp, P("dot3")), E(INVAL));
  T_ERRNO("file_rename/over-non-empty-directory",
          cloudabi_sys_file_rename(t_tmp, P("empty"), t_tmp, P("full")), E(NOTEMPTY), E(EXIST));
  T_ERRNO("file_rename/file-over-directory", cloudabi_sys_file_rename(t_tmp, P("c"), t_tmp, P("full")), E(ISDIR));
  T_ERRNO("file_rename/directory-over-file", cloudabi_sys_file_rename(t_tmp, P("full"), t_tmp, P("c")), E(NOTDIR));
  T_ERRNO("file_rename/into-itself", cloudabi_sys_file_rename(t_tmp, P("full"), t_tmp, P("full/sub")), E(INVAL));
  T_ERRNO("file_rename/target-dotdot", cloudabi_sys_file_rename(t_tmp, P("c"), t_tmp, P("../cloudabi64-escape-file_rename")), E(NOTCAPABLE));
  T_ERRNO("file_rename/source-dotdot", cloudabi_sys_file_rename(t_tmp, P("../cloudabi64-escape-file_rename"), t_tmp, P("c2")), E(NOTCAPABLE));
  T_ERRNO("file_rename/target-absolute", cloudabi_sys_file_rename(t_tmp, P("c"), t_tmp, P("/tmp/cloudabi64-escape-file_rename")), E(NOTCAPABLE));
  T_OK("file_rename/source-unharmed", t_stat(t_tmp, "c", false, &st));
  T_ERRNO("file_rename/efault-source", cloudabi_sys_file_rename(t_tmp, T_BADPTR, 1, t_tmp, P("x")), E(FAULT));
  T_ERRNO("file_rename/efault-target", cloudabi_sys_file_rename(t_tmp, P("c"), t_tmp, T_BADPTR, 1), E(FAULT));
  T_ERRNO("file_rename/ebadf-source", cloudabi_sys_file_rename(T_BADFD, P("c"), t_tmp, P("x")), E(BADF));
  T_ERRNO("file_rename/ebadf-target", cloudabi_sys_file_rename(t_tmp, P("c"), T_BADFD, P("x")), E(BADF));

  if (T_OK("file_rename/setup-narrow-source", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_rename/setup-drop-source", t_drop(dir, CLOUDABI_RIGHT_FILE_RENAME_SOURCE));
    T_ERRNO("file_rename/without-source-right", cloudabi_sys_file_rename(dir, P("c"), t_tmp, P("c2")), E(NOTCAPABLE));
    T_OK("file_rename/target-right-kept", cloudabi_sys_file_rename(t_tmp, P("c"), dir, P("c2")));
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("file_rename/setup-narrow-target", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_rename/setup-drop-target", t_drop(dir, CLOUDABI_RIGHT_FILE_RENAME_TARGET));
    T_ERRNO("file_rename/without-target-right", cloudabi_sys_file_rename(t_tmp, P("c2"), dir, P("c3")), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
}
