// Locks, condition variables and poll subscriptions for the conformance
// cases, driven the way cloudlibc drives them (docs/semantics.md, "Locks
// and condition variables").
// SPDX-License-Identifier: BSD-2-Clause
//
// The kernel only sees contention: userspace takes a free lock with one
// compare-and-swap, waits with poll (a LOCK_RDLOCK / LOCK_WRLOCK /
// CONDVAR subscription first, optionally followed by one CLOCK
// subscription), and releases with a plain store unless KERNEL_MANAGED is
// set, in which case lock_unlock has to wake the sleepers. The helpers
// below do just that and return errnos instead of aborting, so a case can
// report what went wrong.
//
// Worker threads must not print (t_check is not thread-safe): they record
// errnos and values in their own structures, which the initial thread
// checks after joining them.

#ifndef SYNC_H
#define SYNC_H

#include <stdatomic.h>

#include "test.h"

typedef _Atomic(cloudabi_lock_t) t_lock_t;
typedef _Atomic(cloudabi_condvar_t) t_condvar_t;

#define T_WR CLOUDABI_LOCK_WRLOCKED
#define T_KM CLOUDABI_LOCK_KERNEL_MANAGED
#define T_MS UINT64_C(1000000)
#define T_SEC (1000 * T_MS)

// The calling thread's id. The runtime's idea of it is stale in a forked
// child (the child is a new thread with a new id); t_fork corrects it.
cloudabi_tid_t t_tid(void);
void t_set_tid(cloudabi_tid_t tid);

// Subscriptions.
cloudabi_subscription_t t_sub_clock(uint64_t userdata, cloudabi_clockid_t id, cloudabi_timestamp_t timeout,
                                    bool absolute);
cloudabi_subscription_t t_sub_lock(uint64_t userdata, cloudabi_eventtype_t type, t_lock_t *lock,
                                   cloudabi_scope_t scope);
cloudabi_subscription_t t_sub_condvar(uint64_t userdata, t_condvar_t *cv, cloudabi_scope_t cv_scope,
                                      t_lock_t *lock, cloudabi_scope_t lock_scope);
cloudabi_subscription_t t_sub_fd(uint64_t userdata, cloudabi_eventtype_t type, cloudabi_fd_t fd);
cloudabi_subscription_t t_sub_proc(uint64_t userdata, cloudabi_fd_t fd);

// poll into `ev` (room for `n` events); returns poll's errno, the number
// of events in *nevents (0 if poll failed) and, if `took` is not NULL, the
// monotonic nanoseconds it took.
cloudabi_errno_t t_poll(const cloudabi_subscription_t *subs, size_t n, cloudabi_event_t *ev, size_t *nevents,
                        uint64_t *took);
// The event with `userdata` among the first n, or NULL.
const cloudabi_event_t *t_find_event(const cloudabi_event_t *ev, size_t n, uint64_t userdata);
// Checks that `ev` exists and has the type and error given.
bool t_check_event(const char *name, const cloudabi_event_t *ev, cloudabi_eventtype_t type,
                   cloudabi_errno_t error);
// Checks that exactly one event came back and that it is the one with
// `userdata`, of `type`, with `error`.
bool t_check_only_event(const char *name, const cloudabi_event_t *ev, size_t n, uint64_t userdata,
                        cloudabi_eventtype_t type, cloudabi_errno_t error);

// cloudlibc's write lock: one compare-and-swap from unlocked, else a poll
// with a lone LOCK_WRLOCK subscription. Returns poll's errno or the
// event's error (0: the caller holds the lock).
cloudabi_errno_t t_wrlock(t_lock_t *lock, cloudabi_scope_t scope);
// cloudlibc's read lock: increments the reader count unless the lock is
// write-locked or a writer waits (KERNEL_MANAGED), else a poll with a lone
// LOCK_RDLOCK subscription.
cloudabi_errno_t t_rdlock(t_lock_t *lock, cloudabi_scope_t scope);
// Releases a write lock held by the caller: a compare-and-swap back to
// unlocked when nobody waits, lock_unlock when KERNEL_MANAGED is set.
cloudabi_errno_t t_wrunlock(t_lock_t *lock, cloudabi_scope_t scope);
// Releases a read lock: the last reader while others wait turns its read
// lock into a write lock it owns and calls lock_unlock (the kernel only
// unlocks write locks); any other reader just decrements the count.
cloudabi_errno_t t_rdunlock(t_lock_t *lock, cloudabi_scope_t scope);

// Waits on a condition variable with `lock` write-locked by the caller:
// a CONDVAR subscription, followed by a CLOCK one when timeout is not
// UINT64_MAX. Returns 0 when woken, ETIMEDOUT when the clock event came
// back, or the event's / poll's error. Either way the caller holds the
// lock again when 0 or ETIMEDOUT is returned.
cloudabi_errno_t t_cond_wait(t_condvar_t *cv, cloudabi_scope_t cv_scope, t_lock_t *lock,
                             cloudabi_scope_t lock_scope, cloudabi_clockid_t clock, cloudabi_timestamp_t timeout,
                             bool absolute);
// cloudlibc's signal and broadcast: condvar_signal only when the word says
// somebody waits.
cloudabi_errno_t t_cond_signal(t_condvar_t *cv, cloudabi_scope_t scope, cloudabi_nthreads_t n);

// Waits, yielding, until (*word & mask) == want: how a case learns that
// another thread has gone to sleep in the kernel (it sets KERNEL_MANAGED
// first) or has reached a point, without sleeping for a guessed time.
// Gives up after 10 seconds and reports a failed check `name`, so only the
// initial thread may call them.
bool t_await(const char *name, _Atomic(uint32_t) *word, uint32_t mask, uint32_t want);
// Same for "at least": waits until *word >= want.
bool t_await_at_least(const char *name, _Atomic(uint32_t) *word, uint32_t want);

#endif
