// fd_stat_get: the type, flags and rights of descriptors of every kind.
// Needs no rights.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

// Rights are checked as ranges, must <= rights <= allowed: a system that
// keeps rights as Capsicum rights (FreeBSD) reports file_advise on every
// file and may report rights implied by others (see T_FAMILY_* in test.h).
static void check_rights(const char *name, cloudabi_rights_t got, cloudabi_rights_t must,
                         cloudabi_rights_t allowed) {
  t_check(name, (got & must) == must && (got & ~allowed) == 0,
          "rights 0x%lx <= got <= 0x%lx got 0x%lx (missing 0x%lx, extra 0x%lx)",
          (unsigned long)must, (unsigned long)allowed, (unsigned long)got,
          (unsigned long)(must & ~got), (unsigned long)(got & ~allowed));
}

static void check(const char *name, cloudabi_fd_t fd, cloudabi_filetype_t type,
                  cloudabi_fdflags_t flags, cloudabi_rights_t base_must,
                  cloudabi_rights_t base_allowed, cloudabi_rights_t inheriting_must,
                  cloudabi_rights_t inheriting_allowed) {
  cloudabi_fdstat_t st;
  char n[80];
  if (!T_OK(name, cloudabi_sys_fd_stat_get(fd, &st)))
    return;
  fmt_snprintf(n, sizeof(n), "%s-type", name);
  t_eq(n, st.fs_filetype, type);
  fmt_snprintf(n, sizeof(n), "%s-flags", name);
  t_eq_hex(n, st.fs_flags, flags);
  fmt_snprintf(n, sizeof(n), "%s-rights-base", name);
  check_rights(n, st.fs_rights_base, base_must, base_allowed);
  fmt_snprintf(n, sizeof(n), "%s-rights-inheriting", name);
  check_rights(n, st.fs_rights_inheriting, inheriting_must, inheriting_allowed);
}

#define ADVISE CLOUDABI_RIGHT_FILE_ADVISE

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, a, b;
  cloudabi_fdstat_t st;

  if (!T_OK("fd_stat_get/setup", t_mkfile(t_tmp, "f", "x")))
    return;
  // A file opened with every file right, inheriting nothing.
  if (T_OK("fd_stat_get/setup-file", t_open_file(t_tmp, "f", &fd))) {
    check("fd_stat_get/file", fd, CLOUDABI_FILETYPE_REGULAR_FILE, 0, T_RIGHTS_FILE, T_RIGHTS_FILE, 0, 0);
    cloudabi_sys_fd_close(fd);
  }
  // Exactly the rights asked for.
  if (T_OK("fd_stat_get/setup-read-only", t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &fd))) {
    check("fd_stat_get/read-only", fd, CLOUDABI_FILETYPE_REGULAR_FILE, 0, CLOUDABI_RIGHT_FD_READ,
          CLOUDABI_RIGHT_FD_READ | ADVISE, 0, 0);
    cloudabi_sys_fd_close(fd);
  }
  // Rights a file cannot use are dropped: asking for directory rights.
  if (T_OK("fd_stat_get/setup-limited",
           t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FILE_READDIR, T_RIGHTS_FILE, 0, &fd))) {
    check("fd_stat_get/limited-to-type", fd, CLOUDABI_FILETYPE_REGULAR_FILE, 0, CLOUDABI_RIGHT_FD_READ,
          CLOUDABI_RIGHT_FD_READ | ADVISE, 0, 0);
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("fd_stat_get/setup-append", t_open(t_tmp, "f", 0, CLOUDABI_RIGHT_FD_WRITE, 0,
                                              CLOUDABI_FDFLAG_APPEND, &fd))) {
    check("fd_stat_get/append", fd, CLOUDABI_FILETYPE_REGULAR_FILE, CLOUDABI_FDFLAG_APPEND,
          CLOUDABI_RIGHT_FD_WRITE, T_FAMILY_WRITE | ADVISE, 0, 0);
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("fd_stat_get/setup-dir", t_open_dir(t_tmp, ".", &fd))) {
    check("fd_stat_get/directory", fd, CLOUDABI_FILETYPE_DIRECTORY, 0, T_RIGHTS_DIR, T_RIGHTS_DIR, 0,
          T_RIGHTS_DIR_INHERITING);
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("fd_stat_get/setup-stream", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    if (T_OK("fd_stat_get/stream", cloudabi_sys_fd_stat_get(a, &st))) {
      t_eq("fd_stat_get/stream-type", st.fs_filetype, CLOUDABI_FILETYPE_SOCKET_STREAM);
      t_eq_hex("fd_stat_get/stream-rights", st.fs_rights_base, T_RIGHTS_SOCKET);
    }
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  if (T_OK("fd_stat_get/setup-dgram", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_DGRAM, &a, &b))) {
    if (T_OK("fd_stat_get/dgram", cloudabi_sys_fd_stat_get(a, &st)))
      t_eq("fd_stat_get/dgram-type", st.fs_filetype, CLOUDABI_FILETYPE_SOCKET_DGRAM);
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  if (T_OK("fd_stat_get/setup-shm", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_SHARED_MEMORY, &a))) {
    if (T_OK("fd_stat_get/shm", cloudabi_sys_fd_stat_get(a, &st)))
      t_eq("fd_stat_get/shm-type", st.fs_filetype, CLOUDABI_FILETYPE_SHARED_MEMORY);
    cloudabi_sys_fd_close(a);
  }

  // Even a descriptor without any rights can be inspected.
  if (T_OK("fd_stat_get/setup-no-rights", t_open_file(t_tmp, "f", &fd)) &&
      T_OK("fd_stat_get/setup-drop", t_drop_rights(fd, ~UINT64_C(0), ~UINT64_C(0))))
    check("fd_stat_get/no-rights", fd, CLOUDABI_FILETYPE_REGULAR_FILE, 0, 0, ADVISE, 0, 0);

  T_ERRNO("fd_stat_get/ebadf", cloudabi_sys_fd_stat_get(T_BADFD, &st), E(BADF));
  T_ERRNO("fd_stat_get/efault", cloudabi_sys_fd_stat_get(t_out, T_BADPTR), E(FAULT));
}
