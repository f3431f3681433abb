// Processes: fork and wait, shared memory, argument data (see proc.h).
// SPDX-License-Identifier: BSD-2-Clause

#include "proc.h"

cloudabi_errno_t t_fork(cloudabi_fd_t *fd, cloudabi_tid_t *tid) {
  cloudabi_errno_t error = cloudabi_sys_proc_fork(fd, tid);
  if (error == 0 && *fd == CLOUDABI_PROCESS_CHILD)
    t_set_tid(*tid);
  return error;
}

_Noreturn void t_child_exit(void) {
  cloudabi_sys_proc_exit(t_failures == 0 ? 0 : 1);
}

cloudabi_errno_t t_wait_child(cloudabi_fd_t fd, cloudabi_event_t *ev) {
  cloudabi_subscription_t sub = t_sub_proc(0x9e9e, fd);
  size_t n;
  cloudabi_errno_t error = cloudabi_sys_poll(&sub, ev, 1, &n);
  if (error == 0 && n != 1)
    return CLOUDABI_EIO;
  return error;
}

bool t_check_exit(const char *name, cloudabi_fd_t fd, cloudabi_exitcode_t code) {
  cloudabi_event_t ev;
  if (!T_OK(name, t_wait_child(fd, &ev)))
    return false;
  if (!t_check_event(name, &ev, CLOUDABI_EVENTTYPE_PROC_TERMINATE, 0))
    return false;
  return t_check(name, ev.proc_terminate.signal == 0 && ev.proc_terminate.exitcode == code,
                 "expected exit status %u got status %u signal %u", code, ev.proc_terminate.exitcode,
                 ev.proc_terminate.signal);
}

void *t_map_shared(const char *name, size_t len) {
  void *p;
  if (!T_OK(name, cloudabi_sys_mem_map(NULL, len, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                                       CLOUDABI_MAP_ANON | CLOUDABI_MAP_SHARED, CLOUDABI_MAP_ANON_FD, 0, &p)))
    return NULL;
  return p;
}

// The argdata encoding is described in argdata.h: a tag byte, a payload,
// and subfields prefixed by a big-endian base-128 length whose last byte
// has the high bit set.
struct writer {
  uint8_t *buf;
  size_t cap, len;
};

static void put(struct writer *w, const void *p, size_t n) {
  if (w->len + n <= w->cap)
    memcpy(w->buf + w->len, p, n);
  w->len += n;  // keeps counting, so overflow is detected at the end
}

static void put_byte(struct writer *w, uint8_t b) {
  put(w, &b, 1);
}

static void put_length(struct writer *w, size_t n) {
  uint8_t digits[10];
  size_t k = 0;
  do {
    digits[k++] = n & 0x7f;
    n >>= 7;
  } while (n != 0);
  while (k > 1)
    put_byte(w, digits[--k]);
  put_byte(w, digits[0] | 0x80);
}

// Integers: big-endian two's complement without redundant leading bytes.
static size_t int_bytes(int64_t v, uint8_t out[8]) {
  for (int i = 0; i < 8; ++i)
    out[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
  size_t skip = 0;
  if (v == 0)
    return 0;
  while (skip < 7 && ((out[skip] == 0x00 && (out[skip + 1] & 0x80) == 0) ||
                      (out[skip] == 0xff && (out[skip + 1] & 0x80) != 0)))
    ++skip;
  memmove(out, out + skip, 8 - skip);
  return 8 - skip;
}

static void put_str_field(struct writer *w, const char *s, size_t len) {
  put_length(w, 1 + len + 1);
  put_byte(w, 8);
  put(w, s, len);
  put_byte(w, 0);
}

static void put_value_field(struct writer *w, const struct t_ad_entry *e) {
  uint8_t b[8];
  size_t n;
  switch (e->kind) {
    case T_AD_STR:
      put_str_field(w, e->str, strlen(e->str));
      break;
    case T_AD_BINARY:
      put_length(w, 1 + e->len);
      put_byte(w, 1);
      put(w, e->str, e->len);
      break;
    case T_AD_INT:
      n = int_bytes(e->i, b);
      put_length(w, 1 + n);
      put_byte(w, 5);
      put(w, b, n);
      break;
    case T_AD_FD:
      put_length(w, 5);
      put_byte(w, 3);
      for (int i = 0; i < 4; ++i)
        put_byte(w, (uint8_t)(e->fd >> (24 - 8 * i)));
      break;
  }
}

size_t t_argdata_map(void *buf, size_t cap, const struct t_ad_entry *entries, size_t n) {
  struct writer w = {.buf = buf, .cap = cap};
  put_byte(&w, 6);
  for (size_t i = 0; i < n; ++i) {
    put_str_field(&w, entries[i].key, strlen(entries[i].key));
    put_value_field(&w, &entries[i]);
  }
  return w.len <= cap ? w.len : 0;
}
