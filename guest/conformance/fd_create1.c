// fd_create1: creates an anonymous shared memory object (the only type it
// accepts), zero bytes long, with the rights of shared memory.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#define SHM_RIGHTS                                                                            \
  (CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FILE_STAT_FGET |        \
   CLOUDABI_RIGHT_FILE_STAT_FPUT_SIZE | CLOUDABI_RIGHT_MEM_MAP | CLOUDABI_RIGHT_MEM_MAP_EXEC)

static cloudabi_errno_t map_shared(cloudabi_fd_t fd, size_t len, void **p) {
  return cloudabi_sys_mem_map(NULL, len, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                              CLOUDABI_MAP_SHARED, fd, 0, p);
}

void test_main(const argdata_t *config) {
  (void)config;
  cloudabi_fd_t shm, other;
  if (!T_OK("fd_create1/shared-memory", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_SHARED_MEMORY, &shm)))
    return;

  cloudabi_fdstat_t fds;
  if (T_OK("fd_create1/fd_stat_get", cloudabi_sys_fd_stat_get(shm, &fds))) {
    t_eq("fd_create1/filetype", fds.fs_filetype, CLOUDABI_FILETYPE_SHARED_MEMORY);
    t_eq_hex("fd_create1/rights-base", fds.fs_rights_base, SHM_RIGHTS);
    t_eq_hex("fd_create1/rights-inheriting", fds.fs_rights_inheriting, 0);
  }
  cloudabi_filestat_t st;
  if (T_OK("fd_create1/file_stat_fget", cloudabi_sys_file_stat_fget(shm, &st))) {
    t_eq("fd_create1/stat-filetype", st.st_filetype, CLOUDABI_FILETYPE_SHARED_MEMORY);
    t_eq("fd_create1/initially-empty", st.st_size, 0);
  }

  // Grow it, map it twice: both mappings show the same memory.
  st.st_size = 8192;
  if (T_OK("fd_create1/resize", cloudabi_sys_file_stat_fput(shm, &st, CLOUDABI_FILESTAT_SIZE))) {
    cloudabi_filestat_t st2;
    if (T_OK("fd_create1/stat-resized", cloudabi_sys_file_stat_fget(shm, &st2)))
      t_eq("fd_create1/resized", st2.st_size, 8192);
    void *p1, *p2;
    if (T_OK("fd_create1/map", map_shared(shm, 8192, &p1)) &&
        T_OK("fd_create1/map-again", map_shared(shm, 8192, &p2))) {
      t_true("fd_create1/zero-filled", ((volatile char *)p1)[4100] == 0, "new memory to be zero");
      memcpy((char *)p1 + 4096, "shared", 7);
      t_eq_str("fd_create1/one-object", (char *)p2 + 4096, 6, "shared");
      cloudabi_sys_mem_unmap(p1, 8192);
      cloudabi_sys_mem_unmap(p2, 8192);
    }
  }

  // Two objects are distinct.
  if (T_OK("fd_create1/second", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_SHARED_MEMORY, &other))) {
    t_true("fd_create1/new-number", other != shm, "a different descriptor");
    cloudabi_filestat_t st3;
    if (T_OK("fd_create1/second-stat", cloudabi_sys_file_stat_fget(other, &st3)))
      t_eq("fd_create1/second-empty", st3.st_size, 0);
    cloudabi_sys_fd_close(other);
  }
  T_OK("fd_create1/close", cloudabi_sys_fd_close(shm));

  // Only shared memory can be created this way.
  T_ERRNO("fd_create1/regular-file", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_REGULAR_FILE, &other), E(INVAL));
  T_ERRNO("fd_create1/directory", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_DIRECTORY, &other), E(INVAL));
  T_ERRNO("fd_create1/socket", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_SOCKET_STREAM, &other), E(INVAL));
  T_ERRNO("fd_create1/unknown", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_UNKNOWN, &other), E(INVAL));
  T_ERRNO("fd_create1/undefined-type", cloudabi_sys_fd_create1(0xff, &other), E(INVAL));
}
