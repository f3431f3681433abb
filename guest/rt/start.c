// _start: the entry point of every CloudABI program, and the order in which
// the process is set up before program_main runs.
// SPDX-License-Identifier: BSD-2-Clause
//
// The system calls _start(auxv) like a C function: the auxv pointer in
// %rdi / x0, the stack pointer 16-byte aligned as after a call (x86-64:
// 8 below a multiple of 16; aarch64: a multiple of 16), the thread pointer
// at the initial TCB (see tls.c). Nothing else is set up: the program is
// not relocated and it knows no syscalls yet.

#include <argdata.h>
#include <program.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

// The initial thread's SafeStack stack: where instrumented functions keep
// the locals whose address escapes (buffers passed to syscalls, mostly).
#define UNSAFE_STACK_LEN (1024 * 1024)

struct rt_startinfo __rt_startinfo;

// Stack smashing protection (-fstack-protector), in case a program is built
// with it: the guard comes from AT_CANARY.
uintptr_t __stack_chk_guard = 0x5a17c0de;

// Defined by the linker: the program's own ELF header, at its load address.
extern const Elf64_Ehdr __ehdr_start RT_HIDDEN;

// Constructors, if the program has any (__attribute__((constructor))).
extern void (*const __init_array_start[])(void) RT_HIDDEN;
extern void (*const __init_array_end[])(void) RT_HIDDEN;

static uint32_t aux_bit(cloudabi_auxtype_t type) {
  if (type < 16)
    return UINT32_C(1) << type;
  if (type >= 0x100 && type < 0x110)
    return UINT32_C(1) << (16 + (type - 0x100));
  return 0;
}

int rt_auxv_seen(cloudabi_auxtype_t type) {
  return (__rt_startinfo.seen & aux_bit(type)) != 0;
}

const struct rt_startinfo *rt_startinfo(void) {
  return &__rt_startinfo;
}

// Reads the auxiliary vector. Unknown types are skipped: new ones may be
// added without breaking old programs.
RT_NO_SAFESTACK static void parse_auxv(const cloudabi_auxv_t *auxv, struct rt_startinfo *si) {
  for (; auxv->a_type != CLOUDABI_AT_NULL; ++auxv) {
    si->seen |= aux_bit(auxv->a_type);
    switch (auxv->a_type) {
      case CLOUDABI_AT_ARGDATA:
        si->argdata = auxv->a_ptr;
        break;
      case CLOUDABI_AT_ARGDATALEN:
        si->argdatalen = auxv->a_val;
        break;
      case CLOUDABI_AT_BASE:
        si->base = auxv->a_ptr;
        break;
      case CLOUDABI_AT_CANARY:
        si->canary = auxv->a_ptr;
        break;
      case CLOUDABI_AT_CANARYLEN:
        si->canarylen = auxv->a_val;
        break;
      case CLOUDABI_AT_NCPUS:
        si->ncpus = (uint32_t)auxv->a_val;
        break;
      case CLOUDABI_AT_PAGESZ:
        si->pagesz = auxv->a_val;
        break;
      case CLOUDABI_AT_PHDR:
        si->phdr = auxv->a_ptr;
        break;
      case CLOUDABI_AT_PHNUM:
        si->phnum = auxv->a_val;
        break;
      case CLOUDABI_AT_PID:
        si->pid = auxv->a_ptr;
        break;
      case CLOUDABI_AT_SYSINFO_EHDR:
        si->sysinfo_ehdr = auxv->a_ptr;
        break;
      case CLOUDABI_AT_TID:
        si->tid = (cloudabi_tid_t)auxv->a_val;
        break;
    }
  }
}

// Makes the pages that only had to be writable for relocation (the GOT,
// .data.rel.ro: PT_GNU_RELRO) read-only. Best effort.
static void protect_relro(const Elf64_Phdr *phdr, size_t phnum, const char *base) {
  if (__rt_startinfo.pagesz == 0)
    return;
  uintptr_t page = rt_pagesz();
  for (size_t i = 0; i < phnum; ++i) {
    if (phdr[i].p_type != PT_GNU_RELRO)
      continue;
    uintptr_t start = ((uintptr_t)base + phdr[i].p_vaddr + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)base + phdr[i].p_vaddr + phdr[i].p_memsz) & ~(page - 1);
    if (end > start)
      (void)cloudabi_sys_mem_protect((void *)start, end - start, CLOUDABI_PROT_READ);
  }
}

RT_NO_SAFESTACK _Noreturn void _start(const cloudabi_auxv_t *auxv) {
  struct rt_startinfo si;
  memset(&si, 0, sizeof(si));
  parse_auxv(auxv, &si);

  // 1. Relocate. Without AT_BASE the ELF header tells where we are: the
  // program is linked at 0 and its first segment maps the header.
  char *base = si.base != NULL ? (char *)si.base : (char *)&__ehdr_start;
  bool relocated = rt_relocate(base);
  // Data written by the relocation loop is read from here on; keep the
  // compiler from moving any such load above it.
  __asm__ volatile("" ::: "memory");

  // 2. Link the syscalls. Exit if relocation was incomplete, which needed
  // proc_exit from the vDSO. Exit status 127: not runnable.
  si.syscalls_linked = rt_vdso_link(si.sysinfo_ehdr);
  if (!relocated)
    _Exit(127);

  const Elf64_Phdr *phdr = si.phdr;
  size_t phnum = si.phnum;
  if (phdr == NULL) {
    phdr = (const Elf64_Phdr *)((const char *)&__ehdr_start + __ehdr_start.e_phoff);
    phnum = __ehdr_start.e_phnum;
  }
  __rt_startinfo = si;
  protect_relro(phdr, phnum, base);

  // 3. The stack protector's guard: the first bytes of AT_CANARY.
  if (si.canary != NULL) {
    size_t n = si.canarylen < sizeof(__stack_chk_guard) ? si.canarylen : sizeof(__stack_chk_guard);
    memcpy(&__stack_chk_guard, si.canary, n);
  }

  // 4. TLS and the unsafe stack. Exit status 126 if there is no memory for
  // them: nothing instrumented can run without.
  rt_tls_image_set(phdr, phnum, base);
  void *tls_map, *stack_map, *stack_top;
  size_t tls_len, stack_len;
  cloudabi_tcb_t *tcb;
  if (rt_tls_alloc(&tls_map, &tls_len, &tcb) != 0 ||
      rt_stack_alloc(UNSAFE_STACK_LEN, &stack_map, &stack_len, &stack_top) != 0)
    _Exit(126);
  __rt_startinfo.initial_tcb = rt_tcb_get();
  __rt_startinfo.unsafe_stack = stack_map;
  __rt_startinfo.unsafe_stack_len = stack_len;
  rt_tls_install(tcb);
  rt_tls_thread_vars(si.tid, stack_top);

  // 5. Constructors, then the program.
  for (void (*const *f)(void) = __init_array_start; f < __init_array_end; ++f)
    (*f)();
  argdata_t ad = argdata_from_buffer(si.argdata, si.argdatalen);
  program_main(&ad);
  _Exit(0);
}
