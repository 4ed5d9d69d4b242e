// Issue 21, replayed with the real binary: --overlay keeps what a run writes
// to the project in ~/.ai-sandbox/runs/RUN/upper, and the host commands
// review it (diff), apply it (commit) or drop it (discard).
// - an agent-like script edits, creates, deletes, renames, chmods and
//   symlinks files: the real project is unchanged until commit, and diff
//   shows each change;
// - commit PATH applies only what was named; a file the host changed since
//   the run started is refused and named; a symlink to ~/.ssh is applied as
//   a link node and never written through, and a project path through a
//   link is refused;
// - a path the run changed and the host removed since is a conflict (U),
//   never brought back as an addition, also after a partial commit;
// - a directory rename is EXDEV inside (no redirect_dir), mv copies it, and
//   diff, commit and git all carry the move;
// - discard leaves no trace; git status inside and after commit agree;
// - the Landlock wall holds on the merged view (EACCES as on the project);
// - landlock mode, which has no mount namespace, refuses --overlay.
// In layered and strict mode, as the caller and, when root, as uid 65534.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

struct Param {
  As as;
  std::string mode;
};

std::string name_of(const ::testing::TestParamInfo<Param>& i) {
  return runner::name_of(i.param.as) + "_" + i.param.mode;
}

std::vector<Param> params() {
  std::vector<Param> out;
  for (As as : runner::users_to_test())
    for (const char* mode : {"layered", "strict"}) out.push_back({as, mode});
  return out;
}

bool is_symlink(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

std::string link_text(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<std::size_t>(n));
}

