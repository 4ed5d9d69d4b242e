// Stress and fault injection through the real binary.
//
// Stress: 200 sandboxes, 8 at a time, each exiting with its own status;
// afterwards the test process has the fds it had, no child (zombie or
// not), the host's mount table is as it was, no process of the runs is
// left (a marker in every argv, looked for in /proc), and nothing was left
// in /tmp.
//
// Faults: the launcher killed with SIGKILL after a random delay during
// set-up, and set-up steps that really fail (a required root nobody can
// reach, a private HOME that cannot be made, a HOME on a full tmpfs made in
// a private mount namespace). Each run either runs fully sandboxed or not
// at all, fails with 125 and a message naming the path, and leaves nothing.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

using runner::eventually;
using runner::shell_quote;

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.insert(e.path().filename());
  return out;
}

// The host's mount table, one "mount point + fs type + source" per entry
// (mount ids and peer groups left out: they are not what changes).
std::multiset<std::string> host_mounts() {
  std::multiset<std::string> out;
  std::istringstream in(runner::read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::vector<std::string> w;
    for (std::string x; f >> x;) w.push_back(x);
    std::size_t dash = 0;
    while (dash < w.size() && w[dash] != "-") ++dash;
    if (w.size() < 5 || dash + 2 >= w.size()) continue;
    out.insert(w[4] + " " + w[dash + 1] + " " + w[dash + 2]);
  }
  return out;
}

