// A project's `.git` file is written by whatever ran in the sandbox before:
// check_git_link() follows it only to a worktree's or a submodule's gitdir
// that points back at the project, and never to `/`, a home directory or a
// secret store. Each rejected shape below is one an attacker could plant;
// the two accepted ones are what `git worktree add` and `git submodule add`
// make.
#include <gtest/gtest.h>

#include <string>

#include "aisbx/features.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "plan/parts.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"

namespace aisbx::plan {
namespace {

using test::FakeFs;

constexpr const char* kHome = "/home/u";
constexpr const char* kProj = "/home/u/dev/wt";  // a worktree of /home/u/dev/repo
constexpr const char* kRepo = "/home/u/dev/repo";

const GitGuards kGuards{kHome, "/home/u/.ai-sandbox/homes/agent"};

// The repository, a real worktree `wt` of it, and a real submodule `sub`.
FakeFs git_host() {
  FakeFs fs;
  fs.dir("/home/u/.ssh").file("/home/u/.ssh/id_rsa", "KEY").file("/home/u/.bashrc");
  fs.dir("/home/u/.ai-sandbox/homes/agent");
  fs.dir(std::string(kRepo) + "/.git/objects").file(std::string(kRepo) + "/.git/config");
  fs.file(std::string(kRepo) + "/.git/worktrees/wt/commondir", "../..\n");
  fs.file(std::string(kRepo) + "/.git/worktrees/wt/gitdir", std::string(kProj) + "/.git\n");
  fs.file(std::string(kProj) + "/.git", "gitdir: /home/u/dev/repo/.git/worktrees/wt\n");
  fs.file(std::string(kRepo) + "/.git/modules/sub/config",
          "[core]\n\tbare = false\n\tworktree = ../../../sub\n");
  fs.dir(std::string(kRepo) + "/.git/modules/sub/objects");
  fs.file(std::string(kRepo) + "/sub/.git", "gitdir: ../.git/modules/sub\n");
  return fs;
}

TEST(GitLink, AcceptsAWorktreeThatPointsBack) {
  FakeFs fs = git_host();
  auto l = check_git_link(fs, kProj, "/home/u/dev/repo/.git/worktrees/wt", kGuards);
  ASSERT_TRUE(l.ok) << l.why;
  EXPECT_EQ(l.gitdir, "/home/u/dev/repo/.git/worktrees/wt");
  EXPECT_EQ(l.common, "/home/u/dev/repo/.git");
}

TEST(GitLink, AcceptsASubmoduleByItsCoreWorktree) {
  FakeFs fs = git_host();
  auto l = check_git_link(fs, "/home/u/dev/repo/sub", "../.git/modules/sub", kGuards);
  ASSERT_TRUE(l.ok) << l.why;
  EXPECT_EQ(l.gitdir, "/home/u/dev/repo/.git/modules/sub");
  EXPECT_EQ(l.common, l.gitdir);  // a submodule's gitdir is its own common dir
}

TEST(GitLink, AcceptsASubmoduleByItsLayout) {
  FakeFs fs = git_host();
  fs.file(std::string(kRepo) + "/.git/modules/a/modules/b/config", "[core]\n\tbare = false\n");
  fs.file(std::string(kRepo) + "/a/b/.git", "gitdir: ../../.git/modules/a/modules/b\n");
  auto l = check_git_link(fs, "/home/u/dev/repo/a/b", "../../.git/modules/a/modules/b",
                          kGuards);
  ASSERT_TRUE(l.ok) << l.why;
}

struct Rejected {
  const char* name;
  const char* gitdir;
  const char* why_part;
};

class GitLinkRejects : public ::testing::TestWithParam<Rejected> {};

TEST_P(GitLinkRejects, AndSaysWhy) {
  FakeFs fs = git_host();
  // A worktree-shaped gitdir inside the secret store, pointing back.
  fs.file("/home/u/.ssh/.git/worktrees/x/commondir", "../..\n");
  fs.file("/home/u/.ssh/.git/worktrees/x/gitdir", std::string(kProj) + "/.git\n");
  // A gitdir of the right shape whose commondir says `/`.
  fs.file(std::string(kRepo) + "/.git/worktrees/evil/commondir", "/\n");
  fs.file(std::string(kRepo) + "/.git/worktrees/evil/gitdir", std::string(kProj) + "/.git\n");
  // Right shape, but it belongs to another checkout.
  fs.file(std::string(kRepo) + "/.git/worktrees/other/commondir", "../..\n");
  fs.file(std::string(kRepo) + "/.git/worktrees/other/gitdir", "/home/u/dev/other/.git\n");
  fs.dir("/home/u/dev/other");
  // Right shape, but no back-pointer at all.
  fs.file(std::string(kRepo) + "/.git/worktrees/nogitdir/commondir", "../..\n");
  // A worktree gitdir without commondir.
  fs.file(std::string(kRepo) + "/.git/worktrees/nocommon/gitdir", std::string(kProj) + "/.git\n");
  // A symlink in the project dressed as the layout, leading to ~/.ssh.
  fs.dir(std::string(kProj) + "/fake/.git/worktrees");
  fs.symlink(std::string(kProj) + "/fake/.git/worktrees/z", "/home/u/.ssh");
  // A submodule gitdir whose config names another worktree.
  fs.file(std::string(kRepo) + "/.git/modules/theirs/config",
          "[core]\n\tworktree = /home/u/dev/elsewhere\n");
  fs.dir("/home/u/dev/elsewhere");
  // A submodule gitdir with a commondir elsewhere.
  fs.file(std::string(kRepo) + "/.git/modules/wt/commondir", "/home/u\n");
  fs.file(std::string(kRepo) + "/.git/modules/wt/config", "[core]\n\tworktree = /home/u/dev/wt\n");

  const Rejected& c = GetParam();
  auto l = check_git_link(fs, kProj, c.gitdir, kGuards);
  EXPECT_FALSE(l.ok) << c.gitdir << " accepted: " << l.gitdir << " + " << l.common;
  EXPECT_FALSE(l.missing);
  EXPECT_NE(l.why.find(c.why_part), std::string::npos) << l.why;
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Shapes, GitLinkRejects, ::testing::Values(
    Rejected{"SecretStore", "/home/u/.ssh", "not a worktree's or a submodule's gitdir"},
    Rejected{"Home", "/home/u", "not a worktree's"},
    Rejected{"Root", "/", "not a worktree's"},
    Rejected{"DotDotToHome", "../..", "not a worktree's"},
    Rejected{"LayoutInsideSecretStore", "/home/u/.ssh/.git/worktrees/x", "secret store"},
    Rejected{"CommondirIsRoot", "/home/u/dev/repo/.git/worktrees/evil", "commondir"},
    Rejected{"AnotherCheckoutsWorktree", "/home/u/dev/repo/.git/worktrees/other",
             "does not name `/home/u/dev/wt/.git`"},
    Rejected{"NoBackPointer", "/home/u/dev/repo/.git/worktrees/nogitdir", "gitdir` file"},
    Rejected{"NoCommondir", "/home/u/dev/repo/.git/worktrees/nocommon", "no `commondir`"},
    Rejected{"SymlinkDressedAsLayout", "fake/.git/worktrees/z", "resolves to `/home/u/.ssh`"},
    Rejected{"AnotherSubmodule", "/home/u/dev/repo/.git/modules/theirs", "core.worktree"},
    Rejected{"SubmoduleCommondirElsewhere", "/home/u/dev/repo/.git/modules/wt", "commondir"}),
    [](const auto& i) { return std::string(i.param.name); });
// clang-format on

TEST(GitLink, AGitdirThatDoesNotExistIsMissing) {
  FakeFs fs = git_host();
  auto l = check_git_link(fs, kProj, "/gone/.git/worktrees/x", kGuards);
  EXPECT_FALSE(l.ok);
  EXPECT_TRUE(l.missing);
}

TEST(GitLink, NothingContainingThePrivateHome) {
  FakeFs fs = git_host();
  // A repository whose .git holds the private HOME.
  fs.file("/srv/r/.git/worktrees/w/commondir", "../..\n");
  fs.file("/srv/r/.git/worktrees/w/gitdir", std::string(kProj) + "/.git\n");
  fs.dir("/srv/r/.git/worktrees/w/home");
  const GitGuards g{kHome, "/srv/r/.git/worktrees/w/home"};
  auto l = check_git_link(fs, kProj, "/srv/r/.git/worktrees/w", g);
  EXPECT_FALSE(l.ok);
  EXPECT_NE(l.why.find("home directory"), std::string::npos) << l.why;
}

// Through resolve(): a planted link adds no root and says so once, so that
// `--check` (which reports every warning of the Plan) has a finding.
TEST(GitLink, ResolveIgnoresAPlantedLinkWithAWarning) {
  FakeFs fs = git_host();
  fs.file(std::string(kProj) + "/.git", "gitdir: /home/u/.ssh\n");
  fs.dir("/usr/bin").file("/usr/bin/sh");
  HostFacts host;
  host.uid = host.gid = 1000;
  host.home = kHome;
  host.cwd = kProj;
  host.env = {{"HOME", kHome}, {"PATH", "/usr/bin"}};
  Options opt;
  opt.mode = Mode::landlock;
  const Features feat = Features::full(7);
  const std::string yaml =
      "version: 1\nprofiles:\n  p:\n    git: worktree\n    access_roots:\n      proj:\n"
      "        paths: [\"${PROJECT}\"]\n        permissions: {read_file: true, write_file: true}\n"
      "    control_access: {read_file: true, write_file: true}\n"
      "    command: {binary: sh}\n";
  auto prof = test::test_profile(yaml, "t.yaml");
  ASSERT_TRUE(prof.has_value());
  auto r = resolve(Inputs{*prof, "t.yaml", opt, feat, host, fs});
  ASSERT_TRUE(r.has_value()) << r.error().what;
  for (const auto& rule : r->landlock.rules)
    EXPECT_FALSE(is_within(rule.path, "/home/u/.ssh")) << rule.path;
  int said = 0;
  for (const auto& w : r->warnings)
    if (w.find("ignored `/home/u/dev/wt/.git`") != std::string::npos &&
        w.find("/home/u/.ssh") != std::string::npos)
      ++said;
  EXPECT_EQ(said, 1) << testing::PrintToString(r->warnings);
}

}  // namespace
}  // namespace aisbx::plan
