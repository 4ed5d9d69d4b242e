// Issue 21, "a root (or the whole project) can be mounted `overlay: true`":
// a writable root other than the project, overlaid with the real binary.
// Each overlaid root has its own upper and work dir in the run (`upper`
// for the first, `upper.2` for the second), and runs, diff and commit name
// its paths by the root's absolute path (the project's stay relative).
// - a data root overlaid while the project is written directly: launched
//   from the project, a subdirectory and $HOME, the data root is unchanged
//   until commit, the project is written at once (and the plan says so);
//   diff shows each change with the root's path, runs lists each root;
// - commit names paths of that root by their absolute path (a relative one
//   names the project, which this run did not overlay); it never leaves
//   the root: a path outside every root, `..`, a link the host put on the
//   way and a link the run made to ~/.ssh are refused or applied as links;
// - project and data root overlaid together: one run, two upper dirs, the
//   whole of one root committed by naming it, a conflicting host edit in
//   the data root refused and named, discard leaves no trace;
// - the upper dir on another filesystem (a tmpfs HOME) than the project,
//   and hard links from the project (the limit the README states);
// - the Landlock wall holds on that root's merged view (EACCES), and a rule
//   the overlay provides is tied to the host's path before pivot_root: a
//   swap between planning and the stage is refused.
// In layered and strict mode, as the caller and, when root, as uid 65534.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

using runner::UserMode;

bool is_symlink(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// A tree in /var/tmp (beneath no private /tmp), owned by the user under test:
//   home/.ssh/id_rsa        the real HOME
//   proj/a.txt proj/sub/    the project, a git work tree
//   data/d.txt data/old.txt data/nested/n.txt data/locked/
//                           another root, `overlay: true` (no remove_dir)
//   home/.config/foo/f.txt  a root `overlay: true` in profile `cfg`; its
//                           missing gh/ (a secret store) splits its rules
//   tools/aisbx_probe
class OverlayRoots : public ::testing::TestWithParam<UserMode> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-ovr", "/var/tmp");
    home_ = tree_->dir("home");
    tree_->file("home/.ssh/id_rsa", "PRIVATE KEY\n", 0600);
    proj_ = tree_->dir("proj");
    tree_->file("proj/a.txt", "project\n");
    tree_->dir("proj/sub");
    data_ = tree_->dir("data");
    tree_->file("data/d.txt", "data one\n");
    tree_->file("data/old.txt", "old\n");
    tree_->file("data/nested/n.txt", "nested\n");
    tree_->dir("data/locked");
    probe_ = tree_->file("tools/aisbx_probe", read_text(probe_path()), 0755);
    // A git work tree: launched from proj/sub, the project is proj.
    RunSpec git;
    git.argv = {"/usr/bin/git", "-C", proj_, "init", "-q"};
    git.as = GetParam().as;
    git.env = {{"HOME", home_}, {"GIT_CONFIG_NOSYSTEM", "1"}};
    ASSERT_EQ(runner::run(git).status, 0);
    const std::string system = groups_yaml(
        {{"system", {"/usr", "/bin", "/lib", "/lib64", "/etc", dir_of(probe_)}, kReadExec}});
    std::vector<std::string> no_rmdir;
    for (const auto& r : kAll)
      if (r != "remove_dir") no_rmdir.push_back(r);
    const std::string project = groups_yaml({{"project", {"${PROJECT}"}, kAll}});
    const std::string data = groups_yaml({{"data", {data_}, no_rmdir}}) + "        overlay: true\n";
    tree_->file("home/.config/foo/f.txt", "f\n");
    const std::string cfg =
        groups_yaml({{"config", {home_ + "/.config"}, kAll}}) + "        overlay: true\n";
    config_ = tree_->file(
        "profiles.yaml",
        "version: 1\nprofiles:\n  dataonly:\n    access_roots:\n" + system + project + data +
            control_yaml(kAll) + "  both:\n    extends: dataonly\n    access_roots:\n" + project +
            "        overlay: true\n  cfg:\n    access_roots:\n" + system + project + cfg +
            control_yaml(kAll));
  }

  void TearDown() override {
    if (!tree_) return;
    EXPECT_EQ(read_text(home_ + "/.ssh/id_rsa"), "PRIVATE KEY\n");
    EXPECT_FALSE(exists(home_ + "/.ssh/n.txt")) << "written through a link";
    // overlayfs leaves work/work mode 000: opened up for the owner's removal.
    const std::string runs = home_ + "/.ai-sandbox/runs";
    if (DIR* d = ::opendir(runs.c_str())) {
      while (const dirent* e = ::readdir(d))
        for (const char* w : {"/work/work", "/work.2/work"})
          ::chmod((runs + "/" + e->d_name + w).c_str(), 0700);
      ::closedir(d);
    }
  }

  Result aisbx(const std::vector<std::string>& args, const std::string& cwd) const {
    RunSpec s;
    s.argv = {binary_path()};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.as = GetParam().as;
    s.cwd = cwd;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")}, {"LC_ALL", "C"}};
    return runner::run(s);
  }

  // A host command (runs, diff, commit, discard), from `/`.
  Result host(const std::vector<std::string>& args) const { return aisbx(args, "/"); }

  Result sandboxed(const std::string& profile, const std::string& run, const std::string& script,
                   const std::string& cwd, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"--config", config_, "--profile", profile, "--mode",
                                     GetParam().mode, "--run", run};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const std::string a : {"--", "/bin/sh", "-c"}) args.push_back(a);
    args.push_back(script);
    return aisbx(args, cwd);
  }

  std::string run_dir(const std::string& run) const { return home_ + "/.ai-sandbox/runs/" + run; }

  // What a tool does to the data root (and to the project, in `both`).
  std::string edits() const {
    const std::string d = runner::shell_quote(data_);
    return "set -e; echo more >> " + d + "/d.txt; echo fresh > " + d + "/new.txt; rm " + d +
           "/old.txt; ln -s \"$HOME/.ssh\" " + d + "/keys; echo edit >> " + d +
           "/nested/n.txt; echo direct > " + runner::shell_quote(proj_) + "/direct.txt; cat " + d +
           "/d.txt";
  }

  void expect_data_untouched() const {
    EXPECT_EQ(read_text(data_ + "/d.txt"), "data one\n");
    EXPECT_EQ(read_text(data_ + "/old.txt"), "old\n");
    EXPECT_EQ(read_text(data_ + "/nested/n.txt"), "nested\n");
    EXPECT_FALSE(exists(data_ + "/new.txt"));
    EXPECT_FALSE(exists(data_ + "/keys"));
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, proj_, data_, probe_, config_;
};

