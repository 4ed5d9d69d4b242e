// Moving aside what a run left where the host's git would follow it.
#pragma once

#include <string>

namespace aisbx::stage {

// Moves `name` in the directory `dir` to `name.aisbx-quarantine` (or `.1`,
// `.2`, ...): never over an earlier quarantined file, whose content the
// user has not looked at yet. Returns the name it got, or "" with errno.
std::string move_aside(int dir, const std::string& name);

// A Plan's paths are absolute and canonical: `/a/b` -> `/a` and `b`.
inline std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }
inline std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace aisbx::stage
