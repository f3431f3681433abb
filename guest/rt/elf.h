// The few ELF64 definitions the runtime needs. There is no <elf.h> in a
// freestanding CloudABI build, and the runtime only reads its own program
// headers, its own dynamic section and the vDSO's symbol table.
// SPDX-License-Identifier: BSD-2-Clause

#ifndef RT_ELF_H
#define RT_ELF_H

#include <stdint.h>

typedef struct {
  unsigned char e_ident[16];
  uint16_t e_type;
  uint16_t e_machine;
  uint32_t e_version;
  uint64_t e_entry;
  uint64_t e_phoff;
  uint64_t e_shoff;
  uint32_t e_flags;
  uint16_t e_ehsize;
  uint16_t e_phentsize;
  uint16_t e_phnum;
  uint16_t e_shentsize;
  uint16_t e_shnum;
  uint16_t e_shstrndx;
} Elf64_Ehdr;

typedef struct {
  uint32_t p_type;
  uint32_t p_flags;
  uint64_t p_offset;
  uint64_t p_vaddr;
  uint64_t p_paddr;
  uint64_t p_filesz;
  uint64_t p_memsz;
  uint64_t p_align;
} Elf64_Phdr;

typedef struct {
  int64_t d_tag;
  uint64_t d_val;  // d_val and d_ptr share this word
} Elf64_Dyn;

typedef struct {
  uint32_t st_name;
  unsigned char st_info;
  unsigned char st_other;
  uint16_t st_shndx;
  uint64_t st_value;
  uint64_t st_size;
} Elf64_Sym;

typedef struct {
  uint64_t r_offset;
  uint64_t r_info;
  int64_t r_addend;
} Elf64_Rela;

_Static_assert(sizeof(Elf64_Ehdr) == 64, "Elf64_Ehdr");
_Static_assert(sizeof(Elf64_Phdr) == 56, "Elf64_Phdr");
_Static_assert(sizeof(Elf64_Dyn) == 16, "Elf64_Dyn");
_Static_assert(sizeof(Elf64_Sym) == 24, "Elf64_Sym");
_Static_assert(sizeof(Elf64_Rela) == 24, "Elf64_Rela");

#define ELFCLASS64 2

#define PT_DYNAMIC 2
#define PT_TLS 7
#define PT_GNU_RELRO 0x6474e552

#define DT_NULL 0
#define DT_NEEDED 1
#define DT_PLTRELSZ 2
#define DT_HASH 4
#define DT_STRTAB 5
#define DT_SYMTAB 6
#define DT_RELA 7
#define DT_RELASZ 8
#define DT_RELAENT 9
#define DT_STRSZ 10
#define DT_REL 17
#define DT_RELSZ 18
#define DT_TEXTREL 22
#define DT_JMPREL 23
#define DT_RELRSZ 35

#define SHN_UNDEF 0
#define STB_GLOBAL 1
#define STT_FUNC 2
#define STV_DEFAULT 0
#define ELF64_ST_BIND(info) ((info) >> 4)
#define ELF64_ST_TYPE(info) ((info)&0xf)
#define ELF64_ST_VISIBILITY(other) ((other)&0x3)

#define ELF64_R_TYPE(info) ((uint32_t)(info))
#if defined(__x86_64__)
#define R_RELATIVE 8  // R_X86_64_RELATIVE
#elif defined(__aarch64__)
#define R_RELATIVE 1027  // R_AARCH64_RELATIVE
#else
#error "unsupported architecture"
#endif
#define R_NONE 0  // both architectures

#endif
