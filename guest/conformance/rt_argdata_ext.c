// rt_argdata_ext: the value types YAML spells with explicit tags or that
// older cloudabi-run versions did not convert: float, binary, timestamp.
// Kept apart from rt_argdata so that a runner without them fails only here.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

static void check_float(const argdata_t *config, const char *key, double want) {
  argdata_t v = {0};
  double got = 0;
  cloudabi_errno_t error = argdata_map_get(config, key, &v);
  if (error == 0)
    error = argdata_get_float(&v, &got);
  // Exact comparison: both values are exactly representable.
  t_check(key, error == 0 && got == want, "expected a float equal to the config got %s (type %s)",
          errno_name(error), argdata_type_name(argdata_type(&v)));
}

void test_main(const argdata_t *config) {
  check_float(config, "float", 1.5);
  check_float(config, "float_negative", -0.25);

  argdata_t v = {0};
  const void *data = NULL;
  size_t len = 0;
  cloudabi_errno_t error = argdata_map_get(config, "binary", &v);
  if (error == 0)
    error = argdata_get_binary(&v, &data, &len);
  if (error != 0)
    t_fail("binary", "expected binary data got %s (type %s)", errno_name(error),
           argdata_type_name(argdata_type(&v)));
  else
    t_eq_mem("binary", data, len, "\x00\x01hello\xff", 8);

  int64_t ns = 0;
  error = argdata_map_get(config, "timestamp", &v);
  if (error == 0)
    error = argdata_get_timestamp(&v, &ns);
  t_check("timestamp", error == 0 && ns == INT64_C(981173106000000000),
          "expected 981173106000000000 ns (2001-02-03T04:05:06Z) got %s %ld (type %s)",
          errno_name(error), (long)ns, argdata_type_name(argdata_type(&v)));
}
