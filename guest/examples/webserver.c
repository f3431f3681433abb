// webserver: a static file server in the style of HTTP/1.0.
// SPDX-License-Identifier: BSD-2-Clause
//
// Configuration:
//
//   root: !file {path: www, mode: directory}          the document root
//   log: !file {path: access.log, mode: append}        one line per request
//   socket: !socket {bind: "127.0.0.1:8080"}           a listening socket
//   max_requests: 3                                    optional: exit 0 after 3
//
// It answers GET and HEAD with the file at the request path beneath root
// (index.html for a directory), closing the connection after each
// response. It makes no attempt of its own to keep requests inside root:
// every path is opened with file_open relative to the root descriptor, and
// CloudABI refuses anything that would leave it ("..", absolute paths,
// symbolic links pointing out) with ENOTCAPABLE, answered as 403.
//
// Accepting connections: CloudABI has no accept syscall. cloudabi64 defines
// sock_recv on a listening stream socket to accept one connection and hand
// it over as a received descriptor, with no data (ro_datalen 0,
// ro_fdslen 1).
//
// Log lines: "<method> <path> <status> <body bytes>", the path with
// non-printable bytes and spaces %-escaped. Single-threaded; a client that
// sends nothing for 10 s is dropped.

#include <argdata.h>
#include <cloudabi.h>
#include <fmt.h>
#include <program.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_MAX 8192
#define PATH_MAX 1024
#define READ_TIMEOUT_NS (UINT64_C(10) * 1000 * 1000 * 1000)

static cloudabi_fd_t root_fd, log_fd, listen_fd;

// Everything about the request being answered, for the response and the
// log line.
struct request {
  char buf[REQUEST_MAX + 1];
  size_t len;
  const char *method;  // "-" until parsed
  const char *target;  // as sent, NUL-terminated inside buf
  bool head;
  int status;
  uint64_t body_bytes;
};

static void log_line(struct request *r) {
  char line[3 * PATH_MAX + 100];
  size_t n = fmt_snprintf(line, sizeof(line), "%s ", r->method);
  // Escape the target so that a request cannot forge log lines.
  for (const unsigned char *p = (const unsigned char *)r->target; *p != '\0'; ++p) {
    if (n + 4 >= sizeof(line))
      break;
    if (*p <= ' ' || *p >= 0x7f || *p == '%')
      n += fmt_snprintf(line + n, sizeof(line) - n, "%%%02X", *p);
    else
      line[n++] = (char)*p;
  }
  if (n < sizeof(line))
    n += fmt_snprintf(line + n, sizeof(line) - n, " %d %lu\n", r->status,
                      (unsigned long)r->body_bytes);
  if (n >= sizeof(line))
    n = sizeof(line) - 1;
  // One write per line: with the log opened for appending, lines from
  // several servers sharing a log do not interleave.
  (void)write_all(log_fd, line, n);
}

static const char *reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 414:
      return "URI Too Long";
    case 501:
      return "Not Implemented";
    default:
      return "Internal Server Error";
  }
}

static cloudabi_errno_t send_head(cloudabi_fd_t conn, int status, const char *type,
                                  uint64_t length, const char *location) {
  char head[PATH_MAX + 300];
  size_t n = fmt_snprintf(head, sizeof(head),
                          "HTTP/1.0 %d %s\r\n"
                          "Server: cloudabi64-webserver\r\n"
                          "Content-Type: %s\r\n"
                          "Content-Length: %lu\r\n"
                          "%s%s%s"
                          "Connection: close\r\n"
                          "\r\n",
                          status, reason(status), type, (unsigned long)length,
                          location != NULL ? "Location: " : "", location != NULL ? location : "",
                          location != NULL ? "\r\n" : "");
  if (n >= sizeof(head))
    return CLOUDABI_ENAMETOOLONG;
  return write_all(conn, head, n);
}

// An error response with a one-line text body saying what happened.
static void send_error(cloudabi_fd_t conn, struct request *r, int status, const char *why) {
  char body[200];
  size_t n = fmt_snprintf(body, sizeof(body), "%d %s: %s\n", status, reason(status), why);
  if (n >= sizeof(body))
    n = sizeof(body) - 1;
  r->status = status;
  if (send_head(conn, status, "text/plain; charset=utf-8", n, NULL) == 0 && !r->head &&
      write_all(conn, body, n) == 0)
    r->body_bytes = n;
}

