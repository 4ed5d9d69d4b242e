// A test's own profile YAML, parsed and flattened. YAML that does not parse
// or profiles that do not flatten are a broken test, not a result:
// ADD_FAILURE says so, and the error comes back for the test to stop on.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "aisbx/error.h"
#include "aisbx/profile.h"

namespace aisbx::test {

inline Expected<profile::Profile> test_profile(const std::string& yaml, const std::string& source,
                                               const std::string& name = "p") {
  auto set = profile::parse_profiles(yaml, source);
  if (!set) {
    ADD_FAILURE() << "the test's YAML does not parse: " << set.error().what << "\n" << yaml;
    return std::unexpected(set.error());
  }
  auto prof = profile::flatten(*set, name);
  if (!prof) {
    ADD_FAILURE() << "the test's profile does not flatten: " << prof.error().what << "\n"
                  << yaml;
    return std::unexpected(prof.error());
  }
  return prof;
}

}  // namespace aisbx::test
