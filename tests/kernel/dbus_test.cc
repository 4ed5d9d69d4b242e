// desktop.dbus with real parts (tests/gui/dbus_lab.sh): a dbus-daemon and a
// name owner of the test's own, the sandbox talking to them through the
// launcher's xdg-dbus-proxy. Each run prints one line per scenario; every
// scenario must say `ok`, and a missing line is a failure too.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <sstream>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

const std::vector<std::string> kEveryMode = {
    "control-both-names-answer-on-the-host", "allowed-name-answers", "other-name-refused",
    "other-name-not-listed", "bus-address-is-the-proxy", "proxy-gone-after-the-run",
    "proxy-gone-after-sigkill"};
const std::vector<std::string> kNamespaceModes = {
    "real-bus-not-visible", "only-the-proxy-socket-in-the-runtime-dir", "bus-at-the-usual-place"};
const std::vector<std::string> kLandlockMode = {"landlock-mode-warns-real-bus-reachable"};

class DbusLab : public ::testing::TestWithParam<runner::UserMode> {
 protected:
  void SetUp() override {
    const bool landlock = std::string(GetParam().mode) == "landlock";
    if (auto why = landlock ? kernel_gap({Need::Landlock}) : kernel_gap({Need::Userns, Need::Seccomp})) {
      if (must_work()) FAIL() << *why;
      GTEST_SKIP() << *why;
    }
  }
};

TEST_P(DbusLab, OnlyTheAllowedNameAnswersAndTheProxyEndsWithTheRun) {
  const runner::UserMode& c = GetParam();
  // Under /var/tmp: the private /tmp of namespace modes would cover it,
  // hiding the real bus for a reason that is not the one under test.
  runner::TempTree work(c.as, "aisbx-dbuslab", "/var/tmp");
  ::chmod(work.path().c_str(), 0755);
  for (const char* f : {"dbus_lab.sh", "dbus_owner.py"})
    work.file(std::string("lab/") + f,
              runner::read_text(std::string(AISBX_SOURCE_DIR) + "/tests/gui/" + f), 0755);
  runner::RunSpec spec;
  spec.as = c.as;
  spec.argv = {"/bin/bash", work.at("lab/dbus_lab.sh"), binary_path(), work.path(), c.mode};
  spec.timeout_seconds = 120;
  const runner::Result r = runner::run(spec);
  ASSERT_FALSE(r.timed_out) << r.describe();
  std::istringstream lines(r.out);
  std::string line;
  std::set<std::string> ok;
  while (std::getline(lines, line)) {
    if (line.starts_with("ok ")) ok.insert(line.substr(3));
    EXPECT_FALSE(line.starts_with("FAIL")) << line;
  }
  std::vector<std::string> want = kEveryMode;
  for (const auto& s : std::string(c.mode) == "landlock" ? kLandlockMode : kNamespaceModes)
    want.push_back(s);
  for (const auto& s : want) EXPECT_TRUE(ok.contains(s)) << "no `ok " << s << "`\n" << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Users, DbusLab,
                         ::testing::ValuesIn(runner::user_modes({"layered", "strict", "landlock"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
