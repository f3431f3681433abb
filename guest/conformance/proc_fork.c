// proc_fork: the parent gets a process descriptor (type PROCESS, rights
// file_stat_fget | poll_proc_terminate, nothing inheritable) and the
// child's thread id; the child gets CLOUDABI_PROCESS_CHILD and its own id.
// The child inherits the descriptors (sharing open files and their
// offsets) and a copy of private memory, and shares MAP_SHARED memory and
// shared memory objects (fd_create1) with the parent. Its exit status
// comes back through a proc_terminate event.
// SPDX-License-Identifier: BSD-2-Clause

#include "proc.h"

#define PROCESS_RIGHTS (CLOUDABI_RIGHT_FILE_STAT_FGET | CLOUDABI_RIGHT_POLL_PROC_TERMINATE)

// Private memory: the child changes its copies, the parent must not see it.
static int private_global = 1;

// Memory both see.
struct shared {
  cloudabi_fd_t child_fd;    // what the child got from proc_fork
  cloudabi_tid_t child_tid;  // and its thread id
  char msg[32];
};

struct setup {
  struct shared *sh;     // anonymous MAP_SHARED
  char *priv;            // anonymous MAP_PRIVATE
  char *shm;             // a shared memory object, mapped shared
  cloudabi_fd_t file;    // "0123456789"
  cloudabi_fdstat_t file_stat;
  cloudabi_tid_t parent_tid;
};

static void set_str(char *dst, const char *src) {
  memcpy(dst, src, strlen(src) + 1);
}

static _Noreturn void child(struct setup *s, cloudabi_fd_t fd, cloudabi_tid_t tid) {
  s->sh->child_fd = fd;
  s->sh->child_tid = tid;
  t_true("proc_fork/child-tid", tid > 1 && tid < (UINT32_C(1) << 30) && tid != s->parent_tid,
         "a thread id of its own in [2, 2^30)");
  t_true("proc_fork/child-memory-copied", private_global == 1 && strcmp(s->priv, "parent") == 0,
         "the parent's private memory as it was at fork");
  private_global = 2;
  set_str(s->priv, "child");
  set_str(s->sh->msg, "from the child");
  memcpy(s->shm, "shm child", 10);

  // Descriptors are inherited with their rights, and open files shared.
  cloudabi_fdstat_t st;
  if (T_OK("proc_fork/child-fd-inherited", cloudabi_sys_fd_stat_get(s->file, &st)))
    t_true("proc_fork/child-fd-rights",
           st.fs_filetype == s->file_stat.fs_filetype && st.fs_rights_base == s->file_stat.fs_rights_base &&
               st.fs_rights_inheriting == s->file_stat.fs_rights_inheriting,
           "the same type and rights as in the parent");
  char buf[8];
  size_t n;
  if (T_OK("proc_fork/child-read", t_read(s->file, buf, 4, &n)))
    t_eq_str("proc_fork/child-read-data", buf, n, "0123");
  T_OK("proc_fork/child-tmpdir", t_mkfile(t_tmp, "from-child", "x"));
  t_child_exit();
}

