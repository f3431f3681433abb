// rt_argdata: the configuration decodes as written in rt_argdata.yaml, and
// the reader survives malformed data (fixed cases, then every truncation
// and many byte changes of the real configuration).
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "test.h"

static argdata_t get(const argdata_t *config, const char *key) {
  argdata_t v = {0};
  cloudabi_errno_t error = argdata_map_get(config, key, &v);
  if (error != 0)
    t_fail(key, "expected the key in the config got %s", errno_name(error));
  return v;
}

static void check_int(const argdata_t *config, const char *key, int64_t want) {
  argdata_t v = get(config, key);
  int64_t got = 0;
  cloudabi_errno_t error = argdata_get_int(&v, &got);
  t_check(key, error == 0 && got == want, "expected %ld got %ld (%s, type %s)", (long)want,
          (long)got, errno_name(error), argdata_type_name(argdata_type(&v)));
}

static void check_str(const argdata_t *config, const char *key, const char *want) {
  argdata_t v = get(config, key);
  const char *s = "";
  size_t len = 0;
  cloudabi_errno_t error = argdata_get_str(&v, &s, &len);
  if (error != 0)
    t_fail(key, "expected a str got %s (type %s)", errno_name(error),
           argdata_type_name(argdata_type(&v)));
  else
    t_eq_str(key, s, len, want);
}

static void check_bool(const argdata_t *config, const char *key, bool want) {
  argdata_t v = get(config, key);
  bool got = !want;
  cloudabi_errno_t error = argdata_get_bool(&v, &got);
  t_check(key, error == 0 && got == want, "expected %s got %s (%s)", want ? "true" : "false",
          got ? "true" : "false", errno_name(error));
}

static void check_config(const argdata_t *config) {
  t_eq("type/config-is-map", argdata_type(config), ARGDATA_MAP);
  check_int(config, "zero", 0);
  check_int(config, "small", 42);
  check_int(config, "byte_boundary", 255);
  check_int(config, "negative", -1000);
  check_int(config, "int64_max", INT64_MAX);
  check_int(config, "int64_min", INT64_MIN);
  check_str(config, "string", "h\xc3\xa9llo, w\xc3\xb6rld \xe2\x9c\x93");
  check_str(config, "empty_string", "");
  check_bool(config, "flag_true", true);
  check_bool(config, "flag_false", false);
  argdata_t v = get(config, "nothing");
  t_eq("nothing", argdata_type(&v), ARGDATA_NULL);

  cloudabi_fd_t fd;
  v = get(config, "out");
  t_true("out", argdata_get_fd(&v, &fd) == 0 && fd == t_out, "an fd equal to the output fd");

  // seq: [1, "two", true, null, [3]]
  v = get(config, "list");
  argdata_iter_t it;
  argdata_t e[6];
  size_t n = 0;
  for (argdata_seq_iter(&it, &v); n < 6 && argdata_seq_next(&it, &e[n]);)
    ++n;
  int64_t i0 = 0, i4 = 0;
  const char *s1 = NULL;
  bool b2 = false;
  argdata_iter_t inner;
  argdata_t in0;
  bool ok = it.error == 0 && n == 5 && argdata_get_int(&e[0], &i0) == 0 && i0 == 1 &&
            argdata_get_str_c(&e[1], &s1) == 0 && strcmp(s1, "two") == 0 &&
            argdata_get_bool(&e[2], &b2) == 0 && b2 && argdata_type(&e[3]) == ARGDATA_NULL;
  if (ok) {
    argdata_seq_iter(&inner, &e[4]);
    ok = argdata_seq_next(&inner, &in0) && argdata_get_int(&in0, &i4) == 0 && i4 == 3 &&
         !argdata_seq_next(&inner, &in0) && inner.error == 0;
  }
  t_true("list", ok, "the seq [1, \"two\", true, null, [3]]");

  // map: {a: 1, b: {c: deep}}, iterated in order and looked up.
  v = get(config, "nested");
  argdata_t key, value, b;
  const char *k0 = NULL, *deep = NULL;
  n = 0;
  for (argdata_map_iter(&it, &v); argdata_map_next(&it, &key, &value);) {
    if (n++ == 0)
      argdata_get_str_c(&key, &k0);
  }
  ok = it.error == 0 && n == 2 && k0 != NULL && strcmp(k0, "a") == 0 &&
       argdata_map_get(&v, "b", &b) == 0 && argdata_map_get_str_c(&b, "c", &deep) == 0 &&
       strcmp(deep, "deep") == 0;
  t_true("nested", ok, "the map {a: 1, b: {c: deep}}");

  t_eq("map_get/missing-key", argdata_map_get(config, "no such key", &v), CLOUDABI_ENOENT);
  t_eq("map_get/not-a-map", argdata_map_get(&e[0], "a", &v), CLOUDABI_EINVAL);
  t_eq("get/wrong-type", argdata_get_fd(&e[0], &fd), CLOUDABI_EINVAL);
}

