// file_symlink: stores any target text (following it is what is checked,
// later), creating the link itself only beneath the directory.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_filestat_t st;
  cloudabi_fd_t dir, fd;
  char buf[32];
  size_t n;

  T_OK("file_symlink/setup", t_mkfile(t_tmp, "f", "data"));
  T_OK("file_symlink/setup-dir", cloudabi_sys_file_create(t_tmp, P("d"), CLOUDABI_FILETYPE_DIRECTORY));

  if (T_OK("file_symlink/create", cloudabi_sys_file_symlink(P("f"), t_tmp, P("l"))) &&
      T_OK("file_symlink/stat", t_stat(t_tmp, "l", false, &st))) {
    t_eq("file_symlink/is-link", st.st_filetype, CLOUDABI_FILETYPE_SYMBOLIC_LINK);
    t_eq("file_symlink/size-is-target-length", st.st_size, 1);
  }
  if (T_OK("file_symlink/open-through", t_open_file(t_tmp, "l", &fd))) {
    if (T_OK("file_symlink/read-through", t_read(fd, buf, sizeof(buf), &n)))
      t_eq_str("file_symlink/target-contents", buf, n, "data");
    cloudabi_sys_fd_close(fd);
  }
  // Any text is stored: relative, upward, absolute, missing.
  T_OK("file_symlink/in-subdirectory", cloudabi_sys_file_symlink(P("../f"), t_tmp, P("d/l")));
  T_OK("file_symlink/target-upward", cloudabi_sys_file_symlink(P("../../x"), t_tmp, P("up")));
  T_OK("file_symlink/target-absolute", cloudabi_sys_file_symlink(P("/etc/passwd"), t_tmp, P("abs")));
  T_OK("file_symlink/target-missing", cloudabi_sys_file_symlink(P("nowhere"), t_tmp, P("dangling")));
  if (T_OK("file_symlink/readlink", cloudabi_sys_file_readlink(t_tmp, P("abs"), buf, sizeof(buf), &n)))
    t_eq_str("file_symlink/stored-as-is", buf, n, "/etc/passwd");
  if (T_OK("file_symlink/open-inside", t_open_file(t_tmp, "d/l", &fd)))
    cloudabi_sys_fd_close(fd);

  T_ERRNO("file_symlink/exists", cloudabi_sys_file_symlink(P("f"), t_tmp, P("l")), E(EXIST));
  T_ERRNO("file_symlink/over-file", cloudabi_sys_file_symlink(P("x"), t_tmp, P("f")), E(EXIST));
  T_ERRNO("file_symlink/missing-parent", cloudabi_sys_file_symlink(P("f"), t_tmp, P("nope/l")), E(NOENT));
  T_ERRNO("file_symlink/link-dotdot", cloudabi_sys_file_symlink(P("f"), t_tmp, P("../cloudabi64-escape-file_symlink")), E(NOTCAPABLE));
  T_ERRNO("file_symlink/link-absolute", cloudabi_sys_file_symlink(P("f"), t_tmp, P("/tmp/cloudabi64-escape-file_symlink")), E(NOTCAPABLE));
  T_ERRNO("file_symlink/target-embedded-nul", cloudabi_sys_file_symlink("a\0b", 3, t_tmp, P("n")), E(INVAL));
  T_ERRNO("file_symlink/efault-target", cloudabi_sys_file_symlink(T_BADPTR, 1, t_tmp, P("e1")), E(FAULT));
  T_ERRNO("file_symlink/efault-link", cloudabi_sys_file_symlink(P("f"), t_tmp, T_BADPTR, 1), E(FAULT));
  T_ERRNO("file_symlink/ebadf", cloudabi_sys_file_symlink(P("f"), T_BADFD, P("l2")), E(BADF));
  if (T_OK("file_symlink/setup-narrow", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_symlink/setup-drop", t_drop(dir, CLOUDABI_RIGHT_FILE_SYMLINK));
    T_ERRNO("file_symlink/without-right", cloudabi_sys_file_symlink(P("f"), dir, P("l3")), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
}
