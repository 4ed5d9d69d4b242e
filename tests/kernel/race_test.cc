// Open what was planned (issue 17, item 3): a program that swaps a
// directory of a writable project for a symlink to a secret directory,
// while the next run is being set up, must never get that directory.
//
// The project is writable and holds a denied `secrets` and a read-only
// `.git/hooks` beside `.git/objects`: Landlock mode splits its rules around
// them (one rule per sibling, each opened by the stage), layered mode binds
// `.git/hooks` read-only and masks `secrets`. The secret directory lies
// outside the project.
//
// - Race: a racer process keeps swapping `.git/objects` (a rename dance, so
//   it is at times missing) and `.git/hooks` (renameat2 RENAME_EXCHANGE)
//   with symlinks to the secret directory, while 100 launches per mode try
//   to read the secret through both and to create files through both. Each
//   launch either refuses (exit 125: the tree changed while the sandbox was
//   being built, or planning met the symlink) or runs and gets
//   ENOENT/EACCES; the secret directory is never written.
// - Swap between planning and the stage, made deterministic by the
//   test-only AISBX_TEST_PAUSE_FIFO: the run is refused, naming the path,
//   in both walls, both mount paths (mount_setattr and the legacy one) and
//   with the openat2-less walk (AISBX_FAKE_NO_OPENAT2).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

constexpr const char* kChanged = "the tree changed while the sandbox was being built; run again";
constexpr int kLaunches = 100;

std::string flow(const std::vector<std::string>& v) {
  std::string s = "[";
  for (const auto& x : v) s += (s.size() > 1 ? ", " : "") + yq(x);
  return s + "]";
}

const std::vector<std::string> kRights = {"read_file",   "read_dir",   "execute",
                                          "write_file",  "remove_file", "remove_dir",
                                          "make_reg",    "make_dir",    "make_sym",
                                          "truncate",    "refer"};

std::string race_yaml(const std::string& project) {
  std::string y = "version: 1\nprofiles:\n  race:\n    access_roots:\n";
  y += "      system:\n        paths: " +
       flow({"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", dir_of(probe_path())}) + "\n";
  y += "        permissions: {read_file: true, read_dir: true, execute: true}\n";
  y += "      project:\n        paths: " + flow({project}) + "\n        permissions:\n";
  for (const auto& r : kRights) y += "          " + r + ": true\n";
  y += "        deny: [\"secrets\"]\n        readonly: [\".git/hooks\"]\n";
  y += "    control_access:\n";
  for (const auto& r : kRights) y += "      " + r + ": true\n";
  return y;
}

// Names in a directory, for "the secret directory holds only secret.txt".
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

// A tree owned by the user under test:
//   secret/secret.txt          TOPSECRET (outside the project)
//   project/.git/objects/pack  project/.git/hooks/pre-commit  project/.git/HEAD
//   project/secrets/key        project/main.c
//   project/.git/objects.link, project/.git/hooks.link -> ../../secret (absolute)
class RaceWall : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock, Need::Userns);
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-race");
    secret_dir_ = tree_->dir("secret");
    tree_->file("secret/secret.txt", "TOPSECRET\n");
    project_ = tree_->dir("project");
    tree_->file("project/.git/objects/pack", "pack\n");
    tree_->file("project/.git/hooks/pre-commit", "#!/bin/sh\n", 0755);
    tree_->file("project/.git/HEAD", "ref: refs/heads/main\n");
    tree_->file("project/secrets/key", "KEY\n");
    tree_->file("project/main.c", "int main() {}\n");
    objects_link_ = tree_->symlink("project/.git/objects.link", secret_dir_);
    hooks_link_ = tree_->symlink("project/.git/hooks.link", secret_dir_);
    home_ = tree_->dir("home");
    xdg_ = tree_->dir("xdg");
    config_ = tree_->file("race.yaml", race_yaml(project_));
  }

  void TearDown() override {
    if (!tree_) return;
    EXPECT_EQ(names_in(secret_dir_), std::vector<std::string>{"secret.txt"})
        << "something was created in the secret directory";
    EXPECT_EQ(read_text(secret_dir_ + "/secret.txt"), "TOPSECRET\n");
  }

  std::string in_project(const std::string& rel) const { return project_ + "/" + rel; }

  // Reads the secret through both swapped names and creates a file through
  // both; prints the four exit statuses (the probe's errno, 0 = success).
  std::vector<std::string> attack(const std::string& mode) const {
    const std::string probe = probe_path();
    const std::string script =
        "p=" + runner::shell_quote(probe) + "; o=" + runner::shell_quote(in_project(".git/objects")) +
        "; h=" + runner::shell_quote(in_project(".git/hooks")) +
        "; \"$p\" read \"$o/secret.txt\" ; a=$?"
        "; \"$p\" read \"$h/secret.txt\" ; b=$?"
        "; \"$p\" create \"$o/pwned.$(date +%s%N)\" ; c=$?"
        "; \"$p\" create \"$h/pwned.$(date +%s%N)\" ; d=$?"
        "; echo \"$a $b $c $d\"";
    return {binary_path(), "--config", config_, "--profile", "race", "--mode", mode,
            "--",          "/bin/sh",  "-c",    script};
  }

  Result launch(const std::vector<std::string>& argv,
                std::vector<std::pair<std::string, std::string>> env = {}) const {
    RunSpec s;
    s.argv = argv;
    s.as = GetParam();
    s.cwd = project_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}};
    s.env.insert(s.env.end(), env.begin(), env.end());
    return runner::run(s);
  }

  std::unique_ptr<TempTree> tree_;
  std::string secret_dir_, project_, objects_link_, hooks_link_, home_, xdg_, config_;
};

