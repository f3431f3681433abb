// The argdata reader (see argdata.h for the encoding).
// SPDX-License-Identifier: BSD-2-Clause
//
// Every read is checked against the length of the view it comes from:
// subfield lengths are validated against the bytes left in their container
// before a view is made, so no view ever extends past the original buffer.

#include <argdata.h>
#include <string.h>

argdata_t argdata_from_buffer(const void *buf, size_t len) {
  return (argdata_t){.buf = len > 0 ? buf : NULL, .len = len};
}

argdata_type_t argdata_type(const argdata_t *ad) {
  if (ad->len == 0)
    return ARGDATA_NULL;
  uint8_t tag = ad->buf[0];
  return tag >= ARGDATA_BINARY && tag <= ARGDATA_TIMESTAMP ? (argdata_type_t)tag
                                                            : ARGDATA_UNKNOWN;
}

const char *argdata_type_name(argdata_type_t type) {
  switch (type) {
    case ARGDATA_NULL:
      return "null";
    case ARGDATA_BINARY:
      return "binary";
    case ARGDATA_BOOL:
      return "bool";
    case ARGDATA_FD:
      return "fd";
    case ARGDATA_FLOAT:
      return "float";
    case ARGDATA_INT:
      return "int";
    case ARGDATA_MAP:
      return "map";
    case ARGDATA_SEQ:
      return "seq";
    case ARGDATA_STR:
      return "str";
    case ARGDATA_TIMESTAMP:
      return "timestamp";
    default:
      return "unknown";
  }
}

// The payload of a value with tag `type`, or false if it has another type.
static bool payload(const argdata_t *ad, argdata_type_t type, const uint8_t **p, size_t *n) {
  if (ad->len == 0 || ad->buf[0] != (uint8_t)type)
    return false;
  *p = ad->buf + 1;
  *n = ad->len - 1;
  return true;
}

cloudabi_errno_t argdata_get_binary(const argdata_t *ad, const void **data, size_t *len) {
  const uint8_t *p;
  size_t n;
  if (!payload(ad, ARGDATA_BINARY, &p, &n))
    return CLOUDABI_EINVAL;
  *data = p;
  *len = n;
  return 0;
}

cloudabi_errno_t argdata_get_bool(const argdata_t *ad, bool *value) {
  const uint8_t *p;
  size_t n;
  if (!payload(ad, ARGDATA_BOOL, &p, &n))
    return CLOUDABI_EINVAL;
  if (n == 0) {
    *value = false;
  } else if (n == 1 && p[0] == 1) {
    *value = true;
  } else {
    return CLOUDABI_EINVAL;
  }
  return 0;
}

static uint64_t load_be(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = v << 8 | p[i];
  return v;
}

cloudabi_errno_t argdata_get_fd(const argdata_t *ad, cloudabi_fd_t *fd) {
  const uint8_t *p;
  size_t n;
  if (!payload(ad, ARGDATA_FD, &p, &n) || n != 4)
    return CLOUDABI_EINVAL;
  *fd = (cloudabi_fd_t)load_be(p, 4);
  return 0;
}

cloudabi_errno_t argdata_get_float(const argdata_t *ad, double *value) {
  const uint8_t *p;
  size_t n;
  if (!payload(ad, ARGDATA_FLOAT, &p, &n) || n != 8)
    return CLOUDABI_EINVAL;
  uint64_t bits = load_be(p, 8);
  memcpy(value, &bits, sizeof(*value));
  return 0;
}

// Decodes a big-endian two's complement integer of any length (the int
// and timestamp payloads) into a sign and 64-bit magnitude bits. Leading
// bytes that only repeat the sign are skipped, so redundant encodings are
// accepted; what is left must fit in 8 bytes, or 9 when the first is a
// zero making room for a set top bit (values 2^63 .. 2^64-1).
static cloudabi_errno_t decode_int(const uint8_t *p, size_t n, bool *negative, uint64_t *bits) {
  *negative = n > 0 && (p[0] & 0x80) != 0;
  while (n > 1 && ((p[0] == 0x00 && (p[1] & 0x80) == 0) || (p[0] == 0xff && (p[1] & 0x80) != 0))) {
    ++p;
    --n;
  }
  if (n == 9 && p[0] == 0x00) {
    ++p;
    --n;
  } else if (n > 8) {
    return CLOUDABI_ERANGE;
  }
  uint64_t v = load_be(p, n);
  // Sign-extend a negative value shorter than 8 bytes.
  if (*negative && n < 8)
    v |= ~UINT64_C(0) << (8 * n);
  *bits = v;
  return 0;
}

static cloudabi_errno_t get_signed(const argdata_t *ad, argdata_type_t type, int64_t *value) {
  const uint8_t *p;
  size_t n;
  if (!payload(ad, type, &p, &n))
    return CLOUDABI_EINVAL;
  bool negative;
  uint64_t bits;
  cloudabi_errno_t error = decode_int(p, n, &negative, &bits);
  if (error != 0)
    return error;
  // A non-negative value with the top bit set does not fit in int64_t.
  if (!negative && (bits >> 63) != 0)
    return CLOUDABI_ERANGE;
  *value = (int64_t)bits;
  return 0;
}

cloudabi_errno_t argdata_get_int(const argdata_t *ad, int64_t *value) {
  return get_signed(ad, ARGDATA_INT, value);
}

cloudabi_errno_t argdata_get_timestamp(const argdata_t *ad, int64_t *ns) {
  return get_signed(ad, ARGDATA_TIMESTAMP, ns);
}

