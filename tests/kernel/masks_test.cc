// Built-in masks and git metadata through the real binary, as the caller
// and as uid 65534, in layered, strict and landlock modes.
//
// A profile whose root is the (test) HOME with every right: the planted
// secret stores (~/.ssh/id_rsa, ~/.aws/credentials, ~/.docker/config.json)
// read as nothing, start-up files do not change (~/.bashrc appended to,
// ~/.zshrc created while missing, ~/.config/autostart removed or renamed),
// while the rest of HOME stays writable; `unmask: [ssh]` shows the key.
//
// The git attacks of issue 17, from inside `agent` (the namespace wall:
// layered and strict): config with core.fsmonitor / core.hooksPath, a
// planted commondir, `.git` renamed, a nested repository's config, a hook.
// Then the host's own `git status` runs in the project and the marker the
// planted code would make is absent; git status and commit work inside.
// Landlock mode cannot keep git metadata read-only while git works, and
// says so.
#include <unistd.h>

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

const std::vector<std::string> kAllRights = {
    "read_file", "read_dir", "execute",  "write_file", "remove_file", "remove_dir",
    "make_reg",  "make_dir", "make_sym", "make_fifo",  "truncate",    "refer"};

std::string flow(const std::vector<std::string>& v) {
  std::string s = "[";
  for (const auto& x : v) s += (s.size() > 1 ? ", " : "") + yq(x);
  return s + "]";
}

// `home`: the system read-only, `~` with every right. `home-ssh`: the same
// with `unmask: [ssh]`.
std::string home_yaml() {
  std::string y = "version: 1\nprofiles:\n  home:\n    access_roots:\n";
  y += "      system:\n        paths: " +
       flow({"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", dir_of(probe_path())}) + "\n";
  y += "        permissions: {read_file: true, read_dir: true, execute: true}\n";
  y += "      home:\n        paths: [\"~\"]\n        permissions:\n";
  for (const auto& r : kAllRights) y += "          " + r + ": true\n";
  y += "    control_access:\n";
  for (const auto& r : kAllRights) y += "      " + r + ": true\n";
  y += "  home-ssh:\n    extends: home\n    unmask: [ssh]\n";
  // `~` read-only and a private HOME among the private homes.
  y += "  ro-home:\n    access_roots:\n      system:\n        paths: " +
       flow({"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache"}) +
       "\n        permissions: {read_file: true, read_dir: true, execute: true}\n"
       "      home:\n        paths: [\"~\"]\n        permissions: {read_file: true, read_dir: true}\n"
       "    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true}\n"
       "    home: \"~/.ai-sandbox/homes\"\n";
  // Reads not controlled: the namespace wall shows the host's tree.
  y += "  open-reads:\n    access_roots:\n      work: {paths: [\"~/work\"], permissions: "
       "{write_file: true}}\n    control_access: {write_file: true}\n";
  return y;
}

constexpr const char* kMarker = "PLANTED-CODE-RAN";

