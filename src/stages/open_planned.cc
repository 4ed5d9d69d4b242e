#include "stages/open_planned.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "aisbx/sys/open.h"

namespace aisbx::stage {
namespace {

std::string device(std::uint64_t dev) {
  return std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
}

std::string describe(const FileId& id) {
  return "inode " + std::to_string(id.ino) + " on device " + device(id.dev);
}

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISREG(m)) return "a file";
  if (S_ISLNK(m)) return "a symlink";
  return "a special file";
}

Error changed(const std::string& shown, const plan::PlannedId& seen, const std::string& now) {
  return Error{q(shown) + " is not what planning saw: planning saw " +
                   (seen.id ? describe(*seen.id) : std::string("nothing there")) + ", now " +
                   now + "; the tree changed while the sandbox was being built; run again",
               0,
               "something replaced it between planning and the set-up (a process writing "
               "into the tree?); if it keeps happening, stop what writes there",
               kExitLauncherFailure};
}

}  // namespace

Expected<sys::UniqueFd> open_as_planned(const std::string& path, const plan::PlannedId& seen,
                                        const std::string& shown, bool missing_ok,
                                        struct ::stat* st_out) {
  sys::UniqueFd fd(sys::open_path_no_symlinks(AT_FDCWD, path));
  if (fd.get() < 0) {
    const int err = errno;
    // A plan's paths are canonical: a symlink on the way was put there.
    if (err == ELOOP && seen.checked)
      return std::unexpected(changed(shown, seen, "a symlink lies at it or on the way to it"));
    if (err == ENOENT && seen.checked && seen.id)
      return std::unexpected(changed(shown, seen, "nothing is there"));
    if (err == ENOENT && seen.checked && missing_ok) return sys::UniqueFd();  // as planned
    return errno_fail(err, "open " + q(shown) + " (O_PATH, no symlinks)",
                      err == ELOOP ? "a component of the path is a symlink; aisbx-ns never "
                                     "opens a rule or mount through one: name the real path"
                                   : "the path vanished or is not visible in the sandbox");
  }
  struct stat st {};
  if (!seen.checked && st_out == nullptr) return fd;
  if (::fstat(fd.get(), &st) != 0) return sys_fail("fstat " + q(shown));
  if (st_out != nullptr) *st_out = st;
  if (!seen.checked) return fd;
  const FileId now{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  if (!seen.id || *seen.id != now)
    return std::unexpected(changed(shown, seen, std::string(kind_of(st.st_mode)) + ", " +
                                                    describe(now)));
  return fd;
}

Expected<sys::UniqueFd> open_merged_as_planned(const std::string& merged, const std::string& host,
                                               const plan::PlannedId& seen,
                                               const std::string& shown, dev_t upper_dev) {
  if (!seen.checked) return open_as_planned(merged, seen, shown);  // a Plan made by hand
  AISBX_ASSIGN(lower, open_as_planned(host, seen, shown));
  AISBX_ASSIGN(fd, open_as_planned(merged, {}, shown));
  struct stat l {}, m {};
  if (::fstat(lower.get(), &l) != 0 || ::fstat(fd.get(), &m) != 0)
    return sys_fail("fstat " + q(shown));
  const FileId now{static_cast<std::uint64_t>(m.st_dev), static_cast<std::uint64_t>(m.st_ino)};
  const auto differs = [&] {
    return std::unexpected(changed(shown, seen, "in the overlay's merged view " +
                                                    std::string(kind_of(m.st_mode)) + ", " +
                                                    describe(now)));
  };
  if ((l.st_mode & S_IFMT) != (m.st_mode & S_IFMT)) return differs();
  if (l.st_ino == m.st_ino) return fd;
  if (l.st_dev == upper_dev || !S_ISDIR(m.st_mode)) return differs();
  AISBX_TRY(open_as_planned(host, seen, shown));
  return fd;
}

}  // namespace aisbx::stage
