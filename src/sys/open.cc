#include "aisbx/sys/open.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

// Debian 12 has <linux/openat2.h>; older headers may not: the struct and
// flags are the kernel's uapi (include/uapi/linux/openat2.h).
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
  std::uint64_t flags;
  std::uint64_t mode;
  std::uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#endif
#ifndef SYS_openat2
#define SYS_openat2 437  // the same on every architecture of the unified table
#endif

namespace aisbx::sys {
namespace {

bool fake_no_openat2() {
  static const bool fake = [] {
    const char* v = std::getenv("AISBX_FAKE_NO_OPENAT2");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return fake;
}

// Set once openat2 turned out to be missing: one failed call per process.
bool g_no_openat2 = false;

bool has_dot_component(std::string_view p) {
  while (!p.empty()) {
    const auto slash = p.find('/');
    const std::string_view name = p.substr(0, slash);
    if (name == "." || name == "..") return true;
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return false;
}

// One openat(O_PATH | O_NOFOLLOW) per component: a symlink opened that way
// is the link itself, which fstat() shows and the walk refuses.
int walk(int dirfd, const std::string& path) {
  std::string_view rest = path;
  UniqueFd cur;
  if (rest.starts_with('/')) {
    cur.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (cur.get() < 0) return -1;
  }
  int at = cur.get() >= 0 ? cur.get() : dirfd;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (name.empty()) continue;
    UniqueFd next(::openat(at, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) return -1;
    struct stat st {};
    if (::fstat(next.get(), &st) != 0) return -1;
    if (S_ISLNK(st.st_mode)) {
      errno = ELOOP;
      return -1;
    }
    cur = std::move(next);
    at = cur.get();
  }
  if (cur.get() < 0) cur.reset(::openat(dirfd, ".", O_PATH | O_CLOEXEC));  // "" or only slashes
  return cur.release();
}

}  // namespace

int open_path_no_symlinks(int dirfd, const std::string& path) {
  if (has_dot_component(path)) {
    errno = EINVAL;
    return -1;
  }
  if (!g_no_openat2 && !fake_no_openat2()) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // ENOSYS: before Linux 5.6; EPERM: a container runtime's filter that
    // predates the call. Anything else is the answer.
    if (errno != ENOSYS && errno != EPERM) return -1;
    g_no_openat2 = true;
  }
  return walk(dirfd, path);
}

Expected<UniqueFd> open_no_symlinks(const std::string& path) {
  UniqueFd fd(open_path_no_symlinks(AT_FDCWD, path));
  if (fd.get() < 0)
    return sys_fail("openat2 " + q(path) + " (O_PATH, no symlinks)",
                    errno == ELOOP ? "a component of the path is a symlink; aisbx-ns never "
                                     "mounts through one"
                                   : "");
  return fd;
}

std::optional<std::vector<std::string>> names_in(int dirfd) {
  // A new fd of its own: closedir() closes the fd it is given, and an O_PATH
  // fd cannot be listed.
  const int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return std::nullopt;
  }
  std::vector<std::string> out;
  while (const dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

}  // namespace aisbx::sys
