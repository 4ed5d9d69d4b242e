// Internal to the stages: opening a path of the Plan as planning saw it.
#pragma once

#include <string>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/sys/fd.h"

namespace aisbx::stage {

// Opens `path` O_PATH without following any symlink (sys/open.h) and, when
// `seen.checked`, compares fstat() of the fd with what planning saw; the fd
// is what the rule or mount then uses, so what is checked is what is used.
// `shown` is the path as the Plan names it (`path` may be it under the
// staging root). A symlink on the way, a path gone or appeared, another
// inode: an Error (exit 125) naming the path, what planning saw and what is
// there now: "the tree changed while the sandbox was being built; run again".
// `missing_ok`: a path planning saw missing and that is still missing gives
// an empty UniqueFd (a Landlock rule on nothing grants nothing).
Expected<sys::UniqueFd> open_as_planned(const std::string& path, const plan::PlannedId& seen,
                                        const std::string& shown, bool missing_ok = false);

}  // namespace aisbx::stage
