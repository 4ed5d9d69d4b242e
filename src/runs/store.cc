#include "runs/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "runs/tree.h"

namespace aisbx::runs {
namespace {

std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out += s[i] == 'n' ? '\n' : s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// Ours and not writable by others: a directory someone else can write can
// be made to hold their files as our run.
Expected<void> check_owned(int fd, const std::string& shown) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_fail("fstat " + q(shown));
  if (!S_ISDIR(st.st_mode)) return fail("runs: " + q(shown) + " is not a directory");
  if (st.st_uid != ::getuid())
    return fail("runs: " + q(shown) + " belongs to uid " + std::to_string(st.st_uid) +
                    ", not to you (uid " + std::to_string(::getuid()) + ")");
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fail("runs: " + q(shown) + " is writable by its group or by others",
                "chmod go-w " + shown);
  return {};
}

// One component below `dir`, as a directory, never through a link.
Expected<sys::UniqueFd> open_dir_at(int dir, const std::string& name, const std::string& shown) {
  sys::UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() >= 0) return fd;
  struct stat st {};
  if ((errno == ELOOP || errno == ENOTDIR) &&
      ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return fail("runs: " + q(shown) + " is a symbolic link",
                "a run directory is never entered through a link: remove it");
  return sys_fail("open " + q(shown) + " (O_NOFOLLOW)");
}

// `path` (absolute, canonical) from `/`, each component O_NOFOLLOW.
Expected<sys::UniqueFd> open_canonical(const std::string& path) {
  sys::UniqueFd dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return sys_fail("open `/`");
  std::size_t i = 1;
  while (i <= path.size()) {
    std::size_t end = path.find('/', i);
    if (end == std::string::npos) end = path.size();
    const std::string name = path.substr(i, end - i);
    i = end + 1;
    if (name.empty()) continue;
    AISBX_ASSIGN(next, open_dir_at(dir.get(), name, path.substr(0, end)));
    dir = std::move(next);
  }
  return dir;
}

Expected<Meta> read_meta(int dir, const std::string& shown) {
  sys::UniqueFd fd(::openat(dir, "meta", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return sys_fail("open " + q(shown + "/meta"), "not a run of aisbx-ns?");
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0 && text.size() < (1 << 20);)
    text.append(buf, static_cast<std::size_t>(n));
  std::map<std::string, std::string> kv;
  Meta m;
  for (const std::string& line : lines_of(text)) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    const std::string key = line.substr(0, sp);
    if (key == "root")
      m.roots.push_back(unescape(line.substr(sp + 1)));
    else
      kv[key] = unescape(line.substr(sp + 1));
  }
  m.name = kv["name"];
  m.project = kv["project"];
  m.profile = kv["profile"];
  m.mode = kv["mode"];
  m.command = kv["command"];
  m.started_utc = kv["started_utc"];
  try {
    m.started_sec = std::stoll(kv["started_sec"]);
    m.started_nsec = std::stoll(kv["started_nsec"]);
  } catch (...) {
    return fail(q(shown + "/meta") + " has no start time", "the run is damaged: discard it");
  }
  if (m.project.empty() || m.project[0] != '/')
    return fail(q(shown + "/meta") + " names no project", "the run is damaged: discard it");
  if (m.roots.empty()) m.roots.push_back(m.project);  // a run of the project alone
  for (const auto& r : m.roots)
    if (r.empty() || r[0] != '/')
      return fail(q(shown + "/meta") + " names a root that is not absolute",
                  "the run is damaged: discard it");
  return m;
}

}  // namespace