// A file written straight into a run's upper dir, as a hostile run could
// leave it.
void put(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// A tree in /var/tmp (beneath no private /tmp), owned by the user under test:
//   home/.ssh/id_rsa   the real HOME the launcher is given
//   proj/              the project, a git repository with committed files
//   tools/aisbx_probe  a copy of the probe
class OverlayRuns : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-ov", "/var/tmp");
    home_ = tree_->dir("home");
    tree_->file("home/.ssh/id_rsa", "PRIVATE KEY\n", 0600);
    proj_ = tree_->dir("proj");
    tree_->file("proj/a.txt", "line one\nline two\n");
    tree_->file("proj/b.txt", "to be removed\n");
    tree_->file("proj/c.txt", "to be renamed\n");
    tree_->file("proj/script.sh", "#!/bin/sh\necho hi\n", 0644);
    tree_->file("proj/keep/old.txt", "kept\n");
    tree_->dir("proj/locked");  // the profile grants no remove_dir beneath it
    probe_ = tree_->file("tools/aisbx_probe", read_text(probe_path()), 0755);
    const std::string system = groups_yaml(
        {{"system", {"/usr", "/bin", "/lib", "/lib64", "/etc", dir_of(probe_)}, kReadExec}});
    std::vector<std::string> all_but_rmdir;
    for (const auto& r : kAll)
      if (r != "remove_dir") all_but_rmdir.push_back(r);
    const std::string project = groups_yaml({{"project", {"${PROJECT}"}, all_but_rmdir}});
    config_ = tree_->file("profiles.yaml", "version: 1\nprofiles:\n  agentish:\n    access_roots:\n" +
                                               system + project + control_yaml(kAll) +
                                               "  kept:\n    extends: agentish\n    access_roots:\n" +
                                               project + "        overlay: true\n" +
                                               "  full:\n    access_roots:\n" + system +
                                               groups_yaml({{"project", {"${PROJECT}"}, kAll}}) +
                                               control_yaml(kAll));
    git({"init", "-q"});
    git({"add", "-A"});
    git({"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init"});
  }

  // overlayfs leaves each run's work/work mode 000: opened up, so that the
  // tree can be removed by its unprivileged owner too.
  void TearDown() override {
    if (!tree_) return;
    const std::string runs = home_ + "/.ai-sandbox/runs";
    if (DIR* d = ::opendir(runs.c_str())) {
      while (const dirent* e = ::readdir(d))
        ::chmod((runs + "/" + e->d_name + "/work/work").c_str(), 0700);
      ::closedir(d);
    }
  }

  std::vector<std::pair<std::string, std::string>> env() const {
    return {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")},
            {"GIT_CONFIG_NOSYSTEM", "1"}, {"LC_ALL", "C"}};
  }

  Result git(const std::vector<std::string>& args) const {
    RunSpec s;
    s.argv = {"/usr/bin/git", "-C", proj_};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.as = GetParam().as;
    s.env = env();
    return runner::run(s);
  }

  // `aisbx-ns ARGS` from the project, as the user under test.
  Result aisbx(const std::vector<std::string>& args, const std::string& cwd = "") const {
    RunSpec s;
    s.argv = {binary_path()};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.as = GetParam().as;
    s.cwd = cwd.empty() ? proj_ : cwd;
    s.env = env();
    return runner::run(s);
  }

  Result sandboxed(const std::string& run, const std::vector<std::string>& cmd,
                   const std::string& cwd = "", const std::string& profile = "agentish") const {
    std::vector<std::string> args = {"--config", config_, "--profile", profile, "--mode",
                                     GetParam().mode, "--overlay", "--run", run, "--"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    return aisbx(args, cwd);
  }

  std::string run_dir(const std::string& run) const {
    return home_ + "/.ai-sandbox/runs/" + run;
  }

  // What an agent does: edit, create, delete, rename, chmod, symlink, mkdir.
  Result agent(const std::string& run) const {
    return sandboxed(run, {"/bin/sh", "-c",
                           "set -e; echo 'line three' >> a.txt; echo fresh > new.txt; rm b.txt;"
                           " mv c.txt renamed.txt; chmod 755 script.sh;"
                           " ln -s \"$HOME/.ssh\" ssh-link; mkdir emptydir;"
                           " cat a.txt new.txt renamed.txt"});
  }

  void expect_project_untouched() const {
    EXPECT_EQ(read_text(proj_ + "/a.txt"), "line one\nline two\n");
    EXPECT_TRUE(exists(proj_ + "/b.txt"));
    EXPECT_TRUE(exists(proj_ + "/c.txt"));
    EXPECT_FALSE(exists(proj_ + "/new.txt"));
    EXPECT_FALSE(exists(proj_ + "/renamed.txt"));
    EXPECT_FALSE(exists(proj_ + "/ssh-link"));
    EXPECT_FALSE(exists(proj_ + "/emptydir"));
    EXPECT_EQ(mode_of(proj_ + "/script.sh"), 0644u);
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, proj_, probe_, config_;
};

TEST_P(OverlayRuns, TheProjectIsUnchangedUntilCommitAndDiffShowsEachChange) {
  const Result r = agent("edits");
  ASSERT_EQ(r.status, 0) << r.describe();
  // Inside, the writes were there.
  EXPECT_EQ(r.out, "line one\nline two\nline three\nfresh\nto be renamed\n");
  EXPECT_TRUE(contains(r.err, "run edits")) << r.err;
  EXPECT_TRUE(contains(r.err, "aisbx-ns diff edits")) << r.err;
  expect_project_untouched();
  // The run directory and its upper dir: 0700, the user's.
  for (const std::string& dir : {run_dir("edits"), run_dir("edits") + "/upper"}) {
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0) << dir;
    EXPECT_EQ(st.st_mode & 07777, 0700u) << dir;
    EXPECT_EQ(st.st_uid, GetParam().as == As::nobody ? runner::kNobodyUid : ::geteuid()) << dir;
  }

  const Result stat = aisbx({"diff", "edits", "--stat"});
  ASSERT_EQ(stat.status, 0) << stat.describe();
  for (const char* line : {"M  a.txt", "A  new.txt", "D  b.txt", "D  c.txt", "A  renamed.txt",
                           "M  script.sh  (mode 644 -> 755)", "L  ssh-link", "A  emptydir/"})
    EXPECT_TRUE(contains(stat.out, line)) << line;
  EXPECT_TRUE(contains(stat.out, "points outside the project"));
  EXPECT_FALSE(contains(stat.out, "@@"));
  const Result full = aisbx({"diff", "edits"});
  ASSERT_EQ(full.status, 0) << full.describe();
  EXPECT_TRUE(contains(full.out, "--- a/a.txt"));
  EXPECT_TRUE(contains(full.out, "+line three"));
  EXPECT_TRUE(contains(full.out, "-to be removed"));
  EXPECT_TRUE(contains(full.out, "+fresh"));

  const Result list = aisbx({"runs"}, home_);
  ASSERT_EQ(list.status, 0) << list.describe();
  EXPECT_TRUE(contains(list.out, "edits"));
  EXPECT_TRUE(contains(list.out, "agentish"));
  EXPECT_TRUE(contains(list.out, proj_));
  expect_project_untouched();
}