// A value from a byte string literal (sizeof - 1: without its NUL).
#define AD(bytes) argdata_from_buffer(bytes, sizeof(bytes) - 1)

static void check_ints(void) {
  static const struct {
    const char *name, *bytes;
    size_t len;
    cloudabi_errno_t error;
    int64_t value;
  } cases[] = {
      {"int/empty-is-zero", "\x05", 1, 0, 0},
      {"int/minus-one", "\x05\xff", 2, 0, -1},
      {"int/minus-128", "\x05\x80", 2, 0, -128},
      {"int/256", "\x05\x01\x00", 3, 0, 256},
      {"int/redundant-zeros", "\x05\x00\x00\x2a", 4, 0, 42},
      {"int/redundant-ones", "\x05\xff\xff\xfe", 4, 0, -2},
      {"int/too-big", "\x05\x00\x80\x00\x00\x00\x00\x00\x00\x00", 10, CLOUDABI_ERANGE, 0},
      {"int/too-small", "\x05\xff\x7f\xff\xff\xff\xff\xff\xff\xff", 10, CLOUDABI_ERANGE, 0},
      {"int/ten-bytes", "\x05\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", 11, CLOUDABI_ERANGE, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    argdata_t ad = argdata_from_buffer(cases[i].bytes, cases[i].len);
    int64_t v = 0;
    cloudabi_errno_t error = argdata_get_int(&ad, &v);
    t_check(cases[i].name, error == cases[i].error && (error != 0 || v == cases[i].value),
            "expected %s %ld got %s %ld", errno_name(cases[i].error), (long)cases[i].value,
            errno_name(error), (long)v);
  }
  argdata_t max = AD("\x05\x00\xff\xff\xff\xff\xff\xff\xff\xff");
  uint64_t u = 0;
  t_check("uint/max", argdata_get_uint(&max, &u) == 0 && u == UINT64_MAX, "expected 2^64-1");
  argdata_t neg = AD("\x05\xff");
  t_eq("uint/negative", argdata_get_uint(&neg, &u), CLOUDABI_ERANGE);
}

static void check_strings(void) {
  static const struct {
    const char *name, *bytes;
    size_t len;
    cloudabi_errno_t error;
  } cases[] = {
      {"str/no-nul", "\x08\x41\x42", 3, CLOUDABI_EINVAL},
      {"str/empty-payload", "\x08", 1, CLOUDABI_EINVAL},
      {"str/bad-continuation", "\x08\xc3\x28\x00", 4, CLOUDABI_EILSEQ},
      {"str/overlong", "\x08\xc0\x80\x00", 4, CLOUDABI_EILSEQ},
      {"str/surrogate", "\x08\xed\xa0\x80\x00", 5, CLOUDABI_EILSEQ},
      {"str/above-unicode", "\x08\xf4\x90\x80\x80\x00", 6, CLOUDABI_EILSEQ},
      {"str/truncated-sequence", "\x08\xe2\x82\x00", 4, CLOUDABI_EILSEQ},
      {"str/four-bytes", "\x08\xf0\x9f\x98\x80\x00", 6, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    argdata_t ad = argdata_from_buffer(cases[i].bytes, cases[i].len);
    const char *s;
    size_t len;
    t_eq(cases[i].name, argdata_get_str(&ad, &s, &len), cases[i].error);
  }
  argdata_t nul = AD("\x08\x61\x00\x62\x00");
  const char *s;
  size_t len = 0;
  t_check("str/embedded-nul", argdata_get_str(&nul, &s, &len) == 0 && len == 3,
          "expected a 3-byte string");
  t_eq("str_c/embedded-nul", argdata_get_str_c(&nul, &s), CLOUDABI_EINVAL);
}

static void check_other_scalars(void) {
  cloudabi_fd_t fd;
  bool b;
  double d;
  argdata_t fd3 = AD("\x03\x00\x00\x01"), fd5 = AD("\x03\x00\x00\x00\x01\x02");
  argdata_t fd_ok = AD("\x03\x00\x01\x02\x03");
  t_eq("fd/short", argdata_get_fd(&fd3, &fd), CLOUDABI_EINVAL);
  t_eq("fd/long", argdata_get_fd(&fd5, &fd), CLOUDABI_EINVAL);
  t_check("fd/big-endian", argdata_get_fd(&fd_ok, &fd) == 0 && fd == 0x10203,
          "expected 0x10203");
  argdata_t b2 = AD("\x02\x02"), b11 = AD("\x02\x01\x01");
  t_eq("bool/two", argdata_get_bool(&b2, &b), CLOUDABI_EINVAL);
  t_eq("bool/long", argdata_get_bool(&b11, &b), CLOUDABI_EINVAL);
  argdata_t f7 = AD("\x04\x3f\xf8\x00\x00\x00\x00\x00");
  argdata_t f8 = AD("\x04\x3f\xf8\x00\x00\x00\x00\x00\x00");
  t_eq("float/short", argdata_get_float(&f7, &d), CLOUDABI_EINVAL);
  t_check("float/1.5", argdata_get_float(&f8, &d) == 0 && d == 1.5, "expected 1.5");
  argdata_t empty = argdata_from_buffer(NULL, 0), unknown = AD("\x42\x00");
  t_eq("type/null", argdata_type(&empty), ARGDATA_NULL);
  t_eq("type/unknown-tag", argdata_type(&unknown), ARGDATA_UNKNOWN);
  t_eq("get/null-as-int", argdata_get_bool(&empty, &b), CLOUDABI_EINVAL);
}

// Iterates a container and reports (entries, error).
static void count(const argdata_t *ad, bool map, size_t *n, cloudabi_errno_t *error) {
  argdata_iter_t it;
  argdata_t k, v;
  *n = 0;
  if (map) {
    for (argdata_map_iter(&it, ad); argdata_map_next(&it, &k, &v);)
      ++*n;
  } else {
    for (argdata_seq_iter(&it, ad); argdata_seq_next(&it, &v);)
      ++*n;
  }
  *error = it.error;
}

static void check_containers(void) {
  static const struct {
    const char *name, *bytes;
    size_t len;
    bool map;
    size_t entries;
    cloudabi_errno_t error;
  } cases[] = {
      {"seq/example", "\x07\x81\x05\x82\x02\x01\x83\x08\x41\x00", 10, false, 3, 0},
      {"seq/empty", "\x07", 1, false, 0, 0},
      {"seq/null-entry", "\x07\x80", 2, false, 1, 0},
      {"seq/length-past-end", "\x07\x85\x05\x01", 4, false, 0, CLOUDABI_EINVAL},
      {"seq/overlong-length", "\x07\x00\x81\x05", 4, false, 0, CLOUDABI_EINVAL},
      {"seq/unterminated-length", "\x07\x01\x01", 3, false, 0, CLOUDABI_EINVAL},
      {"seq/huge-length", "\x07\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\xff", 12, false, 0,
       CLOUDABI_EINVAL},
      {"seq/good-then-bad", "\x07\x81\x05\x83\x05", 5, false, 1, CLOUDABI_EINVAL},
      {"map/key-without-value", "\x06\x81\x05", 3, true, 0, CLOUDABI_EINVAL},
      {"map/not-a-seq", "\x06\x81\x05\x81\x05", 5, false, 0, CLOUDABI_EINVAL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    argdata_t ad = argdata_from_buffer(cases[i].bytes, cases[i].len);
    size_t n;
    cloudabi_errno_t error;
    count(&ad, cases[i].map, &n, &error);
    t_check(cases[i].name, n == cases[i].entries && error == cases[i].error,
            "expected %zu entries and %s got %zu and %s", cases[i].entries,
            errno_name(cases[i].error), n, errno_name(error));
  }
}

// Visits every value of a tree with every getter; returns how many values
// it saw. Depth-limited: the reader itself does not recurse, this does.
static size_t walk(const argdata_t *ad, int depth) {
  const void *p;
  size_t len, n = 1;
  bool b;
  cloudabi_fd_t fd;
  double d;
  int64_t i;
  uint64_t u;
  const char *s;
  (void)argdata_get_binary(ad, &p, &len);
  (void)argdata_get_bool(ad, &b);
  (void)argdata_get_fd(ad, &fd);
  (void)argdata_get_float(ad, &d);
  (void)argdata_get_int(ad, &i);
  (void)argdata_get_uint(ad, &u);
  (void)argdata_get_str(ad, &s, &len);
  (void)argdata_get_str_c(ad, &s);
  (void)argdata_get_timestamp(ad, &i);
  if (depth == 0)
    return n;
  argdata_iter_t it;
  argdata_t k, v;
  for (argdata_seq_iter(&it, ad); argdata_seq_next(&it, &v);)
    n += walk(&v, depth - 1);
  for (argdata_map_iter(&it, ad); argdata_map_next(&it, &k, &v);)
    n += walk(&k, depth - 1) + walk(&v, depth - 1);
  return n;
}

// Every prefix of the configuration, and the configuration with each byte
// replaced by several values, held in an exactly sized mapping: reading one
// byte past a view would touch the guard area and crash the test.
static void check_mutations(const argdata_t *config) {
  size_t len = config->len;
  if (len == 0 || len > 16384)
    return;
  size_t page = rt_startinfo()->pagesz >= 4096 ? rt_startinfo()->pagesz : 4096;
  size_t maplen = (len + page - 1) / page * page + page;
  void *mem;
  if (!T_OK("mutations/mem_map",
            cloudabi_sys_mem_map(NULL, maplen, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                 CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE, CLOUDABI_MAP_ANON_FD,
                                 0, &mem)))
    return;
  // The copy ends exactly at an unreadable page.
  char *end = (char *)mem + maplen - page;
  (void)cloudabi_sys_mem_protect(end, page, 0);
  uint8_t *buf = (uint8_t *)end - len;
  memcpy(buf, config->buf, len);

  size_t visited = 0;
  for (size_t cut = 0; cut <= len; ++cut) {
    argdata_t ad = argdata_from_buffer(buf + len - cut, cut);  // the last `cut` bytes
    visited += walk(&ad, 8);
    ad = argdata_from_buffer(buf, cut);  // the first `cut` bytes
    visited += walk(&ad, 8);
  }
  static const uint8_t values[] = {0x00, 0x01, 0x05, 0x06, 0x07, 0x08, 0x7f, 0x80, 0x81, 0xff};
  for (size_t pos = 0; pos < len; ++pos) {
    uint8_t saved = buf[pos];
    for (size_t k = 0; k < sizeof(values); ++k) {
      buf[pos] = values[k];
      argdata_t ad = argdata_from_buffer(buf, len);
      visited += walk(&ad, 8);
    }
    buf[pos] = saved;
  }
  t_true("mutations/survived", visited > len, "to walk every truncated and mutated config");
  cloudabi_sys_mem_unmap(mem, maplen);
}

void test_main(const argdata_t *config) {
  check_config(config);
  check_ints();
  check_strings();
  check_other_scalars();
  check_containers();
  check_mutations(config);
}