// Keeps swapping `.git/objects` and `.git/hooks` with their links until
// killed. Each state lasts a random 0-2 ms: some launches meet a quiet
// tree, others a swap between planning and the stage.
pid_t start_racer(const std::string& git) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const std::string objects = git + "/objects", objects_link = git + "/objects.link",
                    objects_away = git + "/objects.away", hooks = git + "/hooks",
                    hooks_link = git + "/hooks.link";
  std::minstd_rand rng(static_cast<unsigned>(::getpid()));
  auto pause = [&] { ::usleep(static_cast<useconds_t>(rng() % 2000)); };
  for (;;) {
    // The rename dance: objects away (missing for a moment), the link in
    // its place, then back.
    (void)::rename(objects.c_str(), objects_away.c_str());
    (void)::rename(objects_link.c_str(), objects.c_str());
    pause();
    (void)::renameat2(AT_FDCWD, hooks.c_str(), AT_FDCWD, hooks_link.c_str(), RENAME_EXCHANGE);
    pause();
    (void)::rename(objects.c_str(), objects_link.c_str());
    (void)::rename(objects_away.c_str(), objects.c_str());
    pause();
    (void)::renameat2(AT_FDCWD, hooks.c_str(), AT_FDCWD, hooks_link.c_str(), RENAME_EXCHANGE);
    pause();
  }
}

