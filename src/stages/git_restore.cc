// Git metadata the namespace wall does not hold (landlock mode, or layered
// mode fallen back to Landlock alone): Landlock cannot keep `.git/config`
// or `.git/hooks` read-only while git writes beside them (see
// src/plan/git_meta_plan.cc). What a run changes there would make the
// user's own git run code later, so the launcher reads it before the
// command and puts it back after: a changed or removed file is restored
// (the run's version moved aside), a file new in `hooks/` or `info/` is
// moved aside, `hooks/` or `info/` turned into a symlink is put back as a
// directory, a `.git` replaced by another one is moved aside whole. While
// the command runs, git on the host may still follow what it wrote: the
// plan says so.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/open.h"
#include "stages/quarantine.h"

namespace aisbx::stage {
namespace {

// git's config and hooks are small; a bigger file is not copied, and the
// whole copy is bounded, so a tree the sandbox filled cannot make the
// launcher read gigabytes.
constexpr std::size_t kMaxFile = 4u << 20;
constexpr std::size_t kMaxTotal = 32u << 20;


struct Read {
  std::string content;
  mode_t mode = 0;
};

// A regular file `name` in `dir`, never through a symlink; nullopt when it
// is missing, not a regular file, or too big.
std::optional<Read> read_file_at(int dir, const std::string& name) {
  const sys::UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st{};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::size_t>(st.st_size) > kMaxFile)
    return std::nullopt;
  Read r;
  r.mode = st.st_mode & 07777;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    r.content.append(buf, static_cast<std::size_t>(n));
    if (r.content.size() > kMaxFile) return std::nullopt;
  }
  return r;
}

// A directory's entries by name, read through an fd (never a symlink).
std::optional<std::vector<std::string>> names_in(const std::string& path) {
  const sys::UniqueFd at(sys::open_path_no_symlinks(AT_FDCWD, path));
  if (at.get() < 0) return std::nullopt;
  return sys::names_in(at.get());
}

bool quarantined(const std::string& name) { return name.find(".aisbx-quarantine") != std::string::npos; }

void say(const char* fmt, const std::string& a, const std::string& b = {}) {
  std::fprintf(stderr, fmt, a.c_str(), b.c_str());
}

// Writes `f` back at its path: a new file beside it, renamed over nothing
// (what the run left there has been moved aside).
bool put_back(int dir, const GitSnapshot::File& f) {
  const std::string tmp = "." + name_of(f.path) + ".aisbx-restore";
  (void)::unlinkat(dir, tmp.c_str(), 0);
  const sys::UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                  f.mode & 0777));
  if (fd.get() < 0) return false;
  if (!sys::write_all(fd.get(), f.content) || ::fchmod(fd.get(), f.mode) != 0 ||
      ::renameat2(dir, tmp.c_str(), dir, name_of(f.path).c_str(), RENAME_NOREPLACE) != 0) {
    (void)::unlinkat(dir, tmp.c_str(), 0);
    return false;
  }
  return true;
}

void restore_file(const GitSnapshot::File& f) {
  const sys::UniqueFd dir(sys::open_path_no_symlinks(AT_FDCWD, parent_of(f.path)));
  if (dir.get() < 0) {
    say("aisbx-ns: error: git metadata: `%s` could not be checked after the run (its directory "
        "is gone or now a symlink): look at it before running git there%s\n",
        f.path);
    return;
  }
  const std::string name = name_of(f.path);
  const auto now = read_file_at(dir.get(), name);
  if (now && now->content == f.content && now->mode == f.mode) return;
  struct stat st{};
  std::string aside;
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    aside = move_aside(dir.get(), name);
    if (aside.empty()) {
      say("aisbx-ns: error: git metadata: the sandboxed run changed `%s` and it could not be moved "
          "aside (%s): look at it before running git there\n",
          f.path, std::strerror(errno));
      return;
    }
  }
  if (!put_back(dir.get(), f)) {
    say("aisbx-ns: error: git metadata: the sandboxed run changed `%s`; its version is `%s`, and "
        "the original could not be written back: restore it before running git there\n",
        f.path, aside.empty() ? std::string("gone") : parent_of(f.path) + "/" + aside);
    return;
  }
  say("aisbx-ns: error: git metadata: the sandboxed run changed `%s` (not read-only without the "
      "namespace wall); restored%s\n",
      f.path, aside.empty() ? std::string(" (it had removed it)") : ", its version moved to `" + parent_of(f.path) + "/" + aside + "`");
}

