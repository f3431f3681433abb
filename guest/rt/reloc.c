// Self-relocation: the first thing a CloudABI process does.
// SPDX-License-Identifier: BSD-2-Clause
//
// Programs are static position-independent executables (ET_DYN, no
// PT_INTERP): the system maps them anywhere and no dynamic linker runs.
// The only fix-ups such a program needs are "write load address + addend
// here" (R_X86_64_RELATIVE / R_AARCH64_RELATIVE), for pointers stored in
// data: the GOT, function pointer tables, initialised pointer variables.
// scripts/build-guest checks that no other kind exists in a binary.
//
// Until this has run, such pointers hold link-time addresses, so this code
// may only use PC-relative addressing: locals, hidden symbols and direct
// calls. It touches no TLS and no unsafe stack.

#include "rt_internal.h"

// Defined by the linker: the program's own dynamic section.
extern const Elf64_Dyn _DYNAMIC[] RT_HIDDEN;

RT_NO_SAFESTACK bool rt_relocate(char *base) {
  const Elf64_Rela *rela = NULL;
  size_t relasz = 0, relaent = sizeof(Elf64_Rela);
  bool ok = true;

  for (const Elf64_Dyn *d = _DYNAMIC; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_RELA:
        rela = (const Elf64_Rela *)(base + d->d_val);
        break;
      case DT_RELASZ:
        relasz = d->d_val;
        break;
      case DT_RELAENT:
        relaent = d->d_val;
        break;
      // Relocation tables of kinds a static PIE never has: refuse to run
      // rather than crash later on an unrelocated pointer.
      case DT_RELSZ:
      case DT_PLTRELSZ:
      case DT_RELRSZ:
        if (d->d_val != 0)
          ok = false;
        break;
      case DT_NEEDED:
      case DT_TEXTREL:
        ok = false;
        break;
    }
  }
  if (relaent != sizeof(Elf64_Rela))
    return false;

  for (size_t i = 0; i < relasz / sizeof(Elf64_Rela); ++i) {
    const Elf64_Rela *r = &rela[i];
    switch (ELF64_R_TYPE(r->r_info)) {
      case R_RELATIVE:
        *(uint64_t *)(base + r->r_offset) = (uint64_t)(uintptr_t)base + (uint64_t)r->r_addend;
        break;
      case R_NONE:
        break;
      default:
        ok = false;
        break;
    }
  }
  return ok;
}
