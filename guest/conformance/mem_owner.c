// The memory calls only reach the program's own memory (issue 13, D4).
// Under cloudabi-run on Linux the program shares its process with the
// runner: mem_map(FIXED), mem_unmap, mem_protect and mem_advise on the
// runner's code (where the emulated vDSO's trap slot points) are EINVAL
// and leave it working. The program's own image, stack and mappings, and
// free address space for a fixed mapping, stay usable. On a native kernel
// the whole address space is the program's: the case only checks its vDSO.
// SPDX-License-Identifier: BSD-2-Clause

#include "proc.h"
#include "test.h"

#if defined(__x86_64__)

extern void *__cloudabi_syscalls[];

// The address the emulated vDSO's first entry calls through
// (`call *slot(%rip)`, ff 15 disp32): code of the runner. NULL when the
// vDSO enters a kernel (`syscall`, 0f 05).
static uintptr_t runner_code(void) {
  const unsigned char *p = __cloudabi_syscalls[0];
  for (int i = 0; i < 16; ++i) {
    if (p[i] == 0x0f && p[i + 1] == 0x05)
      return 0;
    if (p[i] == 0xff && p[i + 1] == 0x15) {
      int32_t disp;
      memcpy(&disp, p + i + 2, sizeof(disp));
      uintptr_t slot = (uintptr_t)(p + i + 6) + disp;
      return *(const uintptr_t *)slot;
    }
  }
  return 0;
}

// A function of this program's own image.
static int own_code(void) {
  return 42;
}

void test_main(const argdata_t *config) {
  (void)config;
  uintptr_t code = runner_code();
  if (code == 0) {
    t_true("mem_owner/native-kernel", true, "");
    return;
  }
  size_t pg = t_pagesz();
  void *page = (void *)(code & ~(uintptr_t)(pg - 1));
  void *vdso = (void *)((uintptr_t)__cloudabi_syscalls[0] & ~(uintptr_t)(pg - 1));
  // Each attempt runs in a forked child, which checks for EINVAL and then
  // that the runner still answers; had one gone through, the child would
  // crash in the runner, and the parent sees that as its status.
  static const char *names[] = {"map-fixed-runner", "protect-runner",  "protect-runner-none", "advise-runner",
                                "unmap-runner",     "unmap-vdso",      "protect-vdso",        "map-fixed-vdso"};
  for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); ++i) {
    char name[64];
    fmt_snprintf(name, sizeof(name), "mem_owner/%s", names[i]);
    cloudabi_fd_t child;
    cloudabi_tid_t tid;
    if (!T_OK(name, t_fork(&child, &tid)))
      return;
    if (child == CLOUDABI_PROCESS_CHILD) {
      void *got, *at = i < 5 ? page : vdso;
      cloudabi_errno_t e;
      switch (i) {
        case 1: e = cloudabi_sys_mem_protect(at, pg, CLOUDABI_PROT_READ); break;
        case 2: case 6: e = cloudabi_sys_mem_protect(at, pg, 0); break;
        case 3: e = cloudabi_sys_mem_advise(at, pg, CLOUDABI_ADVICE_DONTNEED); break;
        case 4: case 5: e = cloudabi_sys_mem_unmap(at, pg); break;
        default:
          e = cloudabi_sys_mem_map(at, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                   CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE | CLOUDABI_MAP_FIXED, CLOUDABI_MAP_ANON_FD,
                                   0, &got);
      }
      T_ERRNO(name, e, E(INVAL));
      fmt_snprintf(name, sizeof(name), "mem_owner/%s-runner-works", names[i]);
      t_true(name, cloudabi_sys_thread_yield() == 0, "syscalls to work");
      t_child_exit();
    }
    fmt_snprintf(name, sizeof(name), "mem_owner/%s-child", names[i]);
    t_check_exit(name, child, 0);
    cloudabi_sys_fd_close(child);
  }
  void *got;
  char *m = t_map_anon("mem_owner/setup", 2 * pg);
  if (m == NULL)
    return;
  t_true("mem_owner/runner-still-works", cloudabi_sys_thread_yield() == 0, "syscalls to work");

  // The program's own memory: its mappings, image and stack.
  T_OK("mem_owner/protect-own-mapping", cloudabi_sys_mem_protect(m, pg, CLOUDABI_PROT_READ));
  T_OK("mem_owner/advise-own-mapping", cloudabi_sys_mem_advise(m, 2 * pg, CLOUDABI_ADVICE_DONTNEED));
  void *text = (void *)((uintptr_t)&own_code & ~(uintptr_t)(pg - 1));
  T_OK("mem_owner/advise-own-image", cloudabi_sys_mem_advise(text, pg, CLOUDABI_ADVICE_WILLNEED));
  T_OK("mem_owner/protect-own-image", cloudabi_sys_mem_protect(text, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_EXEC));
  t_eq("mem_owner/own-image-runs", own_code(), 42);
  char local = 1;
  void *stack = (void *)((uintptr_t)&local & ~(uintptr_t)(pg - 1));
  T_OK("mem_owner/advise-own-stack", cloudabi_sys_mem_advise(stack, pg, CLOUDABI_ADVICE_WILLNEED));
  T_OK("mem_owner/map-fixed-own",
       cloudabi_sys_mem_map(m, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                            CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE | CLOUDABI_MAP_FIXED, CLOUDABI_MAP_ANON_FD, 0,
                            &got));
  // Unmapped, the range can be unmapped again and mapped again.
  T_OK("mem_owner/unmap-own", cloudabi_sys_mem_unmap(m, 2 * pg));
  T_OK("mem_owner/unmap-own-again", cloudabi_sys_mem_unmap(m, 2 * pg));
  T_ERRNO("mem_owner/protect-released", cloudabi_sys_mem_protect(m, pg, CLOUDABI_PROT_READ), E(INVAL), E(NOMEM));
  if (T_OK("mem_owner/map-fixed-free",
           cloudabi_sys_mem_map(m, pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE | CLOUDABI_MAP_FIXED, CLOUDABI_MAP_ANON_FD,
                                0, &got))) {
    t_true("mem_owner/map-fixed-free-address", got == m, "the address asked for");
    m[0] = 7;
    T_OK("mem_owner/map-fixed-free-unmap", cloudabi_sys_mem_unmap(m, pg));
  }
  t_true("mem_owner/runner-still-works-after", cloudabi_sys_thread_yield() == 0, "syscalls to work");
}

#else

void test_main(const argdata_t *config) {
  (void)config;
  t_true("mem_owner/not-x86-64", true, "");
}

#endif