class Masks : public ::testing::TestWithParam<runner::UserMode> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    if (mode() != "landlock") AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
    // Not under /tmp: the sandbox's private /tmp would cover it.
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-masks", "/var/tmp");
    home_ = tree_->dir("home");
    tree_->file("home/.ssh/id_rsa", "SSH-SECRET\n", 0600);
    tree_->file("home/.aws/credentials", "AWS-SECRET\n", 0600);
    tree_->file("home/.docker/config.json", "DOCKER-SECRET\n", 0600);
    tree_->file("home/.bashrc", "# rc\n");
    tree_->file("home/.config/aisbx/profiles.yaml", "version: 1\n");
    tree_->file("home/.config/autostart/x.desktop", "[Desktop Entry]\n");
    tree_->file("home/work/file", "w\n");
    project_ = tree_->dir("proj");
    tree_->file("proj/hello.txt", "hello\n");
    config_ = tree_->file("profiles.yaml", home_yaml());
  }

  std::string mode() const { return GetParam().mode; }

  std::vector<std::pair<std::string, std::string>> env() const {
    return {{"HOME", home_},
            {"XDG_CONFIG_HOME", tree_->at("xdg")},
            {"GIT_CONFIG_NOSYSTEM", "1"},
            {"GIT_AUTHOR_NAME", "Sandbox Test"},
            {"GIT_AUTHOR_EMAIL", "sandbox@example.invalid"},
            {"GIT_COMMITTER_NAME", "Sandbox Test"},
            {"GIT_COMMITTER_EMAIL", "sandbox@example.invalid"}};
  }

  Result run(std::vector<std::string> argv, const std::string& cwd) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam().as;
    s.cwd = cwd;
    s.env = env();
    s.timeout_seconds = 90;
    return runner::run(s);
  }

  Result in_home(const std::string& profile, const std::string& script) const {
    return run({binary_path(), "--config", config_, "--profile", profile, "--mode", mode(), "--",
                "/bin/sh", "-c", script},
               home_);
  }

  Result in_agent(const std::string& script) const { return in_project("agent", script); }

  Result in_project(const std::string& profile, const std::string& script) const {
    std::vector<std::string> v{binary_path(), "--mode",  mode(),   "--profile",
                               profile,       "--project", project_};
    for (const auto& [k, val] : env())
      if (k.starts_with("GIT_")) v.insert(v.end(), {"--env", k + "=" + val});
    v.insert(v.end(), {"--", "/bin/sh", "-c", script});
    return run(v, project_);
  }

  void git(const std::vector<std::string>& args, const std::string& cwd) const {
    std::vector<std::string> v{"/usr/bin/git"};
    v.insert(v.end(), args.begin(), args.end());
    const Result r = run(v, cwd);
    ASSERT_EQ(r.status, 0) << r.describe();
  }

  // The user's own git on the host, in the project and in vendor/x: status
  // and a commit work and run none of the code a run planted (which would
  // create `marker`).
  void expect_hosts_git_runs_nothing(const std::string& marker) const {
    for (const std::string& dir : {project_, project_ + "/vendor/x"}) {
      const Result st = run({"/usr/bin/git", "status", "--porcelain"}, dir);
      EXPECT_EQ(st.status, 0) << st.describe();
    }
    const Result c = run({"/usr/bin/git", "commit", "-q", "--allow-empty", "-m", "host"}, project_);
    EXPECT_EQ(c.status, 0) << c.describe();
    EXPECT_FALSE(exists(marker)) << "planted code ran on the host";
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, project_, config_;
};

TEST_P(Masks, SecretStoresReadAsNothingAndStartUpFilesDoNotChange) {
  const std::string h = home_;
  const std::string script =
      "cat " + h + "/.ssh/id_rsa " + h + "/.aws/credentials " + h +
      "/.docker/config.json 2>/dev/null\n"
      "ls -A " + h + "/.ssh 2>/dev/null\n"
      "echo x >> " + h + "/.bashrc 2>/dev/null\n"
      "echo '  wider: {}' >> " + h + "/.config/aisbx/profiles.yaml 2>/dev/null\n"
      "echo x > " + h + "/.zshrc 2>/dev/null\n"
      "rm -rf " + h + "/.config/autostart 2>/dev/null\n"
      "mv " + h + "/.config/autostart " + h + "/.config/gone 2>/dev/null\n"
      "mkdir " + h + "/.config/fish 2>/dev/null\n"
      "echo more >> " + h + "/work/file && echo WROTE\n";
  // Without the sandbox every one of these reads or changes something.
  const Result r = in_home("home", script);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "WROTE"));
  EXPECT_FALSE(contains(r.out, "SECRET")) << r.describe();
  EXPECT_FALSE(contains(r.out, "id_rsa")) << r.describe();
  EXPECT_EQ(read_text(h + "/.bashrc"), "# rc\n");
  EXPECT_EQ(read_text(h + "/.config/aisbx/profiles.yaml"), "version: 1\n");
  EXPECT_FALSE(exists(h + "/.zshrc"));
  EXPECT_FALSE(exists(h + "/.config/fish"));
  EXPECT_TRUE(exists(h + "/.config/autostart/x.desktop"));
  EXPECT_FALSE(exists(h + "/.config/gone"));
  EXPECT_EQ(read_text(h + "/.ssh/id_rsa"), "SSH-SECRET\n");
  EXPECT_EQ(read_text(h + "/work/file"), "w\nmore\n");
}

