/*
 * What the payload's prebuilt programs (argv-exec.c, bench-native.c) use
 * instead of a C library and C runtime: raw system calls, a few string
 * helpers, the process entry and, for FreeBSD, the ELF brand. With it
 * freebsd-vm/run cross-builds them here with clang for
 * x86_64/aarch64-unknown-freebsd against the FreeBSD headers alone
 * (target/freebsd-headers; freebsd-vm/guest/build-freestanding), so the
 * FreeBSD VM image needs no C compiler. The same sources build for Linux
 * (x86-64, aarch64) for the offline tests.
 *
 * A program includes this once and defines
 *     int freestanding_main(int argc, char **argv);
 * whose result is the exit status.
 *
 * Facts it relies on (FreeBSD src, 14.x and 15.0):
 * - entry: the kernel starts the program with a pointer to argc, argv...
 *   in %rdi on amd64 and x0 on arm64 (exec_setregs in
 *   sys/amd64/amd64/exec_machdep.c and sys/arm64/arm64/exec_machdep.c);
 *   Linux leaves it in the stack pointer;
 * - system calls: number in %rax / x8, arguments in rdi rsi rdx r10 r8 r9
 *   / x0..x5, `syscall` / `svc #0`; on error the carry flag is set and
 *   the result is the errno (cpu_set_syscall_retval in
 *   sys/amd64/amd64/vm_machdep.c and sys/arm64/arm64/vm_machdep.c); the
 *   numbers come from the release's <sys/syscall.h>;
 * - the ELF brand: a ".note.tag" note, name "FreeBSD", type
 *   NT_FREEBSD_ABI_TAG (1), the __FreeBSD_version as its descriptor
 *   (lib/csu/common/crtbrand.S; the kernel's brand match in
 *   sys/kern/imgact_elf.c); lld also sets the ELF header's OS/ABI to
 *   FreeBSD for a *-freebsd target.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#ifndef FREESTANDING_H
#define FREESTANDING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/syscall.h>

#if defined(__FreeBSD__)
#ifndef __FreeBSD_version
/* FreeBSD's own headers define it here; the cross-build passes it (the
 * headers in target/freebsd-headers leave it to the compiler). */
#include <sys/param.h>
#endif
#elif !defined(__linux__)
#error "freestanding.h is for FreeBSD and Linux only"
#endif

int freestanding_main(int argc, char **argv);

/* --- system calls: the result, or -errno ------------------------------ */

static long sys(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
#if defined(__FreeBSD__)
  _Bool failed;
  __asm__ volatile("syscall"
                   : "+a"(n), "=@ccc"(failed), "+D"(a), "+S"(b), "+d"(c), "+r"(r10), "+r"(r8), "+r"(r9)
                   :
                   : "rcx", "r11", "memory");
  return failed ? -n : n;
#else
  __asm__ volatile("syscall"
                   : "+a"(n), "+D"(a), "+S"(b), "+d"(c), "+r"(r10), "+r"(r8), "+r"(r9)
                   :
                   : "rcx", "r11", "memory", "cc");
  return n;
#endif
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
#if defined(__FreeBSD__)
  long failed;
  __asm__ volatile("svc #0\n\tcset %[failed], cs"
                   : "+r"(x0), "+r"(x1), [failed] "=&r"(failed)
                   : "r"(x8), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory", "cc");
  return failed ? -x0 : x0;
#else
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory", "cc");
  return x0;
#endif
#else
#error "freestanding.h is for x86-64 and aarch64 only"
#endif
}

#define SYS1(n, a) sys((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) sys((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* --- what the compiler may call, and small string helpers --------------- */

void *memset(void *to, int c, size_t n);
void *memcpy(void *restrict to, const void *restrict from, size_t n);
void *memset(void *to, int c, size_t n) {
  volatile unsigned char *p = to;
  while (n--)
    *p++ = (unsigned char)c;
  return to;
}
void *memcpy(void *restrict to, const void *restrict from, size_t n) {
  volatile unsigned char *p = to;
  const unsigned char *q = from;
  while (n--)
    *p++ = *q++;
  return to;
}

static inline size_t length(const char *s) {
  size_t n = 0;
  while (s[n] != '\0')
    n++;
  return n;
}

static inline int same(const char *a, const char *b) {
  while (*a != '\0' && *a == *b)
    a++, b++;
  return *a == *b;
}

static inline int same_n(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

/* A decimal number in [0, max] making up the whole of s (up to end). */
static inline int number(const char *s, const char *end, unsigned long max, unsigned long *out) {
  unsigned long v = 0;
  if (s == end)
    return 0;
  for (; s != end; s++) {
    if (*s < '0' || *s > '9')
      return 0;
    unsigned long digit = (unsigned long)(*s - '0');
    if (digit > max || v > (max - digit) / 10)
      return 0;
    v = v * 10 + digit;
  }
  *out = v;
  return 1;
}

static inline const char *decimal(unsigned long v, char buf[24]) {
  char *p = buf + 23;
  *p = '\0';
  do
    *--p = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  return p;
}

static inline void put_fd(int fd, const char *s) { SYS3(SYS_write, fd, s, length(s)); }

/* --- entry ------------------------------------------------------------------ */

__attribute__((used, noreturn)) void freestanding_start(long *args);
__attribute__((used, noreturn)) void freestanding_start(long *args) {
  int status = freestanding_main((int)args[0], (char **)(args + 1));
#if defined(__linux__)
  SYS1(SYS_exit_group, status);
#else
  SYS1(SYS_exit, status);
#endif
  for (;;)
    ;
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
#if defined(__linux__)
        "  mov %rsp, %rdi\n"
#endif
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  call freestanding_start\n"
        "  ud2\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,%function\n"
        "_start:\n"
#if defined(__linux__)
        "  mov x0, sp\n"
#endif
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  bl freestanding_start\n"
        "  brk #0\n");
#endif

#if defined(__FreeBSD__)
/* The ABI note that brands the executable as FreeBSD's. */
static const struct {
  uint32_t namesz, descsz, type;
  char name[8];
  uint32_t desc;
} abi_tag __attribute__((section(".note.tag"), aligned(4), used)) = {8, 4, 1, "FreeBSD", __FreeBSD_version};
#endif

#endif