TEST_P(OverlayRoots, ADataRootIsKeptForReviewFromTheProjectASubdirectoryAndHome) {
  struct From {
    const char* run;
    std::string cwd;
    std::vector<std::string> extra;
  };
  const std::vector<From> froms = {{"fromproj", proj_, {}},
                                   {"fromsub", proj_ + "/sub", {}},
                                   {"fromhome", home_, {"--project", proj_, "--chdir", proj_}}};
  for (const From& f : froms) {
    SCOPED_TRACE(f.run);
    tree_->remove("proj/direct.txt");
    const Result r = sandboxed("dataonly", f.run, edits(), f.cwd, f.extra);
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "data one\nmore\n");  // inside, the write was there
    EXPECT_TRUE(contains(r.err, "run " + std::string(f.run) + " kept the writes to " + data_ +
                                    " in " + run_dir(f.run) + "/upper"));
    expect_data_untouched();
    // The project is no overlaid root: written at once.
    EXPECT_EQ(read_text(proj_ + "/direct.txt"), "direct\n");
    EXPECT_EQ(read_text(run_dir(f.run) + "/upper/new.txt"), "fresh\n");

    const Result d = host({"diff", f.run, "--stat"});
    ASSERT_EQ(d.status, 0) << d.describe();
    for (const std::string& line :
         {"M  " + data_ + "/d.txt", "A  " + data_ + "/new.txt", "D  " + data_ + "/old.txt",
          "L  " + data_ + "/keys", "M  " + data_ + "/nested/n.txt"})
      EXPECT_TRUE(contains(d.out, line)) << line;
    EXPECT_TRUE(contains(d.out, "points outside the root"));
    EXPECT_FALSE(contains(d.out, "direct.txt"));
    const Result full = host({"diff", f.run});
    EXPECT_TRUE(contains(full.out, "--- a" + data_ + "/d.txt"));
    EXPECT_TRUE(contains(full.out, "+more"));
  }
  // runs: each run with its overlaid root and the size of its changes.
  const Result list = host({"runs"});
  ASSERT_EQ(list.status, 0) << list.describe();
  EXPECT_TRUE(contains(list.out, "fromsub"));
  // Its root's line: d.txt (14 bytes), new.txt (6), nested/n.txt (12).
  EXPECT_TRUE(contains(list.out, " root                  32B  " + data_ + "\n")) << list.out;

  // Commit: a relative path names the project, not overlaid here; a path
  // outside every root and `..` are refused before anything is written.
  const Result rel = host({"commit", "fromproj", "new.txt"});
  EXPECT_EQ(rel.status, 125) << rel.describe();
  EXPECT_TRUE(contains(rel.err, "did not overlay"));
  const Result out = host({"commit", "fromproj", home_ + "/.ssh/id_rsa"});
  EXPECT_EQ(out.status, 125) << out.describe();
  EXPECT_TRUE(contains(out.err, "is not inside a root the run overlaid"));
  const Result up = host({"commit", "fromproj", data_ + "/../home/.ssh"});
  EXPECT_EQ(up.status, 125) << up.describe();
  expect_data_untouched();
  // One path by its absolute path, then the rest.
  const Result one = host({"commit", "fromproj", data_ + "/new.txt"});
  ASSERT_EQ(one.status, 0) << one.describe();
  EXPECT_EQ(read_text(data_ + "/new.txt"), "fresh\n");
  EXPECT_EQ(read_text(data_ + "/d.txt"), "data one\n");
  const Result rest = host({"commit", "fromproj"});
  ASSERT_EQ(rest.status, 0) << rest.describe();
  EXPECT_EQ(read_text(data_ + "/d.txt"), "data one\nmore\n");
  EXPECT_FALSE(exists(data_ + "/old.txt"));
  EXPECT_EQ(read_text(data_ + "/nested/n.txt"), "nested\nedit\n");
  EXPECT_TRUE(is_symlink(data_ + "/keys")) << "the run's link is applied as a link";
  EXPECT_TRUE(contains(host({"diff", "fromproj", "--stat"}).out, "no changes"));
}