static void parent(struct setup *s, cloudabi_fd_t fd, cloudabi_tid_t tid) {
  cloudabi_fdstat_t st;
  if (T_OK("proc_fork/fd-stat", cloudabi_sys_fd_stat_get(fd, &st))) {
    t_eq("proc_fork/fd-filetype", st.fs_filetype, CLOUDABI_FILETYPE_PROCESS);
    t_eq_hex("proc_fork/fd-rights", st.fs_rights_base, PROCESS_RIGHTS);
    t_eq_hex("proc_fork/fd-inheriting", st.fs_rights_inheriting, 0);
  }
  cloudabi_filestat_t fst;
  if (T_OK("proc_fork/fd-file-stat", cloudabi_sys_file_stat_fget(fd, &fst)))
    t_eq("proc_fork/fd-file-stat-type", fst.st_filetype, CLOUDABI_FILETYPE_PROCESS);
  char buf[16];
  size_t n;
  T_ERRNO("proc_fork/fd-not-readable", t_read(fd, buf, sizeof(buf), &n), E(NOTCAPABLE));
  // The tid proc_fork returns to the parent is undefined (abi/cloudabi.spec,
  // proc_fork; FreeBSD's module returns the caller's own): only the child's
  // own report counts.
  (void)tid;

  if (!t_check_exit("proc_fork/child-exit-0", fd, 0))
    return;
  t_eq_hex("proc_fork/child-got-process-child", s->sh->child_fd, CLOUDABI_PROCESS_CHILD);
  t_true("proc_fork/child-tid-reported",
         s->sh->child_tid > 1 && s->sh->child_tid < (UINT32_C(1) << 30) && s->sh->child_tid != s->parent_tid,
         "the child's own thread id in [2, 2^30), not ours");
  t_eq("proc_fork/private-global-unchanged", (uint64_t)private_global, 1);
  t_eq_str("proc_fork/private-mapping-unchanged", s->priv, strlen(s->priv), "parent");
  t_eq_str("proc_fork/shared-mapping", s->sh->msg, strlen(s->sh->msg), "from the child");
  t_eq_str("proc_fork/shared-memory-object", s->shm, strlen(s->shm), "shm child");
  cloudabi_filesize_t off;
  if (T_OK("proc_fork/offset", cloudabi_sys_fd_seek(s->file, 0, CLOUDABI_WHENCE_CUR, &off)))
    t_eq("proc_fork/offset-shared", off, 4);
  cloudabi_filestat_t created;
  T_OK("proc_fork/child-created-file", t_stat(t_tmp, "from-child", false, &created));
  T_OK("proc_fork/close", cloudabi_sys_fd_close(fd));
}

// A shared memory object of one page, mapped shared.
static char *shared_object(const char *name) {
  cloudabi_fd_t fd;
  void *p;
  cloudabi_filestat_t st = {.st_size = t_pagesz()};
  if (!T_OK(name, cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_SHARED_MEMORY, &fd)) ||
      !T_OK(name, cloudabi_sys_file_stat_fput(fd, &st, CLOUDABI_FILESTAT_SIZE)) ||
      !T_OK(name, cloudabi_sys_mem_map(NULL, t_pagesz(), CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                       CLOUDABI_MAP_SHARED, fd, 0, &p)))
    return NULL;
  cloudabi_sys_fd_close(fd);  // the mapping keeps the object
  return p;
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  struct setup s = {.parent_tid = t_tid()};
  s.sh = t_map_shared("proc_fork/setup-shared", t_pagesz());
  s.priv = t_map_anon("proc_fork/setup-private", t_pagesz());
  s.shm = shared_object("proc_fork/setup-shm");
  if (s.sh == NULL || s.priv == NULL || s.shm == NULL ||
      !T_OK("proc_fork/setup-file", t_mkfile(t_tmp, "f", "0123456789")) ||
      !T_OK("proc_fork/setup-open", t_open_file(t_tmp, "f", &s.file)) ||
      !T_OK("proc_fork/setup-stat", cloudabi_sys_fd_stat_get(s.file, &s.file_stat)))
    return;
  set_str(s.priv, "parent");
  s.sh->child_fd = 0;

  cloudabi_fd_t fd;
  cloudabi_tid_t tid;
  if (!T_OK("proc_fork/fork", t_fork(&fd, &tid)))
    return;
  if (fd == CLOUDABI_PROCESS_CHILD)
    child(&s, fd, tid);
  parent(&s, fd, tid);

  // Two children at once, told apart by their descriptors.
  cloudabi_fd_t fds[2];
  for (int i = 0; i < 2; ++i) {
    if (!T_OK("proc_fork/two", t_fork(&fds[i], &tid)))
      return;
    if (fds[i] == CLOUDABI_PROCESS_CHILD)
      cloudabi_sys_proc_exit(10 + i);
  }
  t_true("proc_fork/two-descriptors", fds[0] != fds[1], "two different process descriptors");
  t_check_exit("proc_fork/second-child", fds[1], 11);
  t_check_exit("proc_fork/first-child", fds[0], 10);
}
