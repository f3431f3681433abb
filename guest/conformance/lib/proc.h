// Processes for the conformance cases: fork and wait, shared memory, and
// building argument data for proc_exec.
// SPDX-License-Identifier: BSD-2-Clause
//
// A forked child keeps writing its checks to `out` (each line is one
// write, so lines of parent and child never mix) and ends with
// t_child_exit, whose status says whether all of its checks passed; the
// parent checks that status (t_check_exit).

#ifndef PROC_H
#define PROC_H

#include "sync.h"

// proc_fork. In the child *fd is CLOUDABI_PROCESS_CHILD and t_tid() is the
// child's own thread id from then on.
cloudabi_errno_t t_fork(cloudabi_fd_t *fd, cloudabi_tid_t *tid);
// Ends a forked child: status 0 if all of its checks passed, 1 if not.
_Noreturn void t_child_exit(void);
// Waits (no timeout) for the child behind process descriptor `fd` to end.
cloudabi_errno_t t_wait_child(cloudabi_fd_t fd, cloudabi_event_t *ev);
// Waits for the child and checks it ended with exit status `code` (not by
// a signal).
bool t_check_exit(const char *name, cloudabi_fd_t fd, cloudabi_exitcode_t code);

// An anonymous MAP_SHARED mapping (NULL if mem_map fails, which is
// reported as a failed check): memory a forked child shares.
void *t_map_shared(const char *name, size_t len);

// Argument data for proc_exec: a map of string keys to simple values.
enum t_ad_kind { T_AD_STR, T_AD_INT, T_AD_FD, T_AD_BINARY };
struct t_ad_entry {
  const char *key;
  enum t_ad_kind kind;
  const char *str;     // T_AD_STR: a C string; T_AD_BINARY: `len` bytes
  size_t len;
  int64_t i;           // T_AD_INT
  cloudabi_fd_t fd;    // T_AD_FD: the number the new program will see
};
// Encodes the map into buf; returns its length, or 0 if cap is too small.
size_t t_argdata_map(void *buf, size_t cap, const struct t_ad_entry *entries, size_t n);

#endif