TEST_P(OverlayRoots, CommitNeverWritesThroughALinkTheHostPutInTheRoot) {
  const Result r = sandboxed("dataonly", "linked", edits(), proj_);
  ASSERT_EQ(r.status, 0) << r.describe();
  // Since the run, the data root's `nested` became a link to ~/.ssh.
  tree_->remove("data/nested");
  tree_->symlink("data/nested", home_ + "/.ssh");
  const Result c = host({"commit", "linked", data_ + "/nested/n.txt"});
  EXPECT_EQ(c.status, 1) << c.describe();
  EXPECT_TRUE(contains(c.err, "is a symbolic link")) << c.err;
  const Result all = host({"commit", "linked"});
  EXPECT_EQ(all.status, 1) << all.describe();
  EXPECT_TRUE(contains(all.err, "`" + data_ + "/nested")) << all.err;
  EXPECT_TRUE(is_symlink(data_ + "/nested"));
  // The rest of the root was applied.
  EXPECT_EQ(read_text(data_ + "/new.txt"), "fresh\n");
}

TEST_P(OverlayRoots, TheProjectAndADataRootInOneRunEachWithItsOwnUpperDir) {
  const Result r = sandboxed("both", "two", edits() + "; echo p >> a.txt", proj_ + "/sub/..");
  ASSERT_EQ(r.status, 0) << r.describe();
  // Both kept: the project first, in `upper`; the data root in `upper.2`.
  EXPECT_FALSE(exists(proj_ + "/direct.txt"));
  EXPECT_EQ(read_text(proj_ + "/a.txt"), "project\n");
  expect_data_untouched();
  EXPECT_EQ(read_text(run_dir("two") + "/upper/direct.txt"), "direct\n");
  EXPECT_EQ(read_text(run_dir("two") + "/upper.2/new.txt"), "fresh\n");
  const Result d = host({"diff", "two", "--stat"});
  ASSERT_EQ(d.status, 0) << d.describe();
  for (const std::string& line : {std::string("A  direct.txt"), std::string("M  a.txt"),
                                  "A  " + data_ + "/new.txt", "D  " + data_ + "/old.txt"})
    EXPECT_TRUE(contains(d.out, line)) << line;

  // The host edits a file of the data root the run changed: a conflict.
  tree_->file("data/d.txt", "the host's edit\n");
  // The whole data root, by naming it: the project stays as it is.
  const Result c = host({"commit", "two", data_});
  EXPECT_EQ(c.status, 1) << c.describe();
  EXPECT_TRUE(contains(c.err, "`" + data_ + "/d.txt`: changed in `" + data_ +
                                  "` since the run started"))
      << c.err;
  EXPECT_EQ(read_text(data_ + "/d.txt"), "the host's edit\n");
  EXPECT_EQ(read_text(data_ + "/new.txt"), "fresh\n");
  EXPECT_FALSE(exists(proj_ + "/direct.txt"));
  // Relative paths are the project's.
  const Result p = host({"commit", "two", "a.txt"});
  ASSERT_EQ(p.status, 0) << p.describe();
  EXPECT_EQ(read_text(proj_ + "/a.txt"), "project\np\n");
  EXPECT_FALSE(exists(proj_ + "/direct.txt"));

  const Result gone = host({"discard", "two"});
  ASSERT_EQ(gone.status, 0) << gone.describe();
  EXPECT_FALSE(exists(run_dir("two")));
  EXPECT_FALSE(exists(proj_ + "/direct.txt"));
  EXPECT_EQ(read_text(data_ + "/d.txt"), "the host's edit\n");
}