// aisbx-ns's own state in a writable HOME: another run's meta and upper dir
// choose what `aisbx-ns commit` writes into a project, and where; another
// project's private HOME runs its start-up files in that project's next
// sandbox. Neither can be read or changed, nor a run made beside them.
TEST_P(Masks, OtherRunsAndPrivateHomesAreOutOfReachOfAWritableHome) {
  const std::string h = home_;
  tree_->file("home/.ai-sandbox/runs/r1/meta", "name r1\nproject /p\n", 0600);
  tree_->file("home/.ai-sandbox/runs/r1/upper/notes.txt", "RUN-CONTENT\n", 0600);
  tree_->file("home/.ai-sandbox/homes/agent-0123456789abcdef/.bashrc", "# OTHER-HOME\n", 0600);
  const std::string runs = h + "/.ai-sandbox/runs", homes = h + "/.ai-sandbox/homes";
  const std::string script =
      "cat " + runs + "/r1/meta " + runs + "/r1/upper/notes.txt " + homes +
      "/agent-0123456789abcdef/.bashrc 2>/dev/null\n"
      "echo 'roots " + h + "' >> " + runs + "/r1/meta 2>/dev/null && echo WROTE-META\n"
      "echo x > " + runs + "/r1/upper/.bashrc 2>/dev/null && echo WROTE-UPPER\n"
      "echo 'touch " + kMarker + "' >> " + homes +
      "/agent-0123456789abcdef/.bashrc 2>/dev/null && echo WROTE-HOME\n"
      "mkdir " + runs + "/r2 2>/dev/null && echo MADE-RUN\n"
      "mv " + h + "/.ai-sandbox " + h + "/.a2 2>/dev/null && echo MOVED\n"
      "echo more >> " + h + "/work/file && echo WROTE\n";
  const Result r = in_home("home", script);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "WROTE\n")) << r.describe();
  for (const char* leaked : {"name r1", "RUN-CONTENT", "OTHER-HOME", "WROTE-META", "WROTE-UPPER",
                             "WROTE-HOME", "MADE-RUN", "MOVED"})
    EXPECT_FALSE(contains(r.out, leaked)) << leaked << ": " << r.describe();
  EXPECT_EQ(read_text(runs + "/r1/meta"), "name r1\nproject /p\n");
  EXPECT_FALSE(exists(runs + "/r1/upper/.bashrc"));
  EXPECT_EQ(read_text(homes + "/agent-0123456789abcdef/.bashrc"), "# OTHER-HOME\n");
  EXPECT_FALSE(exists(runs + "/r2"));
}

// The same masks where the run's own private HOME lies among the private
// homes and `~` is a (read-only) root: the HOME is usable, the others are not.
TEST_P(Masks, TheRunsOwnPrivateHomeStaysUsableBesideTheOthersMasks) {
  const std::string homes = home_ + "/.ai-sandbox/homes";
  tree_->file("home/.ai-sandbox/homes/agent-0123456789abcdef/.bashrc", "# OTHER-HOME\n", 0600);
  const Result r = in_home("ro-home",
                           "cat " + homes + "/agent-0123456789abcdef/.bashrc 2>/dev/null\n"
                           "echo mine > \"$HOME/notes\" && cat \"$HOME/notes\"\n"
                           "case \"$HOME\" in " + homes + "/ro-home-*) echo IN-HOMES;; esac\n");
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "mine\n")) << r.describe();
  EXPECT_TRUE(contains(r.out, "IN-HOMES")) << r.describe();
  EXPECT_FALSE(contains(r.out, "OTHER-HOME")) << r.describe();
}

