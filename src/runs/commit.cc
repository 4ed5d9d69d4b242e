// `aisbx-ns commit RUN [PATH...]`: the run's changes applied to the real
// project, one file at a time, atomically (a temporary file or link beside
// it, then rename(2)), every directory reached from the project's fd with
// O_NOFOLLOW. Nothing is ever written through a symbolic link: a link the
// run made is applied as a link node, and a link on the way in the project
// refuses the path.
//
// Conflicts: a project entry whose ctime is not before the run's start
// (recorded with the clock file timestamps come from) changed on the host
// while or after the run ran; it is not overwritten, and each such path is
// named. ctime, unlike mtime, cannot be set back by touch(1). The
// directories a commit writes in are recorded with their ctime after it
// (store.h, record_committed), so that a later commit of the same run
// does not take its own earlier writes for the host's. A path the run
// changed and the host removed since is a conflict too (changes.h,
// gone_from_project), never brought back as an addition.
#include "runs/commit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "aisbx/profile.h"
#include "runs/changes.h"
#include "runs/tree.h"

namespace aisbx::runs {
namespace {

// Git metadata that makes the host run code (DESIGN.md, threat model): a
// hook, a config, a `.git` file pointing git at another gitdir. The sandbox
// sees them read-only; commit never writes them either.
bool runs_code_on_host(const Change& c) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i <= c.path.size();) {
    std::size_t end = c.path.find('/', i);
    if (end == std::string::npos) end = c.path.size();
    parts.push_back(c.path.substr(i, end - i));
    i = end + 1;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] != ".git") continue;
    if (i + 1 == parts.size()) return c.upper != NodeType::dir && c.upper != NodeType::none;
    const std::string& next = parts[i + 1];
    if (next == "hooks" || next == "config" || next == "config.worktree" || next == "commondir")
      return true;
    if (parts.back() == "config.worktree") return true;
  }
  return false;
}

// A project tree about to be removed (`rel` below the project, `name` in
// `dir`): any entry changed since the start.
bool tree_changed(int dir, const std::string& name, const std::string& rel, const Baseline& b) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (changed_since(st, b, rel)) return true;
  if (!S_ISDIR(st.st_mode)) return false;
  sys::UniqueFd d(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (d.get() < 0) return true;  // cannot look: do not remove
  const int listed = ::dup(d.get());
  DIR* ds = listed < 0 ? nullptr : ::fdopendir(listed);
  if (!ds) {
    if (listed >= 0) ::close(listed);
    return true;
  }
  bool changed = false;
  while (const dirent* e = ::readdir(ds)) {
    const std::string n = e->d_name;
    if (n != "." && n != ".." && tree_changed(d.get(), n, rel + "/" + n, b)) {
      changed = true;
      break;
    }
  }
  ::closedir(ds);
  return changed;
}

std::string temp_name(const std::string& name) {
  static unsigned counter = 0;
  return ".aisbx-commit." + std::to_string(::getpid()) + "." + std::to_string(++counter) + "." +
         (name.size() > 64 ? name.substr(0, 64) : name);
}

