// Escape races (issue 13, adversarial re-run): while helper threads keep
// swapping what a name is, other threads keep resolving paths through it,
// and none may ever reach outside the scratch directory.
// - `link` flips between a symbolic link to "/" and to "sub" (renamed into
//   place, so it always exists); a path through it to etc/passwd must
//   never open.
// - `d/sub` is renamed to `sub2` and back; `d/sub/../../..` style paths
//   must never open what is above the scratch directory, and files created
//   through them must never land outside (the runner looks for
//   cloudabi64-escape-* there).
// Each resolving thread makes ATTEMPTS attempts; the initial thread checks
// the counts after joining everyone.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "test.h"

#define RESOLVERS 8
#define ATTEMPTS 3000
#define STACK (64 * 1024)

static _Atomic(int) stop;
static _Atomic(int) flips[2];
static struct rt_thread flippers[2], resolvers[RESOLVERS];

struct tally {
  int opened, created, other;
};
static struct tally tallies[RESOLVERS];

static void flip_link(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    cloudabi_sys_file_unlink(t_tmp, P("tmp-link"), 0);
    cloudabi_sys_file_symlink(P("/"), t_tmp, P("tmp-link"));
    cloudabi_sys_file_rename(t_tmp, P("tmp-link"), t_tmp, P("link"));
    cloudabi_sys_file_unlink(t_tmp, P("tmp-link"), 0);
    cloudabi_sys_file_symlink(P("sub"), t_tmp, P("tmp-link"));
    cloudabi_sys_file_rename(t_tmp, P("tmp-link"), t_tmp, P("link"));
    atomic_fetch_add(&flips[0], 1);
  }
}

static void flip_dir(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    cloudabi_sys_file_rename(t_tmp, P("d/sub"), t_tmp, P("sub2"));
    cloudabi_sys_file_rename(t_tmp, P("sub2"), t_tmp, P("d/sub"));
    atomic_fetch_add(&flips[1], 1);
  }
}

static void resolve(void *arg) {
  struct tally *t = arg;
  static const char *reads[] = {"link/etc/passwd", "link/../etc/passwd", "d/sub/../../../etc/passwd",
                                "sub2/../../etc/passwd", "link/tmp"};
  static const char *creates[] = {"link/tmp/cloudabi64-escape-race", "d/sub/../../../cloudabi64-escape-race",
                                  "sub2/../../cloudabi64-escape-race"};
  for (int i = 0; i < ATTEMPTS; ++i) {
    cloudabi_fd_t fd;
    const char *path = reads[i % 5];
    cloudabi_errno_t e = t_open(t_tmp, path, 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &fd);
    if (e == 0) {
      // Inside (link -> sub: "link/tmp" does not exist there) is never
      // reached by these paths; anything opened is an escape.
      t->opened++;
      cloudabi_sys_fd_close(fd);
    } else if (e != CLOUDABI_ENOTCAPABLE && e != CLOUDABI_ENOENT && e != CLOUDABI_ENOTDIR && e != CLOUDABI_ELOOP) {
      t->other++;
    }
    const char *c = creates[i % 3];
    e = t_open(t_tmp, c, CLOUDABI_O_CREAT, CLOUDABI_RIGHT_FD_WRITE, 0, 0, &fd);
    if (e == 0) {
      t->created++;
      cloudabi_sys_fd_close(fd);
    }
  }
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  if (!T_OK("race_escape/setup-sub", cloudabi_sys_file_create(t_tmp, P("sub"), CLOUDABI_FILETYPE_DIRECTORY)) ||
      !T_OK("race_escape/setup-d", cloudabi_sys_file_create(t_tmp, P("d"), CLOUDABI_FILETYPE_DIRECTORY)) ||
      !T_OK("race_escape/setup-d-sub", cloudabi_sys_file_create(t_tmp, P("d/sub"), CLOUDABI_FILETYPE_DIRECTORY)) ||
      !T_OK("race_escape/setup-link", cloudabi_sys_file_symlink(P("sub"), t_tmp, P("link"))))
    return;
  if (!T_OK("race_escape/flip-link", rt_thread_start(&flippers[0], flip_link, NULL, STACK)) ||
      !T_OK("race_escape/flip-dir", rt_thread_start(&flippers[1], flip_dir, NULL, STACK)))
    return;
  int started = 0;
  for (int i = 0; i < RESOLVERS; ++i) {
    if (rt_thread_start(&resolvers[i], resolve, &tallies[i], STACK) != 0)
      break;
    ++started;
  }
  t_eq("race_escape/resolvers", started, RESOLVERS);
  for (int i = 0; i < started; ++i)
    rt_thread_join(&resolvers[i]);
  atomic_store(&stop, 1);
  rt_thread_join(&flippers[0]);
  rt_thread_join(&flippers[1]);
  struct tally sum = {0};
  for (int i = 0; i < started; ++i) {
    sum.opened += tallies[i].opened;
    sum.created += tallies[i].created;
    sum.other += tallies[i].other;
  }
  t_eq("race_escape/opened-outside", sum.opened, 0);
  t_eq("race_escape/created-outside", sum.created, 0);
  t_eq("race_escape/unexpected-errors", sum.other, 0);
  t_true("race_escape/link-flipped", atomic_load(&flips[0]) > 0, "the link to change during the run");
  t_true("race_escape/dir-renamed", atomic_load(&flips[1]) > 0, "the directory to move during the run");
}
