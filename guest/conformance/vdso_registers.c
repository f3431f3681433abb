// vdso_registers: a system call leaves the caller's registers as the C
// calling convention promises, whatever the caller's registers hold, and
// the thread pointer as the caller set it.
// SPDX-License-Identifier: BSD-2-Clause
//
// An assembly probe loads a pattern into every callee-saved register (and
// on aarch64 into x18, the platform register, and a bogus value into
// tpidr_el0, the thread pointer the guest owns), calls
// cloudabi_sys_clock_time_get through the runtime's trampoline and stores
// what the registers hold afterwards. A kernel preserves all of them; the
// Linux backend's entry code must too, and must not depend on the thread
// pointer to find its own state (docs/ARCHITECTURE.md, "The aarch64
// entry"). The probe runs without touching TLS or the SafeStack while the
// thread pointer is bogus.

#include "test.h"

// probe(&time, bogus_tp, after): returns the call's errno; after[] holds the
// registers after the call (x86-64: rbx rbp r12 r13 r14 r15; aarch64:
// x18..x28, x29, tpidr_el0).
uint64_t vdso_registers_probe(cloudabi_timestamp_t *time, uint64_t bogus_tp, uint64_t *after);

#if defined(__x86_64__)
#define NREGS 6
static const char *const names[NREGS] = {"rbx", "rbp", "r12", "r13", "r14", "r15"};
__asm__(
    "\t.text\n"
    "\t.globl vdso_registers_probe\n"
    "\t.type vdso_registers_probe, @function\n"
    "vdso_registers_probe:\n"
    "\tpush %rbp\n\tpush %rbx\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
    "\tpush %rdx\n"  // after
    "\tsub $8, %rsp\n"  // 16-byte alignment at the call
    "\tmov %rdi, %rdx\n"  // time
    "\tmov $1, %edi\n"  // CLOUDABI_CLOCK_MONOTONIC
    "\txor %esi, %esi\n"  // precision
    "\tmovabs $0x0b0b0b0b0b0b0b01, %rbx\n"
    "\tmovabs $0x0b0b0b0b0b0b0b02, %rbp\n"
    "\tmovabs $0x0b0b0b0b0b0b0b03, %r12\n"
    "\tmovabs $0x0b0b0b0b0b0b0b04, %r13\n"
    "\tmovabs $0x0b0b0b0b0b0b0b05, %r14\n"
    "\tmovabs $0x0b0b0b0b0b0b0b06, %r15\n"
    "\tcall cloudabi_sys_clock_time_get\n"
    "\tadd $8, %rsp\n"
    "\tpop %rdx\n"
    "\tmov %rbx, 0(%rdx)\n\tmov %rbp, 8(%rdx)\n\tmov %r12, 16(%rdx)\n"
    "\tmov %r13, 24(%rdx)\n\tmov %r14, 32(%rdx)\n\tmov %r15, 40(%rdx)\n"
    "\tmovzwl %ax, %eax\n"
    "\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbx\n\tpop %rbp\n"
    "\tret\n"
    "\t.size vdso_registers_probe, . - vdso_registers_probe\n");

static uint64_t pattern(int i) {
  return UINT64_C(0x0b0b0b0b0b0b0b01) + (uint64_t)i;
}
#elif defined(__aarch64__)
#define NREGS 13
static const char *const names[NREGS] = {"x18", "x19", "x20", "x21", "x22", "x23", "x24",
                                         "x25", "x26", "x27", "x28", "x29", "tpidr_el0"};
