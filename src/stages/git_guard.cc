// After the command: files that make the host's git read another config
// or run hooks, which no mount could cover because they were missing at
// launch (`.git/commondir`, `.git/hooks`, `.git/config.worktree` in a
// repository the plan protects), are moved aside before the user's git
// reads them, and the run says so. A commondir in a repository's own
// `.git` found at the next launch is moved aside before that command
// starts, in case this guard could not run (the launcher killed).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>

#include "aisbx/plan.h"
#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/open.h"
#include "stages/quarantine.h"

namespace aisbx::stage {

std::string move_aside(int dir, const std::string& name) {
  for (int n = 0; n < 100; ++n) {
    const std::string aside = name + ".aisbx-quarantine" + (n ? "." + std::to_string(n) : "");
    if (::renameat2(dir, name.c_str(), dir, aside.c_str(), RENAME_NOREPLACE) == 0) return aside;
    if (errno != EEXIST) return "";
  }
  errno = EEXIST;
  return "";
}

Expected<void> quarantine_git_planted_at_launch(const plan::Plan& p) {
  for (const auto& path : p.git_planted) {
    const std::string dir_path = parent_of(path);
    const std::string name = name_of(path);
    // No symlink anywhere on the way: a run may have swapped a parent for a
    // link to somewhere else.
    const sys::UniqueFd dir(sys::open_path_no_symlinks(AT_FDCWD, dir_path));
    if (dir.get() < 0)
      return sys_fail("open " + q(dir_path) + " (to move aside " + q(path) + ", planted by a run)",
                      "remove it before running git there, then run again");
    struct stat st{};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
    const std::string aside = move_aside(dir.get(), name);
    if (aside.empty())
      return sys_fail("renameat2 " + q(path) + " (planted by a run: git on the host would follow it "
                      "to another directory's config and hooks)",
                      "remove it, then run again");
    std::fprintf(stderr,
                 "aisbx-ns: warning: `%s` was planted by an earlier run (git never writes a "
                 "commondir there; it makes git on the host read another directory's config and "
                 "hooks); moved to `%s/%s`: look at it before removing it\n",
                 path.c_str(), dir_path.c_str(), aside.c_str());
  }
  return {};
}

void quarantine_planted_git_files(const plan::Plan& p) {
  const auto& prot = p.protected_paths;
  for (const auto& g : prot) {
    if (!g.pin || g.mask != "git") continue;  // a git directory, not a pinned parent
    // No symlink anywhere on the way: a run may have swapped a parent for a
    // link to somewhere else.
    const sys::UniqueFd dir(sys::open_path_no_symlinks(AT_FDCWD, g.path));
    struct stat d{};
    if (dir.get() < 0 || ::fstat(dir.get(), &d) != 0 || !S_ISDIR(d.st_mode)) continue;
    for (const char* name : {"commondir", "hooks", "config.worktree"}) {
      const std::string path = g.path + "/" + name;
      const bool planned = std::any_of(prot.begin(), prot.end(), [&](const plan::ProtectedPath& x) {
        return x.path == path && x.kind != FileKind::missing;
      });
      struct stat st{};
      if (planned || ::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      const std::string aside = move_aside(dir.get(), name);
      if (!aside.empty())
        std::fprintf(stderr,
                     "aisbx-ns: error: the sandboxed run created `%s`, which git on the host "
                     "would follow; moved to `%s/%s`: look at it before removing it\n",
                     path.c_str(), g.path.c_str(), aside.c_str());
      else
        std::fprintf(stderr,
                     "aisbx-ns: error: the sandboxed run created `%s`, which git on the host "
                     "would follow, and it could not be moved aside: remove it before running git "
                     "there\n",
                     path.c_str());
    }
  }
}

}  // namespace aisbx::stage
