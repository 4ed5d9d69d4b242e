#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <memory>

#include "aisbx/host_sys.h"

namespace aisbx {

FileKind RealFs::kind(const std::string& path) const {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return FileKind::missing;
  if (S_ISLNK(st.st_mode)) return FileKind::symlink;
  if (S_ISDIR(st.st_mode)) return FileKind::directory;
  if (S_ISREG(st.st_mode)) return FileKind::regular;
  return FileKind::other;
}

std::optional<std::string> RealFs::realpath(const std::string& path) const {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr), &std::free);
  if (!r) return std::nullopt;
  return std::string(r.get());
}

std::optional<std::string> RealFs::readlink(const std::string& path) const {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

namespace {
struct DirClose {
  void operator()(DIR* d) const { ::closedir(d); }
};
}  // namespace

std::vector<std::string> RealFs::list(const std::string& dir) const {
  std::vector<std::string> out;
  std::unique_ptr<DIR, DirClose> d(::opendir(dir.c_str()));
  if (!d) return out;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  return out;
}

}  // namespace aisbx

namespace aisbx {

std::optional<std::string> RealFs::read_small(const std::string& path) const {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace aisbx