// Pids of processes with `marker` as one of their argv words.
std::vector<pid_t> with_marker(const std::string& marker) {
  std::vector<pid_t> pids;
  for (const auto& name : entries("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = runner::read_text("/proc/" + name + "/cmdline");
    std::size_t start = 0;
    while (start < cmdline.size()) {
      auto end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      if (cmdline.compare(start, end - start, marker) == 0 && end - start == marker.size()) {
        pids.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
      start = end + 1;
    }
  }
  return pids;
}

// Children of this process, zombies included.
std::vector<std::string> my_children() {
  std::vector<std::string> out;
  const std::string me = std::to_string(::getpid());
  for (const auto& name : entries("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = runner::read_text("/proc/" + name + "/stat");
    const auto rp = stat.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream f(stat.substr(rp + 2));
    std::string state, ppid;
    f >> state >> ppid;
    if (ppid == me) out.push_back(name + " (state " + state + ")");
  }
  return out;
}

std::size_t open_fds() { return entries("/proc/self/fd").size(); }

// The run cgroups (`aisbx-<pid>`, made as root for the built-in limits)
// of these launchers that still exist, in any hierarchy.
std::vector<std::string> run_cgroups_of(const std::vector<pid_t>& pids) {
  std::vector<std::string> found;
  std::vector<std::string> parents{"/sys/fs/cgroup"};
  for (const auto& h : entries("/sys/fs/cgroup")) parents.push_back("/sys/fs/cgroup/" + h);
  for (const auto& parent : parents)
    for (pid_t pid : pids) {
      const std::string dir = parent + "/aisbx-" + std::to_string(pid);
      if (runner::exists(dir)) found.push_back(dir);
    }
  return found;
}

// New /tmp entries the runs may have left: named aisbx-something but not a
// test fixture's TempTree ("aisbx-<word>-XXXXXX", made by this or a
// concurrently running test binary), or owned by `uid` when that is not
// root (root's builds and tools share /tmp with the tests).
std::set<std::string> left_in_tmp(const std::set<std::string>& before, uid_t uid) {
  std::set<std::string> out;
  for (const auto& e : entries("/tmp")) {
    if (before.contains(e)) continue;
    const auto dash = e.rfind('-');
    const bool fixture = e.starts_with("aisbx-") && dash != std::string::npos && e.size() - dash == 7;
    struct stat st {};
    const bool owned = uid != 0 && ::lstat(("/tmp/" + e).c_str(), &st) == 0 && st.st_uid == uid;
    if (!fixture && (owned || e.find("aisbx") != std::string::npos)) out.insert(e);
  }
  return out;
}

// What must hold after any run, finished or killed.
struct Baseline {
  uid_t uid;  // the user under test
  std::string tmpdir;  // the runs' TMPDIR: must stay empty
  std::size_t fds = open_fds();
  std::multiset<std::string> mounts = host_mounts();
  std::set<std::string> tmp = entries("/tmp");

  void expect_nothing_left(const std::string& marker) const {
    std::vector<pid_t> left;
    EXPECT_TRUE(eventually(5, [&] { return (left = with_marker(marker)).empty(); }))
        << left.size() << " process(es) still running with " << marker;
    for (pid_t pid : left) ::kill(pid, SIGKILL);  // found by our unique marker
    EXPECT_EQ(open_fds(), fds) << "the test process leaked fds";
    const auto children = my_children();
    EXPECT_TRUE(children.empty()) << "left child: " << children.front();
    EXPECT_EQ(host_mounts(), mounts) << "the host's mount table changed";
    const auto tmp_left = left_in_tmp(tmp, uid);
    EXPECT_TRUE(tmp_left.empty()) << "left in /tmp: " << *tmp_left.begin();
    const auto in_tmpdir = entries(tmpdir);
    EXPECT_TRUE(in_tmpdir.empty()) << "left in TMPDIR: " << *in_tmpdir.begin();
  }
};

class Stress : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock, Need::Seccomp);
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-st");
    project_ = tree_->dir("project");
    home_ = tree_->dir("home");
    xdg_ = tree_->dir("xdg");
    out_ = tree_->dir("out");
    secret_ = tree_->file("outside/secret", "stress-secret\n");
    tmpdir_ = tree_->dir("tmpdir");
  }

  RunSpec spec(std::vector<std::string> argv) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam();
    s.cwd = project_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}, {"TMPDIR", tmpdir_}};
    return s;
  }

  Baseline baseline() const { return Baseline{runner::uid_of(GetParam()), tmpdir_}; }

  std::vector<std::string> launcher(const std::string& mode, const std::vector<std::string>& opts,
                                    const std::vector<std::string>& cmd) const {
    std::vector<std::string> v{binary_path(), "--profile", "minimal", "--mode", mode,
                               "--ro", dir_of(probe_path())};
    v.insert(v.end(), opts.begin(), opts.end());
    v.push_back("--");
    v.insert(v.end(), cmd.begin(), cmd.end());
    return v;
  }

  std::string marker(const std::string& what) const {
    static std::atomic<int> n{0};
    return "aisbx-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
  }

  std::unique_ptr<TempTree> tree_;
  std::string project_, home_, xdg_, out_, secret_, tmpdir_;
};

