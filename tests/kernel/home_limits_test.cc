// Issue 17, items 6 and 8, replayed with the real binary:
// - a private HOME belongs to one profile and one project: what a run in
//   project A plants in its HOME (usercustomize.py) is absent in project B;
//   a HOME swapped for a link (to ~/.ssh), or lying inside a writable root,
//   refuses the run (exit 125) instead of being used;
// - limits: a fork bomb stops inside the sandbox (EAGAIN at the pids limit)
//   while the host can still fork, and a write beyond tmp_size to the
//   private /tmp (and /dev/shm) fails with ENOSPC inside.
// As the caller and, when root, as uid 65534: the pids limit is a cgroup
// for root (the kernel does not apply RLIMIT_NPROC to uid 0) and
// RLIMIT_NPROC in the user namespace for everyone else.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

const std::vector<std::string> kWrite = {"read_file", "read_dir",    "write_file", "make_reg",
                                         "make_dir",  "remove_file", "truncate"};

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
        names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

// A tree in /var/tmp (not beneath the sandbox's private /tmp), owned by the
// user under test:
//   tools/aisbx_probe  a copy of the probe
//   home/.ssh/id_rsa   the real HOME the launcher is given
//   proj-a, proj-b     two projects
//   homes/             the base of the test profile's private homes
class HomeLimits : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-hl", "/var/tmp");
    home_ = tree_->dir("home");
    ssh_key_ = tree_->file("home/.ssh/id_rsa", "PRIVATE KEY\n", 0600);
    proj_a_ = tree_->dir("proj-a");
    proj_b_ = tree_->dir("proj-b");
    xdg_ = tree_->dir("xdg");
    config_ = tree_->at("profiles.yaml");
    // A copy of the probe beside the projects: where the unprivileged pass
    // keeps it (beneath /tmp) a root would narrow the private /tmp's rights.
    probe_ = tree_->file("tools/aisbx_probe", runner::read_text(probe_path()), 0755);
    const std::string system = groups_yaml(
        {{"system", {"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", dir_of(probe_)},
          kReadExec}});
    const std::string project = groups_yaml({{"project", {"${PROJECT}"}, kWrite}});
    tree_->file("profiles.yaml",
                "version: 1\nprofiles:\n"
                "  homed:\n    access_roots:\n" + system + project + control_yaml(kAll) +
                    "    home: " + yq(tree_->at("homes")) + "\n"
                    "    limits: {pids: 16, tmp_size: 16M, shm_size: 8M}\n"
                    "  inside:\n    extends: homed\n    home: \"${PROJECT}/.home\"\n");
  }

  Result run(const std::string& cwd, const std::vector<std::string>& args,
             const std::string& mode = "layered") const {
    RunSpec s;
    s.argv = {binary_path(), "--config", config_, "--profile", "homed", "--mode", mode, "--"};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.as = GetParam();
    s.cwd = cwd;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}};
    return runner::run(s);
  }

  RunSpec spec(const std::string& profile, const std::string& cwd,
               const std::vector<std::string>& args) const {
    RunSpec s;
    s.argv = {binary_path(), "--config", config_, "--profile", profile, "--"};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.as = GetParam();
    s.cwd = cwd;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}};
    return s;
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, ssh_key_, proj_a_, proj_b_, xdg_, config_, probe_;
};

