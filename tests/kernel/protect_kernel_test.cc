// `deny`, `readonly` and `git: worktree` through the real binary.
//
// Layered mode (namespace + Landlock): a denied file is an empty read-only
// file, a denied directory an empty read-only tmpfs, a readonly subpath a
// read-only bind; the masks are mount points, so removing or renaming them
// is EBUSY, and writing beneath a read-only bind is EROFS (Landlock grants
// the project every right there: only the mount says no).
// Landlock mode: the rules are split around the protected paths, so the
// same operations are EACCES.
//
// Each denial is preceded by the same probe run without the sandbox, as the
// same user, where it must succeed, and every test ends by checking that
// the host's files are unchanged. Every launcher run is made as the caller
// and, when the caller is root, as uid/gid 65534 (runner::users_to_test()).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

std::string flow(const std::vector<std::string>& v) {
  std::string s = "[";
  for (const auto& x : v) s += (s.size() > 1 ? ", " : "") + yq(x);
  return s + "]";
}

// Every right these tests use, granted to the project and controlled.
const std::vector<std::string> kAllRights = {
    "read_file", "read_dir", "execute",  "write_file", "remove_file", "remove_dir",
    "make_reg",  "make_dir", "make_sym", "make_fifo",  "truncate",    "refer"};

// One profile `prot`: the system (read + exec: the probe, cat, ls, sh), the
// project with every right and the given deny/readonly lists.
std::string protect_yaml(const std::string& project, const std::vector<std::string>& deny,
                         const std::vector<std::string>& readonly) {
  std::string y =
      "version: 1\nprofiles:\n  prot:\n    description: \"protect kernel test\"\n";
  y += "    access_roots:\n";
  y +=
      "      system:\n        paths: " +
      flow({"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", dir_of(probe_path())}) +
      "\n";
  y += "        permissions: {read_file: true, read_dir: true, execute: true}\n";
  y += "      project:\n        paths: " + flow({project}) + "\n        permissions:\n";
  for (const auto& r : kAllRights) y += "          " + r + ": true\n";
  if (!deny.empty()) y += "        deny: " + flow(deny) + "\n";
  if (!readonly.empty()) y += "        readonly: " + flow(readonly) + "\n";
  y += "    control_access:\n";
  for (const auto& r : kAllRights) y += "      " + r + ": true\n";
  return y;
}

std::string user_name(const ::testing::TestParamInfo<As>& info) {
  return runner::name_of(info.param);
}

// A temp tree owned by the user under test:
//   project/.env                  SECRET
//   project/sub/.env              SUBSECRET
//   project/secrets/key           KEY
//   project/.git/hooks/pre-commit a hook
//   project/README, project/src/main.c
//   home/, xdg/ (empty: no user profile file), profiles.yaml
class ProtectWall : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    tree_ = std::make_unique<TempTree>(as(), "aisbx-prot");
    project_ = tree_->dir("project");
    env_ = tree_->file("project/.env", "SECRET\n");
    sub_env_ = tree_->file("project/sub/.env", "SUBSECRET\n");
    key_ = tree_->file("project/secrets/key", "KEY\n");
    hook_ = tree_->file("project/.git/hooks/pre-commit", "#!/bin/sh\nexit 0\n", 0755);
    readme_ = tree_->file("project/README", "readme\n");
    tree_->file("project/src/main.c", "int main() {}\n");
    home_ = tree_->dir("home");
    xdg_ = tree_->dir("xdg");
    config_ = tree_->file("profiles.yaml",
                          protect_yaml(project_, {"**/.env", "secrets"}, {".git/hooks"}));
  }

  void TearDown() override {
    if (!tree_) return;
    // Whatever ran, the host's protected files are as they were.
    EXPECT_EQ(read_text(env_), "SECRET\n");
    EXPECT_EQ(read_text(sub_env_), "SUBSECRET\n");
    EXPECT_EQ(read_text(key_), "KEY\n");
    EXPECT_EQ(read_text(hook_), "#!/bin/sh\nexit 0\n");
    EXPECT_FALSE(exists(project_ + "/.env2"));
    EXPECT_FALSE(exists(project_ + "/secrets2"));
    EXPECT_FALSE(exists(project_ + "/.git/hooks/post-commit"));
  }

  As as() const { return GetParam(); }

  Result run(std::vector<std::string> argv) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = as();
    s.cwd = project_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}};
    return runner::run(s);
  }

  std::vector<std::string> launcher(const std::string& mode,
                                    const std::vector<std::string>& command) const {
    std::vector<std::string> v{binary_path(), "--config", config_, "--profile",
                               "prot",        "--mode",   mode,    "--"};
    v.insert(v.end(), command.begin(), command.end());
    return v;
  }

  std::vector<std::string> probe(const std::vector<std::string>& args) const {
    std::vector<std::string> v{probe_path()};
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }

  // The probe must succeed without the sandbox (unless `outside_too` is
  // false: an operation that would change the host), then end with `want`
  // in it.
  void expect_probe(const std::string& mode, const std::vector<std::string>& args,
                    int want, bool outside_too = true) {
    SCOPED_TRACE("aisbx_probe " + join(args) + " in --mode " + mode + " as " +
                 runner::name_of(as()));
    if (outside_too) {
      const Result d = run(probe(args));
      ASSERT_EQ(d.status, 0) << "the probe fails even without the sandbox, so a failure "
                                "inside it would prove nothing: "
                             << d.describe();
    }
    const Result s = run(launcher(mode, probe(args)));
    EXPECT_EQ(s.status, want) << s.describe();
  }

  std::unique_ptr<TempTree> tree_;
  std::string project_, env_, sub_env_, key_, hook_, readme_, home_, xdg_, config_;
};