TEST_P(OverlayRuns, CommitAppliesTheNamedPathsThenTheRest) {
  ASSERT_EQ(agent("part").status, 0);
  const Result some = aisbx({"commit", "part", "a.txt", proj_ + "/new.txt"}, home_);
  ASSERT_EQ(some.status, 0) << some.describe();
  EXPECT_EQ(read_text(proj_ + "/a.txt"), "line one\nline two\nline three\n");
  EXPECT_EQ(read_text(proj_ + "/new.txt"), "fresh\n");
  EXPECT_TRUE(exists(proj_ + "/b.txt"));
  EXPECT_TRUE(exists(proj_ + "/c.txt"));
  EXPECT_EQ(mode_of(proj_ + "/script.sh"), 0644u);
  const Result left = aisbx({"diff", "part", "--stat"});
  EXPECT_FALSE(contains(left.out, "a.txt"));
  EXPECT_TRUE(contains(left.out, "D  b.txt"));

  const Result rest = aisbx({"commit", "part"});
  ASSERT_EQ(rest.status, 0) << rest.describe();
  EXPECT_FALSE(exists(proj_ + "/b.txt"));
  EXPECT_FALSE(exists(proj_ + "/c.txt"));
  EXPECT_EQ(read_text(proj_ + "/renamed.txt"), "to be renamed\n");
  EXPECT_EQ(mode_of(proj_ + "/script.sh"), 0755u);
  EXPECT_TRUE(exists(proj_ + "/emptydir"));
  // The link the run made is a link, never written through.
  EXPECT_TRUE(is_symlink(proj_ + "/ssh-link"));
  EXPECT_EQ(link_text(proj_ + "/ssh-link"), home_ + "/.ssh");
  EXPECT_EQ(read_text(home_ + "/.ssh/id_rsa"), "PRIVATE KEY\n");
  const Result none = aisbx({"diff", "part", "--stat"});
  EXPECT_TRUE(contains(none.out, "no changes")) << none.out;
  // Each file went in by rename(2) from a temporary beside it: none is left.
  if (DIR* d = ::opendir(proj_.c_str())) {
    while (const dirent* e = ::readdir(d))
      EXPECT_FALSE(std::string(e->d_name).starts_with(".aisbx-commit.")) << e->d_name;
    ::closedir(d);
  }
}

TEST_P(OverlayRuns, AFileTheHostChangedSinceTheRunIsRefusedAndNamed) {
  ASSERT_EQ(agent("conflict").status, 0);
  tree_->file("proj/a.txt", "the host's own edit\n");
  const Result c = aisbx({"commit", "conflict"});
  EXPECT_EQ(c.status, 1) << c.describe();
  EXPECT_TRUE(contains(c.err, "`a.txt`: changed in the project since the run started")) << c.err;
  EXPECT_EQ(read_text(proj_ + "/a.txt"), "the host's own edit\n");
  // The rest was applied, and the run keeps the refused file.
  EXPECT_EQ(read_text(proj_ + "/new.txt"), "fresh\n");
  EXPECT_TRUE(contains(aisbx({"diff", "conflict", "--stat"}).out, "M  a.txt"));
}

