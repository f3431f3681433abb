// rt_tls: thread-local storage of the initial thread, the TCB handover and
// the SafeStack unsafe stack (see guest/rt/tls.c for the layouts).
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "test.h"

static _Thread_local int tdata_var = 42;            // .tdata: initialised
static _Thread_local uint64_t tbss_var;             // .tbss: zeroed
static _Thread_local _Alignas(64) char aligned[64] = {7};
// A pointer in the TLS image needs a relocation before the image is copied.
_Thread_local const char *volatile rt_tls_tdata_ptr = "relocated";

// Not inlined, so that the buffer's address escapes: SafeStack then puts
// the buffer on the unsafe stack.
__attribute__((noinline)) static void touch(volatile char *buf, size_t len) {
  for (size_t i = 0; i < len; i += 4096)
    buf[i] = (char)i;
  buf[len - 1] = 1;
}

static bool on_unsafe_stack(const void *p) {
  const struct rt_startinfo *si = rt_startinfo();
  const char *lo = si->unsafe_stack, *hi = lo + si->unsafe_stack_len;
  return (const char *)p >= lo && (const char *)p < hi;
}

void test_main(const argdata_t *config) {
  (void)config;
  const struct rt_startinfo *si = rt_startinfo();

  t_eq("tls/tdata-initialised", (uint64_t)tdata_var, 42);
  t_eq("tls/tbss-zeroed", tbss_var, 0);
  t_eq("tls/aligned-initialised", (uint64_t)aligned[0], 7);
  t_eq("tls/alignment", (uintptr_t)aligned % 64, 0);
  t_true("tls/tdata-pointer", rt_tls_tdata_ptr != NULL && strcmp(rt_tls_tdata_ptr, "relocated") == 0,
         "a pointer in .tdata to point at its string");
  tdata_var = 43;
  tbss_var = UINT64_MAX;
  t_true("tls/writable", tdata_var == 43 && tbss_var == UINT64_MAX, "stores to TLS to stick");

  // The runtime moved the thread pointer to its own TCB and carried the
  // system's `parent` word over.
  cloudabi_tcb_t *tcb = rt_tcb_get();
  t_true("tcb/moved", tcb != NULL && tcb != si->initial_tcb, "a new TCB");
  if (tcb != NULL && si->initial_tcb != NULL)
    t_eq_hex("tcb/parent-copied", (uintptr_t)tcb->parent,
             (uintptr_t)((const cloudabi_tcb_t *)si->initial_tcb)->parent);
#if defined(__x86_64__)
  // Variant II: TLS data lies below the TCB.
  t_true("tcb/layout", (char *)&tdata_var < (char *)tcb && (char *)&tbss_var < (char *)tcb,
         "TLS data below the TCB (variant II)");
#elif defined(__aarch64__)
  // Variant I: 16 bytes of TCB, then TLS data.
  t_true("tcb/layout", (char *)&tdata_var >= (char *)tcb + 16 && (char *)&tbss_var >= (char *)tcb + 16,
         "TLS data above the 16-byte TCB (variant I)");
#endif

  // SafeStack: buffers whose address escapes live on the unsafe stack.
  char small[64];
  touch(small, sizeof(small));
  t_true("safestack/escaping-local", on_unsafe_stack(small), "the buffer on the unsafe stack");
  char big[512 * 1024];
  touch(big, sizeof(big));
  t_true("safestack/large-local", on_unsafe_stack(big) && on_unsafe_stack(big + sizeof(big) - 1),
         "a 512 KiB buffer on the unsafe stack");
}
