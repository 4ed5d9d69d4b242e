// What a run changed: its upper dir compared with the real project, both
// walked with openat() relative to directory fds, never following a link.
//
// overlayfs (userxattr, no redirect_dir, no metacopy) writes to the upper
// dir: whole files that were created or changed (a chmod copies the file up
// too), symlinks, directories, a whiteout (a character device 0/0) for what
// was removed, and `user.overlay.opaque` = `y` on a directory that replaced
// one of the project's (its old entries are gone). A rename shows as a
// removal and an addition. A file or directory copied up from the project
// carries `user.overlay.origin` (the kernel sets it on every copy-up, with
// an empty handle where the lower fs has none): it was in the project when
// the run started, which is how a path the host removed since is told from
// one the run made.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aisbx/error.h"

namespace aisbx::runs {

enum class NodeType { none, file, dir, symlink, other };

struct Change {
  std::string path;          // relative to the project, no leading `/`
  NodeType real = NodeType::none;   // what the project has there now
  NodeType upper = NodeType::none;  // what the run left (none: removed)
  bool content = false;      // file contents differ (or it is new)
  bool binary = false;       // either side holds a NUL in its first 8000 bytes (as git
                             // decides): listed, its contents not shown
  bool mode = false;         // permission bits differ
  mode_t real_mode = 0, upper_mode = 0;
  std::string link;          // the symlink's text
  bool link_escapes = false; // it points outside the project (absolute, or `..` out)
  // The run changed what the project had at the start, and the project no
  // longer has it (removed on the host since): a conflict, never applied
  // as an addition. Also set on everything below such a directory.
  bool gone_from_project = false;
};

// What tells the host's changes to the project from the run's own: when
// the run started (Meta), and the ctime each project directory had right
// after an earlier `commit` of this run wrote in it (store.h,
// read_baseline): a directory whose ctime is still that one was changed
// by nobody else since.
struct Baseline {
  std::int64_t started_sec = 0;
  std::int64_t started_nsec = 0;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> committed;  // dir -> ctime
};

// The project's entry at `rel` (its lstat `st`) changed since the run
// started, other than by this run's commits.
bool changed_since(const struct stat& st, const Baseline& b, const std::string& rel);

// Pre-order: a directory before what lies in it; sorted by name within one.
// `upper` and `project` are directory fds.
Expected<std::vector<Change>> collect_changes(int upper, int project, const Baseline& since);

// One letter per change, as in `git status --short`: A M D T(ype) L(ink),
// U for a path the host removed since the run started (gone_from_project).
char letter(const Change& c);
// "A  path/" and what is special about it (mode, link target, outside);
// `prefix` before the path (a root other than the project: its path and `/`).
std::string describe(const Change& c, const std::string& prefix = "");

// Total bytes of the regular files in the upper dir.
std::uint64_t upper_bytes(int upper);

}  // namespace aisbx::runs
