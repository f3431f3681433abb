// What the guest runtime learned at startup, and its minimal threads.
// SPDX-License-Identifier: BSD-2-Clause

#ifndef RT_H
#define RT_H

#include <cloudabi.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

// The auxiliary vector as _start found it, plus what the runtime set up.
struct rt_startinfo {
  // Which auxv entries were present: ask rt_auxv_seen(CLOUDABI_AT_TID).
  uint32_t seen;

  const void *argdata;  // AT_ARGDATA / AT_ARGDATALEN
  size_t argdatalen;
  const void *base;  // AT_BASE: the load address of this program
  const void *phdr;  // AT_PHDR / AT_PHNUM: its program headers
  size_t phnum;
  size_t pagesz;              // AT_PAGESZ (0 if absent)
  uint32_t ncpus;             // AT_NCPUS (0 if absent)
  cloudabi_tid_t tid;         // AT_TID of the initial thread (0 if absent)
  const uint8_t *canary;      // AT_CANARY / AT_CANARYLEN
  size_t canarylen;
  const uint8_t *pid;         // AT_PID: 16 bytes, a UUIDv4
  const void *sysinfo_ehdr;   // AT_SYSINFO_EHDR: the vDSO's ELF header

  // Set up by the runtime.
  unsigned int syscalls_linked;  // cloudabi_sys_* entries found in the vDSO
  const void *initial_tcb;       // the TCB the system set up for us
  void *unsafe_stack;            // the initial thread's SafeStack stack
  size_t unsafe_stack_len;
};

const struct rt_startinfo *rt_startinfo(void);
int rt_auxv_seen(cloudabi_auxtype_t type);

// The current thread's TCB: where %fs:0 (x86-64) or tpidr_el0 (aarch64)
// points. Its first word is the system's `parent` pointer, carried over
// from the TCB the thread started with.
cloudabi_tcb_t *rt_tcb_get(void);

// The calling thread's ID (AT_TID for the initial thread).
cloudabi_tid_t rt_tid(void);

// Threads. The caller owns the rt_thread object, which must stay in place
// until rt_thread_join returns. The new thread runs fn(arg) with its own
// TLS block and stacks and ends when fn returns.
struct rt_thread {
  _Atomic(cloudabi_lock_t) join;  // write-locked by the thread until it ends
  cloudabi_tid_t tid;
  void (*fn)(void *);
  void *arg;
  void *stacks;  // one mapping: safe stack, unsafe stack
  size_t stacks_len;
  void *tls;  // the thread's TLS block and TCB
  size_t tls_len;
  cloudabi_tcb_t *tcb;
  void *unsafe_top;
};

// Starts a thread with stacks of `stack_len` bytes each (0: 256 KiB).
// Returns 0 or the errno of mem_map / thread_create.
cloudabi_errno_t rt_thread_start(struct rt_thread *t, void (*fn)(void *), void *arg,
                                 size_t stack_len);

// Waits until the thread has ended (the system releases `join` after the
// thread is gone) and frees its stacks and TLS.
void rt_thread_join(struct rt_thread *t);

#endif
