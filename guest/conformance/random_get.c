// random_get: fills buffers of any size with random bytes.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0)
      return false;
  }
  return true;
}

void test_main(const argdata_t *config) {
  (void)config;
  uint8_t a[64], b[64];
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  if (T_OK("random_get/fill", cloudabi_sys_random_get(a, sizeof(a))))
    t_true("random_get/not-zero", !all_zero(a, sizeof(a)), "64 bytes that are not all zero");
  if (T_OK("random_get/again", cloudabi_sys_random_get(b, sizeof(b))))
    t_true("random_get/differs", memcmp(a, b, sizeof(a)) != 0, "two fills to differ");
  // Odd sizes and offsets.
  memset(a, 0, sizeof(a));
  if (T_OK("random_get/one-byte", cloudabi_sys_random_get(a + 3, 1)))
    t_true("random_get/one-byte-only", all_zero(a, 3) && all_zero(a + 4, sizeof(a) - 4),
           "only the requested byte written");
  T_OK("random_get/zero-length", cloudabi_sys_random_get(a, 0));
  T_OK("random_get/zero-length-null", cloudabi_sys_random_get(NULL, 0));
  // Large requests are filled completely.
  size_t big = 1024 * 1024;
  uint8_t *m = t_map_anon("random_get/setup-large", big);
  if (m != NULL) {
    if (T_OK("random_get/large", cloudabi_sys_random_get(m, big)))
      t_true("random_get/large-filled", !all_zero(m + big - 64, 64), "the end of a 1 MiB buffer filled");
    cloudabi_sys_mem_unmap(m, big);
  }
  T_ERRNO("random_get/efault", cloudabi_sys_random_get(T_BADPTR, 16), E(FAULT));
}
