#include "runs/tree.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "aisbx/profile.h"

namespace aisbx::runs {

std::pair<std::string, std::string> split_parent(const std::string& rel) {
  const auto slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

Expected<sys::UniqueFd> open_below(int root, const std::string& rel, const std::string& shown,
                                   int mkdir_from) {
  sys::UniqueFd dir(::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return sys_fail("open " + shown);
  sys::UniqueFd from;
  if (mkdir_from >= 0) from.reset(::openat(mkdir_from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::size_t i = 0;
  std::string walked;
  while (i < rel.size()) {
    std::size_t end = rel.find('/', i);
    if (end == std::string::npos) end = rel.size();
    const std::string name = rel.substr(i, end - i);
    i = end + 1;
    if (name.empty()) continue;
    walked += (walked.empty() ? "" : "/") + name;
    const auto open = [&](int at) {
      return sys::UniqueFd(
          ::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    };
    sys::UniqueFd next = open(dir.get());
    struct stat st {};
    if (next.get() < 0 && errno == ENOENT && from.get() >= 0 &&
        ::fstatat(from.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      if (::mkdirat(dir.get(), name.c_str(), st.st_mode & 0777) != 0 && errno != EEXIST)
        return sys_fail("mkdir " + q(walked) + " in " + shown);
      next = open(dir.get());
    }
    if (next.get() < 0) {
      const int err = errno;
      if ((err == ELOOP || err == ENOTDIR) &&
          ::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return fail(q(profile::escaped_path(walked)) + " in " + shown +
                        " is a symbolic link: nothing is written through it");
      return errno_fail(err, "open " + q(profile::escaped_path(walked)) + " in " + shown +
                                 " (O_NOFOLLOW)");
    }
    if (from.get() >= 0) from = open(from.get());
    dir = std::move(next);
  }
  return dir;
}

}  // namespace aisbx::runs