static const char *content_type(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"ico", "image/x-icon"},
      {"webp", "image/webp"},
      {"pdf", "application/pdf"},
      {"wasm", "application/wasm"},
  };
  const char *dot = NULL;
  for (const char *p = path; *p != '\0'; ++p) {
    if (*p == '.')
      dot = p + 1;
    else if (*p == '/')
      dot = NULL;
  }
  if (dot != NULL) {
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
      const char *a = dot, *b = types[i].ext;
      while (*a != '\0' && *b != '\0' && (*a | 0x20) == *b)
        ++a, ++b;
      if (*a == '\0' && *b == '\0')
        return types[i].type;
    }
  }
  return "application/octet-stream";
}

// Waits up to READ_TIMEOUT_NS for conn to become readable. A system whose
// poll fails here gets a plain blocking read instead.
static bool wait_readable(cloudabi_fd_t conn) {
  cloudabi_subscription_t subs[2] = {
      {.userdata = 1,
       .type = CLOUDABI_EVENTTYPE_FD_READ,
       .fd_readwrite = {.fd = conn, .flags = CLOUDABI_SUBSCRIPTION_FD_READWRITE_POLL}},
      {.userdata = 2,
       .type = CLOUDABI_EVENTTYPE_CLOCK,
       .clock = {.clock_id = CLOUDABI_CLOCK_MONOTONIC, .timeout = READ_TIMEOUT_NS}},
  };
  cloudabi_event_t events[2];
  size_t n;
  if (cloudabi_sys_poll(subs, events, 2, &n) != 0)
    return true;
  for (size_t i = 0; i < n; ++i) {
    if (events[i].userdata == 1)
      return true;
  }
  return n == 0;
}

