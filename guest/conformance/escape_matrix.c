// The escape matrix, in the spirit of capsicum-test: every way a path can
// try to leave the directory it is resolved in, against every syscall that
// takes a path. Each must fail with ENOTCAPABLE and leave nothing behind:
// the names used are cloudabi64-escape-<op>-<form>, and the runner looks
// for them outside the scratch directory (where "..", "/tmp" and the links
// lead); forms that leave and come back in are checked here, by listing
// the scratch directory. Paths that stay inside, also through ".." and
// symbolic links, work (the control column).
//
// Forms (prefix + leaf, and again with a trailing slash):
//   absolute            /tmp/leaf
//   absolute-inside     <scratch>/leaf: absolute paths are refused even
//                       when they name the directory itself
//   dotdot              ../leaf
//   dotdot-descended    sub/../../leaf
//   dotdot-deep         sub/inner/../../../leaf
//   out-and-back        ../<scratch's name>/leaf
//   link-absolute       abs/leaf        abs -> /tmp
//   link-absolute-in    absin/leaf      absin -> <scratch>/sub
//   link-dotdot         up/leaf         up -> ..
//   link-dotdot-deep    sub/up2/leaf    sub/up2 -> ../..
//   link-chain          c1/leaf         c1 -> c2 -> sub/c3 -> ../..
//   link-dotdot-mixed   sub/mix/leaf    sub/mix -> inner/../../..
// SPDX-License-Identifier: BSD-2-Clause

#include "test.h"

#define ESCAPE "cloudabi64-escape-"

static char scratch[512];     // the scratch directory's absolute path
static const char *basename;  // and its last component

struct form {
  const char *name;
  char prefix[600];
};
static struct form forms[12];
static size_t nforms;

static void add_form(const char *name, const char *prefix) {
  forms[nforms].name = name;
  fmt_snprintf(forms[nforms].prefix, sizeof(forms[nforms].prefix), "%s", prefix);
  ++nforms;
}

static void make_forms(void) {
  char buf[600];
  add_form("absolute", "/tmp/");
  fmt_snprintf(buf, sizeof(buf), "%s/", scratch);
  add_form("absolute-inside", buf);
  add_form("dotdot", "../");
  add_form("dotdot-descended", "sub/../../");
  add_form("dotdot-deep", "sub/inner/../../../");
  fmt_snprintf(buf, sizeof(buf), "../%s/", basename);
  add_form("out-and-back", buf);
  add_form("link-absolute", "abs/");
  add_form("link-absolute-in", "absin/");
  add_form("link-dotdot", "up/");
  add_form("link-dotdot-deep", "sub/up2/");
  add_form("link-chain", "c1/");
  add_form("link-dotdot-mixed", "sub/mix/");
}

// ---- The operations. Each takes a path relative to the scratch directory
// (or absolute) and returns the errno.

static const cloudabi_filestat_t times = {.st_atim = 1000000000, .st_mtim = 1000000000};

static cloudabi_errno_t op_open_read(const char *p) {
  cloudabi_fd_t fd;
  cloudabi_errno_t e = t_open(t_tmp, p, 0, CLOUDABI_RIGHT_FD_READ, 0, 0, &fd);
  if (e == 0)
    cloudabi_sys_fd_close(fd);
  return e;
}

static cloudabi_errno_t op_open_create(const char *p) {
  cloudabi_fd_t fd;
  cloudabi_errno_t e = t_open(t_tmp, p, CLOUDABI_O_CREAT, CLOUDABI_RIGHT_FD_WRITE, 0, 0, &fd);
  if (e == 0)
    cloudabi_sys_fd_close(fd);
  return e;
}

static cloudabi_errno_t op_create_dir(const char *p) {
  return cloudabi_sys_file_create(t_tmp, P(p), CLOUDABI_FILETYPE_DIRECTORY);
}

static cloudabi_errno_t op_unlink(const char *p) {
  return cloudabi_sys_file_unlink(t_tmp, P(p), 0);
}

static cloudabi_errno_t op_rmdir(const char *p) {
  return cloudabi_sys_file_unlink(t_tmp, P(p), CLOUDABI_UNLINK_REMOVEDIR);
}

static cloudabi_errno_t op_rename_from(const char *p) {
  return cloudabi_sys_file_rename(t_tmp, P(p), t_tmp, P("renamed-here"));
}

static cloudabi_errno_t op_rename_to(const char *p) {
  return cloudabi_sys_file_rename(t_tmp, P("victim"), t_tmp, P(p));
}

static cloudabi_errno_t op_link_from(const char *p) {
  return cloudabi_sys_file_link(T_FOLLOW(t_tmp), P(p), t_tmp, P("linked-here"));
}

