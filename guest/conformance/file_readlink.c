// file_readlink: the stored target of a symbolic link, cut off to fit the
// buffer; only for symbolic links, only beneath the directory.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  char buf[64];
  size_t n;
  cloudabi_fd_t dir;

  T_OK("file_readlink/setup", cloudabi_sys_file_symlink(P("target/x"), t_tmp, P("l")));
  T_OK("file_readlink/setup-dir", cloudabi_sys_file_create(t_tmp, P("d"), CLOUDABI_FILETYPE_DIRECTORY));
  T_OK("file_readlink/setup-nested", cloudabi_sys_file_symlink(P("../../anywhere"), t_tmp, P("d/up")));
  T_OK("file_readlink/setup-file", t_mkfile(t_tmp, "f", "x"));

  if (T_OK("file_readlink/link", cloudabi_sys_file_readlink(t_tmp, P("l"), buf, sizeof(buf), &n)))
    t_eq_str("file_readlink/target", buf, n, "target/x");
  // Targets are stored as written, even when they point outside.
  if (T_OK("file_readlink/nested", cloudabi_sys_file_readlink(t_tmp, P("d/up"), buf, sizeof(buf), &n)))
    t_eq_str("file_readlink/nested-target", buf, n, "../../anywhere");
  if (T_OK("file_readlink/short-buffer", cloudabi_sys_file_readlink(t_tmp, P("l"), buf, 3, &n)))
    t_eq_str("file_readlink/truncated", buf, n, "tar");
  // Anything but a symbolic link is EINVAL.
  T_ERRNO("file_readlink/not-a-link", cloudabi_sys_file_readlink(t_tmp, P("f"), buf, sizeof(buf), &n), E(INVAL));
  T_ERRNO("file_readlink/directory", cloudabi_sys_file_readlink(t_tmp, P("d"), buf, sizeof(buf), &n), E(INVAL));
  T_ERRNO("file_readlink/missing", cloudabi_sys_file_readlink(t_tmp, P("nope"), buf, sizeof(buf), &n), E(NOENT));
  // The path is resolved before the buffer's size matters (FreeBSD's
  // kern_readlinkat): a missing name with an empty buffer is ENOENT, "."
  // is not a link, and a link with an empty buffer reads 0 bytes.
  T_ERRNO("file_readlink/missing-empty-buffer", cloudabi_sys_file_readlink(t_tmp, P("nope"), buf, 0, &n), E(NOENT));
  T_ERRNO("file_readlink/dot", cloudabi_sys_file_readlink(t_tmp, P("."), buf, sizeof(buf), &n), E(INVAL));
  T_ERRNO("file_readlink/dot-empty-buffer", cloudabi_sys_file_readlink(t_tmp, P("."), buf, 0, &n), E(INVAL));
  T_ERRNO("file_readlink/file-empty-buffer", cloudabi_sys_file_readlink(t_tmp, P("f"), buf, 0, &n), E(INVAL));
  n = 99;
  if (T_OK("file_readlink/link-empty-buffer", cloudabi_sys_file_readlink(t_tmp, P("l"), buf, 0, &n)))
    t_eq("file_readlink/link-empty-buffer-length", n, 0);
  T_ERRNO("file_readlink/dotdot", cloudabi_sys_file_readlink(t_tmp, P("../l"), buf, sizeof(buf), &n), E(NOTCAPABLE));
  T_ERRNO("file_readlink/absolute", cloudabi_sys_file_readlink(t_tmp, P("/l"), buf, sizeof(buf), &n), E(NOTCAPABLE));
  T_ERRNO("file_readlink/efault-buffer", cloudabi_sys_file_readlink(t_tmp, P("l"), T_BADPTR, 10, &n), E(FAULT));
  T_ERRNO("file_readlink/efault-path", cloudabi_sys_file_readlink(t_tmp, T_BADPTR, 1, buf, sizeof(buf), &n), E(FAULT));
  T_ERRNO("file_readlink/ebadf", cloudabi_sys_file_readlink(T_BADFD, P("l"), buf, sizeof(buf), &n), E(BADF));
  if (T_OK("file_readlink/setup-narrow", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_readlink/setup-drop", t_drop(dir, T_FAMILY_LOOKUP));
    T_ERRNO("file_readlink/without-right", cloudabi_sys_file_readlink(dir, P("l"), buf, sizeof(buf), &n), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
}