TEST_P(ProtectWall, LayeredMasksDeniedPathsWithEmptyOnes) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const Result outside = run({"/bin/cat", ".env", "sub/.env"});
  ASSERT_EQ(outside.status, 0) << outside.describe();
  ASSERT_TRUE(contains(outside.out, "SECRET"));

  const Result cat = run(launcher("layered", {"/bin/cat", ".env", "sub/.env"}));
  EXPECT_EQ(cat.status, 0) << cat.describe();
  EXPECT_EQ(cat.out, "") << cat.describe();
  EXPECT_EQ(cat.err.find("SECRET"), std::string::npos) << cat.describe();

  const Result ls = run(launcher("layered", {"/bin/ls", "-A", "secrets"}));
  EXPECT_EQ(ls.status, 0) << ls.describe();
  EXPECT_EQ(ls.out, "") << ls.describe();
  expect_probe("layered", {"read", key_}, ENOENT);
  // The rest of the project is there.
  expect_probe("layered", {"read", readme_}, 0);
}

TEST_P(ProtectWall, LayeredMasksCannotBeRemovedOrRenamed) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  // Not tried outside: it would remove the host's files.
  expect_probe("layered", {"unlink", env_}, EBUSY, false);
  expect_probe("layered", {"rename", env_, project_ + "/.env2"}, EBUSY, false);
  expect_probe("layered", {"unlink", sub_env_}, EBUSY, false);
  expect_probe("layered", {"rmdir", project_ + "/secrets"}, EBUSY, false);
  expect_probe("layered", {"rename", project_ + "/secrets", project_ + "/secrets2"},
               EBUSY, false);
  // Nothing can be added to a masked directory: it is a read-only tmpfs.
  expect_probe("layered", {"create", project_ + "/secrets/new"}, EROFS, false);
  EXPECT_FALSE(exists(project_ + "/secrets/new"));
}

TEST_P(ProtectWall, LayeredReadonlySubpathIsErofsWhileTheProjectIsWritable) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  expect_probe("layered", {"read", hook_}, 0);
  // Not tried outside: it would change the host's hook.
  expect_probe("layered", {"write", hook_}, EROFS, false);
  expect_probe("layered", {"create", project_ + "/.git/hooks/post-commit"}, EROFS, false);
  expect_probe("layered", {"unlink", hook_}, EROFS, false);

  // Elsewhere the project is writable, and writes land on the host.
  const std::string made = project_ + "/src/made-inside.c";
  expect_probe("layered", {"create", made}, 0, false);
  EXPECT_TRUE(exists(made));
  const Result sh = run(launcher(
      "layered", {"/bin/sh", "-c", "echo from-inside > " + project_ + "/.git/HEAD.new"}));
  EXPECT_EQ(sh.status, 0) << sh.describe();
  EXPECT_EQ(read_text(project_ + "/.git/HEAD.new"), "from-inside\n");
}