TEST_P(HomeLimits, TwoProjectsOfOneProfileSeeDifferentHomes) {
  for (const std::string mode : {"layered", "landlock"}) {
    const std::string plant =
        "echo 'import shutil' > \"$HOME/usercustomize.py\"; printf '%s\\n' \"$HOME\"";
    const Result a = run(proj_a_, {"/bin/sh", "-c", plant}, mode);
    ASSERT_EQ(a.status, 0) << mode << ": " << a.describe();
    const Result b = run(proj_b_,
                         {"/bin/sh", "-c", "printf '%s\\n' \"$HOME\"; cat \"$HOME/usercustomize.py\""},
                         mode);
    EXPECT_NE(b.status, 0) << mode << ": project B read A's planted file: " << b.describe();
    ASSERT_FALSE(a.out.empty());
    const std::string home_a = a.out.substr(0, a.out.find('\n'));
    const std::string home_b = b.out.substr(0, b.out.find('\n'));
    EXPECT_NE(home_a, home_b) << mode;
    EXPECT_TRUE(home_a.starts_with(tree_->at("homes") + "/homed-")) << home_a;
    EXPECT_TRUE(exists(home_a + "/usercustomize.py")) << mode;
    EXPECT_FALSE(exists(home_b + "/usercustomize.py")) << mode;
    struct stat st {};
    ASSERT_EQ(::stat(home_b.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    // Project A's next run finds what it left.
    const Result again = run(proj_a_, {"/bin/cat", home_a + "/usercustomize.py"}, mode);
    EXPECT_EQ(again.out, "import shutil\n") << again.describe();
    tree_->remove("homes");
  }
}

TEST_P(HomeLimits, AHomeSwappedForALinkRefuses) {
  const Result first = run(proj_a_, {"/bin/true"});
  ASSERT_EQ(first.status, 0) << first.describe();
  const std::vector<std::string> homes = entries(tree_->at("homes"));
  ASSERT_EQ(homes.size(), 1u);
  // What a run with write access to the base could do between runs.
  tree_->remove("homes/" + homes[0]);
  tree_->symlink("homes/" + homes[0], home_ + "/.ssh");
  for (const std::string mode : {"layered", "landlock"}) {
    const Result r = run(proj_a_, {"/bin/sh", "-c", "echo pwned > \"$HOME/authorized_keys\""}, mode);
    EXPECT_EQ(r.status, 125) << mode << ": " << r.describe();
    EXPECT_TRUE(contains(r.err, "symbolic link")) << mode;
    EXPECT_FALSE(exists(home_ + "/.ssh/authorized_keys")) << mode;
  }
  // A link higher up, the base itself: the same.
  tree_->remove("homes");
  tree_->symlink("homes", home_);
  const Result base = run(proj_a_, {"/bin/true"});
  EXPECT_EQ(base.status, 125) << base.describe();
  EXPECT_TRUE(contains(base.err, "symbolic link"));
}

TEST_P(HomeLimits, AHomeInsideAWritableRootRefuses) {
  const Result r = runner::run(spec("inside", proj_a_, {"/bin/true"}));
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "which the sandbox may write"));
  EXPECT_FALSE(exists(proj_a_ + "/.home"));
}

TEST_P(HomeLimits, AForkBombStopsInsideWhileTheHostCanFork) {
  const std::string full = proj_a_ + "/full";
  const std::string release = proj_a_ + "/release";
  Result r;
  RunSpec s = spec("homed", proj_a_, {probe_, "forks", "160", full, release});
  s.timeout_seconds = 90;
  std::thread bomb([&] { r = runner::run(s); });
  const bool filled = runner::eventually(60, [&] { return exists(full); });
  // The host forks while the sandbox holds every process it may have.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = -1;
  if (child > 0) ::waitpid(child, &status, 0);
  tree_->file("proj-a/release", "");
  bomb.join();
  ASSERT_TRUE(filled) << r.describe();
  ASSERT_GT(child, 0) << "the host could not fork during the bomb: " << std::strerror(errno);
  EXPECT_EQ(status, 0);
  // Stopped by the limit (EAGAIN), not by reaching its 160.
  EXPECT_EQ(r.status, EAGAIN) << r.describe();
  const long made = std::stol(r.out.empty() ? "0" : r.out);
  EXPECT_GT(made, 0) << r.describe();
  EXPECT_LT(made, 16) << r.describe();
}

TEST_P(HomeLimits, WritesBeyondTheTmpfsSizesFailWithEnospc) {
  const Result tmp = runner::run(spec("homed", proj_a_, {probe_, "fill", "/tmp/big", "64"}));
  EXPECT_EQ(tmp.status, ENOSPC) << tmp.describe();
  const Result shm =
      runner::run(spec("homed", proj_a_, {probe_, "fill", "/dev/shm/big", "32"}));
  EXPECT_EQ(shm.status, ENOSPC) << shm.describe();
  // Below the size: fine.
  const Result small = runner::run(spec("homed", proj_a_, {probe_, "fill", "/tmp/small", "8"}));
  EXPECT_EQ(small.status, 0) << small.describe();
}

INSTANTIATE_TEST_SUITE_P(Users, HomeLimits, ::testing::ValuesIn(runner::users_to_test()),
                         [](const ::testing::TestParamInfo<As>& p) {
                           return runner::name_of(p.param);
                         });

}  // namespace
}  // namespace aisbx::test
