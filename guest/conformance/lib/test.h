// The guest test library: configuration, checks and the output protocol
// (guest/conformance/README.md).
// SPDX-License-Identifier: BSD-2-Clause
//
// A test program defines test_main(). The library's program_main reads the
// configuration first: "out" (required) is the descriptor results are
// written to, "tmpdir" (optional) an empty scratch directory. Each check
// prints one line to out:
//
//   ok <name>
//   FAIL <name>: expected <what> got <what>
//
// and the program exits 0 if every check passed, 1 if one failed, 2 if the
// configuration was unusable.

#ifndef TEST_H
#define TEST_H

#include <argdata.h>
#include <cloudabi.h>
#include <fmt.h>
#include <program.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Defined by each test program; `config` is the whole argument data.
void test_main(const argdata_t *config);
// Optional: runs first, before "out" is looked up (the library's default
// does nothing). For programs that proc_exec runs again in another role.
void t_preflight(const argdata_t *config);

// From the configuration. t_tmp is T_NOFD without "tmpdir".
extern cloudabi_fd_t t_out;
extern cloudabi_fd_t t_tmp;
#define T_NOFD ((cloudabi_fd_t)0xffffffff)

// Fails the test with "FAIL config: ..." and exits 2 unless the config had
// a tmpdir.
void t_need_tmpdir(void);

// A descriptor number that is not open (far above any real table size, and
// not one of the special values with all bits set).
#define T_BADFD ((cloudabi_fd_t)0x3ffffffe)
// An address that is never mapped: the system must answer EFAULT when
// asked to read or write through it (never pass it for a result pointer:
// those are written by the vDSO in user space, which would crash).
#define T_BADPTR ((void *)16)

// Number of failed checks so far.
extern unsigned int t_failures;

