// Git metadata read-only in every repository of a writable root.
//
// What makes the user's own git run code later, or read another config,
// is read-only: `config`, `config.worktree`, `commondir`, `hooks/`,
// `info/`, `modules/*/{config,hooks}`, `worktrees/*/{commondir,
// config.worktree}`; `.git` itself is bound onto itself, so it cannot be
// renamed or replaced (a rename onto or of a mount point fails with
// EBUSY), while what git writes (objects, refs, logs, index, HEAD, lock
// files, COMMIT_EDITMSG, ORIG_HEAD, FETCH_HEAD, packed-refs) stays
// writable. A `.git` file (a worktree or submodule checkout) is read-only.
//
// The namespace wall holds these. The Landlock wall cannot: rights are
// inherited, so keeping `.git/config` read-only takes write_file from
// `.git`, where git creates `index.lock` and writes it. In landlock mode
// the plan says so (ns_only), and the profile's own `readonly` entries
// still split as written.
//
// Nested repositories (`vendor/x/.git`) are found by a breadth-first walk
// of each writable root: no symlink followed, nothing inside a `.git` or a
// `node_modules` visited, at most kMaxDirs directories and kMaxDepth
// levels; the plan says when a limit cut the walk short. The walk reads
// kinds from the directories (Fs::tree_entries), so a file costs nothing,
// and a directory unchanged since an earlier launch costs one lstat
// (host/walk_cache.h): it runs on every launch. A repository the run creates, or one beyond the
// walk, is not protected: it matters on the host only when the user runs
// git in it, and `--check` reads the configs of those it finds.
//
// A `commondir` in a repository's own `.git` (git writes one only in
// `.git/worktrees/<name>/`) points git at another directory's config and
// hooks: a run may have planted it where no mount could cover it (a
// missing file) and the launcher was killed before it could move it
// aside. The plan lists it; the next launch moves it aside before the
// command starts, and says so (a refusal would lock the user out).
#include <algorithm>
#include <deque>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

constexpr std::size_t kMaxDirs = 20000;
constexpr std::size_t kMaxDepth = 6;

// Installed dependencies: thousands of directories that are no checkout of
// the user's, so git on the host never runs there unless the user cds in;
// a repository in one is as untrusted as one the run creates (see above).
bool is_dependency_tree(const std::string& name) { return name == "node_modules"; }

struct Collector {
  Context& cx;
  const std::vector<Root>& roots;
  std::vector<ProtectedPath>& out;

  void add(const std::string& path, const std::string& why, bool pin = false) {
    const FileKind k = cx.in.fs.kind(path);
    if (k == FileKind::missing) return;
    ProtectedPath p = protected_path(path, false, k, "built-in");
    p.mask = "git";
    p.why = why;
    p.pin = pin;
    p.ns_only = true;
    add_protected(cx, roots, out, std::move(p));
  }

  // `g` is a git directory: a repository's `.git`, or a common dir.
  Expected<void> gitdir(const std::string& g, bool own) {
    const Fs& fs = cx.in.fs;
    const bool planted = own && fs.kind(g + "/commondir") != FileKind::missing;
    if (planted) cx.plan.git_planted.push_back(g + "/commondir");
    add(g + "/config", "git config (core.fsmonitor, core.hooksPath, aliases run code)");
    add(g + "/config.worktree", "git per-worktree config");
    if (!planted) add(g + "/commondir", "where git finds the repository's config");
    add(g + "/hooks", "git hooks: run by git on the host");
    add(g + "/info", "git attributes and excludes");
    for (const auto& m : fs.list(g + "/modules")) {
      add(g + "/modules/" + m + "/config", "a submodule's git config");
      add(g + "/modules/" + m + "/hooks", "a submodule's git hooks");
    }
    for (const auto& w : fs.list(g + "/worktrees")) {
      add(g + "/worktrees/" + w + "/commondir", "where a worktree's git finds its config");
      add(g + "/worktrees/" + w + "/config.worktree", "a worktree's git config");
    }
    return {};
  }

  Expected<void> repo(const std::string& dir) {
    const std::string g = dir == "/" ? "/.git" : dir + "/.git";
    const FileKind k = cx.in.fs.kind(g);
    if (k == FileKind::regular) {
      add(g, "`gitdir:` file: where git finds this checkout's repository");
      return {};
    }
    if (k != FileKind::directory) {
      if (k == FileKind::symlink) add(g, "the repository's git directory");
      return {};
    }
    add(g, "the repository's git directory: cannot be renamed or replaced", true);
    return gitdir(g, true);
  }

  Expected<void> walk(const Root& r) {
    const Fs& fs = cx.in.fs;
    std::deque<std::pair<std::string, std::size_t>> todo{{r.path, 0}};
    std::size_t dirs = 0;
    bool deep = false;
    std::vector<std::string> skipped;
    while (!todo.empty()) {
      auto [dir, depth] = todo.front();
      todo.pop_front();
      const auto found = fs.tree_entries(r.path, dir);
      const bool has_git = std::any_of(found.begin(), found.end(),
                                       [](const DirEntry& e) { return e.name == ".git"; });
      if (has_git) AISBX_TRY(repo(dir));
      for (const auto& e : found) {
        if (e.kind != FileKind::directory || e.name == ".git") continue;
        if (is_dependency_tree(e.name)) {
          if (std::find(skipped.begin(), skipped.end(), e.name) == skipped.end())
            skipped.push_back(e.name);
          continue;
        }
        if (depth + 1 > kMaxDepth) {
          deep = true;
          continue;
        }
        if (++dirs > kMaxDirs) {
          cx.plan.git_scan_limits.push_back("`" + r.path + "`: stopped after " +
                                            std::to_string(kMaxDirs) + " directories");
          cx.warn("git metadata: the search for nested repositories in `" + r.path +
                  "` stopped after " + std::to_string(kMaxDirs) +
                  " directories; repositories beyond are not protected");
          return {};
        }
        todo.emplace_back(dir == "/" ? "/" + e.name : dir + "/" + e.name, depth + 1);
      }
    }
    if (deep)
      cx.plan.git_scan_limits.push_back("`" + r.path + "`: not deeper than " +
                                        std::to_string(kMaxDepth) + " levels");
    for (const auto& name : skipped)
      cx.plan.git_scan_limits.push_back("`" + r.path + "`: `" + name +
                                        "` directories not searched (installed dependencies)");
    return {};
  }
};

}  // namespace

Expected<void> collect_git_meta(Context& cx, const std::vector<Root>& roots,
                                std::vector<ProtectedPath>& out) {
  Collector c{cx, roots, out};
  for (const auto& r : roots) {
    if (!r.is_dir || !(r.granted & fs::kWriteRights) || r.link_only) continue;
    if (r.group == "network.unix_sockets") continue;
    if (r.git_common) {
      AISBX_TRY(c.gitdir(r.path, false));  // the main repository of a worktree
      continue;
    }
    if (r.git_added) continue;  // a worktree's gitdir: its common dir covers it
    // A root nested in another writable root is walked with it.
    const bool nested = std::any_of(roots.begin(), roots.end(), [&](const Root& o) {
      return &o != &r && o.is_dir && (o.granted & fs::kWriteRights) && !o.git_added &&
             o.path != r.path && is_within(r.path, o.path);
    });
    if (!nested) AISBX_TRY(c.walk(r));
  }
  return {};
}

}  // namespace aisbx::plan
