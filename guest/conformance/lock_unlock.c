// lock_unlock from one thread: a lock nobody waits for is simply stored
// unlocked, without an ownership check (whoever holds it, read or write);
// a lock marked KERNEL_MANAGED and held by the caller is released; invalid
// scopes, misaligned and unreadable words are errors. The EPERM rule (a managed lock
// that another thread holds) needs real waiters: see lock_threads.
// SPDX-License-Identifier: BSD-2-Clause

#include "sync.h"

static t_lock_t lock;

static void unlock_from(const char *name, cloudabi_lock_t held, cloudabi_scope_t scope) {
  char detail[80];
  atomic_store(&lock, held);
  T_OK(name, cloudabi_sys_lock_unlock(&lock, scope));
  fmt_snprintf(detail, sizeof(detail), "%s-unlocked", name);
  t_eq_hex(detail, atomic_load(&lock), CLOUDABI_LOCK_UNLOCKED);
}

void test_main(const argdata_t *config) {
  (void)config;
  cloudabi_tid_t me = t_tid();
  cloudabi_tid_t other = me == 0x1234567 ? 0x1234568 : 0x1234567;

  unlock_from("lock_unlock/own-write-lock", me | T_WR, CLOUDABI_SCOPE_PRIVATE);
  unlock_from("lock_unlock/own-write-lock-shared-scope", me | T_WR, CLOUDABI_SCOPE_SHARED);
  // Nobody waits: no ownership check.
  unlock_from("lock_unlock/unmanaged-other-owner", other | T_WR, CLOUDABI_SCOPE_PRIVATE);
  unlock_from("lock_unlock/unmanaged-read-locked", 3, CLOUDABI_SCOPE_PRIVATE);
  unlock_from("lock_unlock/already-unlocked", CLOUDABI_LOCK_UNLOCKED, CLOUDABI_SCOPE_PRIVATE);
  // Managed, held by the caller, nobody actually asleep: unlocked, and
  // the managed bit gone with nobody left to wake.
  unlock_from("lock_unlock/own-managed", me | T_WR | T_KM, CLOUDABI_SCOPE_PRIVATE);

  // The lock is taken again normally afterwards.
  atomic_store(&lock, CLOUDABI_LOCK_UNLOCKED);
  if (T_OK("lock_unlock/relock", t_wrlock(&lock, CLOUDABI_SCOPE_PRIVATE))) {
    t_eq_hex("lock_unlock/relocked", atomic_load(&lock), me | T_WR);
    T_OK("lock_unlock/relock-release", t_wrunlock(&lock, CLOUDABI_SCOPE_PRIVATE));
  }

  // Errors: the scope is checked, the word must be readable; a failed call
  // leaves the lock alone.
  atomic_store(&lock, me | T_WR);
  T_ERRNO("lock_unlock/scope-zero", cloudabi_sys_lock_unlock(&lock, 0), E(INVAL));
  T_ERRNO("lock_unlock/scope-undefined", cloudabi_sys_lock_unlock(&lock, 5), E(INVAL));
  t_eq_hex("lock_unlock/failed-kept", atomic_load(&lock), me | T_WR);
  static _Alignas(8) char raw[8];
  T_ERRNO("lock_unlock/misaligned", cloudabi_sys_lock_unlock((t_lock_t *)(raw + 2), CLOUDABI_SCOPE_PRIVATE), E(INVAL));
  T_ERRNO("lock_unlock/efault", cloudabi_sys_lock_unlock(T_BADPTR, CLOUDABI_SCOPE_PRIVATE), E(FAULT));
}