TEST_P(ProtectWall, LandlockModeSplitsTheRulesAroundProtectedPaths) {
  expect_probe("landlock", {"read", env_}, EACCES);
  expect_probe("landlock", {"read", sub_env_}, EACCES);
  expect_probe("landlock", {"read", key_}, EACCES);
  expect_probe("landlock", {"list", project_ + "/secrets"}, EACCES);
  expect_probe("landlock", {"read", hook_}, 0);
  expect_probe("landlock", {"write", hook_}, EACCES, false);
  expect_probe("landlock", {"create", project_ + "/.git/hooks/post-commit"}, EACCES,
               false);
  const Result cat = run(launcher("landlock", {"/bin/cat", ".env"}));
  EXPECT_EQ(cat.out.find("SECRET"), std::string::npos) << cat.describe();
  EXPECT_NE(cat.status, 0) << cat.describe();
  // Siblings keep the project's rights.
  expect_probe("landlock", {"read", readme_}, 0);
  const std::string made = project_ + "/src/made-inside.c";
  expect_probe("landlock", {"create", made}, 0, false);
  EXPECT_TRUE(exists(made));
}

// Issue 17 item 9: a symlink where a denied path should be (a run may
// have made one) is not a reason to refuse: no mount is made over it, the
// run says so once, and its target, outside every root, stays unreadable.
TEST_P(ProtectWall, DeniedSymlinkIsSaidAndItsTargetStaysOutOfReach) {
  tree_->file("outside.env", "OUTSIDE\n");
  tree_->symlink("project/.env.link", "../outside.env");
  tree_->file("profiles.yaml", protect_yaml(project_, {".env.link"}, {}));
  const std::string marker = project_ + "/ran";
  for (const std::string mode : {"layered", "landlock"}) {
    SCOPED_TRACE("--mode " + mode);
    if (mode == "layered") AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
    const Result r = run(launcher(mode, {"/bin/sh", "-c", "cat .env.link; touch ran"}));
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_FALSE(contains(r.out, "OUTSIDE")) << r.describe();
    EXPECT_TRUE(contains(r.err, ".env.link` is a symlink"));
    EXPECT_TRUE(exists(marker)) << "the command did not run";
    ::unlink(marker.c_str());
  }
  EXPECT_EQ(read_text(tree_->at("outside.env")), "OUTSIDE\n");
}

INSTANTIATE_TEST_SUITE_P(ProtectUsers, ProtectWall,
                         ::testing::ValuesIn(runner::users_to_test()), user_name);

// ---------------------------------------------------------------------------
// The built-in `agent` profile on a real `git worktree`.
//
//   repo/            a repository with one commit (main checkout)
//   wt/              `git worktree add ../wt`: the project; wt/.env SECRET
//   home/, xdg/      HOME and an empty XDG_CONFIG_HOME: built-in profiles

constexpr const char* kGit = "/usr/bin/git";

