// Rights narrowing: fd_stat_put can only shrink base and inheriting rights
// (each on its own); a directory's inheriting rights bound everything
// opened through it, also through a subdirectory opened from it, and the
// open flags that need rights (O_CREAT, O_TRUNC, dsync, sync, writing
// without append) are refused without them; copies keep narrowed rights.
// Then, per kind of descriptor, one with no rights at all: fd_stat_get,
// fd_dup and fd_close still work, every other syscall on it fails with
// ENOTCAPABLE.
// SPDX-License-Identifier: BSD-2-Clause

#include "sync.h"

#define R(x) CLOUDABI_RIGHT_##x

static bool stat_of(const char *name, cloudabi_fd_t fd, cloudabi_fdstat_t *st) {
  return T_OK(name, cloudabi_sys_fd_stat_get(fd, st));
}

static cloudabi_errno_t put_rights(cloudabi_fd_t fd, cloudabi_rights_t base, cloudabi_rights_t inheriting) {
  cloudabi_fdstat_t st = {.fs_rights_base = base, .fs_rights_inheriting = inheriting};
  return cloudabi_sys_fd_stat_put(fd, &st, CLOUDABI_FDSTAT_RIGHTS);
}

// Reported rights are compared as ranges (test.h): at most what was set,
// and without the families that were removed.
static void check_rights(const char *name, cloudabi_fd_t fd, cloudabi_rights_t base, cloudabi_rights_t inheriting,
                         cloudabi_rights_t gone_base, cloudabi_rights_t gone_inheriting) {
  cloudabi_fdstat_t now;
  if (!stat_of(name, fd, &now))
    return;
  t_check(name,
          (now.fs_rights_base & ~base) == 0 && (now.fs_rights_inheriting & ~inheriting) == 0 &&
              (now.fs_rights_base & gone_base) == 0 && (now.fs_rights_inheriting & gone_inheriting) == 0,
          "within 0x%lx / 0x%lx without 0x%lx / 0x%lx got 0x%lx / 0x%lx", (unsigned long)base,
          (unsigned long)inheriting, (unsigned long)gone_base, (unsigned long)gone_inheriting,
          (unsigned long)now.fs_rights_base, (unsigned long)now.fs_rights_inheriting);
}

// Base and inheriting shrink independently; neither grows back.
static void shrink_only(void) {
  cloudabi_fd_t dir;
  cloudabi_fdstat_t st;
  char buf[64];
  size_t n;
  if (!T_OK("rights/setup-dir", t_open_dir(t_tmp, ".", &dir)) || !stat_of("rights/setup-dir-stat", dir, &st))
    return;
  cloudabi_rights_t base = st.fs_rights_base, inh = st.fs_rights_inheriting;
  T_OK("rights/same-again", put_rights(dir, base, inh));
  const cloudabi_rights_t gone_base = T_FAMILY_READ, gone_inh = T_FAMILY_WRITE | T_FAMILY_MMAP;
  cloudabi_rights_t less_base = base & ~gone_base, less_inh = inh & ~gone_inh;
  if (T_OK("rights/shrink-base-only", put_rights(dir, less_base, inh))) {
    check_rights("rights/shrink-base-only-result", dir, less_base, inh, gone_base, 0);
    T_ERRNO("rights/shrink-base-only-enforced",
            cloudabi_sys_file_readdir(dir, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &n), E(NOTCAPABLE));
  }
  T_ERRNO("rights/grow-base", put_rights(dir, base, inh), E(NOTCAPABLE));
  if (T_OK("rights/shrink-inheriting-only", put_rights(dir, less_base, less_inh)))
    check_rights("rights/shrink-inheriting-only-result", dir, less_base, less_inh, gone_base, gone_inh);
  T_ERRNO("rights/grow-inheriting", put_rights(dir, less_base, inh), E(NOTCAPABLE));
  T_ERRNO("rights/grow-both", put_rights(dir, base, inh), E(NOTCAPABLE));
  // A failed attempt changes nothing; what was removed stays removed.
  check_rights("rights/after-failures-unchanged", dir, less_base, less_inh, gone_base, gone_inh);
  cloudabi_fd_t f;
  T_ERRNO("rights/shrink-inheriting-enforced", t_open(dir, "x", CLOUDABI_O_CREAT, CLOUDABI_RIGHT_FD_WRITE, 0, 0, &f),
          E(NOTCAPABLE));
  // Copies keep the narrowed rights and cannot widen them either.
  cloudabi_fd_t copy;
  if (T_OK("rights/dup-narrowed", cloudabi_sys_fd_dup(dir, &copy))) {
    cloudabi_fdstat_t a, b;
    if (stat_of("rights/dup-stat", copy, &a) && stat_of("rights/dup-stat-original", dir, &b))
      t_true("rights/dup-keeps", a.fs_rights_base == b.fs_rights_base && a.fs_rights_inheriting == b.fs_rights_inheriting,
             "the copy to have the original's narrowed rights");
    T_ERRNO("rights/dup-cannot-grow", put_rights(copy, base, inh), E(NOTCAPABLE));
    cloudabi_sys_fd_close(copy);
  }
  cloudabi_sys_fd_close(dir);
}