cloudabi_errno_t argdata_get_uint(const argdata_t *ad, uint64_t *value) {
  const uint8_t *p;
  size_t n;
  if (!payload(ad, ARGDATA_INT, &p, &n))
    return CLOUDABI_EINVAL;
  bool negative;
  uint64_t bits;
  cloudabi_errno_t error = decode_int(p, n, &negative, &bits);
  if (error != 0)
    return error;
  if (negative)
    return CLOUDABI_ERANGE;
  *value = bits;
  return 0;
}

// Checks that p[0..n) is UTF-8 as Unicode defines it: no overlong forms,
// no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no cut-off
// sequences.
static bool valid_utf8(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = p[i];
    size_t extra;
    uint32_t cp, min;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xe0) == 0xc0) {
      extra = 1, cp = b & 0x1f, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
      extra = 2, cp = b & 0x0f, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
      extra = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return false;  // a continuation byte or 0xf8..0xff in lead position
    }
    if (n - i - 1 < extra)
      return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((p[i + k] & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (p[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += extra + 1;
  }
  return true;
}

cloudabi_errno_t argdata_get_str(const argdata_t *ad, const char **str, size_t *len) {
  const uint8_t *p;
  size_t n;
  // The payload must end in the terminating NUL.
  if (!payload(ad, ARGDATA_STR, &p, &n) || n == 0 || p[n - 1] != '\0')
    return CLOUDABI_EINVAL;
  if (!valid_utf8(p, n - 1))
    return CLOUDABI_EILSEQ;
  *str = (const char *)p;
  *len = n - 1;
  return 0;
}

cloudabi_errno_t argdata_get_str_c(const argdata_t *ad, const char **str) {
  const char *s;
  size_t len;
  cloudabi_errno_t error = argdata_get_str(ad, &s, &len);
  if (error != 0)
    return error;
  if (memchr(s, '\0', len) != NULL)
    return CLOUDABI_EINVAL;
  *str = s;
  return 0;
}

static void iter_start(argdata_iter_t *it, const argdata_t *ad, argdata_type_t type) {
  const uint8_t *p;
  size_t n;
  if (payload(ad, type, &p, &n)) {
    *it = (argdata_iter_t){.pos = p, .left = n, .error = 0};
  } else {
    *it = (argdata_iter_t){.pos = NULL, .left = 0, .error = CLOUDABI_EINVAL};
  }
}

// Reads the next subfield. Returns false at the end of the container, or
// on malformed input (it->error set, and the iterator stays at the end).
static bool next_subfield(argdata_iter_t *it, argdata_t *value) {
  if (it->error != 0 || it->left == 0)
    return false;
  // The length: 7 bits per byte, big-endian, high bit marking the last
  // byte. A leading 0x00 byte would be an overlong encoding.
  const uint8_t *p = it->pos;
  size_t left = it->left;
  size_t len = 0;
  if (p[0] == 0x00)
    goto malformed;
  for (;;) {
    if (left == 0)
      goto malformed;
    uint8_t b = *p++;
    --left;
    if (len > (SIZE_MAX >> 7))
      goto malformed;
    len = len << 7 | (b & 0x7f);
    if ((b & 0x80) != 0)
      break;
  }
  if (len > left)
    goto malformed;
  *value = argdata_from_buffer(p, len);
  it->pos = p + len;
  it->left = left - len;
  return true;

malformed:
  it->error = CLOUDABI_EINVAL;
  it->left = 0;
  return false;
}

void argdata_seq_iter(argdata_iter_t *it, const argdata_t *seq) {
  iter_start(it, seq, ARGDATA_SEQ);
}

bool argdata_seq_next(argdata_iter_t *it, argdata_t *value) {
  return next_subfield(it, value);
}

void argdata_map_iter(argdata_iter_t *it, const argdata_t *map) {
  iter_start(it, map, ARGDATA_MAP);
}

bool argdata_map_next(argdata_iter_t *it, argdata_t *key, argdata_t *value) {
  argdata_t k, v;
  if (!next_subfield(it, &k))
    return false;
  if (!next_subfield(it, &v)) {
    // A key without a value.
    it->error = CLOUDABI_EINVAL;
    return false;
  }
  *key = k;
  *value = v;
  return true;
}

cloudabi_errno_t argdata_map_get(const argdata_t *map, const char *key, argdata_t *value) {
  size_t keylen = strlen(key);
  argdata_iter_t it;
  argdata_t k, v;
  for (argdata_map_iter(&it, map); argdata_map_next(&it, &k, &v);) {
    const char *s;
    size_t len;
    if (argdata_get_str(&k, &s, &len) == 0 && len == keylen && memcmp(s, key, len) == 0) {
      *value = v;
      return 0;
    }
  }
  return it.error != 0 ? it.error : CLOUDABI_ENOENT;
}

cloudabi_errno_t argdata_map_get_fd(const argdata_t *map, const char *key, cloudabi_fd_t *fd) {
  argdata_t v;
  cloudabi_errno_t error = argdata_map_get(map, key, &v);
  return error != 0 ? error : argdata_get_fd(&v, fd);
}

cloudabi_errno_t argdata_map_get_int(const argdata_t *map, const char *key, int64_t *value) {
  argdata_t v;
  cloudabi_errno_t error = argdata_map_get(map, key, &v);
  return error != 0 ? error : argdata_get_int(&v, value);
}

cloudabi_errno_t argdata_map_get_bool(const argdata_t *map, const char *key, bool *value) {
  argdata_t v;
  cloudabi_errno_t error = argdata_map_get(map, key, &v);
  return error != 0 ? error : argdata_get_bool(&v, value);
}

cloudabi_errno_t argdata_map_get_str_c(const argdata_t *map, const char *key, const char **str) {
  argdata_t v;
  cloudabi_errno_t error = argdata_map_get(map, key, &v);
  return error != 0 ? error : argdata_get_str_c(&v, str);
}
