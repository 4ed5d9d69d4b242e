// The private HOME on the host, made and checked before the sandbox exists.
// Every component below the trusted part (plan.ns.home_checked_below) is
// opened with O_NOFOLLOW, one at a time: a link anywhere on the way (a HOME
// swapped for a link to ~/.ssh) refuses the run instead of being followed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"

namespace aisbx::stage {
namespace {

// Ours and not writable by anyone else: a directory another user can write
// can be made to hold their files as our HOME.
Expected<void> check_owned(int fd, const std::string& shown) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_fail("fstat " + q(shown));
  if (!S_ISDIR(st.st_mode)) return fail("private HOME: " + q(shown) + " is not a directory");
  if (st.st_uid != ::getuid())
    return fail("private HOME: " + q(shown) + " belongs to uid " + std::to_string(st.st_uid) +
                    ", not to you (uid " + std::to_string(::getuid()) + ")",
                "choose a directory of your own");
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fail("private HOME: " + q(shown) + " is writable by its group or by others",
                "chmod go-w " + shown + ", or choose another `home`");
  return {};
}

}  // namespace

Expected<void> prepare_home(const plan::NamespacePlan& ns, const std::string& tmpdir) {
  const std::string& home = ns.home;
  const std::string& trusted = ns.home_checked_below.empty() ? "/" : ns.home_checked_below;
  // The trusted part is canonical (resolved while planning): no link on it
  // either, so it is walked the same way.
  sys::UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return sys_fail("open `/`");
  std::size_t i = 1;
  while (i <= home.size()) {
    std::size_t end = home.find('/', i);
    if (end == std::string::npos) end = home.size();
    const std::string name = home.substr(i, end - i);
    const std::string part = home.substr(0, end);
    i = end + 1;
    if (name.empty()) continue;
    const bool checked = trusted == "/" || part.starts_with(trusted + "/");
    const auto open_part = [&] {
      return sys::UniqueFd(
          ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    };
    sys::UniqueFd next = open_part();
    // Missing parts are made 0700: ~/.ai-sandbox/homes holds other
    // projects' homes.
    if (next.get() < 0 && errno == ENOENT) {
      if (::mkdirat(dir.get(), name.c_str(), 0700) != 0 && errno != EEXIST)
        return sys_fail("create private HOME " + q(part),
                        "check that the parent directory is writable, or choose another `home`");
      next = open_part();
    }
    if (next.get() < 0) {
      struct stat st {};
      if ((errno == ELOOP || errno == ENOTDIR) &&
          ::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return fail("private HOME " + q(home) + ": " + q(part) + " is a symbolic link",
                    "a HOME is never entered through a link (a run could point it at ~/.ssh): "
                    "remove the link, or choose another `home`");
      return sys_fail("open private HOME " + q(part) + " (O_NOFOLLOW)");
    }
    if (checked) AISBX_TRY(check_owned(next.get(), part));
    dir = std::move(next);
  }
  if (!tmpdir.empty() && ::mkdirat(dir.get(), ".tmp", 0700) != 0 && errno != EEXIST)
    return sys_fail("create the private TMPDIR " + q(tmpdir));
  return {};
}

}  // namespace aisbx::stage
