// What a kernel test needs that this kernel lacks (STYLE.md 8). Use it in
// SetUp():
//
//   void SetUp() override { AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock); }
//
// A missing feature skips the test with the reason, or fails it when
// AISBX_REQUIRE_KERNEL_FEATURES=1 (CI on a kernel that has everything), so a
// skip can never hide a regression there (bubblewrap's BWRAP_MUST_WORK,
// rust-landlock's LANDLOCK_CRATE_TEST_ABI).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "aisbx/features.h"
#include "aisbx/probe.h"

namespace aisbx::test {

enum class Need {
  Landlock,       // any Landlock ABI (>= 1)
  LandlockNet,    // ABI 4: TCP bind/connect rules
  LandlockScope,  // ABI 6: scopes
  Userns,         // an unprivileged user namespace with identity maps
  Seccomp,        // seccomp filters
};

// The real kernel, probed once per test binary. The AISBX_FAKE_* hooks are
// not applied: they are for tests of the launcher, not of the kernel.
inline const Features& real_features() {
  static const Features features = features_from(read_probe());
  return features;
}

// AISBX_REQUIRE_KERNEL_FEATURES=1: a missing feature is a failure.
inline bool must_work() {
  const char* v = std::getenv("AISBX_REQUIRE_KERNEL_FEATURES");
  return v != nullptr && std::string_view(v) == "1";
}

// What `f` lacks of `needs`, with the probe's reasons; nullopt if nothing.
inline std::optional<std::string> kernel_gap(std::initializer_list<Need> needs,
                                             const Features& f = real_features()) {
  std::string gap;
  auto add = [&gap](const std::string& what) { gap += (gap.empty() ? "" : "; ") + what; };
  auto abi_at_least = [&](int abi, const char* what) {
    if (f.landlock_abi >= abi) return;
    add("needs Landlock ABI >= " + std::to_string(abi) + " (" + what + "), kernel has " +
        std::to_string(f.landlock_abi) +
        (f.landlock_why.empty() ? std::string() : ": " + f.landlock_why));
  };
  for (const Need need : needs) {
    switch (need) {
      case Need::Landlock:
        abi_at_least(1, "Landlock");
        break;
      case Need::LandlockNet:
        abi_at_least(4, "TCP rules");
        break;
      case Need::LandlockScope:
        abi_at_least(6, "scopes");
        break;
      case Need::Userns:
        if (!f.userns) add("needs user namespaces: " + f.userns_why);
        break;
      case Need::Seccomp:
        if (!f.seccomp) add("needs seccomp: " + f.seccomp_why);
        break;
    }
  }
  if (gap.empty()) return std::nullopt;
  return gap;
}

}  // namespace aisbx::test

// Skips (or, with AISBX_REQUIRE_KERNEL_FEATURES=1, fails) the current test
// when the kernel lacks one of the Need:: values given. Use in SetUp() or at
// the top of a test body.
#define AISBX_SKIP_ON_KERNEL_GAP(...)                                        \
  do {                                                                       \
    using ::aisbx::test::Need;                                               \
    if (const auto aisbx_gap_ = ::aisbx::test::kernel_gap({__VA_ARGS__})) {  \
      if (::aisbx::test::must_work())                                        \
        GTEST_FAIL() << *aisbx_gap_ << " (AISBX_REQUIRE_KERNEL_FEATURES=1)"; \
      GTEST_SKIP() << *aisbx_gap_;                                           \
    }                                                                        \
  } while (0)

// The same for a program or file the test needs (scripts/setup.sh installs
// what the tests use, so under AISBX_REQUIRE_KERNEL_FEATURES=1 it fails).
#define AISBX_SKIP_WITHOUT(present, what)                                         \
  do {                                                                            \
    if (!(present)) {                                                             \
      if (::aisbx::test::must_work())                                             \
        GTEST_FAIL() << (what) << " (AISBX_REQUIRE_KERNEL_FEATURES=1)";           \
      GTEST_SKIP() << (what);                                                     \
    }                                                                             \
  } while (0)
