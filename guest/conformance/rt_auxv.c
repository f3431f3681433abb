// rt_auxv: what the system hands a new process (the auxiliary vector), and
// that the runtime found its way from there: relocation and vDSO linking.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "../rt/elf.h"
#include "test.h"

// Pointers stored in initialised data need R_*_RELATIVE relocations: if
// self-relocation did not run, these hold link-time addresses.
// volatile: the compiler must read them from memory instead of folding
// the known initial values.
static int target_a, target_b;
static int *volatile pointers[] = {&target_a, &target_b};
static void hook(void) {}
static void (*volatile hook_ptr)(void) = hook;

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static void check_canary(const struct rt_startinfo *si) {
  t_true("auxv/canary-present", rt_auxv_seen(CLOUDABI_AT_CANARY) && si->canary != NULL,
         "AT_CANARY");
  t_eq("auxv/canarylen", si->canarylen, 64);
  if (si->canary == NULL || si->canarylen != 64)
    return;
  // 64 random bytes: all zeros (or all one value) means nobody filled them.
  bool varied = false;
  for (size_t i = 1; i < 64; ++i)
    varied |= si->canary[i] != si->canary[0];
  t_true("auxv/canary-random", varied, "64 bytes that are not all the same");
}

static void check_pid(const struct rt_startinfo *si) {
  if (!t_true("auxv/pid-present", rt_auxv_seen(CLOUDABI_AT_PID) && si->pid != NULL, "AT_PID"))
    return;
  // A UUIDv4 (RFC 4122): version 4 in the high nibble of byte 6, variant
  // 10 in the top bits of byte 8.
  t_eq_hex("auxv/pid-version", si->pid[6] >> 4, 4);
  t_eq_hex("auxv/pid-variant", si->pid[8] >> 6, 2);
}

static void check_elf(const struct rt_startinfo *si) {
  t_true("auxv/base-present", rt_auxv_seen(CLOUDABI_AT_BASE), "AT_BASE");
  t_eq_hex("auxv/base-is-load-address", (uintptr_t)si->base, (uintptr_t)__ehdr_start);
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)__ehdr_start;
  t_eq_hex("auxv/phdr", (uintptr_t)si->phdr, (uintptr_t)__ehdr_start + eh->e_phoff);
  t_eq("auxv/phnum", si->phnum, eh->e_phnum);
  t_eq("elf/osabi", (uint8_t)__ehdr_start[7], 17);

  const Elf64_Ehdr *vdso = si->sysinfo_ehdr;
  if (t_true("auxv/sysinfo-ehdr", vdso != NULL, "AT_SYSINFO_EHDR"))
    t_true("auxv/sysinfo-ehdr-elf", memcmp(vdso->e_ident, "\177ELF", 4) == 0,
           "the vDSO to start with an ELF header");
  t_eq("vdso/all-syscalls-linked", si->syscalls_linked, CLOUDABI_SYSCALL_COUNT);
}

void test_main(const argdata_t *config) {
  const struct rt_startinfo *si = rt_startinfo();

  check_canary(si);
  check_pid(si);

  t_true("auxv/tid-present", rt_auxv_seen(CLOUDABI_AT_TID), "AT_TID");
  t_true("auxv/tid-valid", si->tid != 0 && si->tid < (UINT32_C(1) << 30),
         "a thread ID in 1 .. 2^30-1");
  t_eq("auxv/tid-in-tls", rt_tid(), si->tid);

  t_true("auxv/pagesz", si->pagesz >= 4096 && (si->pagesz & (si->pagesz - 1)) == 0,
         "AT_PAGESZ a power of two, at least 4096");
  t_true("auxv/ncpus", rt_auxv_seen(CLOUDABI_AT_NCPUS) && si->ncpus >= 1, "AT_NCPUS >= 1");

  // The argument data is this test's configuration: the same bytes the
  // runtime passed to program_main.
  t_true("auxv/argdata", si->argdata == config->buf && si->argdatalen == config->len &&
                             si->argdatalen > 0,
         "AT_ARGDATA/AT_ARGDATALEN to be the config");

  check_elf(si);

  t_true("reloc/data-pointers", pointers[0] == &target_a && pointers[1] == &target_b,
         "relocated pointers in initialised data");
  t_true("reloc/function-pointer", hook_ptr == hook, "a relocated function pointer");
  hook_ptr();
}