class ProtectAgentGit : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
    AISBX_SKIP_WITHOUT(::access(kGit, X_OK) == 0, std::string("needs ") + kGit);
    AISBX_SKIP_WITHOUT(!exists("/etc/aisbx/profiles.yaml"),
                        "/etc/aisbx/profiles.yaml exists and would replace the built-in "
                        "`agent` profile");
    tree_ = std::make_unique<TempTree>(as(), "aisbx-git");
    repo_ = tree_->dir("repo");
    wt_ = tree_->at("wt");
    home_ = tree_->dir("home");
    xdg_ = tree_->dir("xdg");
    tree_->file("repo/README", "readme\n");
    git_ok({"-C", repo_, "init", "-q", "-b", "main"});
    git_ok({"-C", repo_, "add", "README"});
    git_ok({"-C", repo_, "commit", "-q", "-m", "initial"});
    git_ok({"-C", repo_, "worktree", "add", "-q", "-b", "wt", wt_});
    ASSERT_TRUE(exists(wt_ + "/.git"));
    struct stat st {};
    ASSERT_EQ(::lstat((wt_ + "/.git").c_str(), &st), 0);
    ASSERT_TRUE(S_ISREG(st.st_mode)) << "git worktree add made no `.git` file";
    env_ = tree_->file("wt/.env", "SECRET\n");
    config_before_ = read_text(repo_ + "/.git/config");
    ASSERT_FALSE(config_before_.empty());
  }

  void TearDown() override {
    if (!tree_) return;
    EXPECT_EQ(read_text(env_), "SECRET\n");
    EXPECT_EQ(read_text(repo_ + "/.git/config"), config_before_);
    EXPECT_FALSE(exists(repo_ + "/.git/hooks/post-commit"));
  }

  As as() const { return GetParam(); }

  // git's environment: no system or global configuration of this machine,
  // an identity for commits.
  std::vector<std::pair<std::string, std::string>> git_env() const {
    return {{"HOME", home_},
            {"XDG_CONFIG_HOME", xdg_},
            {"GIT_CONFIG_NOSYSTEM", "1"},
            {"GIT_AUTHOR_NAME", "Sandbox Test"},
            {"GIT_AUTHOR_EMAIL", "sandbox@example.invalid"},
            {"GIT_COMMITTER_NAME", "Sandbox Test"},
            {"GIT_COMMITTER_EMAIL", "sandbox@example.invalid"}};
  }

  Result run(std::vector<std::string> argv, const std::string& cwd) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = as();
    s.cwd = cwd;
    s.env = git_env();
    s.timeout_seconds = 60;
    return runner::run(s);
  }

  Result git(const std::vector<std::string>& args) const {
    std::vector<std::string> v{kGit};
    v.insert(v.end(), args.begin(), args.end());
    return run(v, tree_->path());
  }

  void git_ok(const std::vector<std::string>& args) const {
    const Result r = git(args);
    ASSERT_EQ(r.status, 0) << "git " << join(args) << ": " << r.describe();
  }

  // aisbx-ns --profile agent (built in) in the worktree; the identity passed
  // with --env (the launcher's environment is not the sandbox's promise),
  // the probe's directory read-only.
  Result agent(const std::vector<std::string>& command) const {
    std::vector<std::string> v{binary_path(), "--profile", "agent", "--ro",
                               dir_of(probe_path())};
    for (const auto& [k, val] : git_env())
      if (k.starts_with("GIT_")) {
        v.push_back("--env");
        v.push_back(k + "=" + val);
      }
    v.push_back("--");
    v.insert(v.end(), command.begin(), command.end());
    return run(v, wt_);
  }

  std::unique_ptr<TempTree> tree_;
  std::string repo_, wt_, home_, xdg_, env_, config_before_;
};

TEST_P(ProtectAgentGit, StatusAndCommitWorkAndTheCommitReachesTheHost) {
  const Result status = agent({kGit, "status", "--porcelain"});
  EXPECT_EQ(status.status, 0) << status.describe();

  const Result commit = agent({"/bin/sh", "-c",
                               "echo inside > inside.txt && git add inside.txt && git "
                               "commit -q -m 'from the sandbox'"});
  ASSERT_EQ(commit.status, 0) << commit.describe();

  const Result log = git({"-C", wt_, "log", "-1", "--format=%s"});
  EXPECT_EQ(log.status, 0) << log.describe();
  EXPECT_EQ(log.out, "from the sandbox\n") << log.describe();
  const Result branch = git({"-C", repo_, "log", "-1", "--format=%s", "wt"});
  EXPECT_EQ(branch.out, "from the sandbox\n") << branch.describe();
  const Result show = git({"-C", repo_, "show", "wt:inside.txt"});
  EXPECT_EQ(show.out, "inside\n") << show.describe();
}

