#include "runs/changes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

#include "aisbx/profile.h"
#include "aisbx/sys/fd.h"

namespace aisbx::runs {
namespace {

NodeType type_of(mode_t m) {
  if (S_ISREG(m)) return NodeType::file;
  if (S_ISDIR(m)) return NodeType::dir;
  if (S_ISLNK(m)) return NodeType::symlink;
  return NodeType::other;
}

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

Expected<std::vector<std::string>> list(int dir, const std::string& shown) {
  const int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!d) {
    if (fd >= 0) ::close(fd);
    return sys_fail("read directory " + q(shown));
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

sys::UniqueFd open_dir(int dir, const std::string& name) {
  return sys::UniqueFd(
      ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool opaque(int dir) {
  char v[4] = {};
  const ssize_t n = ::fgetxattr(dir, "user.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

// Copied up from the project: overlayfs sets `user.overlay.origin` on
// every copy-up of a directory, and of a file with one link. User xattrs
// exist on regular files and directories only, read here through an
// O_PATH fd (the file's mode does not matter).
bool copied_up(int dir, const std::string& name) {
  sys::UniqueFd fd(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return false;
  const std::string at = "/proc/self/fd/" + std::to_string(fd.get());
  return ::getxattr(at.c_str(), "user.overlay.origin", nullptr, 0) >= 0;
}

bool same_bytes(int a_dir, int b_dir, const std::string& name, off_t size) {
  sys::UniqueFd a(::openat(a_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  sys::UniqueFd b(::openat(b_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (a.get() < 0 || b.get() < 0) return false;
  char x[65536], y[65536];
  for (off_t left = size; left > 0;) {
    const ssize_t n = ::read(a.get(), x, sizeof x);
    if (n <= 0 || ::read(b.get(), y, static_cast<std::size_t>(n)) != n ||
        std::memcmp(x, y, static_cast<std::size_t>(n)) != 0)
      return false;
    left -= n;
  }
  return true;
}

// As git tells binary from text: a NUL byte in the first 8000 bytes.
bool looks_binary(int dir, const std::string& name) {
  sys::UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return false;
  char buf[8000];
  const ssize_t n = ::read(fd.get(), buf, sizeof buf);
  return n > 0 && std::memchr(buf, 0, static_cast<std::size_t>(n)) != nullptr;
}

std::string read_link(int dir, const std::string& name) {
  char buf[4096];
  const ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

// A link at `path` (relative to the project) whose text leads out of it:
// absolute, or more `..` than it has parents.
bool escapes(const std::string& path, const std::string& link) {
  if (link.empty() || link[0] == '/') return true;
  long depth = static_cast<long>(std::count(path.begin(), path.end(), '/'));
  std::size_t i = 0;
  while (i <= link.size()) {
    std::size_t end = link.find('/', i);
    if (end == std::string::npos) end = link.size();
    const std::string part = link.substr(i, end - i);
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    i = end + 1;
  }
  return false;
}

struct Walker {
  std::vector<Change>& out;
  const Baseline& since;

  // Every entry of the project's directory `real` below `rel`, removed.
  Expected<void> removed_below(int real, const std::string& rel, const std::set<std::string>& keep) {
    AISBX_ASSIGN(names, list(real, rel.empty() ? "." : rel));
    for (const auto& n : names) {
      if (keep.contains(n)) continue;
      struct stat st {};
      if (::fstatat(real, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      Change c;
      c.path = rel.empty() ? n : rel + "/" + n;
      c.real = type_of(st.st_mode);
      c.real_mode = st.st_mode & 07777;
      out.push_back(std::move(c));
    }
    return {};
  }

  // `upper`: the run's directory at `rel`; `real`: the project's, or -1.
  // `gone`: the project had this directory when the run started and has it
  // no more.
  Expected<void> walk(int upper, int real, const std::string& rel, bool gone) {
    AISBX_ASSIGN(names, list(upper, rel.empty() ? "upper dir" : rel));
    struct stat here {};
    const bool here_changed =
        real >= 0 && ::fstat(real, &here) == 0 && changed_since(here, since, rel);
    for (const auto& n : names) {
      const std::string path = rel.empty() ? n : rel + "/" + n;
      struct stat ust {}, rst {};
      if (::fstatat(upper, n.c_str(), &ust, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_fail("stat " + q(path) + " in the upper dir");
      const bool has_real = real >= 0 && ::fstatat(real, n.c_str(), &rst, AT_SYMLINK_NOFOLLOW) == 0;
      Change c;
      c.path = path;
      c.real = has_real ? type_of(rst.st_mode) : NodeType::none;
      c.real_mode = has_real ? rst.st_mode & 07777 : 0;
      if (is_whiteout(ust)) {
        if (!has_real) continue;
        c.binary = c.real == NodeType::file && looks_binary(real, n);
        out.push_back(std::move(c));  // removed
        continue;
      }
      c.upper = type_of(ust.st_mode);
      c.upper_mode = ust.st_mode & 07777;
      // Missing from the project, yet copied up from it: a directory so
      // made is where it was (without redirect_dir overlayfs refuses to
      // rename it: EXDEV), so the host removed it. A file may have been
      // renamed by the run (it keeps its origin); it is a conflict when
      // the project's directory changed since the start as well, which a
      // removal on the host does.
      if (gone)
        c.gone_from_project = true;
      else if (!has_real && real >= 0 && (c.upper == NodeType::dir || c.upper == NodeType::file))
        c.gone_from_project =
            (c.upper == NodeType::dir || here_changed) && copied_up(upper, n);
      c.mode = has_real && c.real == c.upper && c.upper != NodeType::symlink &&
               c.real_mode != c.upper_mode;
      switch (c.upper) {
        case NodeType::dir: {
          sys::UniqueFd u = open_dir(upper, n);
          if (u.get() < 0) return sys_fail("open " + q(path) + " in the upper dir (O_NOFOLLOW)");
          sys::UniqueFd r;
          if (c.real == NodeType::dir) r = open_dir(real, n);
          const bool replaced = r.get() >= 0 && opaque(u.get());
          if (c.real != NodeType::dir || c.mode) out.push_back(c);
          if (replaced) {
            AISBX_ASSIGN(kept, list(u.get(), path));
            // What the run wrote there is compared below; the rest is gone.
            std::set<std::string> keep;
            for (const auto& k : kept) {
              struct stat kst {};
              if (::fstatat(u.get(), k.c_str(), &kst, AT_SYMLINK_NOFOLLOW) == 0 && !is_whiteout(kst))
                keep.insert(k);
            }
            AISBX_TRY(removed_below(r.get(), path, keep));
          }
          AISBX_TRY(walk(u.get(), r.get(), path, c.gone_from_project));
          break;
        }
        case NodeType::file:
          c.content = c.real != NodeType::file || rst.st_size != ust.st_size ||
                      !same_bytes(upper, real, n, ust.st_size);
          c.binary = c.content && (looks_binary(upper, n) ||
                                   (c.real == NodeType::file && looks_binary(real, n)));
          if (c.content || c.mode) out.push_back(std::move(c));
          break;
        case NodeType::symlink: {
          c.link = read_link(upper, n);
          c.link_escapes = escapes(path, c.link);
          const bool same = c.real == NodeType::symlink && read_link(real, n) == c.link;
          if (!same) out.push_back(std::move(c));
          break;
        }
        default:
          out.push_back(std::move(c));  // a fifo, socket or device: reported, never applied
          break;
      }
    }
    return {};
  }
};

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%o", static_cast<unsigned>(m));
  return buf;
}

const char* noun(NodeType t) {
  switch (t) {
    case NodeType::file: return "file";
    case NodeType::dir: return "directory";
    case NodeType::symlink: return "symlink";
    case NodeType::other: return "special file";
    case NodeType::none: return "nothing";
  }
  return "?";
}

}  // namespace

bool changed_since(const struct stat& st, const Baseline& b, const std::string& rel) {
  const bool after = st.st_ctim.tv_sec > b.started_sec ||
                     (st.st_ctim.tv_sec == b.started_sec && st.st_ctim.tv_nsec >= b.started_nsec);
  if (!after) return false;
  const auto ours = b.committed.find(rel);
  return ours == b.committed.end() ||
         ours->second != std::pair<std::int64_t, std::int64_t>{st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
}

Expected<std::vector<Change>> collect_changes(int upper, int project, const Baseline& since) {
  std::vector<Change> out;
  Walker w{out, since};
  AISBX_TRY(w.walk(upper, project, "", false));
  return out;
}

char letter(const Change& c) {
  if (c.gone_from_project) return 'U';
  if (c.upper == NodeType::none) return 'D';
  if (c.real == NodeType::none) return c.upper == NodeType::symlink ? 'L' : 'A';
  if (c.real != c.upper) return 'T';
  if (c.upper == NodeType::symlink) return 'L';
  return 'M';
}

std::string describe(const Change& c, const std::string& prefix) {
  std::string s(1, letter(c));
  s += "  " + profile::escaped_path(prefix + c.path) + (c.upper == NodeType::dir ? "/" : "");
  std::vector<std::string> notes;
  const char l = letter(c);
  if (l == 'D') notes.push_back(std::string("removed ") + noun(c.real));
  if (l == 'U')
    notes.push_back(std::string("changed by the run, removed from the ") +
                    (prefix.empty() ? "project" : "root") +
                    " since it started: a conflict, commit leaves it");
  if (l == 'A' && c.upper == NodeType::dir) notes.push_back("new directory");
  if (l == 'A' && c.upper == NodeType::file) notes.push_back("new file, mode " + mode_text(c.upper_mode));
  if (l == 'T') notes.push_back(std::string(noun(c.real)) + " replaced by " + noun(c.upper));
  if (c.upper == NodeType::other) notes.push_back("special file: never applied");
  if (c.binary) notes.push_back("binary");
  if (c.mode) notes.push_back("mode " + mode_text(c.real_mode) + " -> " + mode_text(c.upper_mode));
  if (c.upper == NodeType::symlink) {
    notes.push_back("symlink -> " + profile::escaped_path(c.link));
    if (c.link_escapes)
      notes.push_back(std::string("points outside the ") + (prefix.empty() ? "project" : "root") +
                      ": applied as a link, never followed");
  }
  for (std::size_t i = 0; i < notes.size(); ++i) s += (i ? ", " : "  (") + notes[i];
  if (!notes.empty()) s += ")";
  return s;
}

std::uint64_t upper_bytes(int upper) {
  std::uint64_t total = 0;
  auto names = list(upper, "upper dir");
  if (!names) return 0;
  for (const auto& n : *names) {
    struct stat st {};
    if (::fstatat(upper, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) total += static_cast<std::uint64_t>(st.st_size);
    if (S_ISDIR(st.st_mode)) {
      sys::UniqueFd d = open_dir(upper, n);
      if (d.get() >= 0) total += upper_bytes(d.get());
    }
  }
  return total;
}

}  // namespace aisbx::runs
