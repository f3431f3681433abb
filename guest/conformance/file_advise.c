// file_advise: every advice on a file; invalid advice and offsets; rights.
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

void test_main(const argdata_t *config) {
  (void)config;
  t_need_tmpdir();
  cloudabi_fd_t fd, a, b;
  if (!T_OK("file_advise/setup", t_mkfile(t_tmp, "f", "some data")) ||
      !T_OK("file_advise/setup-open", t_open_file(t_tmp, "f", &fd)))
    return;

  static const struct {
    const char *name;
    cloudabi_advice_t advice;
  } advice[] = {
      {"file_advise/dontneed", CLOUDABI_ADVICE_DONTNEED},
      {"file_advise/noreuse", CLOUDABI_ADVICE_NOREUSE},
      {"file_advise/normal", CLOUDABI_ADVICE_NORMAL},
      {"file_advise/random", CLOUDABI_ADVICE_RANDOM},
      {"file_advise/sequential", CLOUDABI_ADVICE_SEQUENTIAL},
      {"file_advise/willneed", CLOUDABI_ADVICE_WILLNEED},
  };
  for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); ++i)
    T_OK(advice[i].name, cloudabi_sys_file_advise(fd, 0, 9, advice[i].advice));
  // Length 0 means "to the end of the file"; ranges past the end are fine.
  T_OK("file_advise/to-end", cloudabi_sys_file_advise(fd, 0, 0, CLOUDABI_ADVICE_NORMAL));
  T_OK("file_advise/past-end", cloudabi_sys_file_advise(fd, 1 << 20, 4096, CLOUDABI_ADVICE_NORMAL));

  T_ERRNO("file_advise/advice-0", cloudabi_sys_file_advise(fd, 0, 0, 0), E(INVAL));
  T_ERRNO("file_advise/advice-7", cloudabi_sys_file_advise(fd, 0, 0, 7), E(INVAL));
  T_ERRNO("file_advise/offset-2^63", cloudabi_sys_file_advise(fd, UINT64_C(1) << 63, 0, CLOUDABI_ADVICE_NORMAL), E(INVAL));
  T_ERRNO("file_advise/len-2^63", cloudabi_sys_file_advise(fd, 0, UINT64_C(1) << 63, CLOUDABI_ADVICE_NORMAL), E(INVAL));
  T_ERRNO("file_advise/ebadf", cloudabi_sys_file_advise(T_BADFD, 0, 0, CLOUDABI_ADVICE_NORMAL), E(BADF));
  // file_advise maps to no Capsicum right: on FreeBSD it cannot be removed,
  // so the call may still succeed there.
  T_OK("file_advise/setup-drop", t_drop(fd, CLOUDABI_RIGHT_FILE_ADVISE));
  T_ERRNO("file_advise/without-right", cloudabi_sys_file_advise(fd, 0, 0, CLOUDABI_ADVICE_NORMAL),
          E(NOTCAPABLE), 0);
  cloudabi_sys_fd_close(fd);

  // Sockets cannot take advice.
  if (T_OK("file_advise/setup-socket", cloudabi_sys_fd_create2(CLOUDABI_FILETYPE_SOCKET_STREAM, &a, &b))) {
    T_ERRNO("file_advise/socket", cloudabi_sys_file_advise(a, 0, 0, CLOUDABI_ADVICE_NORMAL), E(NOTCAPABLE), E(SPIPE));
    cloudabi_sys_fd_close(a);
    cloudabi_sys_fd_close(b);
  }
}
