// A CloudABI program that uses nothing of the project: no runtime, no
// headers, no generated code. It is written from the system's side of the
// contract only, as FreeBSD's in-tree CloudABI kernel code set it up
// (sys/amd64/cloudabi64/cloudabi64_sysvec.c and
// sys/arm64/cloudabi64/cloudabi64_sysvec.c, cloudabi64_proc_setregs) and as
// cloudlibc's crt0 reads it:
//
// - _start is called like a C function with the auxiliary vector in the
//   first argument register (%rdi / x0);
// - the TCB lies right below the auxiliary vector: aarch64's tpidr_el0
//   points at it, x86-64's %fs base points at a word holding its address;
// - the vDSO's ELF image is at AT_SYSINFO_EHDR, its functions found
//   through PT_DYNAMIC, DT_HASH (nchain = number of symbols), DT_SYMTAB and
//   DT_STRTAB, under the names of the original ABI (cloudabi_sys_fd_write,
//   cloudabi_sys_proc_exit).
//
// Built by clang's CloudABI target without the SDK (scripts/check-arch):
//   clang-14 --target=ARCH-unknown-cloudabi -ffreestanding -nostdlib
//     -fuse-ld=lld -O2 -o bare bare.c
// It prints one line and exits 0, or exits with the number of the first
// check that failed (no static data with addresses: nothing needs
// relocating).
// SPDX-License-Identifier: BSD-2-Clause

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;

// The original ABI's values (cloudabi_types_common.h).
enum { AT_NULL = 0, AT_SYSINFO_EHDR = 262, AT_TID = 261 };
enum { PT_DYNAMIC = 2, DT_NULL = 0, DT_HASH = 4, DT_STRTAB = 5, DT_SYMTAB = 6 };

struct auxv {
  u64 type;
  u64 value;
};
struct ehdr {
  unsigned char ident[16];
  u16 type, machine;
  u32 version;
  u64 entry, phoff, shoff;
  u32 flags;
  u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
  u32 type, flags;
  u64 offset, vaddr, paddr, filesz, memsz, align;
};
struct dyn {
  long tag;
  u64 value;
};
struct sym {
  u32 name;
  unsigned char info, other;
  u16 shndx;
  u64 value, size;
};
struct ciovec {
  const void *buf;
  u64 len;
};

typedef u16 (*fd_write_t)(u32 fd, const struct ciovec *iovs, u64 n, u64 *written);
typedef void (*proc_exit_t)(u32 code);

static int same(const char *a, const char *b) {
  while (*a != '\0' && *a == *b)
    ++a, ++b;
  return *a == *b;
}

static u64 vdso_symbol(const char *base, const char *name) {
  const struct ehdr *eh = (const struct ehdr *)base;
  const struct dyn *dyn = 0;
  for (u32 i = 0; i < eh->phnum; ++i) {
    const struct phdr *ph = (const struct phdr *)(base + eh->phoff + i * (u64)eh->phentsize);
    if (ph->type == PT_DYNAMIC)
      dyn = (const struct dyn *)(base + ph->vaddr);
  }
  if (dyn == 0)
    return 0;
  const u32 *hash = 0;
  const struct sym *symtab = 0;
  const char *strtab = 0;
  for (; dyn->tag != DT_NULL; ++dyn) {
    if (dyn->tag == DT_HASH)
      hash = (const u32 *)(base + dyn->value);
    else if (dyn->tag == DT_SYMTAB)
      symtab = (const struct sym *)(base + dyn->value);
    else if (dyn->tag == DT_STRTAB)
      strtab = base + dyn->value;
  }
  if (hash == 0 || symtab == 0 || strtab == 0)
    return 0;
  for (u32 i = 0; i < hash[1]; ++i) {
    if (symtab[i].value != 0 && same(strtab + symtab[i].name, name))
      return (u64)base + symtab[i].value;
  }
  return 0;
}

static u64 tcb_address(void) {
  u64 tcb;
#if defined(__x86_64__)
  __asm__ volatile("mov %%fs:0, %0" : "=r"(tcb));
#elif defined(__aarch64__)
  __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tcb));
#else
#error "x86-64 or aarch64"
#endif
  return tcb;
}

// Without a vDSO nothing can be reported: the only way out is a fault.
static void die(void) {
  for (;;)
    __builtin_trap();
}

void _start(const struct auxv *auxv) {
  u64 ehdr = 0, tid = 0;
  for (const struct auxv *a = auxv; a->type != AT_NULL; ++a) {
    if (a->type == AT_SYSINFO_EHDR)
      ehdr = a->value;
    else if (a->type == AT_TID)
      tid = a->value;
  }
  if (ehdr == 0)
    die();
  fd_write_t fd_write = (fd_write_t)vdso_symbol((const char *)ehdr, "cloudabi_sys_fd_write");
  proc_exit_t proc_exit = (proc_exit_t)vdso_symbol((const char *)ehdr, "cloudabi_sys_proc_exit");
  if (fd_write == 0 || proc_exit == 0)
    die();
  if (tcb_address() != (u64)auxv - 8)
    proc_exit(3);
  if (tid < 2)
    proc_exit(4);

  char line[] = "bare: hello without the project's runtime, thread 0000000000\n";
  char *digits = line + sizeof(line) - 2;
  for (int i = 0; i < 10; ++i, tid /= 10)
    *--digits = (char)('0' + tid % 10);
  struct ciovec iov = {line, sizeof(line) - 1};
  u64 written = 0;
  if (fd_write(1, &iov, 1, &written) != 0 || written != iov.len)
    proc_exit(5);
  proc_exit(0);
  die();
}
