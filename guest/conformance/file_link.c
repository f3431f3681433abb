// file_link: a second name for a file, in the same or another directory;
// symbolic links followed or not as lookup flags say; never outside.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t s1, s2;
  cloudabi_fd_t sub, dir, fd;
  char buf[16];
  size_t n;

  if (!T_OK("file_link/setup", t_mkfile(t_tmp, "a", "contents")) ||
      !T_OK("file_link/setup-dir", cloudabi_sys_file_create(t_tmp, P("sub"), CLOUDABI_FILETYPE_DIRECTORY)))
    return;

  if (T_OK("file_link/file", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), t_tmp, P("b"))) &&
      T_OK("file_link/stat-a", t_stat(t_tmp, "a", false, &s1)) &&
      T_OK("file_link/stat-b", t_stat(t_tmp, "b", false, &s2))) {
    t_true("file_link/same-file", s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev, "one inode, two names");
    t_eq("file_link/nlink", s2.st_nlink, 2);
  }
  if (T_OK("file_link/open-new-name", t_open_file(t_tmp, "b", &fd))) {
    if (T_OK("file_link/read-new-name", t_read(fd, buf, sizeof(buf), &n)))
      t_eq_str("file_link/same-contents", buf, n, "contents");
    cloudabi_sys_fd_close(fd);
  }
  // Into another directory descriptor.
  if (T_OK("file_link/setup-sub", t_open_dir(t_tmp, "sub", &sub))) {
    T_OK("file_link/other-directory", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), sub, P("c")));
    T_OK("file_link/other-directory-exists", t_stat(t_tmp, "sub/c", false, &s2));
    cloudabi_sys_fd_close(sub);
  }

  // Symbolic links: without follow the link itself gets the new name,
  // with follow its target.
  if (T_OK("file_link/setup-symlink", cloudabi_sys_file_symlink(P("a"), t_tmp, P("l")))) {
    if (T_OK("file_link/symlink-nofollow", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("l"), t_tmp, P("l2"))) &&
        T_OK("file_link/stat-l2", t_stat(t_tmp, "l2", false, &s2)))
      t_eq("file_link/nofollow-links-the-link", s2.st_filetype, CLOUDABI_FILETYPE_SYMBOLIC_LINK);
    if (T_OK("file_link/symlink-follow", cloudabi_sys_file_link(T_FOLLOW(t_tmp), P("l"), t_tmp, P("l3"))) &&
        T_OK("file_link/stat-l3", t_stat(t_tmp, "l3", false, &s2)))
      t_eq("file_link/follow-links-the-target", s2.st_filetype, CLOUDABI_FILETYPE_REGULAR_FILE);
  }

  T_ERRNO("file_link/target-exists", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), t_tmp, P("b")), E(EXIST));
  T_ERRNO("file_link/source-missing", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("nope"), t_tmp, P("x")), E(NOENT));
  T_ERRNO("file_link/target-dir-missing", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), t_tmp, P("nope/x")), E(NOENT));
  // No hard links to directories (EPERM on FreeBSD and Linux).
  T_ERRNO("file_link/directory", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("sub"), t_tmp, P("sub2")), E(PERM));
  T_ERRNO("file_link/target-dotdot", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), t_tmp, P("../cloudabi64-escape-file_link")), E(NOTCAPABLE));
  T_ERRNO("file_link/source-dotdot", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("../cloudabi64-escape-file_link"), t_tmp, P("x")), E(NOTCAPABLE));
  T_ERRNO("file_link/target-absolute", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), t_tmp, P("/tmp/cloudabi64-escape-file_link")), E(NOTCAPABLE));
  cloudabi_lookup_t bad_flags = {.fd = t_tmp, .flags = 2};
  T_ERRNO("file_link/bad-lookup-flags", cloudabi_sys_file_link(bad_flags, P("a"), t_tmp, P("x")), E(INVAL));
  T_ERRNO("file_link/efault-source", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), T_BADPTR, 1, t_tmp, P("x")), E(FAULT));
  T_ERRNO("file_link/efault-target", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), t_tmp, T_BADPTR, 1), E(FAULT));
  T_ERRNO("file_link/ebadf-source", cloudabi_sys_file_link(T_NOFOLLOW(T_BADFD), P("a"), t_tmp, P("x")), E(BADF));
  T_ERRNO("file_link/ebadf-target", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), T_BADFD, P("x")), E(BADF));

  // Each side needs its own right.
  if (T_OK("file_link/setup-dir-source", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_link/setup-drop-source", t_drop(dir, CLOUDABI_RIGHT_FILE_LINK_SOURCE));
    T_ERRNO("file_link/without-source-right", cloudabi_sys_file_link(T_NOFOLLOW(dir), P("a"), t_tmp, P("x")), E(NOTCAPABLE));
    T_OK("file_link/target-right-kept", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), dir, P("x")));
    cloudabi_sys_fd_close(dir);
  }
  if (T_OK("file_link/setup-dir-target", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_link/setup-drop-target", t_drop(dir, CLOUDABI_RIGHT_FILE_LINK_TARGET));
    T_ERRNO("file_link/without-target-right", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("a"), dir, P("y")), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
}
