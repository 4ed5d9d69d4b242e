// Moving aside what a run left where the host's git would follow it.
#pragma once

#include <string>

namespace aisbx::stage {

// Moves `name` in the directory `dir` to `name.aisbx-quarantine` (or `.1`,
// `.2`, ...): never over an earlier quarantined file, whose content the
// user has not looked at yet. Returns the name it got, or "" with errno.
std::string move_aside(int dir, const std::string& name);

}  // namespace aisbx::stage
