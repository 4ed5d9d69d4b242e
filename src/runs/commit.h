// `aisbx-ns commit`: applies a run's changes to the real project
// (commit.cc explains how conflicts and links are handled).
#pragma once

#include <string>
#include <vector>

#include "aisbx/error.h"
#include "runs/store.h"

namespace aisbx::runs {

// Root `root` of the run (Meta::roots), its upper dir and the root
// itself as fds. `paths` (relative to the root, normalised): only these and
// what lies below them; empty: everything. Each refused path and each of
// `paths` that matched nothing is said on stderr, and counted.
struct Committed {
  int refused = 0;
  int unmatched = 0;
};
Expected<Committed> commit(const RunDir& run, std::size_t root, int upper, int project,
                     const std::vector<std::string>& paths);

}  // namespace aisbx::runs