// A profile that does not control reads sees the host's tree: the secret
// stores are hidden in it by the namespace wall; Landlock alone cannot, and
// the run says so before anything runs.
TEST_P(Masks, SecretStoresAreHiddenWhereReadsAreNotControlled) {
  const std::string h = home_;
  const Result r = in_home("open-reads", "cat " + h + "/.ssh/id_rsa " + h +
                                             "/.aws/credentials 2>/dev/null; echo more >> " + h +
                                             "/work/file && echo WROTE");
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "WROTE")) << r.describe();
  if (mode() == "landlock") {
    EXPECT_TRUE(contains(r.err, "`~/.ssh`, `~/.aws")) << r.describe();
    EXPECT_TRUE(contains(r.err, "are readable in the sandbox")) << r.describe();
    return;
  }
  EXPECT_FALSE(contains(r.out, "SECRET")) << r.describe();
}

TEST_P(Masks, DryRunListsWhatIsMaskedAndWhy) {
  const Result r = run({binary_path(), "--config", config_, "--profile", "home", "--mode",
                        mode(), "--dry-run", "--", "/bin/true"},
                       home_);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "deny " + home_ + "/.ssh  # mask ssh: SSH keys"));
  EXPECT_TRUE(contains(r.out, "readonly " + home_ + "/.bashrc  # mask bashrc"));
}

TEST_P(Masks, UnmaskShowsTheEntryAndSaysSo) {
  const Result r = in_home("home-ssh", "cat " + home_ + "/.ssh/id_rsa; cat " + home_ +
                                           "/.aws/credentials 2>/dev/null; true");
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "SSH-SECRET"));
  EXPECT_FALSE(contains(r.out, "AWS-SECRET"));
  EXPECT_TRUE(contains(r.err, "unmask: `ssh`"));
}

TEST_P(Masks, GitAttacksFromInsideAgentRunNothingOnTheHost) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_));
  ASSERT_NO_FATAL_FAILURE(git({"add", "hello.txt"}, project_));
  ASSERT_NO_FATAL_FAILURE(git({"commit", "-q", "-m", "initial"}, project_));
  tree_->file("proj/vendor/x/a.txt", "a\n");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_ + "/vendor/x"));
  const std::string marker = tree_->at(kMarker);
  const std::string evil = "[core]\n\tfsmonitor = \"touch " + marker + "; false\"\n\thooksPath = " +
                           project_ + "/evil-hooks\n";
  const std::string hook = "#!/bin/sh\ntouch " + marker + "\n";
  // git works first; then the attacks (a commondir makes git inside
  // follow it too).
  const std::string script =
      "echo change >> hello.txt && git commit -qam inside && echo COMMITTED\n"
      "mkdir -p evil-hooks evil-common && printf '%s' " + runner::shell_quote(hook) +
      " > evil-hooks/pre-commit && chmod +x evil-hooks/pre-commit\n"
      "printf '%s' " + runner::shell_quote(evil) + " > evil-common/config\n"
      "printf '%s' " + runner::shell_quote(evil) + " >> .git/config 2>/dev/null\n"
      "printf '%s' " + runner::shell_quote(evil) + " >> vendor/x/.git/config 2>/dev/null\n"
      "cp evil-hooks/pre-commit .git/hooks/pre-commit 2>/dev/null\n"
      "echo ../evil-common > .git/commondir 2>/dev/null\n"
      "mv .git .git-old 2>/dev/null && mkdir .git && cp -r .git-old/* .git/ 2>/dev/null\n"
      "true\n";
  const Result r = in_agent(script);
  if (mode() == "landlock") {
    // Without the namespace wall the plan says git metadata is not held.
    EXPECT_TRUE(contains(r.err, "git metadata")) << r.describe();
    return;
  }
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "COMMITTED")) << r.describe();
  EXPECT_FALSE(exists(project_ + "/.git-old"));
  EXPECT_FALSE(exists(project_ + "/.git/commondir"));
  EXPECT_TRUE(contains(r.err, ".git/commondir`, which git")) << r.describe();
  EXPECT_FALSE(contains(read_text(project_ + "/.git/config"), "fsmonitor"));
  EXPECT_FALSE(contains(read_text(project_ + "/vendor/x/.git/config"), "fsmonitor"));
  EXPECT_FALSE(exists(project_ + "/.git/hooks/pre-commit"));
  // The user's own git on the host, in the project and the nested repo.
  expect_hosts_git_runs_nothing(marker);
  const Result log = run({"/usr/bin/git", "log", "-2", "--format=%s"}, project_);
  EXPECT_EQ(log.out, "host\ninside\n") << log.describe();
}