static cloudabi_errno_t op_link_to(const char *p) {
  return cloudabi_sys_file_link(T_NOFOLLOW(t_tmp), P("lvictim"), t_tmp, P(p));
}

static cloudabi_errno_t op_symlink(const char *p) {
  return cloudabi_sys_file_symlink(P("anything"), t_tmp, P(p));
}

static cloudabi_errno_t op_readlink(const char *p) {
  char buf[64];
  size_t n;
  return cloudabi_sys_file_readlink(t_tmp, P(p), buf, sizeof(buf), &n);
}

static cloudabi_errno_t op_stat(const char *p) {
  cloudabi_filestat_t st;
  return cloudabi_sys_file_stat_get(T_FOLLOW(t_tmp), P(p), &st);
}

static cloudabi_errno_t op_lstat(const char *p) {
  cloudabi_filestat_t st;
  return cloudabi_sys_file_stat_get(T_NOFOLLOW(t_tmp), P(p), &st);
}

static cloudabi_errno_t op_stat_put(const char *p) {
  return cloudabi_sys_file_stat_put(T_FOLLOW(t_tmp), P(p), &times, CLOUDABI_FILESTAT_ATIM | CLOUDABI_FILESTAT_MTIM);
}

static cloudabi_errno_t op_lstat_put(const char *p) {
  return cloudabi_sys_file_stat_put(T_NOFOLLOW(t_tmp), P(p), &times, CLOUDABI_FILESTAT_ATIM | CLOUDABI_FILESTAT_MTIM);
}

struct op {
  const char *name;
  cloudabi_errno_t (*fn)(const char *path);
  const char *control;  // a path through the "in" link (-> sub) that must work
};