TEST_P(OverlayRoots, TheLandlockWallHoldsOnTheRootsMergedView) {
  // The data group grants no remove_dir: EACCES in the merged view, as on
  // the host's directory.
  const Result r = sandboxed("dataonly", "walls",
                             runner::shell_quote(probe_) + " rmdir " + runner::shell_quote(data_ + "/locked"),
                             proj_);
  EXPECT_EQ(r.status, EACCES) << r.describe();
  EXPECT_TRUE(exists(data_ + "/locked"));
}

// Issue 21's left-over: a Landlock rule that an overlay's merged view
// provides (here one split around ~/.config/gh, which the sandbox could
// create) has overlayfs's inode numbers inside; the stage opens it before
// pivot_root and ties it to the host's path planning saw. A directory
// swapped on the host between planning and the stage (the test-only
// AISBX_TEST_PAUSE_FIFO holds the launcher there) refuses the run, as it
// does beneath a bind, and leaves no run behind.
TEST_P(OverlayRoots, ARuleBeneathAnOverlaySwappedAfterPlanningIsRefused) {
  const std::string foo = home_ + "/.config/foo";
  const std::string fifo = tree_->at("pause.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  ::chmod(fifo.c_str(), 0666);
  const auto launch = [&](bool pause) {
    RunSpec s;
    s.argv = {binary_path(), "--config", config_, "--profile", "cfg", "--mode", GetParam().mode,
              "--run", "swap", "--", "/bin/sh", "-c", "echo n > " + runner::shell_quote(foo) + "/new.txt"};
    s.as = GetParam().as;
    s.cwd = proj_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")}};
    if (pause) s.env.emplace_back("AISBX_TEST_PAUSE_FIFO", fifo);
    return runner::run(s);
  };
  // The plan splits the rules: ~/.config/foo has its own.
  const Result plan = aisbx({"--config", config_, "--profile", "cfg", "--mode", GetParam().mode,
                             "--run", "swap", "--print-ruleset", "--", "/bin/true"}, proj_);
  ASSERT_EQ(plan.status, 0) << plan.describe();
  ASSERT_TRUE(contains(plan.out, "rule dir " + foo + ":"));
  std::thread swapper([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // planning is done
    if (fd < 0) return;
    EXPECT_EQ(::rename(foo.c_str(), (foo + ".away").c_str()), 0);
    EXPECT_EQ(::mkdir(foo.c_str(), 0755), 0);
    if (GetParam().as == As::nobody) {
      EXPECT_EQ(::chown(foo.c_str(), runner::kNobodyUid, runner::kNobodyGid), 0);
    }
    (void)!::write(fd, "g", 1);
    ::close(fd);
  });
  const Result r = launch(true);
  const int unblock = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  swapper.join();
  if (unblock >= 0) ::close(unblock);
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "the tree changed while the sandbox was being built; run again"));
  EXPECT_TRUE(contains(r.err, "`" + foo + "`"));
  EXPECT_TRUE(contains(r.err, "landlock: the rule of"));
  EXPECT_FALSE(exists(run_dir("swap"))) << "a refused run left its run directory";
  // Put back, the same launch runs, its write kept for review.
  ASSERT_EQ(::rmdir(foo.c_str()), 0);
  ASSERT_EQ(::rename((foo + ".away").c_str(), foo.c_str()), 0);
  const Result ok = launch(false);
  ASSERT_EQ(ok.status, 0) << ok.describe();
  EXPECT_FALSE(exists(foo + "/new.txt"));
  EXPECT_EQ(read_text(run_dir("swap") + "/upper/foo/new.txt"), "n\n");
}

