// After the command: files that make the host's git read another config
// or run hooks, which no mount could cover because they were missing at
// launch (`.git/commondir`, `.git/hooks`, `.git/config.worktree` in a
// repository the plan protects), are moved aside before the user's git
// reads them, and the run says so. The next launch refuses a commondir in
// a repository's own `.git` (git_meta_plan.cc) in case this one could not
// run (the launcher killed).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "aisbx/plan.h"
#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/open.h"

namespace aisbx::stage {

void quarantine_planted_git_files(const plan::Plan& p) {
  const auto& prot = p.protected_paths;
  for (const auto& g : prot) {
    if (!g.pin) continue;
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
      const std::string aside = std::string(name) + ".aisbx-quarantine";
      if (::renameat(dir.get(), name, dir.get(), aside.c_str()) == 0)
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
