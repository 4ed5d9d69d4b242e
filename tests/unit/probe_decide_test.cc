// features_from(): the probe's decisions from injected readings. No kernel:
// this file is linked into unit_tests, which links only aisbx_plan.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "aisbx/probe.h"

namespace aisbx {
namespace {

// A kernel that has everything, as Debian 12 with a 6.x kernel reads it.
ProbeReadings good() {
  ProbeReadings r;
  r.landlock_abi = 7;
  r.userns_ok = true;
  r.unprivileged_userns_clone = "1\n";
  r.max_user_namespaces = "15000\n";
  r.seccomp_ok = true;
  r.uid = 1000;
  return r;
}

// A user namespace try that failed at `step` with `err`.
std::function<void(ProbeReadings&)> userns_failed(UsernsStep step, int err) {
  return [=](ProbeReadings& r) {
    r.userns_ok = false;
    r.userns_step = step;
    r.userns_errno = err;
  };
}

// `part` must be in `text`; an empty `part` means `text` must be empty.
void expect_part(const std::string& text, const std::string& part) {
  if (part.empty()) {
    EXPECT_EQ(text, "");
  } else {
    EXPECT_NE(text.find(part), std::string::npos)
        << "`" << part << "` not in `" << text << "`";
  }
}

struct LandlockCase {
  const char* name;
  std::function<void(ProbeReadings&)> set;
  int abi;
  std::string why;     // a part of landlock_why, "" = must be empty
  std::string remedy;  // a part of landlock_remedy, "" = not checked (empty if abi > 0)
};

TEST(FeaturesFrom, Landlock) {
  const std::vector<LandlockCase> cases = {
      {"abi 7", [](ProbeReadings&) {}, 7, "", ""},
      {"abi 1", [](ProbeReadings& r) { r.landlock_abi = 1; }, 1, "", ""},
      {"newer than known is not clamped", [](ProbeReadings& r) { r.landlock_abi = 12; },
       12, "", ""},
      {"ENOSYS", [](ProbeReadings& r) { r.landlock_abi = std::unexpected(ENOSYS); }, 0,
       "kernel built without Landlock (CONFIG_SECURITY_LANDLOCK)",
       "CONFIG_SECURITY_LANDLOCK=y"},
      {"ENOSYS in a seccomp filter",
       [](ProbeReadings& r) {
         r.landlock_abi = std::unexpected(ENOSYS);
         r.in_seccomp_filter = true;
       },
       0, "or a seccomp filter of the container hides its syscalls",
       "seccomp profile that allows landlock_create_ruleset"},
      {"EOPNOTSUPP",
       [](ProbeReadings& r) { r.landlock_abi = std::unexpected(EOPNOTSUPP); }, 0,
       "Landlock is built into the kernel but disabled at boot",
       "add `landlock` to lsm= on the kernel command line"},
      {"EOPNOTSUPP with the LSM list",
       [](ProbeReadings& r) {
         r.landlock_abi = std::unexpected(EOPNOTSUPP);
         r.lsm_list = "capability,yama,apparmor";
       },
       0, "(active LSMs: capability,yama,apparmor)",
       "lsm=landlock,capability,yama,apparmor"},
      {"EPERM in a seccomp filter",
       [](ProbeReadings& r) {
         r.landlock_abi = std::unexpected(EPERM);
         r.in_seccomp_filter = true;
       },
       0, "a seccomp filter of the container refuses landlock_create_ruleset",
       "seccomp profile that allows"},
      {"EPERM outside a filter: the errno's text",
       [](ProbeReadings& r) { r.landlock_abi = std::unexpected(EPERM); }, 0,
       "landlock_create_ruleset(NULL, 0, VERSION) failed: Operation not permitted (errno "
       "1)",
       ""},
      {"fake 0", [](ProbeReadings& r) { r.fake_landlock_abi = "0"; }, 0,
       "faked by AISBX_FAKE_LANDLOCK_ABI=0", "unset AISBX_FAKE_LANDLOCK_ABI"},
      {"fake 0 wins over a kernel error",
       [](ProbeReadings& r) {
         r.landlock_abi = std::unexpected(ENOSYS);
         r.fake_landlock_abi = "0";
       },
       0, "faked by AISBX_FAKE_LANDLOCK_ABI=0", ""},
      {"fake 3 on an ABI 7 kernel", [](ProbeReadings& r) { r.fake_landlock_abi = "3"; },
       3, "", ""},
      {"fake not a number", [](ProbeReadings& r) { r.fake_landlock_abi = "abc"; }, 0,
       "AISBX_FAKE_LANDLOCK_ABI=abc is not a Landlock ABI",
       "unset AISBX_FAKE_LANDLOCK_ABI"},
      {"fake negative", [](ProbeReadings& r) { r.fake_landlock_abi = "-1"; }, 0,
       "AISBX_FAKE_LANDLOCK_ABI=-1 is not a Landlock ABI", ""},
      {"fake with trailing junk", [](ProbeReadings& r) { r.fake_landlock_abi = "4x"; }, 0,
       "is not a Landlock ABI", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ProbeReadings r = good();
    c.set(r);
    const Features f = features_from(r);
    EXPECT_EQ(f.landlock_abi, c.abi);
    expect_part(f.landlock_why, c.why);
    // A working Landlock needs no remedy; otherwise check the part given.
    if (c.abi > 0 || !c.remedy.empty()) expect_part(f.landlock_remedy, c.remedy);
  }
}

struct UsernsCase {
  const char* name;
  std::function<void(ProbeReadings&)> set;
  bool userns;
  std::string why;     // a part of userns_why, "" = must be empty
  std::string remedy;  // a part of userns_remedy, "" = not checked (empty if userns)
};

TEST(FeaturesFrom, Userns) {
  const auto eperm = userns_failed(UsernsStep::unshare, EPERM);
  const std::vector<UsernsCase> cases = {
      {"works", [](ProbeReadings&) {}, true, "", ""},
      {"works although a knob says no (as root)",
       [](ProbeReadings& r) { r.unprivileged_userns_clone = "0\n"; }, true, "", ""},
      {"unprivileged_userns_clone 0",
       [&](ProbeReadings& r) {
         eperm(r);
         r.unprivileged_userns_clone = "0\n";
       },
       false, "kernel.unprivileged_userns_clone is 0",
       "sysctl -w kernel.unprivileged_userns_clone=1"},
      {"max_user_namespaces 0",
       [](ProbeReadings& r) {
         userns_failed(UsernsStep::unshare, ENOSPC)(r);
         r.max_user_namespaces = "0\n";
       },
       false, "user.max_user_namespaces is 0",
       "sysctl -w user.max_user_namespaces=15000"},
      {"unprivileged_userns_clone is named before max_user_namespaces",
       [&](ProbeReadings& r) {
         eperm(r);
         r.unprivileged_userns_clone = "0\n";
         r.max_user_namespaces = "0\n";
       },
       false, "kernel.unprivileged_userns_clone is 0", ""},
      {"AppArmor restriction (map write refused)",
       [](ProbeReadings& r) {
         userns_failed(UsernsStep::uid_map, EPERM)(r);
         r.apparmor_restrict_unprivileged_userns = "1\n";
       },
       false, "kernel.apparmor_restrict_unprivileged_userns is 1",
       "apparmor_parser -r /etc/apparmor.d/aisbx-ns"},
      {"AppArmor remedy also names the sysctl",
       [&](ProbeReadings& r) {
         eperm(r);
         r.apparmor_restrict_unprivileged_userns = "1\n";
       },
       false, "AppArmor", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
      {"max_user_namespaces is named before AppArmor",
       [&](ProbeReadings& r) {
         eperm(r);
         r.max_user_namespaces = "0\n";
         r.apparmor_restrict_unprivileged_userns = "1\n";
       },
       false, "user.max_user_namespaces is 0", ""},
      {"AppArmor knob 0 is not blamed",
       [&](ProbeReadings& r) {
         eperm(r);
         r.apparmor_restrict_unprivileged_userns = "0\n";
       },
       false,
       "unshare(CLONE_NEWUSER|CLONE_NEWNS) failed for uid 1000: Operation not "
       "permitted (errno 1)",
       "use --mode landlock"},
      {"seccomp filter of a container, EPERM",
       [&](ProbeReadings& r) {
         eperm(r);
         r.in_seccomp_filter = true;
       },
       false, "a seccomp filter of the container refuses unshare(CLONE_NEWUSER)",
       "run the container with a profile that allows it, or use --mode landlock"},
      {"AppArmor is named before the seccomp filter",
       [&](ProbeReadings& r) {
         eperm(r);
         r.in_seccomp_filter = true;
         r.apparmor_restrict_unprivileged_userns = "1\n";
       },
       false, "kernel.apparmor_restrict_unprivileged_userns is 1", ""},
      {"seccomp filter but not EPERM: the errno's text",
       [](ProbeReadings& r) {
         userns_failed(UsernsStep::unshare, EACCES)(r);
         r.in_seccomp_filter = true;
       },
       false, "failed for uid 1000: Permission denied (errno 13)", ""},
      {"EINVAL from unshare: no CONFIG_USER_NS",
       userns_failed(UsernsStep::unshare, EINVAL), false,
       "kernel built without user namespaces (CONFIG_USER_NS)", "--mode landlock"},
      {"ENOSPC with a nonzero limit", userns_failed(UsernsStep::unshare, ENOSPC), false,
       "the limit of user namespaces is reached",
       "sysctl -w user.max_user_namespaces=15000"},
      {"uid_map write refused: names the step and the map",
       userns_failed(UsernsStep::uid_map, EPERM), false,
       "writing `1000 1000 1` to /proc/self/uid_map failed for uid 1000: Operation not "
       "permitted (errno 1)",
       ""},
      {"setgroups write refused", userns_failed(UsernsStep::setgroups, EACCES), false,
       "writing `deny` to /proc/self/setgroups failed", ""},
      {"gid_map write refused", userns_failed(UsernsStep::gid_map, EPERM), false,
       "/proc/self/gid_map failed", ""},
      {"fork failed", userns_failed(UsernsStep::fork, EAGAIN), false,
       "fork() of the probe child failed", ""},
      {"child killed by SIGSYS",
       [](ProbeReadings& r) {
         userns_failed(UsernsStep::child, 0)(r);
         r.userns_signal = SIGSYS;
       },
       false, "(SIGSYS: a seccomp filter kills unshare)", "--mode landlock"},
      {"waitpid failed", userns_failed(UsernsStep::child, ECHILD), false,
       "waitpid() on the user namespace probe failed", ""},
      {"knobs unreadable: the errno's text",
       [&](ProbeReadings& r) {
         eperm(r);
         r.unprivileged_userns_clone.reset();
         r.max_user_namespaces.reset();
       },
       false, "Operation not permitted (errno 1)", ""},
      {"knob not a number is not blamed",
       [&](ProbeReadings& r) {
         eperm(r);
         r.max_user_namespaces = "zero";
       },
       false, "Operation not permitted (errno 1)", ""},
      {"fake no userns", [](ProbeReadings& r) { r.fake_no_userns = "1"; }, false,
       "faked by AISBX_FAKE_NO_USERNS", "unset AISBX_FAKE_NO_USERNS"},
      {"fake set to 0 changes nothing", [](ProbeReadings& r) { r.fake_no_userns = "0"; },
       true, "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ProbeReadings r = good();
    c.set(r);
    const Features f = features_from(r);
    EXPECT_EQ(f.userns, c.userns);
    expect_part(f.userns_why, c.why);
    if (c.userns || !c.remedy.empty()) expect_part(f.userns_remedy, c.remedy);
  }
}

TEST(FeaturesFrom, Seccomp) {
  struct Case {
    const char* name;
    bool ok;
    int err;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"works", true, 0, ""},
      {"EINVAL: not built", false, EINVAL,
       "kernel built without seccomp (CONFIG_SECCOMP)"},
      {"other errno", false, EPERM,
       "prctl(PR_GET_SECCOMP) failed: Operation not permitted (errno 1)"},
      {"not probed", false, 0, "seccomp was not probed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ProbeReadings r = good();
    r.seccomp_ok = c.ok;
    r.seccomp_errno = c.err;
    const Features f = features_from(r);
    EXPECT_EQ(f.seccomp, c.ok);
    EXPECT_EQ(f.seccomp_why, c.why);
  }
}

TEST(FeaturesFrom, WallsAreDecidedIndependently) {
  ProbeReadings r = good();
  r.landlock_abi = std::unexpected(EOPNOTSUPP);
  const Features f = features_from(r);
  EXPECT_EQ(f.landlock_abi, 0);
  EXPECT_TRUE(f.userns);
  EXPECT_TRUE(f.seccomp);
}

TEST(FeaturesFrom, DefaultReadingsSayNothingWorks) {
  const Features f = features_from(ProbeReadings{});
  EXPECT_EQ(f.landlock_abi, 0);
  EXPECT_EQ(f.landlock_why, "Landlock was not probed");
  EXPECT_FALSE(f.userns);
  EXPECT_EQ(f.userns_why, "user namespaces were not probed");
  EXPECT_FALSE(f.seccomp);
  EXPECT_EQ(f.seccomp_why, "seccomp was not probed");
}

// A run that is about to unshare skips the probe's fork only when no knob
// read says user namespaces are refused: the fallback after a refused
// unshare is for what no knob shows (limits, nesting).
TEST(UsernsKnobsAllow, OnlyWhenNoKnobRefuses) {
  EXPECT_TRUE(userns_knobs_allow(good()));
  EXPECT_TRUE(userns_knobs_allow(ProbeReadings{}));  // files missing: nothing forbids
  const std::vector<std::pair<std::string, std::function<void(ProbeReadings&)>>> refusing{
      {"unprivileged_userns_clone 0", [](ProbeReadings& r) { r.unprivileged_userns_clone = "0\n"; }},
      {"max_user_namespaces 0", [](ProbeReadings& r) { r.max_user_namespaces = "0\n"; }},
      {"apparmor restriction",
       [](ProbeReadings& r) { r.apparmor_restrict_unprivileged_userns = "1\n"; }},
      {"under a seccomp filter", [](ProbeReadings& r) { r.in_seccomp_filter = true; }},
  };
  for (const auto& [name, change] : refusing) {
    ProbeReadings r = good();
    change(r);
    EXPECT_FALSE(userns_knobs_allow(r)) << name;
  }
  ProbeReadings off = good();
  off.apparmor_restrict_unprivileged_userns = "0\n";
  EXPECT_TRUE(userns_knobs_allow(off));
}

TEST(FeaturesFrom, MountSetattrAsReadUnlessFakedAway) {
  ProbeReadings r = good();
  EXPECT_FALSE(features_from(r).mount_setattr);  // a kernel before 5.12
  r.mount_setattr = true;
  EXPECT_TRUE(features_from(r).mount_setattr);
  r.fake_no_mount_setattr = "1";
  EXPECT_FALSE(features_from(r).mount_setattr);
}

TEST(FeaturesFrom, AnAssumedUserNamespaceIsMarkedSo) {
  ProbeReadings r = good();
  EXPECT_FALSE(features_from(r).userns_assumed);
  r.userns_assumed = true;
  const Features f = features_from(r);
  EXPECT_TRUE(f.userns);
  EXPECT_TRUE(f.userns_assumed);
  r.fake_no_userns = "1";  // the test hook still wins
  EXPECT_FALSE(features_from(r).userns);
  EXPECT_FALSE(features_from(r).userns_assumed);
}

}  // namespace
}  // namespace aisbx
