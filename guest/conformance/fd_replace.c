// fd_replace: makes `to` a copy of `from` (like dup2, but `to` must be open
// already); the copy has from's rights and shares its offset.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fa, fb, fc, a, b;
  char buf[16];
  size_t n;
  cloudabi_filesize_t off;
  cloudabi_fdstat_t sa, sc;

  if (!T_OK("fd_replace/setup-a", t_mkfile(t_tmp, "a", "aaa")) ||
      !T_OK("fd_replace/setup-b", t_mkfile(t_tmp, "b", "bbb")) ||
      !T_OK("fd_replace/setup-open-a", t_open_file(t_tmp, "a", &fa)) ||
      !T_OK("fd_replace/setup-open-b", t_open_file(t_tmp, "b", &fb)))
    return;

  if (T_OK("fd_replace/file", cloudabi_sys_fd_replace(fa, fb))) {
    if (T_OK("fd_replace/read-to", t_read(fb, buf, sizeof(buf), &n)))
      t_eq_str("fd_replace/to-is-from", buf, n, "aaa");
    if (T_OK("fd_replace/tell-from", cloudabi_sys_fd_seek(fa, 0, CLOUDABI_WHENCE_CUR, &off)))
      t_eq("fd_replace/shared-offset", off, 3);
    T_OK("fd_replace/from-still-open", cloudabi_sys_fd_stat_get(fa, &sa));
  }

  // The copy gets the source's (narrowed) rights.
  if (T_OK("fd_replace/setup-c", t_open_file(t_tmp, "b", &fc))) {
    T_OK("fd_replace/setup-narrow", t_drop(fa, T_FAMILY_WRITE));
    if (T_OK("fd_replace/narrowed", cloudabi_sys_fd_replace(fa, fc)) &&
        T_OK("fd_replace/stat-from", cloudabi_sys_fd_stat_get(fa, &sa)) &&
        T_OK("fd_replace/stat-to", cloudabi_sys_fd_stat_get(fc, &sc)))
      t_eq_hex("fd_replace/rights-copied", sc.fs_rights_base, sa.fs_rights_base);
    T_ERRNO("fd_replace/narrowed-copy-cannot-write", t_write_str(fc, "x"), E(NOTCAPABLE));
  }

  // Onto itself: nothing changes.
  T_OK("fd_replace/self", cloudabi_sys_fd_replace(fa, fa));
  T_OK("fd_replace/self-still-open", cloudabi_sys_fd_stat_get(fa, &sa));

  // `to` must be open; `from` too.
  T_ERRNO("fd_replace/to-not-open", cloudabi_sys_fd_replace(fa, T_BADFD), E(BADF));
  T_ERRNO("fd_replace/from-not-open", cloudabi_sys_fd_replace(T_BADFD, fb), E(BADF));
  T_OK("fd_replace/to-unharmed", cloudabi_sys_fd_stat_get(fb, &sa));

  // Any type over any type: a socket over a file descriptor.
  if (T_OK("fd_replace/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)) &&
      T_OK("fd_replace/socket-over-file", cloudabi_sys_fd_replace(a, fb)) &&
      T_OK("fd_replace/stat-socket", cloudabi_sys_fd_stat_get(fb, &sa))) {
    t_eq("fd_replace/socket-type", sa.fs_filetype, CLOUDABI_FILETYPE_SOCKET_STREAM);
    if (T_OK("fd_replace/socket-send", t_write_str(fb, "hi")) &&
        T_OK("fd_replace/socket-recv", t_read(b, buf, sizeof(buf), &n)))
      t_eq_str("fd_replace/socket-data", buf, n, "hi");
  }
}
