// SeccompPlan::tty_guard: TIOCSTI/TIOCLINUX are refused in every mode and
// whatever the seccomp setting, as long as the kernel has seccomp (the
// escape suite found TIOCSTI on the caller's terminal open in layered mode).
#include <gtest/gtest.h>

#include <string>

#include "aisbx/features.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "fuzz/profile_fuzz_one.h"

namespace aisbx::plan {
namespace {

// `minimal` with its seccomp preset turned off in the profile.
Plan plan_for(Mode mode, std::optional<std::string> seccomp_cli, bool kernel_seccomp) {
  auto set = profile::parse_profiles(
      "version: 1\nprofiles:\n  p:\n    extends: minimal\n    seccomp: off\n", "t.yaml");
  EXPECT_TRUE(set);
  auto prof = profile::flatten(*set, "p", &test::fuzz::builtin_set());
  EXPECT_TRUE(prof) << prof.error().what;
  Options opt;
  opt.mode = mode;
  opt.mode_given = true;
  opt.seccomp = std::move(seccomp_cli);
  Features feat = Features::full(7);
  feat.seccomp = kernel_seccomp;
  if (!kernel_seccomp) feat.seccomp_why = "test: no seccomp";
  const HostFacts host = test::fuzz::host_facts();
  auto p = resolve(Inputs{*prof, "t.yaml", opt, feat, host, test::fuzz::host_fs()});
  EXPECT_TRUE(p) << p.error().what;
  return p ? *p : Plan{};
}

TEST(TtyGuard, OnInEveryModeAndWithSeccompOff) {
  for (Mode m : {Mode::layered, Mode::ns, Mode::landlock}) {
    const Plan p = plan_for(m, std::nullopt, true);
    EXPECT_FALSE(p.seccomp.enabled) << to_string(m);
    EXPECT_TRUE(p.seccomp.tty_guard) << to_string(m);
    EXPECT_TRUE(plan_for(m, std::string("off"), true).seccomp.tty_guard) << to_string(m);
    EXPECT_TRUE(plan_for(m, std::string("default"), true).seccomp.tty_guard) << to_string(m);
  }
  EXPECT_TRUE(plan_for(Mode::strict, std::nullopt, true).seccomp.tty_guard);
}

TEST(TtyGuard, OffWhenTheKernelHasNoSeccomp) {
  EXPECT_FALSE(plan_for(Mode::layered, std::nullopt, false).seccomp.tty_guard);
  EXPECT_FALSE(plan_for(Mode::layered, std::string("default"), false).seccomp.tty_guard);
}

}  // namespace
}  // namespace aisbx::plan