// Whether buf holds the blank line that ends the request headers.
static bool headers_complete(const char *buf, size_t len) {
  for (size_t i = 0; i + 1 < len; ++i) {
    if (buf[i] == '\n' && (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')))
      return true;
  }
  return false;
}

// Reads until the blank line ending the headers, the end of the stream or
// a full buffer. Returns 0, or 408 on a timeout.
static int read_request(cloudabi_fd_t conn, struct request *r) {
  while (r->len < REQUEST_MAX) {
    if (!wait_readable(conn))
      return 408;
    cloudabi_iovec_t iov = {.buf = r->buf + r->len, .buf_len = REQUEST_MAX - r->len};
    size_t n;
    if (cloudabi_sys_fd_read(conn, &iov, 1, &n) != 0 || n == 0)
      break;
    r->len += n;
    r->buf[r->len] = '\0';
    if (headers_complete(r->buf, r->len))
      break;
  }
  r->buf[r->len] = '\0';
  return 0;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Turns the request target into the path to open beneath root: the query
// and fragment dropped, %XX decoded, the one leading '/' removed ("/" is
// "."). Nothing else: ".." and extra slashes are left for CloudABI to
// judge. Returns 0 or an HTTP status.
static int target_to_path(const char *target, char *path, size_t *len) {
  size_t n = 0;
  for (const char *p = target + 1; *p != '\0' && *p != '?' && *p != '#'; ++p) {
    char c = *p;
    if (c == '%') {
      int hi = hex_digit(p[1]), lo = hi < 0 ? -1 : hex_digit(p[2]);
      if (lo < 0)
        return 400;
      c = (char)(hi << 4 | lo);
      p += 2;
      if (c == '\0')
        return 400;  // a path cannot contain NUL
    }
    if (n == PATH_MAX - 1)
      return 414;
    path[n++] = c;
  }
  if (n == 0)
    path[n++] = '.';
  path[n] = '\0';
  *len = n;
  return 0;
}

// The HTTP status for a failed file_open.
static int open_status(cloudabi_errno_t error, const char **why) {
  switch (error) {
    case CLOUDABI_ENOENT:
    case CLOUDABI_ENOTDIR:
      *why = "no such file";
      return 404;
    case CLOUDABI_ENOTCAPABLE:
      *why = "the path leads outside the document root";
      return 403;
    case CLOUDABI_EACCES:
    case CLOUDABI_EPERM:
    case CLOUDABI_ELOOP:
      *why = errno_name(error);
      return 403;
    case CLOUDABI_ENAMETOOLONG:
      *why = "path too long";
      return 414;
    default:
      *why = errno_name(error);
      return 500;
  }
}

static cloudabi_errno_t open_beneath(cloudabi_fd_t dir, const char *path, size_t len,
                                     cloudabi_fd_t *fd) {
  // A directory opened here must be able to open its index.html with the
  // same request, so FILE_OPEN is inheritable too.
  const cloudabi_rights_t rights =
      CLOUDABI_RIGHT_FD_READ | CLOUDABI_RIGHT_FILE_STAT_FGET | CLOUDABI_RIGHT_FILE_OPEN;
  cloudabi_fdstat_t fds = {.fs_rights_base = rights, .fs_rights_inheriting = rights};
  cloudabi_lookup_t at = {.fd = dir, .flags = CLOUDABI_LOOKUP_SYMLINK_FOLLOW};
  return cloudabi_sys_file_open(at, path, len, 0, &fds, fd);
}

// Streams the file's `size` bytes to conn.
static void send_file(cloudabi_fd_t conn, struct request *r, cloudabi_fd_t fd, uint64_t size,
                      const char *path) {
  r->status = 200;
  if (send_head(conn, 200, content_type(path), size, NULL) != 0 || r->head)
    return;
  static char buf[65536];
  while (r->body_bytes < size) {
    size_t want = size - r->body_bytes < sizeof(buf) ? (size_t)(size - r->body_bytes) : sizeof(buf);
    cloudabi_iovec_t iov = {.buf = buf, .buf_len = want};
    size_t n;
    if (cloudabi_sys_fd_read(fd, &iov, 1, &n) != 0 || n == 0)
      return;  // the file shrank or failed: the client sees a short body
    if (write_all(conn, buf, n) != 0)
      return;  // the client went away
    r->body_bytes += n;
  }
}

static void respond(cloudabi_fd_t conn, struct request *r) {
  int status = read_request(conn, r);
  if (status != 0) {
    send_error(conn, r, status, "no request received in time");
    return;
  }

  // The request line: METHOD SP TARGET SP HTTP/1.x
  char *line = r->buf, *eol = strchr(line, '\n');
  if (eol == NULL) {
    send_error(conn, r, 400, "incomplete request line");
    return;
  }
  *eol = '\0';
  if (eol > line && eol[-1] == '\r')
    eol[-1] = '\0';
  char *sp1 = strchr(line, ' ');
  char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
  if (sp2 == NULL) {
    send_error(conn, r, 400, "malformed request line");
    return;
  }
  *sp1 = *sp2 = '\0';
  r->method = line;
  r->target = sp1 + 1;
  const char *version = sp2 + 1;
  if (strncmp(version, "HTTP/1.", 7) != 0) {
    send_error(conn, r, 400, "only HTTP/1.x is spoken here");
    return;
  }
  r->head = strcmp(r->method, "HEAD") == 0;
  if (!r->head && strcmp(r->method, "GET") != 0) {
    send_error(conn, r, 501, "only GET and HEAD are supported");
    return;
  }
  if (r->target[0] != '/') {
    send_error(conn, r, 400, "the target must be an absolute path");
    return;
  }

  static char path[PATH_MAX];
  size_t len;
  if ((status = target_to_path(r->target, path, &len)) != 0) {
    send_error(conn, r, status, "bad path");
    return;
  }

  const char *why;
  cloudabi_fd_t fd;
  cloudabi_errno_t error = open_beneath(root_fd, path, len, &fd);
  if (error != 0) {
    send_error(conn, r, open_status(error, &why), why);
    return;
  }
  cloudabi_filestat_t st;
  if ((error = cloudabi_sys_file_stat_fget(fd, &st)) != 0) {
    cloudabi_sys_fd_close(fd);
    send_error(conn, r, 500, errno_name(error));
    return;
  }

  if (st.st_filetype == CLOUDABI_FILETYPE_DIRECTORY) {
    size_t tlen = 0;
    while (r->target[tlen] != '\0' && r->target[tlen] != '?' && r->target[tlen] != '#')
      ++tlen;
    if (tlen == 0 || r->target[tlen - 1] != '/') {
      // Relative links in the index need the trailing slash.
      char location[PATH_MAX + 2];
      fmt_snprintf(location, sizeof(location), "%.*s/", (int)tlen, r->target);
      r->status = 301;
      cloudabi_sys_fd_close(fd);
      send_head(conn, 301, "text/plain; charset=utf-8", 0, location);
      return;
    }
    cloudabi_fd_t index;
    error = open_beneath(fd, "index.html", 10, &index);
    cloudabi_sys_fd_close(fd);
    if (error != 0) {
      send_error(conn, r, error == CLOUDABI_ENOENT ? 404 : open_status(error, &why),
                 error == CLOUDABI_ENOENT ? "directory without index.html" : why);
      return;
    }
    fd = index;
    if ((error = cloudabi_sys_file_stat_fget(fd, &st)) != 0) {
      cloudabi_sys_fd_close(fd);
      send_error(conn, r, 500, errno_name(error));
      return;
    }
    if (st.st_filetype != CLOUDABI_FILETYPE_REGULAR_FILE) {
      cloudabi_sys_fd_close(fd);
      send_error(conn, r, 403, "index.html is not a regular file");
      return;
    }
    send_file(conn, r, fd, st.st_size, "index.html");
  } else if (st.st_filetype == CLOUDABI_FILETYPE_REGULAR_FILE) {
    send_file(conn, r, fd, st.st_size, path);
  } else {
    send_error(conn, r, 403, "not a regular file");
  }
  cloudabi_sys_fd_close(fd);
}

// Accepts one connection: sock_recv on the listening socket, receiving no
// data and one descriptor.
static cloudabi_errno_t accept_one(cloudabi_fd_t *conn) {
  cloudabi_recv_in_t ri = {
      .ri_data = NULL,
      .ri_data_len = 0,
      .ri_fds = conn,
      .ri_fds_len = 1,
      .ri_flags = 0,
  };
  cloudabi_recv_out_t ro;
  cloudabi_errno_t error = cloudabi_sys_sock_recv(listen_fd, &ri, &ro);
  if (error == 0 && ro.ro_fdslen != 1)
    error = CLOUDABI_EAGAIN;  // nothing was handed over; try again
  return error;
}

static _Noreturn void fatal(const char *what, cloudabi_errno_t error) {
  fmt_printf(log_fd, "webserver: %s: %s\n", what, errno_name(error));
  _Exit(1);
}

void program_main(const argdata_t *ad) {
  if (argdata_map_get_fd(ad, "log", &log_fd) != 0)
    _Exit(2);
  cloudabi_errno_t error;
  if ((error = argdata_map_get_fd(ad, "root", &root_fd)) != 0)
    fatal("config needs root: !file {path: ..., mode: directory}", error);
  if ((error = argdata_map_get_fd(ad, "socket", &listen_fd)) != 0)
    fatal("config needs socket: !socket {bind: ADDRESS:PORT}", error);
  int64_t max_requests = 0;
  error = argdata_map_get_int(ad, "max_requests", &max_requests);
  if ((error != 0 && error != CLOUDABI_ENOENT) || max_requests < 0)
    fatal("max_requests must be a non-negative integer", CLOUDABI_EINVAL);

  for (int64_t served = 0; max_requests == 0 || served < max_requests;) {
    cloudabi_fd_t conn;
    error = accept_one(&conn);
    switch (error) {
      case 0:
        break;
      case CLOUDABI_EAGAIN:
      case CLOUDABI_EINTR:
      case CLOUDABI_ECONNABORTED:
      case CLOUDABI_ECONNRESET:
      case CLOUDABI_EMFILE:
      case CLOUDABI_ENFILE:
        continue;
      default:
        fatal("accepting with sock_recv on the listening socket", error);
    }
    static struct request r;
    memset(&r, 0, sizeof(r));
    r.method = r.target = "-";
    respond(conn, &r);
    log_line(&r);
    cloudabi_sys_fd_close(conn);
    ++served;
  }
}
