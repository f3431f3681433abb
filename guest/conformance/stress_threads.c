// Sixty-four threads at once (issue 13, adversarial re-run): each passes a
// read-only copy and a full descriptor of one shared file to itself over
// its own socket pair, peeks, receives and checks each copy's rights (the
// read-only copy cannot write, the full one can), makes and drops shared
// memory mappings, and yields; all in parallel with the others, so that
// the backend's descriptor table, rights records, memory bookkeeping and
// thread registry are used concurrently. Workers count what went wrong;
// the initial thread checks the counts after joining them all.
// SPDX-License-Identifier: BSD-2-Clause

#include <rt.h>

#include "test.h"

#define THREADS 64
#define ROUNDS 200
#define STACK (64 * 1024)

struct worker {
  struct rt_thread thread;
  int rounds, setup, send, recv, peek, count, narrow_wrote, full_refused, rights, mem;
};

static struct worker workers[THREADS];
static cloudabi_fd_t shared;

static bool subset(cloudabi_fd_t got, cloudabi_fd_t sent) {
  cloudabi_fdstat_t g, s;
  return cloudabi_sys_fd_stat_get(got, &g) == 0 && cloudabi_sys_fd_stat_get(sent, &s) == 0 &&
         (g.fs_rights_base & ~s.fs_rights_base) == 0 && (g.fs_rights_inheriting & ~s.fs_rights_inheriting) == 0;
}

static void work(void *arg) {
  struct worker *w = arg;
  size_t pg = t_pagesz();
  cloudabi_fd_t a, b;
  if (cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b) != 0) {
    w->setup++;
    return;
  }
  for (int r = 0; r < ROUNDS; ++r) {
    cloudabi_fd_t ro, full;
    if (cloudabi_sys_fd_dup(shared, &ro) != 0 || cloudabi_sys_fd_dup(shared, &full) != 0 ||
        t_drop(ro, T_FAMILY_WRITE) != 0) {
      w->setup++;
      break;
    }
    cloudabi_fd_t sent[2] = {ro, full};
    if (r & 1) {
      sent[0] = full;
      sent[1] = ro;
    }
    char byte = 'm';
    cloudabi_ciovec_t civ = {.buf = &byte, .buf_len = 1};
    cloudabi_send_in_t si = {.si_data = &civ, .si_data_len = 1, .si_fds = sent, .si_fds_len = 2};
    cloudabi_send_out_t so;
    if (cloudabi_sys_sock_send(a, &si, &so) != 0)
      w->send++;
    cloudabi_fd_t got[3] = {T_NOFD, T_NOFD, T_NOFD};
    char in;
    cloudabi_iovec_t iv = {.buf = &in, .buf_len = 1};
    cloudabi_recv_in_t ri = {.ri_data = &iv, .ri_data_len = 1, .ri_fds = got, .ri_fds_len = 3,
                             .ri_flags = CLOUDABI_SOCK_RECV_PEEK};
    cloudabi_recv_out_t ro_out;
    if (cloudabi_sys_sock_recv(b, &ri, &ro_out) != 0 || ro_out.ro_fdslen != 0)
      w->peek++;
    ri.ri_flags = 0;
    if (cloudabi_sys_sock_recv(b, &ri, &ro_out) != 0) {
      w->recv++;
    } else if (ro_out.ro_fdslen != 2) {
      w->count++;
    } else {
      int ri_ro = (r & 1) ? 1 : 0;
      w->rights += !subset(got[0], sent[0]) + !subset(got[1], sent[1]);
      if (t_write_str(got[ri_ro], "") != CLOUDABI_ENOTCAPABLE && t_write_str(got[ri_ro], "x") == 0)
        w->narrow_wrote++;
      if (t_write_str(got[1 - ri_ro], "y") != 0)
        w->full_refused++;
    }
    for (int i = 0; i < 3; ++i)
      if (got[i] != T_NOFD)
        cloudabi_sys_fd_close(got[i]);
    cloudabi_sys_fd_close(ro);
    cloudabi_sys_fd_close(full);
    // Memory: map, touch, protect, unmap.
    void *m;
    if (cloudabi_sys_mem_map(NULL, 2 * pg, CLOUDABI_PROT_READ | CLOUDABI_PROT_WRITE,
                             CLOUDABI_MAP_ANON | CLOUDABI_MAP_PRIVATE, CLOUDABI_MAP_ANON_FD, 0, &m) != 0) {
      w->mem++;
    } else {
      ((volatile char *)m)[pg] = 1;
      if (cloudabi_sys_mem_protect(m, pg, CLOUDABI_PROT_READ) != 0 || cloudabi_sys_mem_unmap(m, 2 * pg) != 0)
        w->mem++;
    }
    cloudabi_sys_thread_yield();
    w->rounds++;
  }
  cloudabi_sys_fd_close(a);
  cloudabi_sys_fd_close(b);
}

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  if (!T_OK("stress_threads/setup-file", t_mkfile(t_tmp, "f", "")) ||
      !T_OK("stress_threads/setup-open", t_open_file(t_tmp, "f", &shared)))
    return;
  int started = 0;
  for (int i = 0; i < THREADS; ++i) {
    if (rt_thread_start(&workers[i].thread, work, &workers[i], STACK) != 0)
      break;
    ++started;
  }
  t_eq("stress_threads/started", started, THREADS);
  for (int i = 0; i < started; ++i)
    rt_thread_join(&workers[i].thread);
  struct worker sum = {0};
  for (int i = 0; i < started; ++i) {
    sum.rounds += workers[i].rounds;
    sum.setup += workers[i].setup;
    sum.send += workers[i].send;
    sum.recv += workers[i].recv;
    sum.peek += workers[i].peek;
    sum.count += workers[i].count;
    sum.narrow_wrote += workers[i].narrow_wrote;
    sum.full_refused += workers[i].full_refused;
    sum.rights += workers[i].rights;
    sum.mem += workers[i].mem;
  }
  t_eq("stress_threads/rounds", sum.rounds, THREADS * ROUNDS);
  t_eq("stress_threads/setup-failures", sum.setup, 0);
  t_eq("stress_threads/send-failures", sum.send, 0);
  t_eq("stress_threads/peek-failures-or-fds", sum.peek, 0);
  t_eq("stress_threads/recv-failures", sum.recv, 0);
  t_eq("stress_threads/wrong-counts", sum.count, 0);
  t_eq("stress_threads/rights-beyond-senders", sum.rights, 0);
  t_eq("stress_threads/read-only-copy-wrote", sum.narrow_wrote, 0);
  t_eq("stress_threads/full-copy-refused", sum.full_refused, 0);
  t_eq("stress_threads/memory-failures", sum.mem, 0);
  // Every full copy wrote one byte.
  cloudabi_filestat_t st;
  if (T_OK("stress_threads/stat", cloudabi_sys_file_stat_fget(shared, &st)))
    t_eq("stress_threads/bytes-written", st.st_size, THREADS * ROUNDS);
}
