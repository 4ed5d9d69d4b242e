// `aisbx-ns commit`: applies a run's changes to the real project
// (commit.cc explains how conflicts and links are handled).
#pragma once

#include <string>
#include <vector>

#include "aisbx/error.h"
#include "runs/store.h"

namespace aisbx::runs {

// `paths` (relative to the project, normalised): only these and what lies
// below them; empty: everything. 0 when all was applied, 1 when a path was
// refused (each said on stderr) or matched nothing.
Expected<int> commit(const RunDir& run, int upper, int project,
                     const std::vector<std::string>& paths);

}  // namespace aisbx::runs