TEST_P(ProtectAgentGit, HooksAndConfigOfTheRepositoryAreReadOnly) {
  const std::string hooks = repo_ + "/.git/hooks";
  const std::string config = repo_ + "/.git/config";
  // Outside, the user may do all of this.
  {
    const std::string tmp = hooks + "/probe-outside";
    const Result d = run({probe_path(), "create", tmp}, wt_);
    ASSERT_EQ(d.status, 0) << d.describe();
    ::unlink(tmp.c_str());
  }
  const Result hook = agent({probe_path(), "create", hooks + "/post-commit"});
  EXPECT_EQ(hook.status, EROFS) << hook.describe();
  const Result write = agent({probe_path(), "write", config});
  EXPECT_EQ(write.status, EROFS) << write.describe();
  // Replacing the config (what `git config` does: config.lock, then rename).
  const Result rename = agent({"/bin/sh", "-c",
                               ": > " + config + ".new && exec " + probe_path() +
                                   " rename " + config + ".new " + config});
  EXPECT_EQ(rename.status, EBUSY) << rename.describe();
  ::unlink((config + ".new").c_str());

  const Result set = agent({kGit, "config", "core.hooksPath", "/tmp/evil"});
  EXPECT_NE(set.status, 0) << "git config succeeded inside: " << set.describe();
  EXPECT_TRUE(contains(set.err, "config"));
  EXPECT_EQ(read_text(config).find("evil"), std::string::npos);
  // git itself reads its config fine.
  const Result get = agent({kGit, "config", "--get", "core.bare"});
  EXPECT_EQ(get.status, 0) << get.describe();
  EXPECT_EQ(get.out, "false\n") << get.describe();
}

TEST_P(ProtectAgentGit, TheProjectsDotEnvIsNotReadable) {
  const Result outside = run({"/bin/cat", ".env"}, wt_);
  ASSERT_EQ(outside.out, "SECRET\n") << outside.describe();
  const Result cat = agent({"/bin/cat", ".env"});
  EXPECT_EQ(cat.status, 0) << cat.describe();
  EXPECT_EQ(cat.out, "") << cat.describe();
  EXPECT_EQ(cat.err.find("SECRET"), std::string::npos) << cat.describe();
}

// A previous run wrote the worktree's `.git` (it is in the project): the
// next launch must not take what it names as part of the project. Each
// planted link is ignored (a warning, and a `--check` finding); the key
// stays unreadable and authorized_keys unchanged; git inside reports the
// broken link instead of using it.
TEST_P(ProtectAgentGit, APlantedGitdirAddsNothing) {
  const std::string ssh = tree_->dir("home/.ssh");
  const std::string key = tree_->file("home/.ssh/id_rsa", "PRIVATE KEY\n");
  const std::string auth = tree_->file("home/.ssh/authorized_keys", "ssh-ed25519 AAAA user\n");
  // The layout git makes, with a commondir of `/` and a back-pointer to
  // this worktree, as a run with the common dir writable could plant it.
  const std::string evil = tree_->dir("repo/.git/worktrees/evil");
  tree_->file("repo/.git/worktrees/evil/commondir", "/\n");
  tree_->file("repo/.git/worktrees/evil/gitdir", wt_ + "/.git\n");
  const std::string dotgit = wt_ + "/.git";
  const std::string real_link = read_text(dotgit);
  for (const std::string& planted : {ssh, home_, evil}) {
    SCOPED_TRACE("gitdir: " + planted);
    {
      std::ofstream(dotgit, std::ios::trunc) << "gitdir: " << planted << "\n";
    }
    const Result read = agent({probe_path(), "read", key});
    EXPECT_EQ(read.status, ENOENT) << read.describe();
    EXPECT_EQ(read.out.find("PRIVATE"), std::string::npos);
    const Result append = agent({probe_path(), "write", auth});
    EXPECT_EQ(append.status, ENOENT) << append.describe();
    agent({probe_path(), "create", "/etc/planted"});  // only a bind of `/` would allow it
    EXPECT_TRUE(contains(read.err, "ignored")) << read.describe();

    // A finding of --check (its severity is --check's to judge).
    const Result check = run({binary_path(), "--profile", "agent", "--check"}, wt_);
    EXPECT_NE(check.status, 125) << check.describe();
    EXPECT_TRUE(contains(check.out + check.err, "ignored `" + dotgit + "`: the gitdir `" + planted))
        << check.describe();
  }
  EXPECT_EQ(read_text(auth), "ssh-ed25519 AAAA user\n");
  EXPECT_FALSE(exists("/etc/planted"));
  {
    std::ofstream(dotgit, std::ios::trunc) << real_link;
  }
  // The real link still works.
  const Result status = agent({kGit, "status", "--porcelain"});
  EXPECT_EQ(status.status, 0) << status.describe();
}

INSTANTIATE_TEST_SUITE_P(ProtectUsers, ProtectAgentGit,
                         ::testing::ValuesIn(runner::users_to_test()), user_name);

}  // namespace
}  // namespace aisbx::test