// The upper dir on another filesystem than the project: HOME (and so the
// run's upper dirs) on a tmpfs this test mounts in a mount namespace of
// its own (in a user namespace, so that uid 65534 can mount it too), the
// project on the disk. The launcher and
// the host commands run in that namespace, where the tmpfs is.
// Hard links whose origin is in the lower layer (the documented limit):
// overlayfs without `index` (off in a user namespace) copies up the one
// name written to, so the other name keeps showing the old content inside,
// diff lists the written name only, and commit replaces that name with a
// new file: the host's link is broken the same way.
TEST_P(OverlayRoots, AnUpperDirOnAnotherFilesystemAndHardLinksFromTheProject) {
  tree_->file("proj/hard.txt", "hard\n");
  ASSERT_EQ(::link((proj_ + "/hard.txt").c_str(), (proj_ + "/hard2.txt").c_str()), 0);
  const std::string a = runner::shell_quote(binary_path());
  const std::string c = runner::shell_quote(config_);
  const std::string inside =
      "echo more >> a.txt; echo x >> hard.txt; cat hard2.txt; ln a.txt a-link.txt";
  const std::string run =
      "set -e; " + a + " --config " + c + " --profile both --mode " + GetParam().mode +
      " --run fs -- /bin/sh -c " + runner::shell_quote(inside) + "; echo \"devs $(/usr/bin/stat -c %d " +
      runner::shell_quote(home_ + "/.ai-sandbox/runs/fs/upper") + ") $(/usr/bin/stat -c %d .)\"; " + a +
      " diff fs --stat; " + a + " commit fs; echo \"links $(/usr/bin/stat -c %h hard.txt)\"";
  // mount(8) wants uid 0: a user namespace where the user is root mounts
  // the tmpfs, and one inside it makes the user themselves again.
  const bool nobody = GetParam().as == As::nobody;
  const std::string uid = std::to_string(nobody ? runner::kNobodyUid : ::geteuid());
  const std::string gid = std::to_string(nobody ? runner::kNobodyGid : ::getegid());
  const std::string script =
      "set -e; /usr/bin/mount -t tmpfs -o mode=0755 tmpfs " + runner::shell_quote(home_) +
      "; exec /usr/bin/unshare --map-user=" + uid + " --map-group=" + gid + " /bin/sh -c " +
      runner::shell_quote(run);
  RunSpec s;
  s.argv = {"/usr/bin/unshare", "--map-root-user", "--mount", "/bin/sh", "-c", script};
  s.as = GetParam().as;
  s.cwd = proj_;
  s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")}, {"LC_ALL", "C"}};
  const Result r = runner::run(s);
  ASSERT_EQ(r.status, 0) << r.describe();
  // Inside: the other name of the link still shows the lower file.
  EXPECT_TRUE(contains(r.out, "hard\n")) << r.out;
  const auto devs = r.out.find("devs ");
  ASSERT_NE(devs, std::string::npos) << r.out;
  std::string upper_dev, proj_dev;
  {
    const std::string line = r.out.substr(devs + 5, r.out.find('\n', devs) - devs - 5);
    upper_dev = line.substr(0, line.find(' '));
    proj_dev = line.substr(line.find(' ') + 1);
  }
  EXPECT_NE(upper_dev, proj_dev) << "the upper dir must be on another filesystem here";
  for (const char* line : {"M  a.txt", "M  hard.txt", "A  a-link.txt"})
    EXPECT_TRUE(contains(r.out, line)) << line;
  EXPECT_FALSE(contains(r.out, "hard2.txt")) << "the other name of the link did not change";
  // Applied: each name a file of its own.
  EXPECT_EQ(read_text(proj_ + "/a.txt"), "project\nmore\n");
  EXPECT_EQ(read_text(proj_ + "/a-link.txt"), "project\nmore\n");
  EXPECT_EQ(read_text(proj_ + "/hard.txt"), "hard\nx\n");
  EXPECT_EQ(read_text(proj_ + "/hard2.txt"), "hard\n");
  EXPECT_TRUE(contains(r.out, "links 1\n"));
  struct stat st {};
  ASSERT_EQ(::stat((proj_ + "/hard2.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  // The tmpfs went with its namespace: nothing of the run on the disk.
  EXPECT_FALSE(exists(home_ + "/.ai-sandbox"));
}

INSTANTIATE_TEST_SUITE_P(Users, OverlayRoots,
                         ::testing::ValuesIn(runner::user_modes({"layered", "strict"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