std::string escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Expected<RunDir> create_run(const plan::Plan& p, const std::string& command) {
  const plan::RunPlan& run = p.run;
  AISBX_ASSIGN(dir, open_canonical(run.checked_below));
  const std::string rest = run.dir.substr(run.checked_below == "/" ? 1 : run.checked_below.size() + 1);
  std::size_t i = 0;
  sys::UniqueFd runs;
  std::string part = run.checked_below == "/" ? "" : run.checked_below;
  while (i <= rest.size()) {
    std::size_t end = rest.find('/', i);
    if (end == std::string::npos) end = rest.size();
    const std::string name = rest.substr(i, end - i);
    const bool last = end == rest.size();
    i = end + 1;
    part += "/" + name;
    // Missing parts are made 0700 (the runs dir holds every run); the run's
    // own directory must be new.
    if (::mkdirat(dir.get(), name.c_str(), 0700) != 0 && (errno != EEXIST || last)) {
      if (errno == EEXIST)
        return fail("--run " + run.name + ": the run already exists (" + q(run.dir) + ")",
                    "review it with `aisbx-ns diff " + run.name + "`, or choose another name");
      return sys_fail("create the run directory " + q(part));
    }
    AISBX_ASSIGN(next, open_dir_at(dir.get(), name, part));
    AISBX_TRY(check_owned(next.get(), part));
    if (last) runs = std::move(dir);
    dir = std::move(next);
  }
  for (std::size_t layer = 0; layer < p.ns.overlays.size(); ++layer)
    for (const char* kind : {"upper", "work"}) {
      const std::string sub = plan::run_layer_dir(kind, layer);
      if (::mkdirat(dir.get(), sub.c_str(), 0700) != 0)
        return sys_fail("create " + q(run.dir + "/" + sub));
    }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  char utc[64] = "";
  tm t{};
  if (::gmtime_r(&now.tv_sec, &t)) std::strftime(utc, sizeof utc, "%Y-%m-%d %H:%M:%S UTC", &t);
  Meta m{run.name, run.project, {}, p.profile, to_string(p.mode), command,
         now.tv_sec, now.tv_nsec, utc};
  for (const plan::OverlayDirs& d : p.ns.overlays) m.roots.push_back(d.lower);
  std::string text = "name " + escape(m.name) + "\nproject " + escape(m.project) +
                     "\nprofile " + escape(m.profile) + "\nmode " + m.mode + "\ncommand " +
                     escape(m.command) + "\nstarted_sec " + std::to_string(m.started_sec) +
                     "\nstarted_nsec " + std::to_string(m.started_nsec) + "\nstarted_utc " +
                     m.started_utc + "\n";
  for (const auto& r : m.roots) text += "root " + escape(r) + "\n";
  sys::UniqueFd meta(
      ::openat(dir.get(), "meta", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (meta.get() < 0 || !sys::write_all(meta.get(), text))
    return sys_fail("write " + q(run.dir + "/meta"));
  if (::flock(dir.get(), LOCK_EX | LOCK_NB) != 0) return sys_fail("lock " + q(run.dir));
  return RunDir{std::move(dir), std::move(m), std::move(runs)};
}

Expected<sys::UniqueFd> open_runs_dir(const std::string& real_home, bool must_exist) {
  AISBX_ASSIGN(home, open_canonical(real_home));
  sys::UniqueFd dir = std::move(home);
  std::string shown = real_home == "/" ? "" : real_home;
  for (const char* name : {".ai-sandbox", "runs"}) {
    shown += std::string("/") + name;
    struct stat st {};
    if (!must_exist && ::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno == ENOENT)
      return sys::UniqueFd();
    AISBX_ASSIGN(next, open_dir_at(dir.get(), name, shown));
    dir = std::move(next);
  }
  AISBX_TRY(check_owned(dir.get(), shown));
  return dir;
}

Expected<RunDir> open_run(const std::string& real_home, const std::string& name) {
  if (auto why = plan::run_name_problem(name))
    return fail("run `" + profile::escaped_path(name) + "`: the name " + *why,
                "`aisbx-ns runs` lists the runs");
  AISBX_ASSIGN(runs, open_runs_dir(real_home, false));
  const std::string shown = plan::runs_dir(real_home) + "/" + name;
  struct stat st {};
  if (runs.get() < 0 || (::fstatat(runs.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 &&
                         errno == ENOENT))
    return fail("no run named " + q(name) + " in " + q(plan::runs_dir(real_home)),
                "`aisbx-ns runs` lists the runs");
  AISBX_ASSIGN(dir, open_dir_at(runs.get(), name, shown));
  AISBX_TRY(check_owned(dir.get(), shown));
  AISBX_ASSIGN(meta, read_meta(dir.get(), shown));
  return RunDir{std::move(dir), std::move(meta), std::move(runs)};
}

Expected<sys::UniqueFd> open_root(const Meta& m, std::size_t i) {
  auto fd = open_canonical(m.roots.at(i));
  if (!fd)
    return std::unexpected(with_context(
        fd.error(), (m.roots[i] == m.project ? "the project of run " : "a root of run ") + q(m.name)));
  return fd;
}

Expected<sys::UniqueFd> open_upper(const RunDir& run, std::size_t i) {
  const std::string upper = plan::run_layer_dir("upper", i);
  return open_dir_at(run.dir.get(), upper,
                     plan::runs_dir("~") + "/" + run.meta.name + "/" + upper);
}

Expected<void> lock_run(const RunDir& run) {
  if (::flock(run.dir.get(), LOCK_EX | LOCK_NB) == 0) return {};
  if (errno == EWOULDBLOCK)
    return fail("run " + q(run.meta.name) + " is in use by a sandbox",
                "wait until its command has ended");
  return sys_fail("lock run " + q(run.meta.name));
}

namespace {

// A small file of the run directory, or "" when there is none.
Expected<std::string> read_small(int dir, const char* name, const std::string& shown) {
  sys::UniqueFd fd(::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::string();
    return sys_fail("open " + q(shown));
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) {
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (std::size_t{16} << 20)) return fail(q(shown) + " is too large", "the run is damaged: discard it");
  }
  return text;
}

}  // namespace

Expected<Baseline> read_baseline(const RunDir& run, std::size_t i) {
  Baseline b;
  b.started_sec = run.meta.started_sec;
  b.started_nsec = run.meta.started_nsec;
  const std::string name = plan::run_layer_dir("committed", i);
  const std::string shown = plan::runs_dir("~") + "/" + run.meta.name + "/" + name;
  AISBX_ASSIGN(text, read_small(run.dir.get(), name.c_str(), shown));
  for (const std::string& line : lines_of(text)) {
    const auto a = line.find(' ');
    const auto z = a == std::string::npos ? a : line.find(' ', a + 1);
    if (z == std::string::npos) return fail(q(shown) + ": a line is not `SEC NSEC PATH`", "the run is damaged: discard it");
    try {
      b.committed[unescape(line.substr(z + 1))] = {std::stoll(line.substr(0, a)),
                                                   std::stoll(line.substr(a + 1, z - a - 1))};
    } catch (...) {
      return fail(q(shown) + ": a line is not `SEC NSEC PATH`", "the run is damaged: discard it");
    }
  }
  return b;
}

Expected<void> record_committed(const RunDir& run, std::size_t i, int root,
                                const std::vector<std::string>& dirs) {
  AISBX_ASSIGN(b, read_baseline(run, i));
  for (const auto& rel : dirs) {
    auto d = open_below(root, rel, q(run.meta.roots.at(i)));
    struct stat st {};
    if (!d || ::fstat(d->get(), &st) != 0) continue;  // gone: nothing of ours to remember
    b.committed[rel] = {st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
  }
  std::string text;
  for (const auto& [rel, t] : b.committed)
    text += std::to_string(t.first) + " " + std::to_string(t.second) + " " + escape(rel) + "\n";
  const std::string name = plan::run_layer_dir("committed", i);
  const std::string fresh = name + ".new";
  const std::string shown = plan::runs_dir("~") + "/" + run.meta.name + "/" + name;
  ::unlinkat(run.dir.get(), fresh.c_str(), 0);
  sys::UniqueFd fd(::openat(run.dir.get(), fresh.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0 || !sys::write_all(fd.get(), text)) return sys_fail("write " + q(shown));
  if (::renameat(run.dir.get(), fresh.c_str(), run.dir.get(), name.c_str()) != 0)
    return sys_fail("rename into " + q(shown));
  return {};
}

Expected<std::vector<std::string>> run_names(const std::string& real_home) {
  AISBX_ASSIGN(runs, open_runs_dir(real_home, false));
  std::vector<std::string> names;
  if (runs.get() < 0) return names;
  const int fd = ::openat(runs.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_fail("open " + q(plan::runs_dir(real_home)));
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return sys_fail("read " + q(plan::runs_dir(real_home)));
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (!plan::run_name_problem(n) && e->d_type == DT_DIR) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Expected<void> remove_tree(int dirfd, const std::string& name, const std::string& shown) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return sys_fail("stat " + q(shown));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
      return sys_fail("unlink " + q(shown));
    return {};
  }
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && st.st_uid == ::getuid()) {
    // overlayfs leaves work/work mode 000; it is ours to open again.
    if (::fchmodat(dirfd, name.c_str(), 0700, 0) != 0) return sys_fail("chmod " + q(shown));
    fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) return sys_fail("open " + q(shown) + " (O_NOFOLLOW)");
  sys::UniqueFd dir(fd);
  std::vector<std::string> names;
  {
    const int listed = ::dup(dir.get());
    DIR* d = listed < 0 ? nullptr : ::fdopendir(listed);
    if (!d) {
      if (listed >= 0) ::close(listed);
      return sys_fail("read " + q(shown));
    }
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  for (const auto& n : names) AISBX_TRY(remove_tree(dir.get(), n, shown + "/" + n));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) return sys_fail("rmdir " + q(shown));
  return {};
}

}  // namespace aisbx::runs