TEST_P(OverlayRuns, APlantedSymlinkToSshIsAppliedAsALinkAndNeverFollowed) {
  // The run leaves a directory where the project has a link to ~/.ssh
  // (planted earlier, as a host tool might have left it): inside, the link
  // leads nowhere visible, so the agent replaces it by a directory.
  tree_->symlink("proj/out", home_ + "/.ssh");
  const Result r = sandboxed("planted", {"/bin/sh", "-c",
                                         "rm out && mkdir out && echo 'ssh-ed25519 AAAA evil' > "
                                         "out/authorized_keys && ln -s \"$HOME/.ssh\" keys"});
  ASSERT_EQ(r.status, 0) << r.describe();
  // In the upper dir itself, what a hostile run could leave: a link to the
  // real ~/.ssh.
  ASSERT_EQ(::symlink((home_ + "/.ssh").c_str(), (run_dir("planted") + "/upper/keys2").c_str()), 0);
  if (GetParam().as == As::nobody) {
    ASSERT_EQ(::lchown((run_dir("planted") + "/upper/keys2").c_str(), runner::kNobodyUid,
                       runner::kNobodyGid), 0);
  }
  const Result d = aisbx({"diff", "planted", "--stat"});
  EXPECT_TRUE(contains(d.out, "L  keys2")) << d.out;
  EXPECT_TRUE(contains(d.out, "points outside the project"));
  // Only the file below the link: the project's `out` is still a link, and
  // nothing is written through it.
  const Result through = aisbx({"commit", "planted", "out/authorized_keys"});
  EXPECT_EQ(through.status, 1) << through.describe();
  EXPECT_TRUE(contains(through.err, "is a symbolic link")) << through.err;
  EXPECT_FALSE(exists(home_ + "/.ssh/authorized_keys"));
  // All of it: the link is replaced by the run's directory, the new links
  // are links.
  const Result all = aisbx({"commit", "planted"});
  EXPECT_EQ(all.status, 0) << all.describe();
  EXPECT_FALSE(exists(home_ + "/.ssh/authorized_keys"));
  EXPECT_FALSE(is_symlink(proj_ + "/out"));
  EXPECT_EQ(read_text(proj_ + "/out/authorized_keys"), "ssh-ed25519 AAAA evil\n");
  EXPECT_TRUE(is_symlink(proj_ + "/keys"));
  EXPECT_TRUE(is_symlink(proj_ + "/keys2"));
  EXPECT_EQ(read_text(home_ + "/.ssh/id_rsa"), "PRIVATE KEY\n");
}

TEST_P(OverlayRuns, DiscardLeavesNoTrace) {
  ASSERT_EQ(agent("drop").status, 0);
  const Result d = aisbx({"discard", "drop"});
  ASSERT_EQ(d.status, 0) << d.describe();
  EXPECT_FALSE(exists(run_dir("drop")));
  EXPECT_FALSE(contains(aisbx({"runs"}).out, "drop"));
  expect_project_untouched();
  const Result again = aisbx({"diff", "drop"});
  EXPECT_EQ(again.status, 125);
  EXPECT_TRUE(contains(again.err, "no run named `drop`"));
}

TEST_P(OverlayRuns, GitStatusInsideAndAfterCommitAgree) {
  const Result r = sandboxed("gitrun", {"/bin/sh", "-c",
                                        "echo more >> a.txt && rm b.txt && echo n > new.txt && "
                                        "git status --porcelain"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, " M a.txt"));
  EXPECT_EQ(git({"status", "--porcelain"}).out, "");  // the host's project: untouched
  const Result c = aisbx({"commit", "gitrun"});
  ASSERT_EQ(c.status, 0) << c.describe();
  EXPECT_EQ(git({"status", "--porcelain"}).out, r.out);
}

TEST_P(OverlayRuns, TheLandlockWallHoldsOnTheMergedView) {
  // The project group grants no remove_dir: refused by Landlock (EACCES) in
  // the merged view, as in the project itself.
  const Result r = sandboxed("walls", {probe_, "rmdir", proj_ + "/locked"});
  EXPECT_EQ(r.status, EACCES) << r.describe();
  EXPECT_TRUE(exists(proj_ + "/locked"));
}

TEST_P(OverlayRuns, DryRunShowsTheUpperDirAndLandlockModeRefuses) {
  const Result d = aisbx({"--config", config_, "--profile", "agentish", "--overlay", "--run",
                          "shown", "--dry-run", "--", "/bin/true"});
  ASSERT_EQ(d.status, 0) << d.describe();
  EXPECT_TRUE(contains(d.out, "overlay rw"));
  EXPECT_TRUE(contains(d.out, run_dir("shown") + "/upper"));
  EXPECT_FALSE(exists(run_dir("shown")));
  const Result l = aisbx({"--config", config_, "--profile", "agentish", "--mode", "landlock",
                          "--overlay", "--", "/bin/true"});
  EXPECT_EQ(l.status, 125) << l.describe();
  EXPECT_TRUE(contains(l.err, "no mount namespace"));
  const Result bad = aisbx({"--config", config_, "--profile", "agentish", "--overlay", "--run",
                            "../x", "--", "/bin/true"});
  EXPECT_EQ(bad.status, 125) << bad.describe();
  // A run name is taken once.
  ASSERT_EQ(sandboxed("once", {"/bin/true"}).status, 0);
  const Result twice = sandboxed("once", {"/bin/true"});
  EXPECT_EQ(twice.status, 125) << twice.describe();
  EXPECT_TRUE(contains(twice.err, "already exists"));
}