Expected<void> copy_file(int from_dir, int to_dir, const std::string& name, const std::string& tmp,
                         mode_t mode, const std::string& shown) {
  sys::UniqueFd in(::openat(from_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in.get() < 0) return sys_fail("open " + q(shown) + " in the upper dir");
  sys::UniqueFd out(::openat(to_dir, tmp.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) return sys_fail("create a temporary file beside " + q(shown));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail("read " + q(shown) + " in the upper dir");
    if (n == 0) break;
    if (!sys::write_all(out.get(), std::string_view(buf, static_cast<std::size_t>(n))))
      return sys_fail("write " + q(shown));
  }
  // Permission bits only: set-id bits are not the run's to give.
  if (::fchmod(out.get(), mode & 0777) != 0) return sys_fail("chmod " + q(shown));
  return {};
}

struct Committer {
  const RunDir& run;
  const Baseline& since;
  int upper;
  int project;  // the root's fd (the project, or another overlaid root)
  std::string where;   // "the project", or the root's path quoted
  std::string prefix;  // "" for the project; the root's path and `/` for another
  int refused = 0;
  // Project directories this commit writes in, and those of them that no
  // one else had changed since the run started: only these are recorded
  // (record_committed), so that a change of the host's stays one after
  // the commit wrote beside it.
  std::set<std::string> seen;
  std::set<std::string> written;

  // Before the first write in `rel`.
  void writes_in(const std::string& rel) {
    if (!seen.insert(rel).second) return;
    auto d = open_below(project, rel, where);
    struct stat st {};
    if (!d) {
      if (d.error().err == ENOENT) written.insert(rel);  // this commit makes it
      return;
    }
    if (::fstat(d->get(), &st) == 0 && !changed_since(st, since, rel)) written.insert(rel);
  }

  void refuse(const Change& c, const std::string& why) {
    ++refused;
    std::fprintf(stderr, "aisbx-ns: commit: %s: %s\n",
                 q(profile::escaped_path(prefix + c.path)).c_str(), why.c_str());
  }

  Expected<void> remove_real(int rdir, const std::string& name, const std::string& shown) {
    return remove_tree(rdir, name, shown);
  }

  // One change, or a refusal said on stderr (Expected errors are failures
  // of the command itself).
  Expected<void> apply(const Change& c) {
    if (runs_code_on_host(c)) {
      refuse(c, "git metadata that runs code on the host (hooks, config, a .git file): not "
                "applied; copy it by hand after reading it");
      return {};
    }
    if (c.upper == NodeType::other) {
      refuse(c, "a special file (fifo, socket or device): not applied");
      return {};
    }
    if (c.gone_from_project) {
      refuse(c, "removed from " + where + " since the run started (" + run.meta.started_utc +
                    "), and changed by the run: not applied; the run keeps its version (see "
                    "`aisbx-ns diff " + run.meta.name + "`)");
      return {};
    }
    const auto [dir, name] = split_parent(c.path);
    // Every directory from the top down to the one written in (open_below
    // may make the missing ones), before anything is written there.
    for (std::string d = dir;; d = split_parent(d).first) {
      writes_in(d);
      if (d.empty()) break;
    }
    if (c.upper == NodeType::dir) writes_in(c.path);
    auto rdir_r = open_below(project, dir, where, c.upper == NodeType::none ? -1 : upper);
    if (!rdir_r) {
      if (c.upper == NodeType::none && rdir_r.error().err == ENOENT) return {};  // already gone
      refuse(c, rdir_r.error().message());
      return {};
    }
    const int rdir = rdir_r->get();
    AISBX_ASSIGN(udir, open_below(upper, dir, "the upper dir"));
    struct stat rst {};
    const bool has_real = ::fstatat(rdir, name.c_str(), &rst, AT_SYMLINK_NOFOLLOW) == 0;
    const bool real_dir = has_real && S_ISDIR(rst.st_mode);
    // A directory the run made where the project now has one too: nothing to
    // overwrite, its entries are compared one by one.
    const bool merge_dir = c.upper == NodeType::dir && real_dir;
    if (has_real && !merge_dir &&
        (real_dir ? tree_changed(rdir, name, c.path, since) : changed_since(rst, since, c.path))) {
      refuse(c, "changed in " + where + " since the run started (" + run.meta.started_utc +
                    "): not applied; the run keeps its version (see `aisbx-ns diff " +
                    run.meta.name + "`)");
      return {};
    }
    if (merge_dir && c.mode && changed_since(rst, since, c.path)) {
      refuse(c, "directory changed in " + where + " since the run started: its mode is not applied");
      return {};
    }
    const std::string shown = q(profile::escaped_path(prefix + c.path)) + " in " + where;
    switch (c.upper) {
      case NodeType::none:
        AISBX_TRY(remove_real(rdir, name, shown));
        // The whiteout (none in an opaque dir, whose old entries are gone).
        if (::unlinkat(udir.get(), name.c_str(), 0) != 0 && errno != ENOENT)
          return sys_fail("remove the whiteout of " + q(c.path) + " in the upper dir");
        break;
      case NodeType::file:
      case NodeType::symlink: {
        const std::string tmp = temp_name(name);
        if (c.upper == NodeType::file) {
          auto copied = copy_file(udir.get(), rdir, name, tmp, c.upper_mode, c.path);
          if (!copied) {
            ::unlinkat(rdir, tmp.c_str(), 0);
            return copied;
          }
        } else if (::symlinkat(c.link.c_str(), rdir, tmp.c_str()) != 0) {
          return sys_fail("create the symlink " + q(c.path));
        }
        if (real_dir) AISBX_TRY(remove_real(rdir, name, shown));
        if (::renameat(rdir, tmp.c_str(), rdir, name.c_str()) != 0) {
          const auto e = sys_fail("rename into " + shown);
          ::unlinkat(rdir, tmp.c_str(), 0);
          return e;
        }
        if (::unlinkat(udir.get(), name.c_str(), 0) != 0)
          return sys_fail("remove " + q(c.path) + " from the upper dir");
        break;
      }
      case NodeType::dir: {
        if (has_real && !real_dir) AISBX_TRY(remove_real(rdir, name, shown));
        if (!real_dir && ::mkdirat(rdir, name.c_str(), c.upper_mode & 0777) != 0)
          return sys_fail("mkdir " + shown);
        sys::UniqueFd d(::openat(rdir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (d.get() < 0 || ::fchmod(d.get(), c.upper_mode & 0777) != 0)
          return sys_fail("chmod " + shown);
        break;
      }
      case NodeType::other:
        break;
    }
    std::printf("%s\n", describe(c, prefix).c_str());
    return {};
  }
};

bool selected(const std::string& path, const std::vector<std::string>& want) {
  if (want.empty()) return true;
  for (const auto& w : want)
    if (path == w || path.starts_with(w + "/")) return true;
  return false;
}

}  // namespace

Expected<Committed> commit(const RunDir& run, std::size_t root, int upper, int project,
                     const std::vector<std::string>& paths) {
  AISBX_ASSIGN(since, read_baseline(run, root));
  AISBX_ASSIGN(changes, collect_changes(upper, project, since));
  const std::string& lower = run.meta.roots.at(root);
  const bool is_project = lower == run.meta.project;
  const std::string prefix = is_project ? "" : lower + "/";
  int unmatched = 0;
  for (const auto& p : paths) {
    bool any = false;
    for (const auto& c : changes) any = any || selected(c.path, {p});
    if (!any) {
      std::fprintf(stderr, "aisbx-ns: commit: %s: the run changed nothing there\n",
                   q(profile::escaped_path(prefix + p)).c_str());
      ++unmatched;
    }
  }
  Committer k{run, since, upper, project, is_project ? "the project" : q(lower), prefix, 0, {}, {}};
  Expected<void> applied;
  for (const auto& c : changes)
    if (selected(c.path, paths) && !(applied = k.apply(c))) break;
  // Also after a failure: what was applied is the run's own writing.
  AISBX_TRY(record_committed(run, root, project, {k.written.begin(), k.written.end()}));
  AISBX_TRY(applied);
  std::fflush(stdout);
  return Committed{k.refused, unmatched};
}

}  // namespace aisbx::runs