// `build` keeps the project (and so `.git`) writable in Landlock: without
// the namespace wall the run can write git's config and hooks, and the
// launcher puts them back when it ends. In every mode the host's git then
// runs nothing the run planted.
TEST_P(Masks, WhatARunWritesInGitMetadataNeverRunsOnTheHost) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_));
  tree_->file("proj/vendor/x/a.txt", "a\n");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_ + "/vendor/x"));
  const std::string config = read_text(project_ + "/.git/config");
  const std::string nested_config = read_text(project_ + "/vendor/x/.git/config");
  const std::string marker = tree_->at(kMarker);
  const std::string evil = "[core]\n\tfsmonitor = \"touch " + marker + "; false\"\n";
  const std::string hook = "#!/bin/sh\ntouch " + marker + "\n";
  const std::string script =
      "printf '%s' " + runner::shell_quote(evil) + " >> .git/config 2>/dev/null\n"
      "printf '%s' " + runner::shell_quote(evil) + " >> vendor/x/.git/config 2>/dev/null\n"
      "printf '%s' " + runner::shell_quote(hook) + " > .git/hooks/pre-commit 2>/dev/null\n"
      "chmod +x .git/hooks/pre-commit 2>/dev/null\n"
      "rm -f .git/hooks/pre-push.sample 2>/dev/null\n"
      "echo RAN\n";
  const Result r = in_project("build", script);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "RAN")) << r.describe();
  EXPECT_EQ(read_text(project_ + "/.git/config"), config) << r.describe();
  EXPECT_EQ(read_text(project_ + "/vendor/x/.git/config"), nested_config) << r.describe();
  EXPECT_FALSE(exists(project_ + "/.git/hooks/pre-commit")) << r.describe();
  EXPECT_TRUE(exists(project_ + "/.git/hooks/pre-push.sample")) << r.describe();
  if (mode() == "landlock") {
    // The run's versions are kept for the user to look at, and it says so.
    EXPECT_TRUE(contains(read_text(project_ + "/.git/config.aisbx-quarantine"), "fsmonitor"));
    EXPECT_TRUE(contains(read_text(project_ + "/.git/hooks/pre-commit.aisbx-quarantine"), marker));
    EXPECT_TRUE(contains(r.err, project_ + "/.git/config` (not read-only")) << r.describe();
  }
  expect_hosts_git_runs_nothing(marker);
}

// What the restore could miss: `.git/hooks`, then `.git` itself, turned
// into a symlink to a directory of the run's holding a hook. In every mode
// the host's git afterwards runs nothing the run planted.
TEST_P(Masks, HooksOrGitTurnedIntoASymlinkNeverRunOnTheHost) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_));
  tree_->file("proj/vendor/x/a.txt", "a\n");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_ + "/vendor/x"));
  const std::string marker = tree_->at(kMarker);
  const std::string hook = "#!/bin/sh\ntouch " + marker + "\n";
  const std::string plant_hook =
      "mkdir -p evil-hooks && printf '%s' " + runner::shell_quote(hook) +
      " > evil-hooks/pre-commit && chmod +x evil-hooks/pre-commit\n";
  Result r = in_project("build", plant_hook +
                                     "mv .git/hooks .git/hooks-old 2>/dev/null && "
                                     "ln -s ../evil-hooks .git/hooks 2>/dev/null\necho RAN\n");
  EXPECT_TRUE(contains(r.out, "RAN")) << r.describe();
  expect_hosts_git_runs_nothing(marker);
  // `.git` itself: a copy of the repository with the run's hooks.
  r = in_project("build", plant_hook +
                              "cp -r .git evil-git && rm -rf evil-git/hooks && "
                              "cp -r evil-hooks evil-git/hooks && "
                              "mv .git .git-old 2>/dev/null && ln -s evil-git .git 2>/dev/null\n"
                              "echo RAN\n");
  EXPECT_TRUE(contains(r.out, "RAN")) << r.describe();
  if (mode() == "landlock") {
    EXPECT_TRUE(contains(r.err, "replaced `" + project_ + "/.git`")) << r.describe();
  }
  const Result c = run({"/usr/bin/git", "commit", "-q", "--allow-empty", "-m", "host"}, project_);
  EXPECT_FALSE(exists(marker)) << "planted code ran on the host: " << c.describe();
}

