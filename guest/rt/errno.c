// Names of the CloudABI errno values, for messages.
// SPDX-License-Identifier: BSD-2-Clause

#include <fmt.h>

static const char *const names[] = {
#define E(name) [CLOUDABI_##name] = #name
    E(ESUCCESS),   E(E2BIG),        E(EACCES),          E(EADDRINUSE),   E(EADDRNOTAVAIL),
    E(EAFNOSUPPORT), E(EAGAIN),     E(EALREADY),        E(EBADF),        E(EBADMSG),
    E(EBUSY),      E(ECANCELED),    E(ECHILD),          E(ECONNABORTED), E(ECONNREFUSED),
    E(ECONNRESET), E(EDEADLK),      E(EDESTADDRREQ),    E(EDOM),         E(EDQUOT),
    E(EEXIST),     E(EFAULT),       E(EFBIG),           E(EHOSTUNREACH), E(EIDRM),
    E(EILSEQ),     E(EINPROGRESS),  E(EINTR),           E(EINVAL),       E(EIO),
    E(EISCONN),    E(EISDIR),       E(ELOOP),           E(EMFILE),       E(EMLINK),
    E(EMSGSIZE),   E(EMULTIHOP),    E(ENAMETOOLONG),    E(ENETDOWN),     E(ENETRESET),
    E(ENETUNREACH), E(ENFILE),      E(ENOBUFS),         E(ENODEV),       E(ENOENT),
    E(ENOEXEC),    E(ENOLCK),       E(ENOLINK),         E(ENOMEM),       E(ENOMSG),
    E(ENOPROTOOPT), E(ENOSPC),      E(ENOSYS),          E(ENOTCONN),     E(ENOTDIR),
    E(ENOTEMPTY),  E(ENOTRECOVERABLE), E(ENOTSOCK),     E(ENOTSUP),      E(ENOTTY),
    E(ENXIO),      E(EOVERFLOW),    E(EOWNERDEAD),      E(EPERM),        E(EPIPE),
    E(EPROTO),     E(EPROTONOSUPPORT), E(EPROTOTYPE),   E(ERANGE),       E(EROFS),
    E(ESPIPE),     E(ESRCH),        E(ESTALE),          E(ETIMEDOUT),    E(ETXTBSY),
    E(EXDEV),      E(ENOTCAPABLE),
#undef E
};

const char *errno_name(cloudabi_errno_t error) {
  if (error < sizeof(names) / sizeof(names[0]) && names[error] != NULL)
    return names[error];
  return "E?";
}
