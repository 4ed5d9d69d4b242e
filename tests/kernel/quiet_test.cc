// A normal run is quiet: the spec's profiles and every built-in profile,
// launched from the project as a user would, print nothing on stderr.
// Advice about how a profile is written (refer not controlled, a root named
// through a merged-/usr link, ...) is a note: --dry-run shows it, a run does
// not print it.
//
// Every test runs as the caller and, when the caller is root, as uid/gid
// 65534 (runner::users_to_test()).
#include <unistd.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

class QuietRun : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
    // Outside /tmp: the sandbox's private /tmp would hide a project there.
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-quiet", "/var/tmp");
    home_ = tree_->dir("home");
    // What the spec file's paths name (~/dev/myproj and its siblings).
    project_ = tree_->dir("home/dev/myproj");
    tree_->file("home/dev/myproj/README", "the project\n");
    tree_->dir("home/dev/shared-lib");
    tree_->dir("home/dev/test-project");
    tree_->dir("home/.ai-sandbox/cache");
  }

  Result run(std::vector<std::string> argv) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam();
    s.cwd = project_;
    s.env = {{"HOME", home_}};
    if (kSanitized) s.env.emplace_back("ASAN_OPTIONS", "detect_leaks=0");
    return runner::run(s);
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, project_;
};

std::string user_name(const ::testing::TestParamInfo<As>& info) {
  return runner::name_of(info.param);
}

// The spec's copilot-backend: /lib and /lib64 are merged-/usr links, refer
// and the write rights are not controlled. All of that is advice, none of
// it printed by a run; the plan still holds it as notes.
TEST_P(QuietRun, TheSpecsCopilotBackendSaysNothing) {
  const Result r = run({binary_path(), "--config", kSpecFile, "--profile", "copilot-backend",
                        "--", "true"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();

  const Result plan = run({binary_path(), "--config", kSpecFile, "--profile",
                           "copilot-backend", "--dry-run", "--", "true"});
  EXPECT_EQ(plan.status, 0) << plan.describe();
  EXPECT_TRUE(contains(plan.out, "notes:\n")) << plan.describe();
  EXPECT_TRUE(contains(plan.out, "refer is not controlled")) << plan.describe();
  // The merged-/usr links are known system links: not even a note.
  EXPECT_FALSE(contains(plan.out, "resolves through a symlink")) << plan.describe();
  EXPECT_EQ(plan.err, "") << plan.describe();
}

// The same run inside the namespace wall sees the merged-/usr links the
// host has, recreated with the same text: /lib64/ld-linux... is how every
// program starts, /bin/sh how every script does.
TEST_P(QuietRun, TheMergedUsrLinksAreThereInside) {
  std::string expected, script;
  for (const char* l : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    char buf[256];
    const ssize_t n = ::readlink(l, buf, sizeof buf);
    if (n <= 0) continue;  // not a link on this host: nothing to recreate
    expected += std::string(l) + " -> " + std::string(buf, static_cast<std::size_t>(n)) + "\n";
    script += std::string("echo ") + l + " '->' $(readlink " + l + "); ";
  }
  ASSERT_FALSE(expected.empty()) << "this host has no merged /usr";
  const Result r = run({binary_path(), "--config", kSpecFile, "--profile", "copilot-backend",
                        "--", "/bin/sh", "-c", script});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, expected) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
}

// Every built-in profile, with `true` after `--` (the profile's own command
// may not be installed here), from the project.
TEST_P(QuietRun, EveryBuiltInProfileSaysNothing) {
  for (const char* profile :
       {"minimal", "copilot-backend", "language-server", "vscode-copilot", "agent", "build"}) {
    const Result r = run({binary_path(), "--profile", profile, "--", "true"});
    EXPECT_EQ(r.status, 0) << profile << "\n" << r.describe();
    EXPECT_EQ(r.err, "") << profile << "\n" << r.describe();
  }
}

// A warning that matters now is still printed: a root that does not exist
// is skipped, and the run says so.
TEST_P(QuietRun, ARunTimeWarningIsStillPrinted) {
  tree_->file("profiles.yaml",
              "version: 1\nprofiles:\n  p:\n    access_roots:\n      proj:\n"
              "        paths: [\"${PROJECT}\"]\n"
              "        permissions: {read_file: true, read_dir: true}\n      sys:\n"
              "        paths: [/usr, /lib, /lib64, " + tree_->at("gone") + "]\n"
              "        permissions: {read_file: true, read_dir: true, execute: true}\n"
              "    control_access: {read_file: true, read_dir: true, execute: true}\n");
  const Result r = run({binary_path(), "--config", tree_->at("profiles.yaml"), "--profile",
                        "p", "--", "true"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.err, "warning: ")) << r.describe();
  EXPECT_TRUE(contains(r.err, tree_->at("gone"))) << r.describe();
  EXPECT_FALSE(contains(r.err, "refer is not controlled")) << r.describe();
  // At log_level info the notes are printed too.
  const Result info = run({binary_path(), "--config", tree_->at("profiles.yaml"),
                           "--profile", "p", "--log-level", "info", "--", "true"});
  EXPECT_EQ(info.status, 0) << info.describe();
  EXPECT_TRUE(contains(info.err, "note: refer is not controlled")) << info.describe();
}

INSTANTIATE_TEST_SUITE_P(Users, QuietRun, ::testing::ValuesIn(runner::users_to_test()),
                         user_name);

}  // namespace
}  // namespace aisbx::test