TEST_P(Stress, TwoHundredSandboxesEightAtATime) {
  constexpr int kRuns = 200, kParallel = 8;
  const std::string mark = marker("stress");
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<std::string> wrong;
  const Baseline base = baseline();
  // The marker is the shell's $0: in the launcher's argv, init's (a fork of
  // the launcher) and the target's.
  auto worker = [&] {
    for (int i; (i = next++) < kRuns;) {
      const std::string mode = i % 2 == 0 ? "layered" : "strict";
      RunSpec s = spec(launcher(mode, {}, {"/bin/sh", "-c", "exit " + std::to_string(i), mark}));
      s.timeout_seconds = 60;
      const Result r = runner::run(s);
      if (r.status != i || r.timed_out) {
        std::lock_guard lock(mu);
        wrong.push_back("run " + std::to_string(i) + " (" + mode + "): " + r.describe());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kParallel; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " of " << kRuns << " runs ended wrong; first: "
                             << wrong.front();
  base.expect_nothing_left(mark);
}

// Starts the launcher without waiting; stdout and stderr go to `log`.
pid_t start(const RunSpec& spec, const std::string& log) {
  std::vector<std::string> args = spec.argv;
  std::vector<std::string> envs{"PATH=/usr/local/bin:/usr/bin:/bin"};
  for (const auto& [k, v] : spec.env) envs.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) return -1;
  const bool drop = spec.as == As::nobody;
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls until execve.
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(250);
    if (::chdir(spec.cwd.c_str()) != 0) ::_exit(251);
    if (drop && (::setgroups(0, nullptr) != 0 ||
                 ::setresgid(runner::kNobodyGid, runner::kNobodyGid, runner::kNobodyGid) != 0 ||
                 ::setresuid(runner::kNobodyUid, runner::kNobodyUid, runner::kNobodyUid) != 0))
      ::_exit(252);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(253);
  }
  ::close(out);
  ::close(in);
  return pid;
}

TEST_P(Stress, LauncherKilledAtRandomPointsOfSetUpLeavesNothing) {
  constexpr int kRounds = 30;
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  // Set-up takes some tens of milliseconds: kill anywhere from before the
  // first namespace to after the exec.
  std::uniform_int_distribution<int> delay_us(0, 150'000);
  const Baseline base = baseline();
  int ran = 0, not_ran = 0;
  std::vector<pid_t> killed;
  for (int i = 0; i < kRounds; ++i) {
    const std::string mark = marker("kill");
    const std::string result = out_ + "/r" + std::to_string(i);
    // A fully sandboxed target cannot see the secret beside the project.
    const std::string script = "if cat " + shell_quote(secret_) + " 2>/dev/null; then echo ESCAPED > " +
                               shell_quote(result) + "; else echo sandboxed > " + shell_quote(result) +
                               "; fi; sleep 2";
    const pid_t pid = start(spec(launcher(i % 2 ? "strict" : "layered", {"--rw", out_},
                                          {"/bin/sh", "-c", script, mark})),
                            tree_->at("log"));
    ASSERT_GT(pid, 0);
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);  // our own child, by its pid
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) || WIFEXITED(status));
    base.expect_nothing_left(mark);
    const std::string got = runner::read_text(result);
    EXPECT_TRUE(got.empty() || got == "sandboxed\n") << "round " << i << ": " << got;
    (got.empty() ? not_ran : ran)++;
    killed.push_back(pid);
  }
  // A killed launcher cannot remove its run's cgroup; the next launch
  // removes the empty ones whose launcher is gone.
  std::vector<std::string> cgroups_left;
  EXPECT_TRUE(eventually(10, [&] {
    const Result next = runner::run(spec(launcher("layered", {}, {"/bin/true"})));
    EXPECT_EQ(next.status, 0) << next.describe();
    return (cgroups_left = run_cgroups_of(killed)).empty();
  })) << cgroups_left.size() << " run cgroup(s) of killed launchers left, e.g. " << cgroups_left.front();
  std::printf("  killed %d launchers: %d targets had started (sandboxed), %d had not\n", kRounds,
              ran, not_ran);
}

// A set-up step that fails: 125, a message naming `path`, the target never
// ran, nothing left.
void expect_clean_failure(const Result& r, const std::string& path, const std::string& ran_file,
                          const Baseline& base, const std::string& mark) {
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "aisbx-ns: error: "));
  EXPECT_TRUE(contains(r.err, "`" + path));
  EXPECT_FALSE(exists(ran_file)) << "the command ran: " << r.describe();
  base.expect_nothing_left(mark);
}

// DAC does not stop root, so these failures exist for unprivileged users
// only (PrivateHomeOnAFullTmpfsExits125 covers root).
class StressUnprivileged : public Stress {};

std::vector<As> unprivileged_users() {
  std::vector<As> v;
  for (As as : runner::users_to_test())
    if (runner::uid_of(as) != 0) v.push_back(as);
  return v;
}

