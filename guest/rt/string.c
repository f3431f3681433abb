// Memory and string functions. The compiler emits calls to memcpy, memmove,
// memset, memcmp and bcmp on its own (struct copies, zeroing), so they
// must exist; the build uses -ffreestanding so that these loops are not
// turned back into calls to themselves.
// SPDX-License-Identifier: BSD-2-Clause

#include <string.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n-- > 0)
      *d++ = *s++;
  } else if (d > s) {
    while (n-- > 0)
      d[n] = s[n];
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n-- > 0)
    *d++ = (unsigned char)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n > 0; --n, ++x, ++y) {
    if (*x != *y)
      return *x < *y ? -1 : 1;
  }
  return 0;
}

int bcmp(const void *a, const void *b, size_t n) {
  return memcmp(a, b, n);
}

void *memchr(const void *s, int c, size_t n) {
  const unsigned char *p = s;
  for (; n > 0; --n, ++p) {
    if (*p == (unsigned char)c)
      return (void *)p;
  }
  return NULL;
}

size_t strlen(const char *s) {
  const char *p = s;
  while (*p != '\0')
    ++p;
  return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n] != '\0')
    ++n;
  return n;
}

int strcmp(const char *a, const char *b) {
  for (; *a == *b; ++a, ++b) {
    if (*a == '\0')
      return 0;
  }
  return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; --n, ++a, ++b) {
    if (*a != *b)
      return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
    if (*a == '\0')
      return 0;
  }
  return 0;
}

char *strchr(const char *s, int c) {
  for (;; ++s) {
    if (*s == (char)c)
      return (char *)s;
    if (*s == '\0')
      return NULL;
  }
}
