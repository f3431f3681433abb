// Linking against the vDSO: how a CloudABI program finds its syscalls.
// SPDX-License-Identifier: BSD-2-Clause
//
// The system maps a small ELF shared object, linked at address 0, and
// passes its address in AT_SYSINFO_EHDR. Its PT_DYNAMIC leads to a SysV
// hash table (DT_HASH, whose second word, nchain, is the number of
// symbols), the symbol table and the string table. Every global, default
// visibility function named cloudabi_sys_<name> implements syscall <name>;
// its address is the vDSO's base plus st_value. How it enters the kernel
// (or the Linux backend) is its business: syscall numbers and trap
// conventions never appear in programs.

#include <string.h>

#include "rt_internal.h"

// Every syscall the vDSO does not provide answers ENOSYS.
static cloudabi_errno_t enosys(void) {
  return CLOUDABI_ENOSYS;
}

// The names in table order, NUL-separated, ending with an empty name. A
// char array rather than an array of pointers: it needs no relocation.
#define RT_NAME(name) #name "\0"
static const char names[] = CLOUDABI_SYSCALL_NAMES(RT_NAME);
#undef RT_NAME

static int syscall_index(const char *name) {
  int i = 0;
  for (const char *n = names; *n != '\0'; n += strlen(n) + 1, ++i) {
    if (strcmp(n, name) == 0)
      return i;
  }
  return -1;
}

RT_NO_SAFESTACK unsigned int rt_vdso_link(const void *ehdr_ptr) {
  for (size_t i = 0; i < CLOUDABI_SYSCALL_COUNT; ++i)
    __cloudabi_syscalls[i] = (void *)enosys;
  if (ehdr_ptr == NULL)
    return 0;

  const char *base = ehdr_ptr;
  const Elf64_Ehdr *ehdr = ehdr_ptr;
  if (memcmp(ehdr->e_ident, "\177ELF", 4) != 0 || ehdr->e_ident[4] != ELFCLASS64)
    return 0;

  const Elf64_Dyn *dyn = NULL;
  for (size_t i = 0; i < ehdr->e_phnum; ++i) {
    const Elf64_Phdr *ph =
        (const Elf64_Phdr *)(base + ehdr->e_phoff + i * (size_t)ehdr->e_phentsize);
    if (ph->p_type == PT_DYNAMIC) {
      dyn = (const Elf64_Dyn *)(base + ph->p_vaddr);
      break;
    }
  }
  if (dyn == NULL)
    return 0;

  const uint32_t *hash = NULL;
  const Elf64_Sym *symtab = NULL;
  const char *strtab = NULL;
  size_t strsz = SIZE_MAX;
  for (; dyn->d_tag != DT_NULL; ++dyn) {
    switch (dyn->d_tag) {
      case DT_HASH:
        hash = (const uint32_t *)(base + dyn->d_val);
        break;
      case DT_SYMTAB:
        symtab = (const Elf64_Sym *)(base + dyn->d_val);
        break;
      case DT_STRTAB:
        strtab = base + dyn->d_val;
        break;
      case DT_STRSZ:
        strsz = dyn->d_val;
        break;
    }
  }
  if (hash == NULL || symtab == NULL || strtab == NULL)
    return 0;

  static const char prefix[] = "cloudabi_sys_";
  unsigned int found = 0;
  uint32_t nsyms = hash[1];
  for (uint32_t i = 0; i < nsyms; ++i) {
    const Elf64_Sym *sym = &symtab[i];
    if (ELF64_ST_BIND(sym->st_info) != STB_GLOBAL || ELF64_ST_TYPE(sym->st_info) != STT_FUNC ||
        ELF64_ST_VISIBILITY(sym->st_other) != STV_DEFAULT || sym->st_shndx == SHN_UNDEF ||
        sym->st_name == 0 || sym->st_name >= strsz)
      continue;
    const char *name = strtab + sym->st_name;
    if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
      continue;
    int index = syscall_index(name + sizeof(prefix) - 1);
    // The first definition of a name wins; later duplicates are ignored.
    if (index >= 0 && __cloudabi_syscalls[index] == (void *)enosys) {
      __cloudabi_syscalls[index] = (void *)(base + sym->st_value);
      ++found;
    }
  }
  return found;
}
