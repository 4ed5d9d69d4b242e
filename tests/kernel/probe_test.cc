// The Landlock wrapper and the probe against the real kernel. Everything that
// restricts runs in a forked child that _exits with an errno; the parent stays
// unrestricted and asserts (kernel selftests/landlock base_test.c).
#include "aisbx/probe.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "aisbx/rights.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/landlock.h"
#include "kernel_gap.h"

namespace aisbx {
namespace {

namespace fsys = std::filesystem;

// Runs `body` in a forked child; its return value is the exit status.
// Returns that status, or 1000 + the signal that killed the child.
int run_in_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

// 0 if `path` opens with `flags`, else the errno.
int open_errno(const std::string& path, int flags = O_RDONLY) {
  sys::UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  return fd.get() >= 0 ? 0 : errno;
}

// Set-up failures in the child, distinct from any errno a check returns.
enum ChildStep : int {
  kAbi = 200,
  kCreate,
  kOpenRoot,
  kAddRule,
  kNoNewPrivs,
  kRestrict,
};

// Handles read_file, read_dir and write_file; allows reading beneath `dir`
// only. Returns 0 or the ChildStep that failed.
int restrict_to_reading(const std::string& dir) {
  const auto abi = sys::landlock_abi();
  if (!abi) return kAbi;
  const sys::RulesetAttr attr{fs::kReadFile | fs::kReadDir | fs::kWriteFile, 0, 0};
  const auto ruleset = sys::create_ruleset(attr, *abi);
  if (!ruleset) return kCreate;
  const sys::UniqueFd root(::open(dir.c_str(), O_PATH | O_CLOEXEC | O_DIRECTORY));
  if (root.get() < 0) return kOpenRoot;
  if (!sys::add_path_rule(ruleset->get(), root.get(), fs::kReadFile | fs::kReadDir))
    return kAddRule;
  if (!sys::set_no_new_privs()) return kNoNewPrivs;
  if (!sys::restrict_self(ruleset->get())) return kRestrict;
  return 0;
}

// Sets an environment variable for the scope of a test, restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class LandlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    std::string pattern = (fsys::temp_directory_path() / "aisbx-probe-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << "mkdtemp " << pattern;
    dir_ = pattern;
    file_ = dir_ + "/allowed.txt";
    std::ofstream(file_) << "inside\n";
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      fsys::remove_all(dir_, ec);
    }
  }

  std::string dir_;
  std::string file_;
};

TEST_F(LandlockTest, AbiIsAtLeastOne) {
  const auto abi = sys::landlock_abi();
  ASSERT_TRUE(abi) << abi.error().message();
  EXPECT_GE(*abi, 1);
}

TEST_F(LandlockTest, ProbeReportsTheSameAbi) {
  const auto abi = sys::landlock_abi();
  ASSERT_TRUE(abi) << abi.error().message();
  const auto readings = read_probe();
  ASSERT_TRUE(readings.landlock_abi.has_value());
  EXPECT_EQ(*readings.landlock_abi, *abi);
  EXPECT_EQ(features_from(readings).landlock_abi, *abi);
  EXPECT_EQ(features_from(readings).landlock_why, "");
}

TEST_F(LandlockTest, PathOutsideTheRulesIsDenied) {
  const std::string outside = "/etc/hostname";
  ASSERT_EQ(open_errno(outside), 0) << outside << " must be readable before restricting";
  const int rc = run_in_child([&] {
    if (const int step = restrict_to_reading(dir_)) return step;
    return open_errno(outside);
  });
  EXPECT_EQ(rc, EACCES);
}