__asm__(
    "\t.text\n"
    "\t.globl vdso_registers_probe\n"
    "\t.type vdso_registers_probe, %function\n"
    "vdso_registers_probe:\n"
    "\tstp x29, x30, [sp, #-128]!\n"
    "\tstp x19, x20, [sp, #16]\n\tstp x21, x22, [sp, #32]\n\tstp x23, x24, [sp, #48]\n"
    "\tstp x25, x26, [sp, #64]\n\tstp x27, x28, [sp, #80]\n"
    "\tmrs x3, tpidr_el0\n"
    "\tstp x2, x3, [sp, #96]\n"  // after, the real thread pointer
    "\tstr x18, [sp, #112]\n"
    "\tmsr tpidr_el0, x1\n"
    "\tmov x2, x0\n"  // time
    "\tmov w0, #1\n"  // CLOUDABI_CLOCK_MONOTONIC
    "\tmov x1, #0\n"  // precision
    "\tmovz x18, #0x1801\n\tmovk x18, #0x0b0b, lsl #48\n"
    "\tmovz x19, #0x1802\n\tmovk x19, #0x0b0b, lsl #48\n"
    "\tmovz x20, #0x1803\n\tmovk x20, #0x0b0b, lsl #48\n"
    "\tmovz x21, #0x1804\n\tmovk x21, #0x0b0b, lsl #48\n"
    "\tmovz x22, #0x1805\n\tmovk x22, #0x0b0b, lsl #48\n"
    "\tmovz x23, #0x1806\n\tmovk x23, #0x0b0b, lsl #48\n"
    "\tmovz x24, #0x1807\n\tmovk x24, #0x0b0b, lsl #48\n"
    "\tmovz x25, #0x1808\n\tmovk x25, #0x0b0b, lsl #48\n"
    "\tmovz x26, #0x1809\n\tmovk x26, #0x0b0b, lsl #48\n"
    "\tmovz x27, #0x180a\n\tmovk x27, #0x0b0b, lsl #48\n"
    "\tmovz x28, #0x180b\n\tmovk x28, #0x0b0b, lsl #48\n"
    "\tmovz x29, #0x180c\n\tmovk x29, #0x0b0b, lsl #48\n"
    "\tbl cloudabi_sys_clock_time_get\n"
    "\tmrs x3, tpidr_el0\n"
    "\tldr x2, [sp, #96]\n"
    "\tstp x18, x19, [x2, #0]\n\tstp x20, x21, [x2, #16]\n\tstp x22, x23, [x2, #32]\n"
    "\tstp x24, x25, [x2, #48]\n\tstp x26, x27, [x2, #64]\n\tstp x28, x29, [x2, #80]\n"
    "\tstr x3, [x2, #96]\n"
    "\tldr x3, [sp, #104]\n"
    "\tmsr tpidr_el0, x3\n"
    "\tldr x18, [sp, #112]\n"
    "\tand x0, x0, #0xffff\n"
    "\tldp x19, x20, [sp, #16]\n\tldp x21, x22, [sp, #32]\n\tldp x23, x24, [sp, #48]\n"
    "\tldp x25, x26, [sp, #64]\n\tldp x27, x28, [sp, #80]\n"
    "\tldp x29, x30, [sp], #128\n"
    "\tret\n"
    "\t.size vdso_registers_probe, . - vdso_registers_probe\n");

// The bogus thread pointer: an address nothing is mapped at.
#define BOGUS_TP UINT64_C(0x10)

static uint64_t pattern(int i) {
  return i == NREGS - 1 ? BOGUS_TP : UINT64_C(0x0b0b000000001801) + (uint64_t)i;
}
#else
#error "x86-64 or aarch64"
#endif

#ifndef BOGUS_TP
#define BOGUS_TP 0
#endif

void test_main(const argdata_t *config) {
  (void)config;
  // Three calls in a row: the first one leaves nothing behind that the
  // next ones depend on.
  bool ok[NREGS];
  uint64_t first[NREGS] = {0};
  for (int i = 0; i < NREGS; ++i)
    ok[i] = true;
  for (int round = 0; round < 3; ++round) {
    cloudabi_timestamp_t time = 0;
    uint64_t after[NREGS] = {0};
    uint64_t error = vdso_registers_probe(&time, BOGUS_TP, after);
    if (round == 0) {
      T_OK("vdso_registers/call", (cloudabi_errno_t)error);
      t_true("vdso_registers/result", time != 0, "a monotonic time stored through the pointer");
      memcpy(first, after, sizeof(first));
    }
    for (int i = 0; i < NREGS; ++i)
      ok[i] &= after[i] == pattern(i);
  }
  for (int i = 0; i < NREGS; ++i) {
    char name[48] = "vdso_registers/";
    size_t len = strlen(name);
    memcpy(name + len, names[i], strlen(names[i]) + 1);
    if (ok[i])
      t_eq_hex(name, pattern(i), pattern(i));
    else
      t_eq_hex(name, first[i] != pattern(i) ? first[i] : 0, pattern(i));
  }
}