TEST_P(StressUnprivileged, FailingSetUpStepsExit125NamingThePathAndLeaveNothing) {
  const std::string ran = out_ + "/ran";
  const std::vector<std::string> touch{"/bin/sh", "-c", "echo > " + shell_quote(ran)};
  const Baseline base = baseline();
  for (const char* mode : {"layered", "strict"}) {
    SCOPED_TRACE(mode);
    // A required root nobody can reach: its parent has mode 000 (DAC binds
    // root too: the launcher resolves it as the caller).
    tree_->dir("locked/inner");
    ::chmod(tree_->at("locked").c_str(), 0);
    const std::string inner = tree_->at("locked/inner");
    if (runner::uid_of(GetParam()) != 0) {
      const std::string mark = marker("unreachable");
      std::vector<std::string> cmd = touch;
      cmd.push_back(mark);
      Result r = runner::run(spec(launcher(mode, {"--rw", out_, "--ro", inner}, cmd)));
      expect_clean_failure(r, inner, ran, base, mark);
    }
    ::chmod(tree_->at("locked").c_str(), 0755);
    // A private HOME that cannot be created: its parent is read-only.
    if (runner::uid_of(GetParam()) != 0) {
      const std::string parent = tree_->dir("ro-parent", 0555);
      const std::string home = parent + "/home";
      const std::string mark = marker("home");
      std::vector<std::string> cmd = touch;
      cmd.push_back(mark);
      Result r = runner::run(spec(launcher(mode, {"--rw", out_, "--home", home}, cmd)));
      expect_clean_failure(r, home, ran, base, mark);
    }
  }
}

// A HOME on a full tmpfs. The tmpfs is made only inside a private mount
// namespace (unshare -m, as root), never on the host; the launcher runs in
// it as the user under test.
// Mounting the tmpfs needs a root test binary: without one the case does
// not exist (rather than being skipped).
class StressAsRoot : public Stress {};

std::vector<As> users_under_root() {
  return ::geteuid() == 0 ? runner::users_to_test() : std::vector<As>{};
}

TEST_P(StressAsRoot, PrivateHomeOnAFullTmpfsExits125) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare") && exists("/usr/bin/setpriv"),
                    "needs unshare and setpriv (util-linux)");
  const std::string full = tree_->dir("full");
  const std::string home = full + "/home";
  const std::string ran = out_ + "/ran";
  const Baseline base = baseline();
  for (const char* mode : {"layered", "strict"}) {
    const std::string mark = marker("full");
    const uid_t uid = runner::uid_of(GetParam());
    // nr_inodes=2: the root directory and one file, then ENOSPC.
    std::string sh = "mount -t tmpfs -o size=64k,nr_inodes=2,mode=0755 none " + shell_quote(full) +
                     " || exit 101; chown " + std::to_string(uid) + " " + shell_quote(full) +
                     "; echo > " + shell_quote(full + "/filler") + " || exit 102; exec ";
    if (GetParam() == As::nobody) sh += "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups ";
    for (const auto& a : launcher(mode, {"--rw", out_, "--home", home},
                                  {"/bin/sh", "-c", "echo > " + shell_quote(ran), mark}))
      sh += shell_quote(a) + " ";
    RunSpec s = spec({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", sh});
    s.as = As::self;  // root makes the namespace and the mount
    const Result r = runner::run(s);
    SCOPED_TRACE(mode);
    expect_clean_failure(r, home, ran, base, mark);
    EXPECT_TRUE(contains(r.err, "No space left on device")) << r.describe();
    EXPECT_FALSE(exists(full + "/filler")) << "the tmpfs reached the host";
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, Stress, ::testing::ValuesIn(runner::users_to_test()),
                         [](const ::testing::TestParamInfo<As>& p) { return runner::name_of(p.param); });
INSTANTIATE_TEST_SUITE_P(Kernel, StressUnprivileged, ::testing::ValuesIn(unprivileged_users()),
                         [](const ::testing::TestParamInfo<As>& p) { return runner::name_of(p.param); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StressUnprivileged);
INSTANTIATE_TEST_SUITE_P(Kernel, StressAsRoot, ::testing::ValuesIn(users_under_root()),
                         [](const ::testing::TestParamInfo<As>& p) { return runner::name_of(p.param); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StressAsRoot);

}  // namespace
}  // namespace aisbx::test
