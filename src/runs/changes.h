// What a run changed: its upper dir compared with the real project, both
// walked with openat() relative to directory fds, never following a link.
//
// overlayfs (userxattr, no redirect_dir, no metacopy) writes to the upper
// dir: whole files that were created or changed (a chmod copies the file up
// too), symlinks, directories, a whiteout (a character device 0/0) for what
// was removed, and `user.overlay.opaque` = `y` on a directory that replaced
// one of the project's (its old entries are gone). A rename shows as a
// removal and an addition.
#pragma once

#include <sys/types.h>

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
  bool mode = false;         // permission bits differ
  mode_t real_mode = 0, upper_mode = 0;
  std::string link;          // the symlink's text
  bool link_escapes = false; // it points outside the project (absolute, or `..` out)
};

// Pre-order: a directory before what lies in it; sorted by name within one.
// `upper` and `project` are directory fds.
Expected<std::vector<Change>> collect_changes(int upper, int project);

// One letter per change, as in `git status --short`: A M D T(ype) L(ink).
char letter(const Change& c);
// "A  path/" and what is special about it (mode, link target, outside).
std::string describe(const Change& c);

// Total bytes of the regular files in the upper dir.
std::uint64_t upper_bytes(int upper);

}  // namespace aisbx::runs