// What a directory passes on.
static void inheriting_chain(void) {
  cloudabi_fd_t top, mid, f;
  cloudabi_fdstat_t st;
  // Readers only: directories may be opened and listed, files read.
  const cloudabi_rights_t dir_rights = R(FILE_OPEN) | R(FILE_READDIR) | R(FILE_STAT_FGET) | R(FILE_STAT_GET);
  const cloudabi_rights_t file_rights = R(FD_READ) | R(FD_SEEK) | R(FD_TELL) | R(FILE_STAT_FGET);
  if (!T_OK("rights/setup-tree", cloudabi_sys_file_create(t_tmp, P("d"), CLOUDABI_FILETYPE_DIRECTORY)) ||
      !T_OK("rights/setup-tree-file", t_mkfile(t_tmp, "d/f", "data")) ||
      !T_OK("rights/setup-top", t_open_dir(t_tmp, ".", &top)) ||
      !T_OK("rights/setup-narrow-top", put_rights(top, dir_rights, dir_rights | file_rights)))
    return;

  // A subdirectory can get at most the top's inheriting rights.
  T_ERRNO("rights/subdir-more-base",
          t_open(top, "d", CLOUDABI_O_DIRECTORY, dir_rights | R(FILE_UNLINK), dir_rights | file_rights, 0, &mid),
          E(NOTCAPABLE));
  T_ERRNO("rights/subdir-more-inheriting",
          t_open(top, "d", CLOUDABI_O_DIRECTORY, dir_rights, dir_rights | file_rights | R(FD_WRITE), 0, &mid),
          E(NOTCAPABLE));
  if (!T_OK("rights/subdir", t_open(top, "d", CLOUDABI_O_DIRECTORY, dir_rights, file_rights, 0, &mid)))
    return;
  check_rights("rights/subdir-rights", mid, dir_rights, file_rights, 0, 0);
  // Through the subdirectory: only what it passes on.
  T_ERRNO("rights/file-write-through-subdir", t_open(mid, "f", 0, R(FD_WRITE), 0, 0, &f), E(NOTCAPABLE));
  T_ERRNO("rights/file-map-through-subdir", t_open(mid, "f", 0, R(FD_READ) | R(MEM_MAP), 0, 0, &f), E(NOTCAPABLE));
  T_ERRNO("rights/subdir-cannot-list-itself-again",
          t_open(mid, ".", CLOUDABI_O_DIRECTORY, R(FILE_READDIR), 0, 0, &f), E(NOTCAPABLE));
  if (T_OK("rights/file-through-subdir", t_open(mid, "f", 0, file_rights, 0, 0, &f))) {
    if (stat_of("rights/file-stat", f, &st))
      t_true("rights/file-within", (st.fs_rights_base & ~file_rights) == 0 && st.fs_rights_inheriting == 0,
             "no more than the subdirectory passes on");
    char buf[8];
    size_t n;
    if (T_OK("rights/file-readable", t_read(f, buf, sizeof(buf), &n)))
      t_eq_str("rights/file-data", buf, n, "data");
    T_ERRNO("rights/file-not-writable", t_write_str(f, "x"), E(NOTCAPABLE));
    cloudabi_sys_fd_close(f);
  }
  cloudabi_sys_fd_close(mid);
  cloudabi_sys_fd_close(top);
}

