// Reading argument data: the tree of configuration values a CloudABI
// program receives instead of argv and an environment.
// SPDX-License-Identifier: BSD-2-Clause
//
// Encoding (the argdata format of CloudABI): a value is one tag byte
// followed by its payload, and never stores its own length; the length
// comes from the container. Zero bytes are null.
//
//   tag 1 binary     the bytes themselves
//   tag 2 bool       false: no payload; true: 01
//   tag 3 fd         4 bytes, big-endian: the descriptor number
//   tag 4 float      8 bytes, big-endian IEEE 754 double
//   tag 5 int        big-endian two's complement, as few bytes as needed
//                    (0 has no bytes)
//   tag 6 map        subfields key, value, key, value, ...
//   tag 7 seq        subfields
//   tag 8 str        UTF-8 followed by one NUL byte
//   tag 9 timestamp  like int: nanoseconds since 1970-01-01 UTC
//
// A subfield is a length followed by that many bytes of encoded value. The
// length is big-endian base 128 and the byte with the high bit set is its
// last one (6 is 86, 128 is 01 80).
//
// The fds in the tree are the program's own descriptor numbers: whoever
// started the program (cloudabi-run, proc_exec) placed the descriptors so.
//
// This reader never allocates and never reads outside the buffer it was
// given, whatever the buffer holds: malformed data makes the getters fail
// with CLOUDABI_EINVAL (or EILSEQ for bad UTF-8, ERANGE for an integer
// that does not fit) and iteration stop with an error.

#ifndef ARGDATA_H
#define ARGDATA_H

#include <cloudabi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// One encoded value: a view of the bytes, which stay owned by whoever
// holds the buffer (for the program's argument data: the runtime, for the
// whole life of the process). Copying an argdata_t copies the view.
typedef struct {
  const uint8_t *buf;
  size_t len;
} argdata_t;

typedef enum {
  ARGDATA_NULL = 0,
  ARGDATA_BINARY = 1,
  ARGDATA_BOOL = 2,
  ARGDATA_FD = 3,
  ARGDATA_FLOAT = 4,
  ARGDATA_INT = 5,
  ARGDATA_MAP = 6,
  ARGDATA_SEQ = 7,
  ARGDATA_STR = 8,
  ARGDATA_TIMESTAMP = 9,
  ARGDATA_UNKNOWN = 255,  // a tag this reader does not know
} argdata_type_t;

// Makes a view of `len` encoded bytes at `buf`.
argdata_t argdata_from_buffer(const void *buf, size_t len);

// The type named by the tag byte (the payload is only checked by the
// getters). "null", "int", ... for messages.
argdata_type_t argdata_type(const argdata_t *ad);
const char *argdata_type_name(argdata_type_t type);

// Typed getters. Each returns 0 and stores the value, or CLOUDABI_EINVAL
// when the value is of another type or malformed (nothing stored).
cloudabi_errno_t argdata_get_binary(const argdata_t *ad, const void **data, size_t *len);
cloudabi_errno_t argdata_get_bool(const argdata_t *ad, bool *value);
cloudabi_errno_t argdata_get_fd(const argdata_t *ad, cloudabi_fd_t *fd);
cloudabi_errno_t argdata_get_float(const argdata_t *ad, double *value);
// ERANGE when the integer does not fit (negative for the unsigned getter).
cloudabi_errno_t argdata_get_int(const argdata_t *ad, int64_t *value);
cloudabi_errno_t argdata_get_uint(const argdata_t *ad, uint64_t *value);
// The string without its terminating NUL: `*len` bytes at `*str`, followed
// by a NUL. EILSEQ when it is not valid UTF-8. It may contain NUL bytes;
// argdata_get_str_c rejects those (EINVAL), so the result is a C string.
cloudabi_errno_t argdata_get_str(const argdata_t *ad, const char **str, size_t *len);
cloudabi_errno_t argdata_get_str_c(const argdata_t *ad, const char **str);
cloudabi_errno_t argdata_get_timestamp(const argdata_t *ad, int64_t *ns);

// Iteration over a seq or a map:
//
//   argdata_iter_t it;
//   argdata_t key, value;
//   for (argdata_map_iter(&it, map); argdata_map_next(&it, &key, &value);)
//     ...;
//   if (it.error != 0) ... // not a map, or malformed
//
// Iteration stops at the first malformed subfield (it.error = EINVAL);
// the entries before it were valid. A map whose last key has no value
// reports EINVAL too.
typedef struct {
  const uint8_t *pos;  // next subfield
  size_t left;         // bytes from pos to the end of the container
  cloudabi_errno_t error;
} argdata_iter_t;

void argdata_seq_iter(argdata_iter_t *it, const argdata_t *seq);
bool argdata_seq_next(argdata_iter_t *it, argdata_t *value);
void argdata_map_iter(argdata_iter_t *it, const argdata_t *map);
bool argdata_map_next(argdata_iter_t *it, argdata_t *key, argdata_t *value);

// Looks up the first entry of `map` whose key is the string `key`.
// Returns 0, ENOENT when there is none, or EINVAL when `map` is not a map
// or is malformed before such an entry.
cloudabi_errno_t argdata_map_get(const argdata_t *map, const char *key, argdata_t *value);

// argdata_map_get followed by the typed getter: 0, ENOENT (no such key)
// or EINVAL (another type). The usual way to read a configuration:
//
//   cloudabi_fd_t out;
//   if (argdata_map_get_fd(ad, "out", &out) != 0) _Exit(2);
cloudabi_errno_t argdata_map_get_fd(const argdata_t *map, const char *key, cloudabi_fd_t *fd);
cloudabi_errno_t argdata_map_get_int(const argdata_t *map, const char *key, int64_t *value);
cloudabi_errno_t argdata_map_get_bool(const argdata_t *map, const char *key, bool *value);
cloudabi_errno_t argdata_map_get_str_c(const argdata_t *map, const char *key, const char **str);

#endif