// Whatever stands at `path` now (a symlink, a file, another directory) is
// moved aside, and an empty directory made in its place; false when that
// fails (said).
bool rebuild_dir(const std::string& path, const char* what) {
  const sys::UniqueFd parent(sys::open_path_no_symlinks(AT_FDCWD, parent_of(path)));
  const std::string name = name_of(path);
  std::string aside;
  struct stat st{};
  if (parent.get() >= 0 && ::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    aside = move_aside(parent.get(), name);
  if (parent.get() < 0 || (st.st_mode && aside.empty()) ||
      ::mkdirat(parent.get(), name.c_str(), 0755) != 0) {
    say("aisbx-ns: error: git metadata: the sandboxed run replaced `%s` and it could not be put "
        "back: look at it before running git there%s\n",
        path);
    return false;
  }
  say("aisbx-ns: error: git metadata: the sandboxed run replaced `%s` (%s); "
      "put back as a directory\n",
      path, std::string(what) + (aside.empty() ? "" : ", the run's version moved to `" +
                                                       parent_of(path) + "/" + aside + "`"));
  return true;
}

void restore_dir(const GitSnapshot::Dir& d) {
  auto now = names_in(d.path);
  if (!now) {
    // Gone, or a symlink to a directory of the run's (hooks git on the
    // host would follow): an empty directory again; restore_file refills it.
    if (!rebuild_dir(d.path, "it is no longer a directory")) return;
    now.emplace();
  }
  const sys::UniqueFd dir(sys::open_path_no_symlinks(AT_FDCWD, d.path));
  if (dir.get() < 0) return;
  for (const auto& name : *now) {
    if (quarantined(name) || std::find(d.names.begin(), d.names.end(), name) != d.names.end()) continue;
    const std::string aside = move_aside(dir.get(), name);
    if (aside.empty())
      say("aisbx-ns: error: git metadata: the sandboxed run created `%s` and it could not be "
          "moved aside: remove it before running git there%s\n",
          d.path + "/" + name);
    else
      say("aisbx-ns: error: git metadata: the sandboxed run created `%s`, which git on the host "
          "would use; moved to `%s`\n",
          d.path + "/" + name, d.path + "/" + aside);
  }
}

std::optional<FileId> id_of(const std::string& path) {
  const sys::UniqueFd fd(sys::open_path_no_symlinks(AT_FDCWD, path));
  struct stat st{};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) return std::nullopt;
  return FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

GitSnapshot snapshot_git_metadata(const plan::Plan& p) {
  GitSnapshot s;
  std::size_t total = 0;
  const auto keep = [&](std::string path, Read r) {
    total += r.content.size();
    if (total <= kMaxTotal) s.files.push_back({std::move(path), std::move(r.content), r.mode});
  };
  for (const auto& pp : p.protected_paths) {
    if (!pp.restored) continue;
    if (pp.pin) {
      if (auto id = id_of(pp.path)) s.pins.push_back({pp.path, *id});
      continue;
    }
    if (pp.kind == FileKind::directory) {
      const auto names = names_in(pp.path);
      if (!names) continue;
      GitSnapshot::Dir d{pp.path, {}};
      const sys::UniqueFd dir(sys::open_path_no_symlinks(AT_FDCWD, pp.path));
      for (const auto& n : *names) {
        d.names.push_back(n);
        if (dir.get() < 0) continue;
        if (auto r = read_file_at(dir.get(), n)) keep(pp.path + "/" + n, std::move(*r));
      }
      s.dirs.push_back(std::move(d));
      continue;
    }
    const sys::UniqueFd dir(sys::open_path_no_symlinks(AT_FDCWD, parent_of(pp.path)));
    if (dir.get() < 0) continue;
    if (auto r = read_file_at(dir.get(), name_of(pp.path))) keep(pp.path, std::move(*r));
  }
  return s;
}

void restore_git_metadata(const GitSnapshot& s) {
  // A `.git` that is not the one the run started with (a symlink to the
  // run's own directory, or a new one with its own config) is moved aside
  // whole: nothing in it is the user's. Its files are not put back there.
  std::vector<std::string> replaced;
  for (const auto& pin : s.pins) {
    if (id_of(pin.path) == std::optional<FileId>(pin.id)) continue;
    replaced.push_back(pin.path);
    const sys::UniqueFd parent(sys::open_path_no_symlinks(AT_FDCWD, parent_of(pin.path)));
    struct stat st{};
    const std::string aside =
        parent.get() >= 0 && ::fstatat(parent.get(), name_of(pin.path).c_str(), &st,
                                       AT_SYMLINK_NOFOLLOW) == 0
            ? move_aside(parent.get(), name_of(pin.path))
            : std::string();
    say("aisbx-ns: error: git metadata: the sandboxed run replaced `%s` (not held without the "
        "namespace wall)%s; the repository it had is wherever the run moved it: look before "
        "running git there\n",
        pin.path, aside.empty() ? std::string() : "; what stood there is now `" +
                                                      parent_of(pin.path) + "/" + aside + "`");
  }
  const auto in_replaced = [&](const std::string& path) {
    return std::any_of(replaced.begin(), replaced.end(),
                       [&](const std::string& r) { return path.starts_with(r + "/"); });
  };
  for (const auto& d : s.dirs)
    if (!in_replaced(d.path)) restore_dir(d);
  for (const auto& f : s.files)
    if (!in_replaced(f.path)) restore_file(f);
}

}  // namespace aisbx::stage