// Open flags that need rights.
static void open_flags(void) {
  cloudabi_fd_t dir, f;
  const cloudabi_rights_t W = R(FD_WRITE);
  if (!T_OK("rights/setup-flags-file", t_mkfile(t_tmp, "g", "0123")))
    return;
  static const struct {
    const char *name;
    cloudabi_rights_t drop_base, drop_inheriting;
    cloudabi_oflags_t oflags;
    cloudabi_fdflags_t fdflags;
    cloudabi_rights_t request;
    const char *path;
  } cases[] = {
      {"rights/o_creat-needs-create-file", R(FILE_CREATE_FILE), 0, CLOUDABI_O_CREAT, 0, W, "new"},
      {"rights/o_trunc-needs-fput-size", 0, R(FILE_STAT_FPUT_SIZE), CLOUDABI_O_TRUNC, 0, W, "g"},
      {"rights/dsync-needs-datasync", 0, T_FAMILY_SYNC, 0, CLOUDABI_FDFLAG_DSYNC, W | R(FD_SEEK), "g"},
      {"rights/sync-needs-sync", 0, T_FAMILY_SYNC, 0, CLOUDABI_FDFLAG_SYNC, W | R(FD_SEEK), "g"},
      {"rights/rsync-needs-sync", 0, T_FAMILY_SYNC, 0, CLOUDABI_FDFLAG_RSYNC, R(FD_READ), "g"},
      {"rights/write-needs-seek", 0, R(FD_SEEK) | R(FD_TELL), 0, 0, W, "g"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    if (!T_OK("rights/setup-flags-dir", t_open_dir(t_tmp, ".", &dir)))
      return;
    // Refused without the right...
    if (T_OK("rights/setup-flags-drop", t_drop_rights(dir, cases[i].drop_base, cases[i].drop_inheriting)))
      T_ERRNO(cases[i].name, t_open(dir, cases[i].path, cases[i].oflags, cases[i].request, 0, cases[i].fdflags, &f),
              E(NOTCAPABLE));
    cloudabi_sys_fd_close(dir);
  }
  // ...and writing without seeking is fine when appending or truncating.
  if (T_OK("rights/setup-flags-dir", t_open_dir(t_tmp, ".", &dir)) &&
      T_OK("rights/setup-flags-drop", t_drop_rights(dir, 0, R(FD_SEEK) | R(FD_TELL)))) {
    if (T_OK("rights/append-without-seek", t_open(dir, "g", 0, W, 0, CLOUDABI_FDFLAG_APPEND, &f)))
      cloudabi_sys_fd_close(f);
    if (T_OK("rights/trunc-without-seek", t_open(dir, "g", CLOUDABI_O_TRUNC, W, 0, 0, &f)))
      cloudabi_sys_fd_close(f);
    cloudabi_sys_fd_close(dir);
  }
}

// ---- Descriptors without any rights.

static void file_without_rights(void) {
  cloudabi_fd_t fd, copy;
  cloudabi_fdstat_t st;
  char buf[8];
  size_t n;
  cloudabi_filesize_t off;
  cloudabi_filestat_t fst = {.st_size = 1};
  if (!T_OK("rights/setup-file", t_mkfile(t_tmp, "h", "abc")) || !T_OK("rights/setup-file-open", t_open_file(t_tmp, "h", &fd)) ||
      !T_OK("rights/drop-all-file", put_rights(fd, 0, 0)))
    return;
  if (stat_of("rights/none-file-stat", fd, &st))
    t_true("rights/none-file-stat-rights", st.fs_rights_base == 0 && st.fs_rights_inheriting == 0, "no rights");
  cloudabi_iovec_t iov = {buf, sizeof(buf)};
  cloudabi_ciovec_t ciov = {"x", 1};
  T_ERRNO("rights/none-fd_read", cloudabi_sys_fd_read(fd, &iov, 1, &n), E(NOTCAPABLE));
  T_ERRNO("rights/none-fd_write", cloudabi_sys_fd_write(fd, &ciov, 1, &n), E(NOTCAPABLE));
  T_ERRNO("rights/none-fd_pread", cloudabi_sys_fd_pread(fd, &iov, 1, 0, &n), E(NOTCAPABLE));
  T_ERRNO("rights/none-fd_pwrite", cloudabi_sys_fd_pwrite(fd, &ciov, 1, 0, &n), E(NOTCAPABLE));
  T_ERRNO("rights/none-fd_seek", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_SET, &off), E(NOTCAPABLE));
  T_ERRNO("rights/none-fd_tell", cloudabi_sys_fd_seek(fd, 0, CLOUDABI_WHENCE_CUR, &off), E(NOTCAPABLE));
  T_ERRNO("rights/none-fd_datasync", cloudabi_sys_fd_datasync(fd), E(NOTCAPABLE));
  T_ERRNO("rights/none-fd_sync", cloudabi_sys_fd_sync(fd), E(NOTCAPABLE));
  cloudabi_fdstat_t flags = {.fs_flags = CLOUDABI_FDFLAG_APPEND};
  T_ERRNO("rights/none-fd_stat_put-flags", cloudabi_sys_fd_stat_put(fd, &flags, CLOUDABI_FDSTAT_FLAGS), E(NOTCAPABLE));
  // file_advise has no Capsicum right: FreeBSD cannot refuse it.
  T_ERRNO("rights/none-file_advise", cloudabi_sys_file_advise(fd, 0, 1, CLOUDABI_ADVICE_NORMAL), E(NOTCAPABLE), 0);
  T_ERRNO("rights/none-file_allocate", cloudabi_sys_file_allocate(fd, 0, 1), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_stat_fget", cloudabi_sys_file_stat_fget(fd, &fst), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_stat_fput-size", cloudabi_sys_file_stat_fput(fd, &fst, CLOUDABI_FILESTAT_SIZE), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_stat_fput-times", cloudabi_sys_file_stat_fput(fd, &fst, CLOUDABI_FILESTAT_MTIM_NOW),
          E(NOTCAPABLE));
  void *p;
  T_ERRNO("rights/none-mem_map", cloudabi_sys_mem_map(NULL, t_pagesz(), CLOUDABI_PROT_READ, CLOUDABI_MAP_PRIVATE, fd, 0, &p),
          E(NOTCAPABLE));
  T_ERRNO("rights/none-proc_exec", cloudabi_sys_proc_exec(fd, "\x06", 1, &t_out, 1), E(NOTCAPABLE));
  cloudabi_subscription_t sub = t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_READ, fd);
  cloudabi_event_t ev;
  if (T_OK("rights/none-poll", t_poll(&sub, 1, &ev, &n, NULL)))
    t_check_only_event("rights/none-poll-event", &ev, n, 1, CLOUDABI_EVENTTYPE_FD_READ, E(NOTCAPABLE));
  // What needs no right.
  if (T_OK("rights/none-fd_dup", cloudabi_sys_fd_dup(fd, &copy))) {
    if (stat_of("rights/none-dup-stat", copy, &st))
      t_eq_hex("rights/none-dup-rights", st.fs_rights_base, 0);
    T_OK("rights/none-fd_close-copy", cloudabi_sys_fd_close(copy));
  }
  T_OK("rights/none-fd_close", cloudabi_sys_fd_close(fd));
}

