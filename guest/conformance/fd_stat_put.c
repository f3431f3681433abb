// fd_stat_put: narrows rights (never widens them) or changes flags, one of
// the two per call, each with its own checks.
// SPDX-License-Identifier: BSD-2-Clause

#include "proc.h"
#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, dir, f2, a, b;
  cloudabi_fdstat_t st, orig;
  char buf[16];
  size_t n;

  if (!T_OK("fd_stat_put/setup", t_mkfile(t_tmp, "f", "abc")) ||
      !T_OK("fd_stat_put/setup-open", t_open_file(t_tmp, "f", &fd)) ||
      !T_OK("fd_stat_put/setup-stat", cloudabi_sys_fd_stat_get(fd, &orig)))
    return;

  // Rights: narrowing works and is visible; the removed right is gone.
  st = orig;
  st.fs_rights_base &= ~T_FAMILY_WRITE;
  if (T_OK("fd_stat_put/narrow", cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_RIGHTS))) {
    cloudabi_fdstat_t now;
    if (T_OK("fd_stat_put/narrow-stat", cloudabi_sys_fd_stat_get(fd, &now)))
      t_eq_hex("fd_stat_put/narrowed", now.fs_rights_base, st.fs_rights_base);
    T_ERRNO("fd_stat_put/narrowed-enforced", t_write_str(fd, "x"), E(NOTCAPABLE));
  }
  // Rights never come back.
  T_ERRNO("fd_stat_put/widen", cloudabi_sys_fd_stat_put(fd, &orig, CLOUDABI_FDSTAT_RIGHTS), E(NOTCAPABLE));
  // An undefined rights bit (0x800 was file_create_fifo).
  st.fs_rights_base |= 0x800;
  T_ERRNO("fd_stat_put/undefined-right", cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_RIGHTS), E(NOTCAPABLE));

  // Directories: a right cannot move from inheriting to base, and narrowed
  // inheriting rights limit what can be opened through the directory.
  if (T_OK("fd_stat_put/setup-dir", t_open_dir(t_tmp, ".", &dir)) &&
      T_OK("fd_stat_put/setup-dir-stat", cloudabi_sys_fd_stat_get(dir, &st))) {
    cloudabi_fdstat_t moved = st;
    moved.fs_rights_base |= CLOUDABI_RIGHT_FD_READ;  // only inheriting has it
    T_ERRNO("fd_stat_put/inheriting-to-base", cloudabi_sys_fd_stat_put(dir, &moved, CLOUDABI_FDSTAT_RIGHTS),
            E(NOTCAPABLE));
    st.fs_rights_base &= ~T_FAMILY_WRITE;
    st.fs_rights_inheriting &= ~T_FAMILY_WRITE;
    if (T_OK("fd_stat_put/narrow-inheriting", cloudabi_sys_fd_stat_put(dir, &st, CLOUDABI_FDSTAT_RIGHTS))) {
      T_ERRNO("fd_stat_put/inheriting-enforced",
              t_open(dir, "f", 0, CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FD_SEEK, 0, 0, &f2), E(NOTCAPABLE));
      if (T_OK("fd_stat_put/inheriting-rest", t_open(dir, "f", 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &f2)))
        cloudabi_sys_fd_close(f2);
    }
    cloudabi_sys_fd_close(dir);
  }

  // Flags: append makes writes go to the end.
  cloudabi_sys_fd_close(fd);
  if (T_OK("fd_stat_put/setup-reopen", t_open_file(t_tmp, "f", &fd))) {
    st = (cloudabi_fdstat_t){.fs_flags = CLOUDABI_FDFLAG_APPEND};
    if (T_OK("fd_stat_put/set-append", cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_FLAGS))) {
      if (T_OK("fd_stat_put/append-stat", cloudabi_sys_fd_stat_get(fd, &st)))
        t_eq_hex("fd_stat_put/append-visible", st.fs_flags, CLOUDABI_FDFLAG_APPEND);
      if (T_OK("fd_stat_put/append-write", t_write_str(fd, "d")) &&
          T_OK("fd_stat_put/append-read", t_pread_all(fd, buf, sizeof(buf), &n)))
        t_eq_str("fd_stat_put/appended", buf, n, "abcd");
    }
    st = (cloudabi_fdstat_t){.fs_flags = 0x20};
    T_ERRNO("fd_stat_put/undefined-flag", cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_FLAGS), E(INVAL));
    // Exactly one of FLAGS and RIGHTS per call.
    st = (cloudabi_fdstat_t){0};
    T_ERRNO("fd_stat_put/neither", cloudabi_sys_fd_stat_put(fd, &st, 0), E(INVAL));
    T_ERRNO("fd_stat_put/both", cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_FLAGS | CLOUDABI_FDSTAT_RIGHTS),
            E(INVAL));
    T_ERRNO("fd_stat_put/undefined-fdsflags", cloudabi_sys_fd_stat_put(fd, &st, 4), E(INVAL));
    // Changing flags needs fd_stat_put_flags.
    T_OK("fd_stat_put/setup-drop-flags-right", t_drop(fd, CLOUDABI_RIGHT_FD_STAT_PUT_FLAGS));
    T_ERRNO("fd_stat_put/flags-without-right", cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_FLAGS),
            E(NOTCAPABLE));
    T_ERRNO("fd_stat_put/efault", cloudabi_sys_fd_stat_put(fd, T_BADPTR, CLOUDABI_FDSTAT_RIGHTS), E(FAULT));
    cloudabi_sys_fd_close(fd);
  }

  // Non-blocking sockets: reading with nothing there is EAGAIN; clearing
  // the flag again is visible.
  if (T_OK("fd_stat_put/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    st = (cloudabi_fdstat_t){.fs_flags = CLOUDABI_FDFLAG_NONBLOCK};
    if (T_OK("fd_stat_put/set-nonblock", cloudabi_sys_fd_stat_put(a, &st, CLOUDABI_FDSTAT_FLAGS))) {
      if (T_OK("fd_stat_put/nonblock-stat", cloudabi_sys_fd_stat_get(a, &st)))
        t_eq_hex("fd_stat_put/nonblock-visible", st.fs_flags, CLOUDABI_FDFLAG_NONBLOCK);
      T_ERRNO("fd_stat_put/nonblock-enforced", t_read(a, buf, sizeof(buf), &n), E(AGAIN));
      st = (cloudabi_fdstat_t){.fs_flags = 0};
      if (T_OK("fd_stat_put/clear-nonblock", cloudabi_sys_fd_stat_put(a, &st, CLOUDABI_FDSTAT_FLAGS)) &&
          T_OK("fd_stat_put/cleared-stat", cloudabi_sys_fd_stat_get(a, &st)))
        t_eq_hex("fd_stat_put/cleared", st.fs_flags, 0);
    }
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  // Flags belong to the open file: another process sharing it (a forked
  // child) changes them for everyone, even after they were read here
  // (cloudabi-run's Linux backend answers from memory only while nobody
  // else holds the file).
  if (T_OK("fd_stat_put/setup-fork-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    cloudabi_fd_t child;
    cloudabi_tid_t tid;
    if (T_OK("fd_stat_put/fork-before", cloudabi_sys_fd_stat_get(a, &st)))
      t_eq_hex("fd_stat_put/fork-before-flags", st.fs_flags, 0);
    if (T_OK("fd_stat_put/fork", cloudabi_sys_proc_fork(&child, &tid))) {
      if (child == CLOUDABI_PROCESS_CHILD) {
        st = (cloudabi_fdstat_t){.fs_flags = CLOUDABI_FDFLAG_NONBLOCK};
        cloudabi_sys_proc_exit(cloudabi_sys_fd_stat_put(a, &st, CLOUDABI_FDSTAT_FLAGS) == 0 ? 0 : 1);
      }
      if (t_check_exit("fd_stat_put/fork-child-set", child, 0) &&
          T_OK("fd_stat_put/fork-after", cloudabi_sys_fd_stat_get(a, &st)))
        t_eq_hex("fd_stat_put/fork-child-change-visible", st.fs_flags, CLOUDABI_FDFLAG_NONBLOCK);
      cloudabi_sys_fd_close(child);
    }
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
  st = (cloudabi_fdstat_t){0};
  T_ERRNO("fd_stat_put/ebadf", cloudabi_sys_fd_stat_put(T_BADFD, &st, CLOUDABI_FDSTAT_FLAGS), E(BADF));
}