TEST_F(LandlockTest, PathBeneathARuleIsAllowed) {
  const int rc = run_in_child([&] {
    if (const int step = restrict_to_reading(dir_)) return step;
    return open_errno(file_);
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(LandlockTest, RightHandledButNotGrantedIsDenied) {
  ASSERT_EQ(open_errno(file_, O_WRONLY), 0);
  const int rc = run_in_child([&] {
    if (const int step = restrict_to_reading(dir_)) return step;
    return open_errno(file_, O_WRONLY);
  });
  EXPECT_EQ(rc, EACCES);
}

TEST_F(LandlockTest, RulesetFdIsCloseOnExec) {
  const auto abi = sys::landlock_abi();
  ASSERT_TRUE(abi);
  const auto ruleset = sys::create_ruleset({fs::kReadFile, 0, 0}, *abi);
  ASSERT_TRUE(ruleset) << ruleset.error().message();
  const int flags = ::fcntl(ruleset->get(), F_GETFD);
  ASSERT_GE(flags, 0);
  EXPECT_NE(flags & FD_CLOEXEC, 0);
}

TEST_F(LandlockTest, AddRuleErrorNamesTheSyscallAndKeepsErrno) {
  const auto abi = sys::landlock_abi();
  ASSERT_TRUE(abi);
  const auto ruleset = sys::create_ruleset({fs::kReadFile, 0, 0}, *abi);
  ASSERT_TRUE(ruleset) << ruleset.error().message();
  const auto r = sys::add_path_rule(ruleset->get(), -1, fs::kReadFile);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EBADF);
  EXPECT_EQ(r.error().what, "landlock_add_rule(PATH_BENEATH, fd -1, access 0x4)");
  EXPECT_NE(r.error().hint, "");
}

TEST_F(LandlockTest, RuleWithAccessNotHandledIsEinval) {
  const auto abi = sys::landlock_abi();
  ASSERT_TRUE(abi);
  const auto ruleset = sys::create_ruleset({fs::kReadFile, 0, 0}, *abi);
  ASSERT_TRUE(ruleset);
  const sys::UniqueFd root(::open(dir_.c_str(), O_PATH | O_CLOEXEC));
  ASSERT_GE(root.get(), 0);
  const auto r = sys::add_path_rule(ruleset->get(), root.get(), fs::kWriteFile);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EINVAL);
}

TEST_F(LandlockTest, NetRightsBeyondTheAbiAreRefusedNotDropped) {
  const auto r = sys::create_ruleset({fs::kReadFile, net::kConnectTcp, 0}, 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EINVAL);
  EXPECT_NE(r.error().what.find("size 8"), std::string::npos) << r.error().what;
  const auto s = sys::create_ruleset({fs::kReadFile, 0, scope::kSignal}, 5);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().err, EINVAL);
}

TEST_F(LandlockTest, PortRules) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::LandlockNet);
  const auto abi = sys::landlock_abi();
  ASSERT_TRUE(abi);
  const auto ruleset = sys::create_ruleset({fs::kReadFile, net::kConnectTcp, 0}, *abi);
  ASSERT_TRUE(ruleset) << ruleset.error().message();
  const auto ok = sys::add_port_rule(ruleset->get(), 443, net::kConnectTcp);
  EXPECT_TRUE(ok) << ok.error().message();
  const auto bad = sys::add_port_rule(ruleset->get(), 70000, net::kConnectTcp);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().err, EINVAL);
  EXPECT_EQ(bad.error().what, "landlock_add_rule(NET_PORT, port 70000, access 0x2)");
}

TEST_F(LandlockTest, ScopedRulesetOnAbi6) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::LandlockScope);
  const auto abi = sys::landlock_abi();
  ASSERT_TRUE(abi);
  const auto ruleset = sys::create_ruleset(
      {fs::kReadFile, net::kBindTcp, scope::kSignal | scope::kAbstractUnixSocket}, *abi);
  EXPECT_TRUE(ruleset) << ruleset.error().message();
}

