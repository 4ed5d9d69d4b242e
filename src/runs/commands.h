// The host side of --overlay runs: `aisbx-ns runs|diff|commit|discard`
// (outside any sandbox), and what the launcher does around a run.
#pragma once

#include <string>

#include "aisbx/error.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "runs/store.h"

namespace aisbx::runs {

Expected<int> command(const RunsCommand& c);

// A run name when --run gives none: the UTC time and 4 random hex digits.
std::string generate_name();

// On stderr after the command: the run's name and the commands to review it.
void announce(const plan::Plan& p);

// The sandbox could not be built: its run directory (empty) is removed,
// through the fds create_run kept.
void forget_failed_run(const RunDir& run);

}  // namespace aisbx::runs
