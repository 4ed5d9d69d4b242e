#include "host/profile_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "aisbx/sys/open.h"

namespace aisbx {
namespace {

constexpr std::size_t kMaxEntryBytes = 64 << 20;  // a 1 MiB file's tree is far smaller
constexpr std::time_t kDay = 24 * 60 * 60;
constexpr const char* kPrunedMark = ".pruned";
constexpr std::string_view kTempPrefix = ".new-";

// The name of an entry: 64 lowercase hex digits (a SHA-256).
bool is_entry_name(std::string_view name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// One directory beneath `at`, made 0700 when missing, never a link.
int open_dir_at(int at, const char* name, std::string& why) {
  int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (::mkdirat(at, name, 0700) != 0 && errno != EEXIST) {
      why = std::string("mkdir `") + name + "`: " + std::strerror(errno);
      return -1;
    }
    fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) why = std::string("open `") + name + "`: " + std::strerror(errno);
  return fd;
}

}  // namespace

DiskTreeStore::DiskTreeStore(const std::string& home, bool enabled) {
  std::string why;
  if (home.empty() || home[0] != '/') {
    note("profile cache: off (no absolute HOME)");
    return;
  }
  sys::UniqueFd at(::open(home.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (at.get() < 0) {
    note("profile cache: off (open HOME: " + std::string(std::strerror(errno)) + ")");
    return;
  }
  std::string_view rel = profile::kProfileCacheDir;
  while (!rel.empty()) {
    const auto slash = rel.find('/');
    const std::string part(rel.substr(0, slash));
    rel = slash == std::string_view::npos ? std::string_view() : rel.substr(slash + 1);
    sys::UniqueFd next(open_dir_at(at.get(), part.c_str(), why));
    if (next.get() < 0) {
      note("profile cache: off (" + why + ")");
      return;
    }
    at = std::move(next);
  }
  struct stat st {};
  if (::fstat(at.get(), &st) != 0) {
    note("profile cache: off (fstat: " + std::string(std::strerror(errno)) + ")");
    return;
  }
  if (st.st_uid != ::geteuid()) {
    note("profile cache: off (the directory belongs to uid " + std::to_string(st.st_uid) + ")");
    return;
  }
  if ((st.st_mode & 07777) != 0700) {
    note("profile cache: off (the directory has mode " + mode_text(st.st_mode) + ", not 0700)");
    return;
  }
  if (!enabled) {
    note("profile cache: off ($AISBX_PROFILE_CACHE)");
    return;
  }
  dir_ = std::move(at);
}

std::optional<std::string> DiskTreeStore::load(const std::string& key) {
  if (dir_.get() < 0) return std::nullopt;
  sys::UniqueFd fd(::openat(dir_.get(), key.c_str(),
                            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno != ENOENT)
      note("profile cache: entry " + key + " ignored: open: " + std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  std::string why;
  if (::fstat(fd.get(), &st) != 0)
    why = "fstat";
  else if (!S_ISREG(st.st_mode))
    why = "not a regular file";
  else if (st.st_uid != ::geteuid())
    why = "owned by uid " + std::to_string(st.st_uid);
  else if ((st.st_mode & 07777) != 0600)
    why = "mode " + mode_text(st.st_mode) + ", not 0600";
  else if (st.st_nlink != 1)
    why = std::to_string(st.st_nlink) + " links";
  else if (static_cast<std::size_t>(st.st_size) > kMaxEntryBytes)
    why = "too large";
  if (!why.empty()) {
    note("profile cache: entry " + key + " ignored: " + why);
    return std::nullopt;
  }
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);  // a short read fails the entry's own length check
  // Used: its mtime says so, to the day (prune()). Its content is checked
  // by key, length and checksum, never by time.
  if (st.st_mtime < std::time(nullptr) - kDay) (void)::futimens(fd.get(), nullptr);
  return bytes;
}

void DiskTreeStore::store(const std::string& key, const std::string& bytes) {
  if (dir_.get() < 0) return;
  const std::string tmp = ".new-" + key + "-" + std::to_string(::getpid());
  sys::UniqueFd fd(::openat(dir_.get(), tmp.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    note("profile cache: not stored (create: " + std::string(std::strerror(errno)) + ")");
    return;
  }
  // The umask may have taken bits the reader requires.
  const bool written = ::fchmod(fd.get(), 0600) == 0 && sys::write_all(fd.get(), bytes);
  if (!written || ::renameat(dir_.get(), tmp.c_str(), dir_.get(), key.c_str()) != 0) {
    note("profile cache: not stored (" + std::string(std::strerror(errno)) + ")");
    ::unlinkat(dir_.get(), tmp.c_str(), 0);
    return;
  }
  note("profile cache: stored " + key);
  prune();
}

void DiskTreeStore::prune() {
  const std::time_t now = std::time(nullptr);
  struct stat st {};
  // A mark from the future (a clock set back) does not stop pruning.
  if (::fstatat(dir_.get(), kPrunedMark, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
      st.st_mtime > now - kDay && st.st_mtime <= now + kDay)
    return;
  // Marked first: launches that miss at the same time do not all prune.
  {
    sys::UniqueFd mark(::openat(dir_.get(), kPrunedMark,
                                O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (mark.get() < 0 || ::futimens(mark.get(), nullptr) != 0) return;
  }
  const auto names = sys::names_in(dir_.get());
  if (!names) return;
  std::vector<std::pair<std::time_t, std::string>> kept;  // (last used, name)
  std::size_t removed = 0;
  const auto remove = [&](const std::string& name) {
    if (::unlinkat(dir_.get(), name.c_str(), 0) == 0) ++removed;
  };
  for (const std::string& name : *names) {
    const bool entry = is_entry_name(name);
    if (!entry && !name.starts_with(kTempPrefix)) continue;
    if (::fstatat(dir_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode))
      continue;
    if (!entry) {
      // A writer renames its file within the launch that made it.
      if (st.st_mtime < now - 60 * 60) remove(name);
    } else if (st.st_mtime < now - kUnusedDays * kDay) {
      remove(name);
    } else {
      kept.emplace_back(st.st_mtime, name);
    }
  }
  if (kept.size() > kMaxEntries) {
    std::sort(kept.begin(), kept.end());
    for (std::size_t i = 0; i < kept.size() - kMaxEntries; ++i) remove(kept[i].second);
  }
  if (removed > 0) note("profile cache: pruned " + std::to_string(removed) + " old entries");
}

std::optional<std::string> DiskTreeStore::parser_salt() {
  // Once a process: the profile and seccomp stores both ask, and the
  // running binary is the same file for the whole launch.
  static const std::optional<std::string> salt = []() -> std::optional<std::string> {
    struct stat st {};
    if (::stat("/proc/self/exe", &st) != 0) return std::nullopt;
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
           std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
  }();
  return salt;
}

}  // namespace aisbx