// A run whose launcher was killed left a commondir behind: the next launch
// moves it aside before the command starts (no lockout), and the user's
// git on the host then reads its own config.
TEST_P(Masks, APlantedCommondirIsMovedAsideAtTheNextLaunch) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_));
  const std::string marker = tree_->at(kMarker);
  tree_->file("evil-common/config",
              "[core]\n\tfsmonitor = \"touch " + marker + "; false\"\n");
  tree_->file("proj/.git/commondir", tree_->at("evil-common") + "\n");
  // An earlier quarantined file is never overwritten.
  tree_->file("proj/.git/commondir.aisbx-quarantine", "EARLIER\n");
  const Result r = in_agent("test -e .git/commondir && echo STILL-THERE; echo RAN");
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "RAN")) << r.describe();
  EXPECT_FALSE(contains(r.out, "STILL-THERE")) << r.describe();
  EXPECT_TRUE(contains(r.err, project_ + "/.git/commondir")) << r.describe();
  EXPECT_FALSE(exists(project_ + "/.git/commondir"));
  EXPECT_EQ(read_text(project_ + "/.git/commondir.aisbx-quarantine"), "EARLIER\n");
  EXPECT_EQ(read_text(project_ + "/.git/commondir.aisbx-quarantine.1"),
            tree_->at("evil-common") + "\n");
  const Result st = run({"/usr/bin/git", "status", "--porcelain"}, project_);
  EXPECT_EQ(st.status, 0) << st.describe();
  EXPECT_FALSE(exists(marker)) << "planted code ran on the host";
}

TEST_P(Masks, AHooksSymlinkIsSaidNotRefusedAndItsTargetStaysOutOfReach) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git({"init", "-q", "-b", "main"}, project_));
  tree_->remove("proj/.git/hooks");
  tree_->file("outside/pre-commit", "OUTSIDE\n");
  tree_->symlink("proj/.git/hooks", tree_->at("outside"));
  const Result r = in_agent("cat .git/hooks/pre-commit 2>/dev/null; echo x > .git/hooks/new "
                            "2>/dev/null; echo RAN");
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "RAN"));
  EXPECT_FALSE(contains(r.out, "OUTSIDE")) << r.describe();
  EXPECT_FALSE(exists(tree_->at("outside/new")));
  EXPECT_TRUE(contains(r.err, ".git/hooks` is a symlink")) << r.describe();
}

// --check names a nested repository whose config runs a command.
TEST_P(Masks, CheckFindsANestedRepositoryWhoseConfigRunsCode) {
  tree_->file("proj/.git/config", "[core]\n\tbare = false\n");
  tree_->dir("proj/.git/objects");
  tree_->file("proj/vendor/x/.git/config",
              "[core]\n\tfsmonitor = \"touch /nowhere\"\n[pager]\n\tlog = less\n");
  const Result r = run({binary_path(), "--mode", mode(), "--profile", "agent", "--project",
                        project_, "--check"},
                       project_);
  EXPECT_NE(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out + r.err, project_ + "/vendor/x/.git/config")) << r.describe();
  EXPECT_TRUE(contains(r.out + r.err, "core.fsmonitor, pager.log")) << r.describe();
  EXPECT_FALSE(contains(r.out + r.err, project_ + "/.git/config:")) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Kernel, Masks,
                         ::testing::ValuesIn(runner::user_modes({"layered", "strict", "landlock"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
