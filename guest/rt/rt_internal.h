// Declarations shared by the runtime's own files; not for programs.
// SPDX-License-Identifier: BSD-2-Clause

#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include <cloudabi.h>
#include <rt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf.h"

// Hidden symbols are reached PC-relative, never through the GOT, which is
// what code running before self-relocation needs (the GOT holds unrelocated
// addresses until then).
#define RT_HIDDEN __attribute__((visibility("hidden")))

// Code that runs before the SafeStack unsafe stack exists must not be
// instrumented. The whole runtime is built with -fno-sanitize=safe-stack
// (scripts/build-guest); the attribute marks the functions where it matters.
#define RT_NO_SAFESTACK __attribute__((no_sanitize("safe-stack")))

// System call numbers: positions in CLOUDABI_SYSCALL_NAMES.
enum {
#define RT_SYSNO(name) RT_SYS_##name,
  CLOUDABI_SYSCALL_NAMES(RT_SYSNO)
#undef RT_SYSNO
  RT_SYS_COUNT
};
_Static_assert(RT_SYS_COUNT == CLOUDABI_SYSCALL_COUNT, "syscall list");

// The syscall table (syscalls.c): entry i is the vDSO's implementation of
// syscall i, or a stub returning ENOSYS. The cloudabi_sys_* functions jump
// through it.
extern void *__cloudabi_syscalls[CLOUDABI_SYSCALL_COUNT] RT_HIDDEN;

// Startup state (start.c).
extern struct rt_startinfo __rt_startinfo RT_HIDDEN;

// reloc.c: applies the program's own relocations for load address `base`.
// Returns false if it met any relocation it cannot apply (it applies the
// others anyway).
bool rt_relocate(char *base) RT_HIDDEN;

// vdso.c: fills the syscall table from the vDSO at `ehdr` (or with ENOSYS
// stubs only, if ehdr is NULL). Returns how many syscalls were found.
unsigned int rt_vdso_link(const void *ehdr) RT_HIDDEN;

// tls.c: the program's TLS initialisation image (from PT_TLS).
struct rt_tls_image {
  const void *init;  // .tdata contents
  size_t filesz;     // bytes of init
  size_t memsz;      // .tdata + .tbss
  size_t align;
};
extern struct rt_tls_image __rt_tls RT_HIDDEN;
void rt_tls_image_set(const Elf64_Phdr *phdr, size_t phnum, const char *base) RT_HIDDEN;

// Maps a TLS block initialised from the image, with room for the TCB at
// the place this architecture's TLS variant puts it. The TCB is zeroed.
cloudabi_errno_t rt_tls_alloc(void **map, size_t *map_len, cloudabi_tcb_t **tcb) RT_HIDDEN;

// Makes `tcb` the calling thread's TCB: copies the current TCB (the
// system's `parent` pointer) into it, then points %fs:0 / tpidr_el0 at it.
void rt_tls_install(cloudabi_tcb_t *tcb) RT_HIDDEN;

// Sets the calling thread's runtime TLS variables; call after
// rt_tls_install, from a different function than the one that called it
// (see tls.c for why).
void rt_tls_thread_vars(cloudabi_tid_t tid, void *unsafe_stack_top) RT_HIDDEN;

// Maps a stack of `len` bytes (rounded up to pages) with a guard page
// below it. Returns the mapping and the 16-byte aligned top.
cloudabi_errno_t rt_stack_alloc(size_t len, void **map, size_t *map_len, void **top) RT_HIDDEN;

size_t rt_pagesz(void) RT_HIDDEN;

#endif