// Puts `.git` back as it was: the real directories at their names.
void restore(const std::string& git) {
  struct stat st {};
  if (::lstat((git + "/objects.away").c_str(), &st) == 0) {
    (void)::rename((git + "/objects").c_str(), (git + "/objects.link").c_str());
    (void)::rename((git + "/objects.away").c_str(), (git + "/objects").c_str());
  }
  if (::lstat((git + "/hooks").c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    (void)::renameat2(AT_FDCWD, (git + "/hooks").c_str(), AT_FDCWD, (git + "/hooks.link").c_str(),
                      RENAME_EXCHANGE);
}

// kLaunches launches in one mode against the racer.
void race(const std::string& mode, const std::function<Result()>& launch,
          const std::string& secret_dir, const std::string& git) {
  const pid_t racer = start_racer(git);
  ASSERT_GT(racer, 0);
  // Stopped however this function returns (a failed ASSERT included): an
  // orphaned racer would outlive the test binary.
  struct Stop {
    pid_t pid;
    std::string git;
    ~Stop() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      restore(git);
    }
  } stop{racer, git};
  int ran = 0, refused = 0;
  for (int i = 0; i < kLaunches; ++i) {
    const Result r = launch();
    SCOPED_TRACE("launch " + std::to_string(i) + " in --mode " + mode + ": " + r.describe());
    ASSERT_FALSE(r.timed_out);
    if (r.status == 125) {
      // Refused: by the stage (the swap came after planning) or by
      // planning (it met the symlink at a protected path).
      EXPECT_TRUE(r.err.find(kChanged) != std::string::npos ||
                  r.err.find("symlink") != std::string::npos)
          << r.err;
      ++refused;
      continue;
    }
    ASSERT_EQ(r.status, 0);
    ++ran;
    int a = -1, b = -1, c = -1, d = -1;
    ASSERT_EQ(std::sscanf(r.out.c_str(), "%d %d %d %d", &a, &b, &c, &d), 4) << r.out;
    // The secret is never read: it is not in the real directories (ENOENT)
    // and a link to it leads where no rule or mount does (EACCES/ENOENT).
    EXPECT_TRUE(a == ENOENT || a == EACCES) << "read through .git/objects: " << a;
    EXPECT_TRUE(b == ENOENT || b == EACCES) << "read through .git/hooks: " << b;
    (void)c;  // creating in the real .git/objects is allowed; the secret dir is checked
    (void)d;
    ASSERT_EQ(names_in(secret_dir), std::vector<std::string>{"secret.txt"})
        << "a launch created a file in the secret directory";
  }
  EXPECT_EQ(ran + refused, kLaunches);
  // The command must have run at all, or nothing was tested.
  EXPECT_GT(ran, 0) << "every launch was refused (" << refused << ")";
  std::fprintf(stderr, "[ race ] --mode %s: %d ran, %d refused\n", mode.c_str(), ran, refused);
}

TEST_P(RaceWall, LandlockModeNeverGrantsTheSwappedInDirectory) {
  const auto argv = attack("landlock");
  race("landlock", [&] { return launch(argv); }, secret_dir_, project_ + "/.git");
}

TEST_P(RaceWall, LayeredModeNeverMountsTheSwappedInDirectory) {
  const auto argv = attack("layered");
  race("layered", [&] { return launch(argv); }, secret_dir_, project_ + "/.git");
}

// ---- a swap between planning and the stage, made deterministic ----

// Runs `argv` with AISBX_TEST_PAUSE_FIFO; `swap` is made while the launcher
// waits between planning and its first stage.
Result run_with_swap(const std::string& fifo, const std::vector<std::string>& argv,
                     std::vector<std::pair<std::string, std::string>> env,
                     const std::function<void()>& swap,
                     const std::function<Result(const std::vector<std::string>&,
                                                std::vector<std::pair<std::string, std::string>>)>&
                         launch) {
  ::unlink(fifo.c_str());
  EXPECT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  ::chmod(fifo.c_str(), 0666);
  std::thread swapper([&] {
    // Opening for writing waits for the launcher to open it: planning is done.
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    swap();
    (void)!::write(fd, "g", 1);
    ::close(fd);
  });
  env.emplace_back("AISBX_TEST_PAUSE_FIFO", fifo);
  const Result r = launch(argv, env);
  // A launcher that never reached the pause leaves the swapper waiting.
  const int unblock = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  swapper.join();
  if (unblock >= 0) ::close(unblock);
  return r;
}

struct SwapCase {
  const char* mode;
  const char* rel;        // what is swapped, in the project
  bool with_symlink;      // else replaced by a new, empty directory
  std::vector<std::pair<std::string, std::string>> env;
};

using Launch = std::function<Result(const std::vector<std::string>&,
                                    std::vector<std::pair<std::string, std::string>>)>;

// `argv` launched with `path` swapped after planning, per `c`: the launch is
// refused, naming the path; then the swap is undone.
void expect_swap_refused(const SwapCase& c, const std::string& path, const std::string& secret_dir,
                         const std::string& fifo, const std::vector<std::string>& argv,
                         const Launch& launch) {
  const std::string away = path + ".away";
  const Result r = run_with_swap(
      fifo, argv, c.env,
      [&] {
        ASSERT_EQ(::rename(path.c_str(), away.c_str()), 0);
        if (c.with_symlink)
          ASSERT_EQ(::symlink(secret_dir.c_str(), path.c_str()), 0);
        else
          ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
      },
      launch);
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, kChanged));
  EXPECT_TRUE(contains(r.err, "`" + path + "`"));
  EXPECT_TRUE(contains(r.err, c.with_symlink ? "a symlink" : "a directory, inode"));
  if (c.with_symlink)
    ::unlink(path.c_str());
  else
    ::rmdir(path.c_str());
  ASSERT_EQ(::rename(away.c_str(), path.c_str()), 0);
}

std::string swap_trace(const std::string& prefix, const SwapCase& c) {
  std::string env_text;
  for (const auto& [k, v] : c.env) env_text += " " + k + "=" + v;
  return prefix + c.mode + ", " + c.rel + " swapped for " +
         (c.with_symlink ? "a symlink" : "a new directory") + env_text;
}

