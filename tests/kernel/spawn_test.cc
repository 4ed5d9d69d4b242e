// sys/spawn.h: a child on the launcher's memory that overruns its stack
// with 64 KiB frames faults in the guard, and what lies below the stack
// mapping (here a mapping of the test's, filled with a pattern) is left as
// it was. With a guard of one page (the first version) a frame's far end
// landed below it and the child wrote there before faulting. One frame
// larger than stack and guard together is probed page by page (stack clash
// protection, CMakeLists.txt AISBX_HARDEN) and faults on the guard too.
//
// spawn_shared_in_cgroup(): the child is in the cgroup from its first
// instruction (clone3 with CLONE_INTO_CGROUP), and where it cannot be
// born there no child runs at all: the caller decides what happens next.
#include "aisbx/sys/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "aisbx/sys/fd.h"
#include "supervise/cgroup.h"

namespace aisbx::sys {
namespace {

constexpr int kFaulted = 42;
constexpr std::size_t kBelow = 1 << 20;

// Deep enough to leave any 8 MiB stack: 64 KiB a frame.
int recurse(int depth) {
  volatile char frame[65536];
  frame[0] = static_cast<char>(depth);
  frame[sizeof frame - 1] = static_cast<char>(depth);
  return depth > 100000 ? frame[0] : recurse(depth + 1) + frame[sizeof frame - 1];
}

void on_fault(int) { ::_exit(kFaulted); }

// One frame larger than the stack and its guard together, of which only
// the far end is written: without stack clash probes (AISBX_HARDEN) the
// write skips the guard and lands in the mapping below.
[[gnu::noinline]] int one_huge_frame(std::size_t size) {
  volatile char frame[ChildStack::kSize + ChildStack::kGuard + kBelow / 2];
  frame[0] = static_cast<char>(size);
  return frame[0];
}

// Maps kBelow bytes right below `stack` (guard included), filled with a
// pattern; nullptr when the address is taken.
char* map_below(const ChildStack& stack) {
  char* const below_end = static_cast<char*>(stack.bottom());
  void* below = ::mmap(below_end - kBelow, kBelow, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (below == MAP_FAILED) return nullptr;
  std::memset(below, 0x5a, kBelow);
  return static_cast<char*>(below);
}

std::size_t changed_below(const char* below) {
  std::size_t changed = 0;
  for (std::size_t i = 0; i < kBelow; ++i) changed += below[i] != 0x5a;
  return changed;
}

// The child's SIGSEGV handler, on an alternate stack of its own (the
// overrun stack is unusable); the handler is the child's own (no
// CLONE_SIGHAND).
void exit_on_fault() {
  static char alt[1 << 16];
  stack_t ss{};
  ss.ss_sp = alt;
  ss.ss_size = sizeof alt;
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_ONSTACK;
  ::sigaction(SIGSEGV, &sa, nullptr);
}

// A child on a ChildStack that calls `overrun` (which must not return)
// after its fault handler is set, above a mapping of the test's: it must
// fault (exit kFaulted) and leave that mapping as it was.
void expect_fault_on_guard(void (*overrun)()) {
  const ChildStack stack;
  ASSERT_TRUE(stack.ok());
  char* const below = map_below(stack);
  if (below == nullptr) GTEST_SKIP() << "the address below the stack is taken";
  static void (*run)() = nullptr;
  run = overrun;
  auto child = [] {
    exit_on_fault();
    run();
  };
  const pid_t pid = start_beside(child, stack);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kFaulted)
      << "status " << status << ": the overrun ended without a fault";
  EXPECT_EQ(changed_below(below), 0u) << "the child wrote below its stack's guard";
  ::munmap(below, kBelow);
}

TEST(SpawnStack, AnOverrunFaultsOnTheGuardAndLeavesTheMemoryBelow) {
  expect_fault_on_guard([] { ::_exit(recurse(0) == 0 ? 1 : 2); });
}

TEST(SpawnStack, AFrameLargerThanTheGuardIsProbedAndFaultsOnIt) {
  expect_fault_on_guard([] { ::_exit(one_huge_frame(1) == 1 ? 1 : 2); });
}

// The cgroup v2 line of /proc/self/cgroup ("0::/path"), read by a child
// first thing and sent up `out`.
[[noreturn]] void send_own_cgroup(int out) {
  char buf[4096];
  const int fd = ::open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  const ssize_t n = fd < 0 ? -1 : ::read(fd, buf, sizeof buf);
  ::_exit(n > 0 && ::write(out, buf, static_cast<std::size_t>(n)) == n ? 0 : 3);
}

std::string v2_line(const std::string& text) {
  const auto at = text.find("0::");
  if (at == std::string::npos) return {};
  return text.substr(at + 3, text.find('\n', at) - at - 3);
}

// The directory of this process's own cgroup v2, open; -1 if none.
int own_cgroup_dir() {
  char buf[4096];
  const UniqueFd fd(::open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC));
  const ssize_t n = fd.get() < 0 ? -1 : ::read(fd.get(), buf, sizeof buf);
  if (n <= 0) return -1;
  const std::string path = v2_line(std::string(buf, static_cast<std::size_t>(n)));
  for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
    if (::access((std::string(mount) + "/cgroup.controllers").c_str(), F_OK) == 0)
      return ::open((std::string(mount) + path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return -1;
}

class SpawnCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    read_.reset(p[0]);
    write_.reset(p[1]);
  }
  void TearDown() override {
    if (!name_.empty()) ::rmdir((parent_ + "/" + name_).c_str());
  }
  // A cgroup of the test's own where the caller may make one (root, or a
  // delegated subtree); false elsewhere.
  bool make_cgroup() {
    parent_ = supervise::delegated_cgroup();
    if (parent_.empty()) return false;
    name_ = "aisbx-spawn-test-" + std::to_string(::getpid());
    if (::mkdir((parent_ + "/" + name_).c_str(), 0755) != 0) return false;
    dir_.reset(::open((parent_ + "/" + name_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return dir_.get() >= 0;
  }
  std::string received() {
    write_.reset();
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(read_.get(), buf, sizeof buf)) > 0;)
      text.append(buf, static_cast<std::size_t>(n));
    return text;
  }

  std::string parent_, name_;
  UniqueFd dir_, read_, write_;
};

TEST_F(SpawnCgroup, TheChildIsBornInTheCgroupOrNotAtAll) {
  const int out = write_.get();
  auto child = [out] { send_own_cgroup(out); };
  if (!make_cgroup()) {
    // A caller with no cgroup it may move processes into (uid 65534 here):
    // its own cgroup refuses the child, and none runs anywhere else.
    const UniqueFd own(own_cgroup_dir());
    ASSERT_GE(own.get(), 0) << "no cgroup v2 on this machine";
    EXPECT_EQ(spawn_shared_in_cgroup(child, own.get()), -1);
    EXPECT_TRUE(errno == EACCES || errno == EPERM) << std::strerror(errno);
    EXPECT_EQ(received(), "") << "a child ran";
    return;
  }
  const pid_t pid = spawn_shared_in_cgroup(child, dir_.get());
  ASSERT_GT(pid, 0) << "clone3(CLONE_INTO_CGROUP): " << std::strerror(errno);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string line = v2_line(received());
  EXPECT_TRUE(line.ends_with("/" + name_)) << line;
}

TEST_F(SpawnCgroup, WhereItCannotBeBornThereNoChildRuns) {
  // A directory that is not a cgroup: the kernel refuses the clone, and
  // nothing was started elsewhere in its place.
  const UniqueFd not_a_cgroup(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_GE(not_a_cgroup.get(), 0);
  const int out = write_.get();
  auto child = [out] { send_own_cgroup(out); };
  EXPECT_EQ(spawn_shared_in_cgroup(child, not_a_cgroup.get()), -1);
  EXPECT_NE(errno, 0);
  EXPECT_EQ(received(), "") << "a child ran";
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

}  // namespace
}  // namespace aisbx::sys
