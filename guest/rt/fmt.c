// A small printf: enough for diagnostics, HTTP headers and log lines.
// SPDX-License-Identifier: BSD-2-Clause

#include <fmt.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

// Where formatted output goes: a caller's buffer (snprintf), or a chunk
// that is written to a descriptor whenever it fills up (printf).
struct sink {
  char *buf;
  size_t size;   // capacity of buf
  size_t len;    // bytes in buf
  size_t total;  // bytes produced so far
  cloudabi_fd_t fd;
  bool to_fd;
  cloudabi_errno_t error;
};

cloudabi_errno_t write_all(cloudabi_fd_t fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    cloudabi_ciovec_t iov = {.buf = p, .buf_len = len};
    size_t n;
    cloudabi_errno_t error = cloudabi_sys_fd_write(fd, &iov, 1, &n);
    if (error != 0)
      return error;
    if (n == 0)
      return CLOUDABI_EIO;  // no progress: give up rather than spin
    p += n;
    len -= n;
  }
  return 0;
}

static void flush(struct sink *s) {
  if (s->to_fd && s->len > 0 && s->error == 0)
    s->error = write_all(s->fd, s->buf, s->len);
  s->len = 0;
}

static void put(struct sink *s, const char *p, size_t n) {
  s->total += n;
  while (n > 0) {
    if (s->len == s->size) {
      if (!s->to_fd)
        return;  // snprintf: drop what does not fit, keep counting
      flush(s);
    }
    size_t room = s->size - s->len;
    size_t k = n < room ? n : room;
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    p += k;
    n -= k;
  }
}

static void pad(struct sink *s, char c, size_t n) {
  while (n-- > 0)
    put(s, &c, 1);
}

// Puts `body` (of length n) into a field of `width`, right-aligned unless
// `left`. Zero padding goes between the sign and the digits.
static void field(struct sink *s, const char *sign, const char *body, size_t n, size_t width,
                  bool left, bool zero) {
  size_t signlen = strlen(sign);
  size_t fill = width > n + signlen ? width - n - signlen : 0;
  if (!left && !zero)
    pad(s, ' ', fill);
  put(s, sign, signlen);
  if (!left && zero)
    pad(s, '0', fill);
  put(s, body, n);
  if (left)
    pad(s, ' ', fill);
}

static void vformat(struct sink *s, const char *fmt, va_list ap) {
  for (const char *p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      const char *q = p;
      while (q[1] != '\0' && q[1] != '%')
        ++q;
      put(s, p, (size_t)(q - p + 1));
      p = q;
      continue;
    }
    ++p;

    bool left = false, zero = false;
    for (;; ++p) {
      if (*p == '-')
        left = true;
      else if (*p == '0')
        zero = true;
      else
        break;
    }
    size_t width = 0;
    if (*p == '*') {
      int w = va_arg(ap, int);
      if (w < 0) {
        left = true;
        w = -w;
      }
      width = (size_t)w;
      ++p;
    } else {
      while (*p >= '0' && *p <= '9')
        width = width * 10 + (size_t)(*p++ - '0');
    }
    size_t precision = SIZE_MAX;
    if (*p == '.') {
      ++p;
      if (*p == '*') {
        int pr = va_arg(ap, int);
        precision = pr < 0 ? SIZE_MAX : (size_t)pr;
        ++p;
      } else {
        precision = 0;
        while (*p >= '0' && *p <= '9')
          precision = precision * 10 + (size_t)(*p++ - '0');
      }
    }
    // Length modifiers: on LP64 everything longer than int is 64 bits;
    // h and hh narrow the (int-promoted) argument to short and char.
    int longs = 0, shorts = 0;
    for (;; ++p) {
      if (*p == 'l' || *p == 'z' || *p == 'j' || *p == 't')
        longs = 1;
      else if (*p == 'h')
        ++shorts;
      else
        break;
    }

    char digits[24];
    char *end = digits + sizeof(digits), *d = end;
    switch (*p) {
      case '%':
        put(s, "%", 1);
        break;
      case 'c': {
        char c = (char)va_arg(ap, int);
        field(s, "", &c, 1, width, left, false);
        break;
      }
      case 's': {
        const char *str = va_arg(ap, const char *);
        if (str == NULL)
          str = "(null)";
        size_t n = precision == SIZE_MAX ? strlen(str) : strnlen(str, precision);
        field(s, "", str, n, width, left, false);
        break;
      }
      case 'd':
      case 'i': {
        int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
        if (!longs && shorts == 1)
          v = (short)v;
        else if (!longs && shorts >= 2)
          v = (signed char)v;
        // Negate in unsigned arithmetic: INT64_MIN has no positive twin.
        uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        do
          *--d = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        field(s, v < 0 ? "-" : "", d, (size_t)(end - d), width, left, zero);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'p': {
        uint64_t u;
        if (*p == 'p')
          u = (uintptr_t)va_arg(ap, void *);
        else
          u = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
        if (*p != 'p' && !longs && shorts == 1)
          u = (unsigned short)u;
        else if (*p != 'p' && !longs && shorts >= 2)
          u = (unsigned char)u;
        unsigned base = *p == 'u' ? 10 : 16;
        const char *hex = *p == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        do
          *--d = hex[u % base];
        while ((u /= base) != 0);
        field(s, *p == 'p' ? "0x" : "", d, (size_t)(end - d), width, left, zero);
        break;
      }
      case '\0':
        return;  // a lone '%' at the end
      default:
        put(s, p - 1, 2);  // unknown conversion: print it as is
        break;
    }
  }
}

size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct sink s = {.buf = buf, .size = size > 0 ? size - 1 : 0};
  vformat(&s, fmt, ap);
  if (size > 0)
    buf[s.len] = '\0';
  return s.total;
}

size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = fmt_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

cloudabi_errno_t fmt_vprintf(cloudabi_fd_t fd, const char *fmt, va_list ap) {
  char chunk[512];
  struct sink s = {.buf = chunk, .size = sizeof(chunk), .fd = fd, .to_fd = true};
  vformat(&s, fmt, ap);
  flush(&s);
  return s.error;
}

cloudabi_errno_t fmt_printf(cloudabi_fd_t fd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cloudabi_errno_t error = fmt_vprintf(fd, fmt, ap);
  va_end(ap);
  return error;
}