// An independent user namespace try, written apart from the probe's so a
// bug in one does not hide in the other: unshare, then an identity uid map.
int try_userns_independently() {
  const std::string map =
      std::to_string(::getuid()) + " " + std::to_string(::getuid()) + " 1";
  return run_in_child([&] {
    if (::unshare(CLONE_NEWUSER) != 0) return errno;
    const sys::UniqueFd fd(::open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno;
    if (::write(fd.get(), map.data(), map.size()) != static_cast<ssize_t>(map.size()))
      return errno;
    return 0;
  });
}

TEST(UsernsProbe, TrySucceedsWhereUnshareWorks) {
  const int independent = try_userns_independently();
  const ProbeReadings r = read_probe();
  if (independent != 0) {
    EXPECT_FALSE(r.userns_ok);
    const std::string why = "user namespaces refused here (errno " +
                            std::to_string(independent) +
                            "): " + features_from(r).userns_why;
    if (test::must_work()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  EXPECT_TRUE(r.userns_ok) << features_from(r).userns_why;
  EXPECT_EQ(r.userns_step, UsernsStep::none);
  EXPECT_EQ(r.userns_errno, 0);
}

TEST(UsernsProbe, ProbeFeaturesReportsUserns) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const ScopedEnv no_fake("AISBX_FAKE_NO_USERNS", "0");
  const Features f = probe_features();
  EXPECT_TRUE(f.userns) << f.userns_why;
  EXPECT_EQ(f.userns_why, "");
}

TEST(ProbeHooks, FakeLandlockAbiZero) {
  const ScopedEnv fake("AISBX_FAKE_LANDLOCK_ABI", "0");
  const Features f = probe_features();
  EXPECT_EQ(f.landlock_abi, 0);
  EXPECT_EQ(f.landlock_why, "faked by AISBX_FAKE_LANDLOCK_ABI=0");
}

TEST(ProbeHooks, FakeLandlockAbiNumber) {
  const ScopedEnv fake("AISBX_FAKE_LANDLOCK_ABI", "2");
  EXPECT_EQ(probe_features().landlock_abi, 2);
}

TEST(ProbeHooks, FakeNoUserns) {
  const ScopedEnv fake("AISBX_FAKE_NO_USERNS", "1");
  const Features f = probe_features();
  EXPECT_FALSE(f.userns);
  EXPECT_EQ(f.userns_why, "faked by AISBX_FAKE_NO_USERNS");
}

TEST(ProbeHooks, ReadProbeIgnoresTheHooks) {
  const ScopedEnv abi("AISBX_FAKE_LANDLOCK_ABI", "0");
  const ScopedEnv userns("AISBX_FAKE_NO_USERNS", "1");
  const ProbeReadings r = read_probe();
  EXPECT_FALSE(r.fake_landlock_abi);
  EXPECT_FALSE(r.fake_no_userns);
}

TEST(SeccompProbe, KernelHasSeccomp) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Seccomp);
  EXPECT_TRUE(read_probe().seccomp_ok);
}

// In a forked child: a seccomp filter that lets everything through, or
// one that refuses prctl(2) itself (EPERM); then whether read_probe() sees
// that it runs under a filter. Exit 0 when it does, 1 when not, 2 when the
// filter could not be loaded.
int probe_under_filter(bool refuse_prctl) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    sock_filter deny_prctl[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),  // seccomp_data.nr
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    sock_fprog prog{};
    prog.len = refuse_prctl ? 4 : 1;
    prog.filter = refuse_prctl ? deny_prctl : allow_all;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
      ::_exit(2);
    ::_exit(read_probe(ProbeScope::without_userns).in_seccomp_filter ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SeccompProbe, AFilterIsSeenAlsoWhenItRefusesPrctl) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Seccomp);
  // This test's own process may itself run under a filter (a sandboxed
  // CI): then only the children's answers are checked.
  EXPECT_EQ(probe_under_filter(false), 0) << "a filter that allows all";
  EXPECT_EQ(probe_under_filter(true), 0) << "a filter that refuses prctl";
}

TEST(UniqueFd, OwnsMovesAndReleases) {
  sys::UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(a.get(), 0);
  const int raw = a.get();
  sys::UniqueFd b(std::move(a));
  EXPECT_EQ(a.get(), -1);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(b.get(), raw);
  const int released = b.release();
  EXPECT_EQ(released, raw);
  EXPECT_EQ(b.get(), -1);
  EXPECT_EQ(::fcntl(raw, F_GETFD), FD_CLOEXEC);  // release() did not close it
  { sys::UniqueFd c(released); }
  errno = 0;
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);  // closed when c went away
  EXPECT_EQ(errno, EBADF);
}

TEST(UniqueFd, ResetKeepsErrno) {
  sys::UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(a.get(), 0);
  errno = ENOENT;
  a.reset();
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(a.get(), -1);
}

}  // namespace
}  // namespace aisbx
