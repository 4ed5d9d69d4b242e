#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "aisbx/host_sys.h"
#include "host/walk_cache.h"

namespace aisbx {

const RealFs::Seen* RealFs::seen(const std::string& path) const {
  auto it = seen_.find(path);
  if (it == seen_.end()) {
    struct stat st {};
    std::optional<Seen> s;
    if (::lstat(path.c_str(), &st) == 0)
      s = Seen{st.st_mode, FileId{static_cast<std::uint64_t>(st.st_dev),
                                  static_cast<std::uint64_t>(st.st_ino)}};
    it = seen_.emplace(path, s).first;
  }
  return it->second ? &*it->second : nullptr;
}

FileKind RealFs::kind(const std::string& path) const {
  const Seen* s = seen(path);
  if (!s) return FileKind::missing;
  if (S_ISLNK(s->mode)) return FileKind::symlink;
  if (S_ISDIR(s->mode)) return FileKind::directory;
  if (S_ISREG(s->mode)) return FileKind::regular;
  return FileKind::other;
}

std::optional<FileId> RealFs::identity(const std::string& path) const {
  const Seen* s = seen(path);
  if (!s) return std::nullopt;
  return s->id;
}

namespace {

std::optional<std::string> system_realpath(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr), &std::free);
  if (!r) return std::nullopt;
  return std::string(r.get());
}

// Absolute, without empty, `.` or `..` components and without a trailing
// slash: its parent is the text before the last slash.
bool is_plain_absolute(const std::string& p) {
  if (p.size() < 2 || p[0] != '/' || p.back() == '/') return false;
  for (std::size_t i = 0; i < p.size();) {
    const std::size_t next = p.find('/', i + 1);
    const std::string_view name(p.data() + i + 1,
                                (next == std::string::npos ? p.size() : next) - i - 1);
    if (name.empty() || name == "." || name == "..") return false;
    if (next == std::string::npos) break;
    i = next;
  }
  return true;
}

}  // namespace

std::optional<std::string> RealFs::realpath(const std::string& path) const {
  if (!is_plain_absolute(path)) return system_realpath(path);
  const auto slash = path.rfind('/');
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  auto at = real_dirs_.find(parent);
  if (at == real_dirs_.end()) at = real_dirs_.emplace(parent, system_realpath(parent)).first;
  if (!at->second) return std::nullopt;
  const std::string joined = (*at->second == "/" ? "" : *at->second) + path.substr(slash);
  // The last component: one lstat, unless it is a link to follow.
  const Seen* s = seen(joined);
  if (!s) return std::nullopt;
  if (S_ISLNK(s->mode)) return system_realpath(joined);
  return joined;
}

std::string RealFs::why_unresolved(const std::string& path) const {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr), &std::free);
  if (r) return {};
  switch (errno) {
    case ENOENT:
      return {};
    case EACCES:
      return "permission denied: a directory on the way cannot be searched by uid " +
             std::to_string(::getuid());
    case ENOTDIR:
      return "a component on the way is not a directory";
    case ELOOP:
      return "too many levels of symbolic links";
    default:
      return std::strerror(errno);
  }
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

std::vector<DirEntry> RealFs::entries(const std::string& dir) const {
  std::vector<DirEntry> out;
  std::unique_ptr<DIR, DirClose> d(::opendir(dir.c_str()));
  if (!d) return out;
  while (const dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    FileKind k = FileKind::other;
    switch (e->d_type) {
      case DT_DIR: k = FileKind::directory; break;
      case DT_REG: k = FileKind::regular; break;
      case DT_LNK: k = FileKind::symlink; break;
      case DT_UNKNOWN: k = kind(dir == "/" ? "/" + n : dir + "/" + n); break;  // some filesystems
      default: break;
    }
    out.push_back({std::move(n), k});
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

std::vector<DirEntry> RealFs::tree_entries(const std::string& root, const std::string& dir) const {
  return walk_cache_ ? walk_cache_->entries(root, dir) : entries(dir);
}

}  // namespace aisbx