TEST_P(OverlayRuns, ARunDirectoryInsideAWritableRootRefuses) {
  // HOME in a root the sandbox may write: so would be the run directory,
  // which commit reads.
  const std::string writable_home = tree_->dir("rwhome");
  RunSpec s;
  s.argv = {binary_path(), "--config", config_, "--profile", "agentish", "--mode",
            GetParam().mode, "--rw", writable_home, "--overlay", "--", "/bin/true"};
  s.as = GetParam().as;
  s.cwd = proj_;
  s.env = {{"HOME", writable_home}, {"XDG_CONFIG_HOME", tree_->at("xdg")}};
  const Result r = runner::run(s);
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "which the sandbox may write")) << r.err;
  EXPECT_FALSE(exists(writable_home + "/.ai-sandbox"));
}

TEST_P(OverlayRuns, OverlayTrueInTheProfileKeepsWritesInARunNamedAtLaunch) {
  const Result r = aisbx({"--config", config_, "--profile", "kept", "--mode", GetParam().mode,
                          "--", "/bin/sh", "-c", "echo kept > new.txt"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(exists(proj_ + "/new.txt"));
  const auto at = r.err.find("aisbx-ns: run ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string name = r.err.substr(at + 14, r.err.find(' ', at + 14) - at - 14);
  EXPECT_EQ(read_text(run_dir(name) + "/upper/new.txt"), "kept\n");
  const Result c = aisbx({"commit", name});
  ASSERT_EQ(c.status, 0) << c.describe();
  EXPECT_EQ(read_text(proj_ + "/new.txt"), "kept\n");
}

TEST_P(OverlayRuns, AGitHookPlantedInTheUpperDirIsNeverApplied) {
  // Inside, .git/hooks is read-only (EROFS), in the merged view too.
  const Result r = sandboxed("hooks", {probe_, "create", proj_ + "/.git/hooks/pre-commit"});
  EXPECT_EQ(r.status, EROFS) << r.describe();
  // What a hostile upper dir could hold all the same: a hook and a config.
  const std::string upper = run_dir("hooks") + "/upper";
  ASSERT_EQ(::mkdir((upper + "/.git").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((upper + "/.git/hooks").c_str(), 0755), 0);
  put(upper + "/.git/hooks/pre-commit", "#!/bin/sh\necho pwned\n", 0755);
  put(upper + "/.git/config", "[core]\n\tfsmonitor = evil\n", 0644);
  if (GetParam().as == As::nobody) {
    for (const char* rel : {"/.git", "/.git/hooks", "/.git/hooks/pre-commit", "/.git/config"})
      ASSERT_EQ(::lchown((upper + rel).c_str(), runner::kNobodyUid, runner::kNobodyGid), 0);
  }
  const Result c = aisbx({"commit", "hooks"}, "/");
  EXPECT_EQ(c.status, 1) << c.describe();
  EXPECT_TRUE(contains(c.err, "`.git/hooks/pre-commit`: git metadata that runs code on the host"));
  EXPECT_TRUE(contains(c.err, "`.git/config`: git metadata"));
  EXPECT_FALSE(exists(proj_ + "/.git/hooks/pre-commit"));
  EXPECT_FALSE(contains(read_text(proj_ + "/.git/config"), "evil"));
}

TEST_P(OverlayRuns, FromASubdirectoryTheWholeProjectIsOverlaid) {
  const Result r = sandboxed("sub", {"/bin/sh", "-c", "echo up > ../top.txt && echo here > here.txt"},
                             proj_ + "/keep");
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(exists(proj_ + "/top.txt"));
  EXPECT_FALSE(exists(proj_ + "/keep/here.txt"));
  const Result d = aisbx({"diff", "sub", "--stat"}, "/");
  EXPECT_TRUE(contains(d.out, "A  top.txt"));
  EXPECT_TRUE(contains(d.out, "A  keep/here.txt"));
}

TEST_P(OverlayRuns, WhatTheHostRemovedSinceTheRunIsAConflictNotAnAddition) {
  const Result r = sandboxed("gone", {"/bin/sh", "-c",
                                      "set -e; echo edit >> a.txt; echo edit >> keep/old.txt;"
                                      " echo n > keep/new.txt; mv c.txt renamed.txt;"
                                      " mkdir made; echo m > made/m.txt; mv script.sh made/"});
  ASSERT_EQ(r.status, 0) << r.describe();
  // The host removes a file and a directory the run changed.
  tree_->remove("proj/a.txt");
  tree_->remove("proj/keep");
  const Result d = aisbx({"diff", "gone", "--stat"});
  ASSERT_EQ(d.status, 0) << d.describe();
  for (const char* line : {"U  a.txt", "U  keep/", "U  keep/old.txt", "U  keep/new.txt"})
    EXPECT_TRUE(contains(d.out, line)) << line;
  EXPECT_TRUE(contains(d.out, "removed from the project since it started"));
  // A file moved into a directory the run made: no directory of the host
  // changed there, so it is an addition.
  EXPECT_TRUE(contains(d.out, "A  made/script.sh")) << d.out;

  const Result c = aisbx({"commit", "gone"});
  EXPECT_EQ(c.status, 1) << c.describe();
  EXPECT_TRUE(contains(c.err, "`a.txt`: removed from the project since the run started")) << c.err;
  EXPECT_TRUE(contains(c.err, "`keep/old.txt`: removed from the project since the run started"));
  EXPECT_FALSE(exists(proj_ + "/a.txt"));
  EXPECT_FALSE(exists(proj_ + "/keep"));
  // The file renamed in the top directory, which the host changed too:
  // it cannot be told from a file the host removed there, so it waits.
  EXPECT_TRUE(contains(c.err, "`renamed.txt`: removed from the project")) << c.err;
  EXPECT_FALSE(exists(proj_ + "/renamed.txt"));
  // The rest is applied, and the run keeps what was refused.
  EXPECT_EQ(read_text(proj_ + "/made/script.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(read_text(proj_ + "/made/m.txt"), "m\n");
  EXPECT_FALSE(exists(proj_ + "/c.txt"));
  EXPECT_TRUE(contains(aisbx({"diff", "gone", "--stat"}).out, "U  a.txt"));
}

TEST_P(OverlayRuns, ARenamedDirectoryIsCopiedAndCommittedAsRemovalAndAddition) {
  // Without redirect_dir (userxattr turns it off) rename(2) of a directory
  // that came from the project is EXDEV; one the run made renames.
  const Result e =
      sandboxed("dirmv1", {probe_, "rename", proj_ + "/keep", proj_ + "/moved"}, "", "full");
  EXPECT_EQ(e.status, EXDEV) << e.describe();
  const Result r = sandboxed("dirmv", {"/bin/sh", "-c",
                                       "set -e; mv keep moved; mkdir fresh; echo f > fresh/f;"
                                       " mv fresh fresh2; git add -A; git status --porcelain"},
                             "", "full");
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "R  keep/old.txt -> moved/old.txt")) << r.out;
  const Result d = aisbx({"diff", "dirmv", "--stat"});
  ASSERT_EQ(d.status, 0) << d.describe();
  for (const char* line : {"D  keep  (removed directory)", "A  moved/", "A  moved/old.txt",
                           "A  fresh2/", "A  fresh2/f"})
    EXPECT_TRUE(contains(d.out, line)) << line;
  EXPECT_FALSE(contains(d.out, "fresh/"));
  const Result c = aisbx({"commit", "dirmv"});
  ASSERT_EQ(c.status, 0) << c.describe();
  EXPECT_FALSE(exists(proj_ + "/keep"));
  EXPECT_EQ(read_text(proj_ + "/moved/old.txt"), "kept\n");
  EXPECT_EQ(read_text(proj_ + "/fresh2/f"), "f\n");
  // What git said inside is what it says on the host after the commit.
  EXPECT_EQ(git({"status", "--porcelain"}).out, r.out);
}

TEST_P(OverlayRuns, BinaryFilesAreListedNotShownAndRunsSaysWhenWhatAndHowMuch) {
  const Result r = sandboxed("blob", {"/bin/sh", "-c", "printf 'a\\000b' > blob.bin; echo more >> a.txt"});
  ASSERT_EQ(r.status, 0) << r.describe();
  const Result d = aisbx({"diff", "blob"});
  ASSERT_EQ(d.status, 0) << d.describe();
  EXPECT_TRUE(contains(d.out, "A  blob.bin  (new file, mode ")) << d.out;
  EXPECT_TRUE(contains(d.out, ", binary)")) << d.out;
  EXPECT_TRUE(contains(d.out, "+more"));
  EXPECT_FALSE(contains(d.out, "b/blob.bin")) << "a binary file's contents are not shown";
  // runs: the start time, the profile, the size of the changes (3 + 23
  // bytes), the project and the command.
  const Result list = aisbx({"runs"}, "/");
  ASSERT_EQ(list.status, 0) << list.describe();
  const auto at = list.out.find("\nblob ");
  ASSERT_NE(at, std::string::npos) << list.out;
  const std::string line = list.out.substr(at + 1, list.out.find('\n', at + 1) - at - 1);
  for (const std::string& part :
       {std::string(" UTC "), std::string(" agentish "), std::string(" 26B "), proj_,
        std::string("/bin/sh -c")})
    EXPECT_TRUE(contains(line, part)) << part;
}

// Whether a process whose argv is exactly `argv` is running.
bool running(const std::vector<std::string>& argv) {
  std::string want;
  for (const auto& a : argv) want += a + std::string(1, '\0');
  bool found = false;
  if (DIR* d = ::opendir("/proc")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
        found = found || read_text(std::string("/proc/") + e->d_name + "/cmdline") == want;
    ::closedir(d);
  }
  return found;
}

TEST_P(OverlayRuns, ALauncherKilledMidRunLeavesAReviewableRunAndNothingRunning) {
  // SIGKILL of the launcher (timeout -s KILL) while the command sleeps (a
  // sleep of its own length, told from other tests' sleeps).
  const std::string nap = std::to_string(100 + ::getpid() % 100000) + ".25";
  RunSpec s;
  s.argv = {"/usr/bin/timeout", "-s", "KILL", "3", binary_path(), "--config", config_,
            "--profile", "agentish", "--mode", GetParam().mode, "--overlay", "--run", "killed",
            "--", "/bin/sh", "-c", "echo early > early.txt; exec /bin/sleep " + nap};
  s.as = GetParam().as;
  s.cwd = proj_;
  s.env = env();
  const Result r = runner::run(s);
  EXPECT_EQ(r.status, 128 + SIGKILL) << r.describe();
  EXPECT_TRUE(runner::eventually(10, [&] { return !running({"/bin/sleep", nap}); }))
      << "the command outlived its killed launcher";
  EXPECT_FALSE(exists(proj_ + "/early.txt"));
  // The run holds what was written, and its lock went with the launcher.
  const Result d = aisbx({"diff", "killed", "--stat"});
  EXPECT_TRUE(contains(d.out, "A  early.txt")) << d.describe();
  const Result c = aisbx({"commit", "killed"});
  ASSERT_EQ(c.status, 0) << c.describe();
  EXPECT_EQ(read_text(proj_ + "/early.txt"), "early\n");
}

// "where it is unavailable, refuse with a clear error": a kernel without
// overlayfs (faked by the test-only AISBX_FAKE_NO_OVERLAYFS, the mount
// failing with ENODEV) refuses the run before the command starts, says
// what to do, and leaves neither a run nor a change behind. No copy is
// made instead: `--overlay=copy` is not a value the option takes.
TEST_P(OverlayRuns, WithoutOverlayfsTheRunIsRefusedAndLeavesNothing) {
  RunSpec s;
  s.argv = {binary_path(), "--config", config_, "--profile", "agentish", "--mode",
            GetParam().mode, "--overlay", "--run", "noovl", "--", "/bin/sh", "-c",
            "echo ran > ran.txt"};
  s.as = GetParam().as;
  s.cwd = proj_;
  s.env = env();
  s.env.emplace_back("AISBX_FAKE_NO_OVERLAYFS", "1");
  const Result r = runner::run(s);
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "mount overlay `" + proj_ + "`")) << r.err;
  EXPECT_TRUE(contains(r.err, "this kernel has no overlayfs")) << r.err;
  EXPECT_TRUE(contains(r.err, "run without --overlay")) << r.err;
  EXPECT_FALSE(exists(proj_ + "/ran.txt"));
  EXPECT_FALSE(exists(run_dir("noovl"))) << "a refused run left its run directory";
  const Result copy = aisbx({"--config", config_, "--profile", "agentish", "--overlay=copy",
                             "--", "/bin/true"});
  EXPECT_EQ(copy.status, 125) << copy.describe();
  EXPECT_FALSE(exists(proj_ + "/ran.txt"));
}

INSTANTIATE_TEST_SUITE_P(Users, OverlayRuns, ::testing::ValuesIn(params()), name_of);

}  // namespace
}  // namespace aisbx::test