static const struct op ops[] = {
    {"file_open", op_open_read, "in/g"},
    {"file_open-creat", op_open_create, "in/new-file"},
    {"file_create", op_create_dir, "in/new-dir"},
    {"file_unlink", op_unlink, "in/unlink-me"},
    {"file_unlink-dir", op_rmdir, "in/rmdir-me"},
    {"file_rename-from", op_rename_from, "in/rename-me"},
    {"file_rename-to", op_rename_to, "in/renamed-victim"},
    {"file_link-from", op_link_from, "in/g"},
    {"file_link-to", op_link_to, "in/linked-victim"},
    {"file_symlink", op_symlink, "in/new-link"},
    {"file_readlink", op_readlink, "in/a-link"},
    {"file_stat_get", op_stat, "in/g"},
    {"file_stat_get-nofollow", op_lstat, "in/g"},
    {"file_stat_put", op_stat_put, "in/g"},
    {"file_stat_put-nofollow", op_lstat_put, "in/g"},
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static bool setup(void) {
  static const char *const dirs[] = {"sub", "sub/inner", "sub2", "sub/rmdir-me"};
  static const char *const files[] = {"f", "sub/g", "victim", "lvictim", "sub/unlink-me", "sub/rename-me"};
  static const char *const links[][2] = {
      {"/tmp", "abs"},       {"..", "up"},          {"../..", "sub/up2"},     {"c2", "c1"},
      {"sub/c3", "c2"},      {"../..", "sub/c3"},   {"inner/../../..", "sub/mix"},
      {"sub", "in"},         {"../sub2", "sub/sib"}, {"x", "sub/a-link"},     {"ci2", "ci1"},
      {"sub", "ci2"},        {"../f", "sub/back"},
  };
  // One line for the whole setup; the first failure says what.
  cloudabi_errno_t e = 0;
  const char *what = "";
  for (size_t i = 0; e == 0 && i < sizeof(dirs) / sizeof(dirs[0]); ++i) {
    what = dirs[i];
    e = cloudabi_sys_file_create(t_tmp, P(what), CLOUDABI_FILETYPE_DIRECTORY);
  }
  for (size_t i = 0; e == 0 && i < sizeof(files) / sizeof(files[0]); ++i) {
    what = files[i];
    e = t_mkfile(t_tmp, what, "x");
  }
  for (size_t i = 0; e == 0 && i < sizeof(links) / sizeof(links[0]); ++i) {
    what = links[i][1];
    e = cloudabi_sys_file_symlink(P(links[i][0]), t_tmp, P(what));
  }
  // Absolute links into the scratch directory itself.
  static const char *const absolute[][2] = {{"sub", "absin"}, {"f", "absf"}};
  for (size_t i = 0; e == 0 && i < 2; ++i) {
    char target[600];
    fmt_snprintf(target, sizeof(target), "%s/%s", scratch, absolute[i][0]);
    what = absolute[i][1];
    e = cloudabi_sys_file_symlink(P(target), t_tmp, P(what));
  }
  return t_check("escape/setup", e == 0, "creating %s: %s", what, errno_name(e));
}

// Every operation through every escaping form, without and with a trailing
// slash: one line per operation and form.
static void matrix(void) {
  char path[2][700], name[120];
  for (size_t o = 0; o < NOPS; ++o) {
    for (size_t f = 0; f < nforms; ++f) {
      cloudabi_errno_t got[2];
      for (int slash = 0; slash < 2; ++slash) {
        fmt_snprintf(path[slash], sizeof(path[slash]), "%s" ESCAPE "%s-%zu%s", forms[f].prefix, ops[o].name, f,
                     slash ? "/" : "");
        got[slash] = ops[o].fn(path[slash]);
      }
      fmt_snprintf(name, sizeof(name), "escape/%s-%s", ops[o].name, forms[f].name);
      t_check(name, got[0] == E(NOTCAPABLE) && got[1] == E(NOTCAPABLE),
              "expected ENOTCAPABLE got %s for %s and %s with a trailing slash", errno_name(got[0]), path[0],
              errno_name(got[1]));
    }
    fmt_snprintf(name, sizeof(name), "escape/%s-control-inside", ops[o].name);
    T_OK(name, ops[o].fn(ops[o].control));
  }
}

// Existing things outside, named by path: read-only operations must not
// reach them either. `final_link`: the path ends in a symbolic link inside
// the directory, which lstat may look at (it does not follow it).
static void existing(void) {
  char buf[4][600];
  fmt_snprintf(buf[0], sizeof(buf[0]), "..%s%s", "/", basename);
  fmt_snprintf(buf[1], sizeof(buf[1]), "../%s/f", basename);
  fmt_snprintf(buf[2], sizeof(buf[2]), "%s/f", scratch);
  fmt_snprintf(buf[3], sizeof(buf[3]), "%s", scratch);
  const struct {
    const char *path;
    bool final_link;
  } paths[] = {
      {"..", false},      {"../", false},    {"sub/../..", false}, {"/", false},      {"/tmp", false},
      {buf[0], false},    {buf[1], false},   {buf[2], false},      {buf[3], false},   {"up", true},
      {"up/", false},     {"abs", true},     {"abs/", false},      {"c1", true},      {"sub/up2", true},
      {"sub/mix", true},  {"absf", true},    {"absin", true},      {"absin/g", false}, {"sub/up2/", false},
  };
  char name[120];
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); ++i) {
    const char *p = paths[i].path;
    fmt_snprintf(name, sizeof(name), "escape/existing-open-%zu", i);
    T_ERRNO(name, op_open_read(p), E(NOTCAPABLE));
    fmt_snprintf(name, sizeof(name), "escape/existing-stat-%zu", i);
    T_ERRNO(name, op_stat(p), E(NOTCAPABLE));
    fmt_snprintf(name, sizeof(name), "escape/existing-lstat-%zu", i);
    if (paths[i].final_link)
      T_OK(name, op_lstat(p));  // the link itself is inside
    else
      T_ERRNO(name, op_lstat(p), E(NOTCAPABLE));
  }
  // Links reached through an escape cannot be read; the same links reached
  // from inside can.
  char path[700];
  fmt_snprintf(path, sizeof(path), "../%s/up", basename);
  T_ERRNO("escape/readlink-out-and-back", op_readlink(path), E(NOTCAPABLE));
  fmt_snprintf(path, sizeof(path), "%s/up", scratch);
  T_ERRNO("escape/readlink-absolute", op_readlink(path), E(NOTCAPABLE));
  char target[16];
  size_t n;
  if (T_OK("escape/readlink-escaping-link", cloudabi_sys_file_readlink(t_tmp, P("up"), target, sizeof(target), &n)))
    t_eq_str("escape/readlink-escaping-link-text", target, n, "..");
}

// Links may say anything; following them must not leave.
static void dangling(void) {
  T_OK("escape/symlink-may-point-up", cloudabi_sys_file_symlink(P("../" ESCAPE "dangling-up"), t_tmp, P("dang-up")));
  T_OK("escape/symlink-may-point-absolute",
       cloudabi_sys_file_symlink(P("/tmp/" ESCAPE "dangling-abs"), t_tmp, P("dang-abs")));
  T_ERRNO("escape/create-through-dangling-up", op_open_create("dang-up"), E(NOTCAPABLE));
  T_ERRNO("escape/create-through-dangling-abs", op_open_create("dang-abs"), E(NOTCAPABLE));
  T_ERRNO("escape/stat-put-through-dangling-up", op_stat_put("dang-up"), E(NOTCAPABLE));
  T_OK("escape/lstat-dangling", op_lstat("dang-up"));
  T_OK("escape/unlink-dangling", op_unlink("dang-up"));
  T_OK("escape/unlink-dangling-abs", op_unlink("dang-abs"));
}

