// Thread-local storage, the TCB, and stacks.
// SPDX-License-Identifier: BSD-2-Clause
//
// A CloudABI thread starts with a thread pointer the system set up, whose
// TCB holds one word, `parent`, owned by the system (an emulator keeps its
// own per-thread state there). The system reserves no room for the
// program's TLS data; the runtime maps a block per thread, lays it out as
// the compiler expects, carries the TCB over and repoints the thread
// pointer:
//
// x86-64, TLS variant II. %fs's base is fixed by the system: it points at
// a slot holding the TCB address, and compiled code reads that slot
// (`mov %fs:0, %rax`) before every TLS access. TLS data lies directly
// below the TCB, at TCB - alignup(p_memsz, p_align). Moving to a new block
// is a plain store of the new TCB address into %fs:0; no syscall exists
// (or is needed) to change the %fs base.
//
//     [ .tdata | .tbss | pad ][ TCB: parent ]
//                             ^ %fs:0
//
// aarch64, TLS variant I. tpidr_el0 holds the TCB address and TLS data
// starts alignup(16, p_align) bytes above it: 16 bytes are reserved for the
// TCB, as cloudlibc did. User code writes tpidr_el0 itself (msr).
//
//     [ TCB: parent | 8 unused ][ pad ][ .tdata | .tbss ]
//     ^ tpidr_el0

#include <string.h>

#include "rt_internal.h"

// SafeStack keeps each thread's unsafe stack pointer here; instrumented
// functions load and store it on entry and exit (clang names it).
_Thread_local void *__safestack_unsafe_stack_ptr;

// The calling thread's ID.
static _Thread_local cloudabi_tid_t thread_id;

struct rt_tls_image __rt_tls;

static size_t align_up(size_t x, size_t align) {
  return (x + align - 1) & ~(align - 1);
}

size_t rt_pagesz(void) {
  size_t p = __rt_startinfo.pagesz;
  return p >= 4096 && (p & (p - 1)) == 0 ? p : 4096;
}

RT_NO_SAFESTACK void rt_tls_image_set(const Elf64_Phdr *phdr, size_t phnum, const char *base) {
  __rt_tls = (struct rt_tls_image){.align = 1};
  for (size_t i = 0; i < phnum; ++i) {
    if (phdr[i].p_type == PT_TLS) {
      __rt_tls.init = base + phdr[i].p_vaddr;
      __rt_tls.filesz = phdr[i].p_filesz;
      __rt_tls.memsz = phdr[i].p_memsz;
      // p_align 0 and 1 both mean unaligned; keep it a power of two.
      __rt_tls.align = phdr[i].p_align > 1 ? phdr[i].p_align : 1;
    }
  }
}

RT_NO_SAFESTACK cloudabi_errno_t rt_tls_alloc(void **map, size_t *map_len,
                                              cloudabi_tcb_t **tcb_out) {
  const struct rt_tls_image *img = &__rt_tls;
  // Align the TCB for both itself and the TLS data next to it.
  size_t align = img->align > 16 ? img->align : 16;
#if defined(__x86_64__)
  size_t data_len = align_up(img->memsz, img->align);
  size_t len = align - 1 + data_len + sizeof(cloudabi_tcb_t);
#elif defined(__aarch64__)
  size_t tcb_area = align_up(16, img->align);
  size_t len = align - 1 + tcb_area + img->memsz;
#endif
  len = align_up(len, rt_pagesz());

  void *mem;
  cloudabi_errno_t error =
      cloudabi_sys_mem_map(NULL, len, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                           CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE, CLOUDABI_MAP_ANON_FD, 0, &mem);
  if (error != 0)
    return error;

#if defined(__x86_64__)
  char *tcb = (char *)align_up((uintptr_t)mem + data_len, align);
  char *data = tcb - data_len;
#elif defined(__aarch64__)
  char *tcb = (char *)align_up((uintptr_t)mem, align);
  char *data = tcb + tcb_area;
#endif
  memcpy(data, img->init, img->filesz);
  memset(data + img->filesz, 0, img->memsz - img->filesz);
  memset(tcb, 0, sizeof(cloudabi_tcb_t));

  *map = mem;
  *map_len = len;
  *tcb_out = (cloudabi_tcb_t *)tcb;
  return 0;
}

cloudabi_tcb_t *rt_tcb_get(void) {
  cloudabi_tcb_t *tcb;
#if defined(__x86_64__)
  __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
#elif defined(__aarch64__)
  __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tcb));
#endif
  return tcb;
}

// Not inlined, and no TLS access in the same function afterwards: the
// compiler treats the thread pointer as a value it may compute once per
// function, so TLS accesses after the switch must happen in a function
// that starts after it (rt_tls_thread_vars and everything later).
RT_NO_SAFESTACK __attribute__((noinline)) void rt_tls_install(cloudabi_tcb_t *tcb) {
  const cloudabi_tcb_t *old = rt_tcb_get();
  if (old != NULL)
    *tcb = *old;
#if defined(__x86_64__)
  __asm__ volatile("mov %0, %%fs:0" : : "r"(tcb) : "memory");
#elif defined(__aarch64__)
  __asm__ volatile("msr tpidr_el0, %0" : : "r"(tcb) : "memory");
#endif
}

RT_NO_SAFESTACK __attribute__((noinline)) void rt_tls_thread_vars(cloudabi_tid_t tid,
                                                                  void *unsafe_stack_top) {
  thread_id = tid;
  __safestack_unsafe_stack_ptr = unsafe_stack_top;
}

cloudabi_tid_t rt_tid(void) {
  return thread_id;
}

RT_NO_SAFESTACK cloudabi_errno_t rt_stack_alloc(size_t len, void **map, size_t *map_len,
                                                void **top) {
  size_t page = rt_pagesz();
  size_t total = align_up(len, page) + page;
  void *mem;
  cloudabi_errno_t error =
      cloudabi_sys_mem_map(NULL, total, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                           CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE, CLOUDABI_MAP_ANON_FD, 0, &mem);
  if (error != 0)
    return error;
  // A guard page below the stack turns an overflow into a fault instead of
  // silent corruption. Best effort: the stack works without it.
  (void)cloudabi_sys_mem_protect(mem, page, 0);
  *map = mem;
  *map_len = total;
  *top = (char *)mem + total;  // page aligned, so 16-byte aligned
  return 0;
}
