// file_open: opening and creating files beneath a directory: flags,
// rights, symbolic links, and every way a path can try to leave.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static char long_path[1100];

static cloudabi_errno_t open_flags(cloudabi_lookup_t at, const char *path, cloudabi_oflags_t oflags,
                                   cloudabi_rights_t base, cloudabi_fd_t *fd) {
  cloudabi_fdstat_t fds = {.fs_rights_base = base};
  return cloudabi_sys_file_open(at, P(path), oflags, &fds, fd);
}

// Opens for reading (following links) and closes again: just the errno.
static cloudabi_errno_t try_open(cloudabi_fd_t dir, const char *path) {
  cloudabi_fd_t fd;
  cloudabi_errno_t error = open_flags(T_FOLLOW(dir), path, 0, CLOUDABI_RIGHT_FD_READ, &fd);
  if (error == 0)
    cloudabi_sys_fd_close(fd);
  return error;
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, dir;
  cloudabi_filestat_t st;
  char buf[32];
  size_t n;
  const cloudabi_rights_t RW = CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FD_SEEK |
                               CLOUDABI_RIGHT_FILE_STAT_FGET;

  // Creation: O_CREAT, O_EXCL, O_TRUNC.
  if (T_OK("file_open/create", open_flags(T_FOLLOW(t_tmp), "f", CLOUDABI_O_CREAT, RW, &fd))) {
    T_OK("file_open/created-writable", t_write_str(fd, "hello"));
    cloudabi_sys_fd_close(fd);
  }
  T_ERRNO("file_open/create-exclusive-exists",
          open_flags(T_FOLLOW(t_tmp), "f", CLOUDABI_O_CREAT | CLOUDABI_O_EXCL, RW, &fd), E(EXIST));
  if (T_OK("file_open/create-existing", open_flags(T_FOLLOW(t_tmp), "f", CLOUDABI_O_CREAT, RW, &fd))) {
    if (T_OK("file_open/existing-read", t_read(fd, buf, sizeof(buf), &n)))
      t_eq_str("file_open/existing-kept", buf, n, "hello");
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("file_open/create-exclusive", open_flags(T_FOLLOW(t_tmp), "g", CLOUDABI_O_CREAT | CLOUDABI_O_EXCL, RW, &fd)))
    cloudabi_sys_fd_close(fd);
  if (T_OK("file_open/truncate", open_flags(T_FOLLOW(t_tmp), "f", CLOUDABI_O_TRUNC, RW, &fd))) {
    if (T_OK("file_open/truncated-stat", cloudabi_sys_file_stat_fget(fd, &st)))
      t_eq("file_open/truncated", st.st_size, 0);
    cloudabi_sys_fd_close(fd);
  }
  T_ERRNO("file_open/missing", try_open(t_tmp, "nope"), E(NOENT));
  T_ERRNO("file_open/missing-dir", try_open(t_tmp, "nope/x"), E(NOENT));
  T_ERRNO("file_open/through-file", try_open(t_tmp, "f/x"), E(NOTDIR));
  T_ERRNO("file_open/empty-path", try_open(t_tmp, ""), E(NOENT));

  // Directories.
  T_OK("file_open/setup-dir", cloudabi_sys_file_create(t_tmp, P("d"), CLOUDABI_FILETYPE_DIRECTORY));
  if (T_OK("file_open/directory", open_flags(T_FOLLOW(t_tmp), "d", CLOUDABI_O_DIRECTORY,
                                              CLOUDABI_RIGHT_FILE_READDIR, &fd)))
    cloudabi_sys_fd_close(fd);
  T_ERRNO("file_open/o_directory-on-file",
          open_flags(T_FOLLOW(t_tmp), "f", CLOUDABI_O_DIRECTORY, CLOUDABI_RIGHT_FD_READ, &fd), E(NOTDIR));
  T_ERRNO("file_open/directory-for-writing",
          open_flags(T_FOLLOW(t_tmp), "d", 0, CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FD_SEEK, &fd), E(ISDIR));
  T_OK("file_open/dot", try_open(t_tmp, "."));
  T_OK("file_open/dotdot-inside", try_open(t_tmp, "d/../f"));

  // Leaving the directory: "..", absolute paths, links pointing out.
  T_ERRNO("file_open/dotdot", try_open(t_tmp, ".."), E(NOTCAPABLE));
  T_ERRNO("file_open/dotdot-file", try_open(t_tmp, "../f"), E(NOTCAPABLE));
  T_ERRNO("file_open/dotdot-deeper", try_open(t_tmp, "d/../../f"), E(NOTCAPABLE));
  T_ERRNO("file_open/absolute", try_open(t_tmp, "/"), E(NOTCAPABLE));
  T_ERRNO("file_open/absolute-file", try_open(t_tmp, "/etc/passwd"), E(NOTCAPABLE));
  T_OK("file_open/setup-link-out", cloudabi_sys_file_symlink(P("/etc/passwd"), t_tmp, P("out")));
  T_ERRNO("file_open/symlink-absolute", try_open(t_tmp, "out"), E(NOTCAPABLE));
  T_OK("file_open/setup-link-up", cloudabi_sys_file_symlink(P("../.."), t_tmp, P("d/up")));
  T_ERRNO("file_open/symlink-dotdot", try_open(t_tmp, "d/up"), E(NOTCAPABLE));
  T_ERRNO("file_open/through-symlink-dotdot", try_open(t_tmp, "d/up/f"), E(NOTCAPABLE));

  // Symbolic links inside: followed, or ELOOP when following is not asked
  // for (FreeBSD's kernel says EMLINK; CloudABI says ELOOP) or goes round.
  T_OK("file_open/setup-link", cloudabi_sys_file_symlink(P("f"), t_tmp, P("lf")));
  T_OK("file_open/symlink-follow", try_open(t_tmp, "lf"));
  T_ERRNO("file_open/symlink-nofollow", open_flags(T_NOFOLLOW(t_tmp), "lf", 0, CLOUDABI_RIGHT_FD_READ, &fd), E(LOOP));
  T_OK("file_open/setup-loop-1", cloudabi_sys_file_symlink(P("loop2"), t_tmp, P("loop1")));
  T_OK("file_open/setup-loop-2", cloudabi_sys_file_symlink(P("loop1"), t_tmp, P("loop2")));
  T_ERRNO("file_open/symlink-loop", try_open(t_tmp, "loop1"), E(LOOP));
  T_OK("file_open/setup-dangling", cloudabi_sys_file_symlink(P("nowhere"), t_tmp, P("dangling")));
  T_ERRNO("file_open/symlink-dangling", try_open(t_tmp, "dangling"), E(NOENT));

  // Rights: a new descriptor gets what it asked for, limited to its type,
  // and never more than the directory passes on.
  cloudabi_fdstat_t fds;
  if (T_OK("file_open/limited", open_flags(T_FOLLOW(t_tmp), "f", 0, CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FILE_READDIR, &fd))) {
    if (T_OK("file_open/limited-stat", cloudabi_sys_fd_stat_get(fd, &fds)))
      t_true("file_open/limited-to-type", (fds.fs_rights_base & CLOUDABI_RIGHT_FILE_READDIR) == 0 &&
                                              (fds.fs_rights_base & CLOUDABI_RIGHT_FD_READ) != 0,
             "fd_read kept, file_readdir dropped for a file");
    T_ERRNO("file_open/only-requested-rights", t_write_str(fd, "x"), E(NOTCAPABLE));
    cloudabi_sys_fd_close(fd);
  }
  if (T_OK("file_open/setup-narrow-dir", t_open_dir(t_tmp, ".", &dir))) {
    T_OK("file_open/setup-drop-inheriting", t_drop_rights(dir, 0, T_FAMILY_WRITE));
    T_ERRNO("file_open/beyond-inheriting", open_flags(T_FOLLOW(dir), "f", 0, RW, &fd), E(NOTCAPABLE));
    T_OK("file_open/setup-drop-create", t_drop(dir, CLOUDABI_RIGHT_FILE_CREATE_FILE));
    T_ERRNO("file_open/create-without-right",
            open_flags(T_FOLLOW(dir), "new", CLOUDABI_O_CREAT, CLOUDABI_RIGHT_FD_READ, &fd), E(NOTCAPABLE));
    T_OK("file_open/setup-drop-lookup", t_drop(dir, T_FAMILY_LOOKUP));
    T_ERRNO("file_open/without-right", try_open(dir, "f"), E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
  // A regular file is not a directory to open things in.
  if (T_OK("file_open/setup-file", t_open_file(t_tmp, "f", &fd))) {
    T_ERRNO("file_open/in-a-file", try_open(fd, "x"), E(NOTCAPABLE), E(NOTDIR));
    cloudabi_sys_fd_close(fd);
  }

  // Invalid arguments.
  T_ERRNO("file_open/undefined-oflags", open_flags(T_FOLLOW(t_tmp), "f", 0x10, CLOUDABI_RIGHT_FD_READ, &fd), E(INVAL));
  cloudabi_lookup_t bad_lookup = {.fd = t_tmp, .flags = 2};
  T_ERRNO("file_open/undefined-lookup-flags", open_flags(bad_lookup, "f", 0, CLOUDABI_RIGHT_FD_READ, &fd), E(INVAL));
  fds = (cloudabi_fdstat_t){.fs_rights_base = CLOUDABI_RIGHT_FD_READ | 0x800};
  T_ERRNO("file_open/undefined-right", cloudabi_sys_file_open(T_FOLLOW(t_tmp), P("f"), 0, &fds, &fd), E(NOTCAPABLE));
  fds = (cloudabi_fdstat_t){.fs_rights_base = CLOUDABI_RIGHT_FD_READ, .fs_flags = 0x20};
  T_ERRNO("file_open/undefined-fdflags", cloudabi_sys_file_open(T_FOLLOW(t_tmp), P("f"), 0, &fds, &fd), E(INVAL));
  T_ERRNO("file_open/efault-fdstat", cloudabi_sys_file_open(T_FOLLOW(t_tmp), P("f"), 0, T_BADPTR, &fd), E(FAULT));
  fds = (cloudabi_fdstat_t){.fs_rights_base = CLOUDABI_RIGHT_FD_READ};
  T_ERRNO("file_open/efault-path", cloudabi_sys_file_open(T_FOLLOW(t_tmp), T_BADPTR, 1, 0, &fds, &fd), E(FAULT));
  T_ERRNO("file_open/embedded-nul", cloudabi_sys_file_open(T_FOLLOW(t_tmp), "f\0x", 3, 0, &fds, &fd), E(INVAL));
  memset(long_path, 'a', sizeof(long_path));
  T_ERRNO("file_open/name-too-long", cloudabi_sys_file_open(T_FOLLOW(t_tmp), long_path, 1024, 0, &fds, &fd),
          E(NAMETOOLONG));
  T_ERRNO("file_open/ebadf", try_open(T_BADFD, "f"), E(BADF));
}