// Inside paths with ".." and links that stay inside work.
static void inside(void) {
  T_OK("escape/inside-dotdot", op_stat("sub/../f"));
  T_OK("escape/inside-dotdot-deep", op_stat("sub/inner/../../sub2"));
  T_OK("escape/inside-link-dotdot", op_stat("sub/sib"));
  T_OK("escape/inside-link-chain", op_stat("ci1/g"));
  T_OK("escape/inside-link-back", op_stat("sub/back"));
  T_OK("escape/inside-dot", op_stat("./sub/./g"));
  T_OK("escape/inside-slashes", op_stat("sub//g"));
  T_OK("escape/inside-self-dotdot", op_open_read("sub/.."));
}

// A descriptor for a subdirectory is a capability for that subdirectory
// only: ".." and links leading out of it are refused, even though they
// lead to the scratch directory the process also holds.
static void subdirectory(void) {
  cloudabi_fd_t s;
  cloudabi_filestat_t st;
  if (!T_OK("escape/setup-sub-fd", t_open_dir(t_tmp, "sub", &s)))
    return;
  T_ERRNO("escape/sub-dotdot", cloudabi_sys_file_stat_get(T_FOLLOW(s), P("../f"), &st), E(NOTCAPABLE));
  T_ERRNO("escape/sub-out-and-back", cloudabi_sys_file_stat_get(T_FOLLOW(s), P("../sub/g"), &st), E(NOTCAPABLE));
  T_ERRNO("escape/sub-link-back", cloudabi_sys_file_stat_get(T_FOLLOW(s), P("back"), &st), E(NOTCAPABLE));
  T_OK("escape/sub-link-back-nofollow", cloudabi_sys_file_stat_get(T_NOFOLLOW(s), P("back"), &st));
  T_ERRNO("escape/sub-create", cloudabi_sys_file_create(s, P("../" ESCAPE "sub-create"), CLOUDABI_FILETYPE_DIRECTORY),
          E(NOTCAPABLE));
  T_OK("escape/sub-inside", cloudabi_sys_file_stat_get(T_FOLLOW(s), P("inner/../g"), &st));
  cloudabi_sys_fd_close(s);
}

// Nothing named like an escape appeared in the scratch directory or in
// sub (the forms that lead back in).
static void no_evidence(const char *dir) {
  cloudabi_fd_t fd;
  char name[80];
  fmt_snprintf(name, sizeof(name), "escape/no-evidence-in-%s", dir);
  if (!T_OK(name, t_open_dir(t_tmp, dir, &fd)))
    return;
  static char buf[16384];
  size_t used;
  if (T_OK(name, cloudabi_sys_file_readdir(fd, buf, sizeof(buf), CLOUDABI_DIRCOOKIE_START, &used))) {
    size_t found = 0;
    for (size_t pos = 0; pos + sizeof(cloudabi_dirent_t) <= used;) {
      cloudabi_dirent_t d;
      memcpy(&d, buf + pos, sizeof(d));
      pos += sizeof(d);
      if (pos + d.d_namlen > used)
        break;
      if (d.d_namlen >= strlen(ESCAPE) && memcmp(buf + pos, ESCAPE, strlen(ESCAPE)) == 0)
        ++found;
      pos += d.d_namlen;
    }
    t_check(name, found == 0 && used < sizeof(buf), "no " ESCAPE "* entries got %zu", found);
  }
  cloudabi_sys_fd_close(fd);
}

void test_main(const argdata_t *config) {
  t_need_tmpdir();
  const char *path;
  if (argdata_map_get_str_c(config, "tmpdir_path", &path) != 0 || path[0] != '/' || strlen(path) >= 400) {
    t_fail("config", "this test needs tmpdir_path: \"@TMPDIR@\" (the scratch directory's path)");
    return;
  }
  fmt_snprintf(scratch, sizeof(scratch), "%s", path);
  size_t len = strlen(scratch);
  while (len > 1 && scratch[len - 1] == '/')
    scratch[--len] = '\0';
  basename = scratch;
  for (const char *p = scratch; *p != '\0'; ++p) {
    if (*p == '/')
      basename = p + 1;
  }
  make_forms();
  if (!setup())
    return;
  matrix();
  existing();
  dangling();
  inside();
  subdirectory();
  no_evidence(".");
  no_evidence("sub");
}
