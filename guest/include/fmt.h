// A small formatted writer: printf-style formatting into a buffer or onto
// a descriptor, without stdio.
// SPDX-License-Identifier: BSD-2-Clause
//
// Conversions: %% %c %s %d %i %u %x %X %p, with the flags '-' and '0', a
// field width, a precision for %s (also as '*'), and the length modifiers
// hh, h, l, ll, z, j and t (all integers are at most 64 bits on LP64).
// There is no floating point.

#ifndef FMT_H
#define FMT_H

#include <cloudabi.h>
#include <stdarg.h>
#include <stddef.h>

// Formats into buf (always NUL-terminated when size > 0). Returns the
// length the full output would have had, as snprintf does.
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

// Formats onto fd, writing in chunks as the output grows. Returns 0 or the
// first error of fd_write.
cloudabi_errno_t fmt_printf(cloudabi_fd_t fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
cloudabi_errno_t fmt_vprintf(cloudabi_fd_t fd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

// Writes all of buf to fd, repeating fd_write after short writes.
cloudabi_errno_t write_all(cloudabi_fd_t fd, const void *buf, size_t len);

// The symbolic name of a CloudABI errno ("ENOENT"; "ESUCCESS" for 0), or
// "E?" for a value the ABI does not define.
const char *errno_name(cloudabi_errno_t error);

#endif