TEST_P(RaceWall, SwapAfterPlanningIsRefused) {
  const std::vector<SwapCase> cases = {
      {"landlock", ".git/objects", true, {}},
      {"landlock", ".git/objects", false, {}},
      {"landlock", ".git/hooks", true, {}},
      {"landlock", ".git/objects", true, {{"AISBX_FAKE_NO_OPENAT2", "1"}}},
      {"layered", ".git/hooks", true, {}},
      {"layered", ".git/hooks", false, {}},
      {"layered", "secrets", true, {}},
      {"layered", ".git/hooks", true, {{"AISBX_FAKE_NO_MOUNT_SETATTR", "1"}}},
      {"layered", "secrets", false, {{"AISBX_FAKE_NO_MOUNT_SETATTR", "1"}}},
      {"layered", ".git/hooks", true, {{"AISBX_FAKE_NO_OPENAT2", "1"}}},
  };
  const std::string fifo = tree_->at("pause.fifo");
  const Launch launched = [&](const std::vector<std::string>& argv,
                              std::vector<std::pair<std::string, std::string>> env) {
    return launch(argv, env);
  };
  for (const SwapCase& c : cases) {
    SCOPED_TRACE(swap_trace("--mode ", c));
    expect_swap_refused(c, in_project(c.rel), secret_dir_, fifo, attack(c.mode), launched);
    // Put back, the same launch runs (and still reads no secret).
    const Result ok = launch(attack(c.mode), c.env);
    ASSERT_EQ(ok.status, 0) << ok.describe();
    EXPECT_EQ(ok.out, std::to_string(ENOENT) + " " + std::to_string(ENOENT) + " 0 " +
                          std::to_string(std::string(c.mode) == "landlock" ? EACCES : EROFS) +
                          "\n");
  }
}

std::string user_name(const ::testing::TestParamInfo<As>& info) {
  return runner::name_of(info.param);
}

// --overlay (issue 21): binds and masks beneath the overlay come from its
// merged view; the stage ties each to the host's path planning saw, so the
// same swaps are refused there too, and the refused run leaves no run.
TEST_P(RaceWall, SwapAfterPlanningBeneathAnOverlayIsRefused) {
  const std::vector<SwapCase> cases = {
      {"layered", ".git/hooks", true, {}},
      {"layered", ".git/hooks", false, {}},
      {"strict", "secrets", false, {}},
      {"layered", "secrets", true, {}},
      {"layered", ".git/hooks", false, {{"AISBX_FAKE_NO_MOUNT_SETATTR", "1"}}},
  };
  const std::string fifo = tree_->at("pause.fifo");
  const std::string runs = home_ + "/.ai-sandbox/runs";
  const auto overlaid = [&](const std::string& mode) {
    std::vector<std::string> argv = attack(mode);
    const auto dashes = std::find(argv.begin(), argv.end(), "--");
    argv.insert(dashes, "--overlay");
    return argv;
  };
  const Launch launched = [&](const std::vector<std::string>& argv,
                              std::vector<std::pair<std::string, std::string>> env) {
    return launch(argv, env);
  };
  for (const SwapCase& c : cases) {
    SCOPED_TRACE(swap_trace("--overlay --mode ", c));
    expect_swap_refused(c, in_project(c.rel), secret_dir_, fifo, overlaid(c.mode), launched);
    EXPECT_TRUE(names_in(runs).empty()) << "a refused run left its run directory";
    // Put back, the same launch runs: the secret is not read, objects are
    // written in the merged view (kept for review), hooks are read-only.
    const Result ok = launch(overlaid(c.mode), c.env);
    ASSERT_EQ(ok.status, 0) << ok.describe();
    EXPECT_EQ(ok.out, std::to_string(ENOENT) + " " + std::to_string(ENOENT) + " 0 " +
                          std::to_string(EROFS) + "\n");
    const std::vector<std::string> kept = names_in(runs);
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(names_in(in_project(".git/objects")), std::vector<std::string>{"pack"});
    const Result gone = launch({binary_path(), "discard", kept[0]});
    EXPECT_EQ(gone.status, 0) << gone.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(RaceUsers, RaceWall, ::testing::ValuesIn(runner::users_to_test()),
                         user_name);

}  // namespace
}  // namespace aisbx::test
