// The cloudabi_sys_* functions declared in cloudabi.h, and the table they
// jump through.
// SPDX-License-Identifier: BSD-2-Clause
//
// CloudABI programs contain no syscall numbers: at startup vdso.c looks
// every cloudabi_sys_<name> up in the vDSO and stores its address in slot
// <number> of __cloudabi_syscalls (the order of CLOUDABI_SYSCALL_NAMES).
// Each function here is a bare indirect jump through its slot. A jump
// leaves every register and the stack exactly as the caller set them up,
// so all arguments reach the vDSO untouched, including mem_map's seventh,
// which x86-64 passes on the stack; and the vDSO returns straight to our
// caller.
//
// The table is written in the same assembly block so that each slot can
// have a local label: the trampolines then need no arithmetic on syscall
// numbers. All references are PC-relative, so none needs a relocation.

#include <cloudabi.h>

#if defined(__x86_64__)
#define JUMP_THROUGH(slot) "\tjmp *" slot "(%rip)\n"
#elif defined(__aarch64__)
// x16 (IP0) is the register AAPCS64 sets aside for veneers like this one.
#define JUMP_THROUGH(slot)              \
  "\tadrp x16, " slot "\n"              \
  "\tldr x16, [x16, :lo12:" slot "]\n"  \
  "\tbr x16\n"
#else
#error "unsupported architecture"
#endif

#define TRAMPOLINE(name)                                              \
  "\t.globl cloudabi_sys_" #name "\n"                                 \
  "\t.type cloudabi_sys_" #name ", %function\n"                       \
  "\t.p2align 4\n"                                                    \
  "cloudabi_sys_" #name ":\n" JUMP_THROUGH(".Lslot_" #name)           \
  "\t.size cloudabi_sys_" #name ", . - cloudabi_sys_" #name "\n"

#define SLOT(name) ".Lslot_" #name ":\n\t.zero 8\n"

__asm__(
    "\t.pushsection .text.cloudabi_sys,\"ax\",%progbits\n"
    CLOUDABI_SYSCALL_NAMES(TRAMPOLINE)
    "\t.popsection\n"

    // 16-byte alignment: the x86-64 ABI lets the compiler assume it for any
    // array of 16 bytes or more, and use aligned vector stores on it.
    "\t.pushsection .bss.cloudabi_sys,\"aw\",%nobits\n"
    "\t.p2align 4\n"
    "\t.globl __cloudabi_syscalls\n"
    "\t.hidden __cloudabi_syscalls\n"
    "\t.type __cloudabi_syscalls, %object\n"
    "__cloudabi_syscalls:\n"
    CLOUDABI_SYSCALL_NAMES(SLOT)
    "\t.size __cloudabi_syscalls, . - __cloudabi_syscalls\n"
    "\t.popsection\n");
