// From options to a running sandbox: the one sequencer of the program.
#pragma once

#include "aisbx/error.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"

namespace aisbx {

// The profile files in use: the built-in set and, if found, the user's.
struct LoadedProfiles {
  profile::ProfileSet builtin;
  std::optional<profile::ProfileSet> user;
};

Expected<LoadedProfiles> load_profiles(const Options& o, const HostFacts& h);

// The named profile with `extends` applied, and where it came from.
Expected<std::pair<profile::Profile, std::string>> select_profile(const LoadedProfiles& p,
                                                                  const std::string& name);

// Runs the whole program after the command line; returns the exit status.
Expected<int> run(const Options& o);

}  // namespace aisbx