// The basic check: prints "ok name" if pass, else "FAIL name: " followed
// by the formatted detail. Returns pass.
bool t_check(const char *name, bool pass, const char *detail_fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Prints "FAIL name: ..." unconditionally (for setup that went wrong).
void t_fail(const char *name, const char *detail_fmt, ...) __attribute__((format(printf, 2, 3)));

// The errno `got` must be one of `want[0..n)`. Use through T_ERRNO/T_OK:
//   T_ERRNO("fd_read/ebadf", cloudabi_sys_fd_read(T_BADFD, &iov, 1, &n), CLOUDABI_EBADF);
//   T_ERRNO("x/either", call(...), CLOUDABI_EISDIR, CLOUDABI_EPERM);  // systems differ
//   T_OK("fd_read/file", cloudabi_sys_fd_read(fd, &iov, 1, &n));
bool t_errno(const char *name, cloudabi_errno_t got, const cloudabi_errno_t *want, size_t n);
#define T_ERRNOS(...) \
  (const cloudabi_errno_t[]){__VA_ARGS__}, sizeof((cloudabi_errno_t[]){__VA_ARGS__}) / sizeof(cloudabi_errno_t)
#define T_ERRNO(name, expr, ...) t_errno(name, (expr), T_ERRNOS(__VA_ARGS__))
#define T_OK(name, expr) T_ERRNO(name, expr, 0)

// Short errno names for checks: E(NOENT) is CLOUDABI_ENOENT.
#define E(name) CLOUDABI_E##name

// Value checks.
bool t_eq(const char *name, uint64_t got, uint64_t want);
bool t_eq_hex(const char *name, uint64_t got, uint64_t want);
bool t_eq_str(const char *name, const void *got, size_t got_len, const char *want);
bool t_eq_mem(const char *name, const void *got, size_t got_len, const void *want,
              size_t want_len);
bool t_true(const char *name, bool cond, const char *expected);

// Rights a descriptor of each kind can hold at most (sys/src/rights.rs).
#define T_RIGHTS_FILE                                                                           \
  (CLOUDABI_RIGHT_FD_DATASYNC | CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FD_SEEK |              \
   CLOUDABI_RIGHT_FD_STAT_PUT_FLAGS | CLOUDABI_RIGHT_FD_SYNC | CLOUDABI_RIGHT_FD_TELL |         \
   CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FILE_ADVISE | CLOUDABI_RIGHT_FILE_ALLOCATE |        \
   CLOUDABI_RIGHT_FILE_STAT_FGET | CLOUDABI_RIGHT_FILE_STAT_FPUT_SIZE |                        \
   CLOUDABI_RIGHT_FILE_STAT_FPUT_TIMES | CLOUDABI_RIGHT_MEM_MAP | CLOUDABI_RIGHT_MEM_MAP_EXEC | \
   CLOUDABI_RIGHT_POLL_FD_READWRITE | CLOUDABI_RIGHT_PROC_EXEC)
#define T_RIGHTS_DIR                                                                         \
  (CLOUDABI_RIGHT_FD_STAT_PUT_FLAGS | CLOUDABI_RIGHT_FD_SYNC | CLOUDABI_RIGHT_FILE_ADVISE |   \
   CLOUDABI_RIGHT_FILE_CREATE_DIRECTORY | CLOUDABI_RIGHT_FILE_CREATE_FILE |                  \
   CLOUDABI_RIGHT_FILE_LINK_SOURCE | CLOUDABI_RIGHT_FILE_LINK_TARGET |                       \
   CLOUDABI_RIGHT_FILE_OPEN | CLOUDABI_RIGHT_FILE_READDIR | CLOUDABI_RIGHT_FILE_READLINK |   \
   CLOUDABI_RIGHT_FILE_RENAME_SOURCE | CLOUDABI_RIGHT_FILE_RENAME_TARGET |                   \
   CLOUDABI_RIGHT_FILE_STAT_FGET | CLOUDABI_RIGHT_FILE_STAT_FPUT_TIMES |                     \
   CLOUDABI_RIGHT_FILE_STAT_GET | CLOUDABI_RIGHT_FILE_STAT_PUT_TIMES |                       \
   CLOUDABI_RIGHT_FILE_SYMLINK | CLOUDABI_RIGHT_FILE_UNLINK | CLOUDABI_RIGHT_POLL_FD_READWRITE)
#define T_RIGHTS_DIR_INHERITING (T_RIGHTS_DIR | T_RIGHTS_FILE)
#define T_RIGHTS_SOCKET                                                                     \
  (CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FD_STAT_PUT_FLAGS | CLOUDABI_RIGHT_FD_WRITE |    \
   CLOUDABI_RIGHT_FILE_STAT_FGET | CLOUDABI_RIGHT_POLL_FD_READWRITE |                      \
   CLOUDABI_RIGHT_SOCK_SHUTDOWN)

// Rights that share Capsicum rights. The FreeBSD module keeps a
// descriptor's rights as Capsicum rights, where several CloudABI rights map
// to one Capsicum right (fd_datasync and fd_sync are both CAP_FSYNC) and
// some Capsicum rights include others (CAP_UNLINKAT includes CAP_LOOKUP,
// which is file_open). Removing one right of a family alone can leave it
// granted there, so tests that need a right gone remove its whole family,
// from both base and inheriting rights (t_drop). file_advise maps to no
// Capsicum right at all and cannot be removed on FreeBSD.
#define T_FAMILY_SYNC (CLOUDABI_RIGHT_FD_DATASYNC | CLOUDABI_RIGHT_FD_SYNC)
#define T_FAMILY_READ (CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FILE_READDIR)
#define T_FAMILY_WRITE (CLOUDABI_RIGHT_FD_WRITE | CLOUDABI_RIGHT_FILE_ALLOCATE)
#define T_FAMILY_STAT (CLOUDABI_RIGHT_FILE_STAT_FGET | CLOUDABI_RIGHT_FILE_STAT_GET)
#define T_FAMILY_TIMES (CLOUDABI_RIGHT_FILE_STAT_FPUT_TIMES | CLOUDABI_RIGHT_FILE_STAT_PUT_TIMES)
#define T_FAMILY_MMAP (CLOUDABI_RIGHT_MEM_MAP | CLOUDABI_RIGHT_MEM_MAP_EXEC)
#define T_FAMILY_POLL (CLOUDABI_RIGHT_POLL_FD_READWRITE | CLOUDABI_RIGHT_POLL_PROC_TERMINATE)
// Every right whose Capsicum form includes CAP_LOOKUP.
#define T_FAMILY_LOOKUP                                                                      \
  (CLOUDABI_RIGHT_FILE_OPEN | CLOUDABI_RIGHT_FILE_READLINK | CLOUDABI_RIGHT_FILE_STAT_GET |  \
   CLOUDABI_RIGHT_FILE_STAT_PUT_TIMES | CLOUDABI_RIGHT_FILE_LINK_SOURCE |                    \
   CLOUDABI_RIGHT_FILE_LINK_TARGET | CLOUDABI_RIGHT_FILE_CREATE_DIRECTORY |                  \
   CLOUDABI_RIGHT_FILE_RENAME_SOURCE | CLOUDABI_RIGHT_FILE_RENAME_TARGET |                   \
   CLOUDABI_RIGHT_FILE_SYMLINK | CLOUDABI_RIGHT_FILE_UNLINK)

// Path arguments from C strings: `P("a/b")` expands to the pointer and the
// length.
#define P(s) (s), strlen(s)

// A lookup that follows symbolic links, or not.
#define T_FOLLOW(dirfd) ((cloudabi_lookup_t){.fd = (dirfd), .flags = CLOUDABI_LOOKUP_SYMLINK_FOLLOW})
#define T_NOFOLLOW(dirfd) ((cloudabi_lookup_t){.fd = (dirfd), .flags = 0})

// file_open relative to dir (following symlinks) with the given rights.
cloudabi_errno_t t_open(cloudabi_fd_t dir, const char *path, cloudabi_oflags_t oflags,
                        cloudabi_rights_t base, cloudabi_rights_t inheriting,
                        cloudabi_fdflags_t fdflags, cloudabi_fd_t *fd);
// An existing regular file, with every right a file can have.
cloudabi_errno_t t_open_file(cloudabi_fd_t dir, const char *path, cloudabi_fd_t *fd);
// A directory, with every right a directory can have and pass on. Opening
// "." gives a second descriptor for dir itself, whose rights can then be
// narrowed without affecting dir.
cloudabi_errno_t t_open_dir(cloudabi_fd_t dir, const char *path, cloudabi_fd_t *fd);
// Creates (or truncates) a file holding `contents`.
cloudabi_errno_t t_mkfile(cloudabi_fd_t dir, const char *path, const char *contents);
// Removes rights from a descriptor with fd_stat_put.
cloudabi_errno_t t_drop_rights(cloudabi_fd_t fd, cloudabi_rights_t base,
                               cloudabi_rights_t inheriting);
// Removes `rights` from both the base and the inheriting rights.
cloudabi_errno_t t_drop(cloudabi_fd_t fd, cloudabi_rights_t rights);
// Writes a string; reads up to cap bytes (one fd_read).
cloudabi_errno_t t_write_str(cloudabi_fd_t fd, const char *s);
cloudabi_errno_t t_read(cloudabi_fd_t fd, void *buf, size_t cap, size_t *len);
// Reads a file's contents from offset 0 with fd_pread.
cloudabi_errno_t t_pread_all(cloudabi_fd_t fd, void *buf, size_t cap, size_t *len);
// file_stat_get of dir/path.
cloudabi_errno_t t_stat(cloudabi_fd_t dir, const char *path, bool follow, cloudabi_filestat_t *st);
// The page size (AT_PAGESZ, or 4096).
size_t t_pagesz(void);
// An anonymous private read-write mapping (NULL if mem_map fails, which is
// reported as a failed check).
void *t_map_anon(const char *name, size_t len);
// The current time of a clock (0 if it fails).
cloudabi_timestamp_t t_now(cloudabi_clockid_t clock);

#endif