static void dir_without_rights(void) {
  cloudabi_fd_t dir, f;
  cloudabi_filestat_t st;
  char buf[64];
  size_t n;
  if (!T_OK("rights/setup-dir-none", t_open_dir(t_tmp, ".", &dir)) || !T_OK("rights/drop-all-dir", put_rights(dir, 0, 0)))
    return;
  // Something to name in each call.
  T_OK("rights/setup-dir-file", t_mkfile(t_tmp, "k", "k"));
  T_OK("rights/setup-dir-link", cloudabi_sys_file_symlink(P("k"), t_tmp, P("kl")));
  T_ERRNO("rights/none-file_open", t_open(dir, "k", 0, 0, 0, 0, &f), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_create", cloudabi_sys_file_create(dir, P("nd"), CLOUDABI_FILETYPE_DIRECTORY), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_link-source", cloudabi_sys_file_link(T_NOFOLLOW(dir), P("k"), t_tmp, P("k2")), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_link-target", cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("k"), dir, P("k3")), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_rename-source", cloudabi_sys_file_rename(dir, P("k"), t_tmp, P("k4")), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_rename-target", cloudabi_sys_file_rename(t_tmp, P("k"), dir, P("k5")), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_readlink", cloudabi_sys_file_readlink(dir, P("kl"), buf, sizeof(buf), &n), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_readdir",
          cloudabi_sys_file_readdir(dir, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &n), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_stat_get", cloudabi_sys_file_stat_get(T_FOLLOW(dir), P("k"), &st), E(NOTCAPABLE));
  st.st_mtim = 1;
  T_ERRNO("rights/none-file_stat_put", cloudabi_sys_file_stat_put(T_FOLLOW(dir), P("k"), &st, CLOUDABI_FILESTAT_MTIM),
          E(NOTCAPABLE));
  T_ERRNO("rights/none-file_symlink", cloudabi_sys_file_symlink(P("k"), dir, P("kl2")), E(NOTCAPABLE));
  T_ERRNO("rights/none-file_unlink", cloudabi_sys_file_unlink(dir, P("k"), 0), E(NOTCAPABLE));
  T_ERRNO("rights/none-dir-fd_sync", cloudabi_sys_fd_sync(dir), E(NOTCAPABLE));
  T_ERRNO("rights/none-dir-file_stat_fget", cloudabi_sys_file_stat_fget(dir, &st), E(NOTCAPABLE));
  // Nothing happened.
  T_OK("rights/none-dir-nothing-changed", t_stat(t_tmp, "k", false, &st));
  T_ERRNO("rights/none-dir-nothing-created", t_stat(t_tmp, "nd", false, &st), E(NOENT));
  cloudabi_sys_fd_close(dir);
}

static void socket_without_rights(void) {
  cloudabi_fd_t a, b;
  char buf[8];
  size_t n;
  if (!T_OK("rights/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b)) ||
      !T_OK("rights/drop-all-socket", put_rights(a, 0, 0)))
    return;
  T_OK("rights/setup-socket-data", t_write_str(b, "data"));
  cloudabi_iovec_t iov = {buf, sizeof(buf)};
  cloudabi_ciovec_t ciov = {"x", 1};
  cloudabi_recv_in_t ri = {.ri_data = &iov, .ri_data_len = 1};
  cloudabi_recv_out_t ro;
  cloudabi_send_in_t si = {.si_data = &ciov, .si_data_len = 1};
  cloudabi_send_out_t so;
  T_ERRNO("rights/none-sock_recv", cloudabi_sys_sock_recv(a, &ri, &ro), E(NOTCAPABLE));
  T_ERRNO("rights/none-sock_send", cloudabi_sys_sock_send(a, &si, &so), E(NOTCAPABLE));
  T_ERRNO("rights/none-sock_shutdown", cloudabi_sys_sock_shutdown(a, CLOUDABI_SHUT_WR), E(NOTCAPABLE));
  T_ERRNO("rights/none-socket-fd_read", cloudabi_sys_fd_read(a, &iov, 1, &n), E(NOTCAPABLE));
  T_ERRNO("rights/none-socket-fd_write", cloudabi_sys_fd_write(a, &ciov, 1, &n), E(NOTCAPABLE));
  cloudabi_subscription_t sub = t_sub_fd(1, CLOUDABI_EVENTTYPE_FD_WRITE, a);
  cloudabi_event_t ev;
  if (T_OK("rights/none-socket-poll", t_poll(&sub, 1, &ev, &n, NULL)))
    t_check_only_event("rights/none-socket-poll-event", &ev, n, 1, CLOUDABI_EVENTTYPE_FD_WRITE, E(NOTCAPABLE));
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

static void shm_without_rights(void) {
  cloudabi_fd_t shm;
  void *p;
  cloudabi_filestat_t st = {.st_size = t_pagesz()};
  if (!T_OK("rights/setup-shm", cloudabi_sys_fd_create1(CLOUDABI_FILETYPE_SHARED_MEMORY, &shm)) ||
      !T_OK("rights/setup-shm-size", cloudabi_sys_file_stat_fput(shm, &st, CLOUDABI_FILESTAT_SIZE)))
    return;
  // Without mem_map (and mem_map_exec, one family), no mapping.
  if (T_OK("rights/shm-drop-map", t_drop(shm, T_FAMILY_MMAP)))
    T_ERRNO("rights/shm-without-mem_map",
            cloudabi_sys_mem_map(NULL, t_pagesz(), CLOUDABI_PROT_READ, CLOUDABI_MAP_SHARED, shm, 0, &p), E(NOTCAPABLE));
  if (T_OK("rights/drop-all-shm", put_rights(shm, 0, 0))) {
    T_ERRNO("rights/none-shm-resize", cloudabi_sys_file_stat_fput(shm, &st, CLOUDABI_FILESTAT_SIZE), E(NOTCAPABLE));
    T_ERRNO("rights/none-shm-stat", cloudabi_sys_file_stat_fget(shm, &st), E(NOTCAPABLE));
  }
  cloudabi_sys_fd_close(shm);
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  shrink_only();
  inheriting_chain();
  open_flags();
  file_without_rights();
  dir_without_rights();
  socket_without_rights();
  shm_without_rights();
}
