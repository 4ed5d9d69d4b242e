// sys/spawn.h: a child on the launcher's memory that overruns its stack
// with 64 KiB frames faults in the guard, and what lies below the stack
// mapping (here a mapping of the test's, filled with a pattern) is left as
// it was. With a guard of one page (the first version) a frame's far end
// landed below it and the child wrote there before faulting.
#include "aisbx/sys/spawn.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

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

TEST(SpawnStack, AnOverrunFaultsOnTheGuardAndLeavesTheMemoryBelow) {
  const ChildStack stack;
  ASSERT_TRUE(stack.ok());
  // The test's own mapping right below the stack's.
  char* const below_end = static_cast<char*>(stack.bottom());
  void* below = ::mmap(below_end - kBelow, kBelow, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (below == MAP_FAILED) GTEST_SKIP() << "the address below the stack is taken";
  std::memset(below, 0x5a, kBelow);
  auto child = [] {
    // The handler and its stack are the child's own (no CLONE_SIGHAND);
    // it runs on an alternate stack, the overrun one being unusable.
    static char alt[1 << 16];
    stack_t ss{};
    ss.ss_sp = alt;
    ss.ss_size = sizeof alt;
    ::sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_ONSTACK;
    ::sigaction(SIGSEGV, &sa, nullptr);
    ::_exit(recurse(0) == 0 ? 1 : 2);
  };
  const pid_t pid = start_beside(child, stack);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kFaulted) << "status " << status;
  const char* b = static_cast<const char*>(below);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < kBelow; ++i) changed += b[i] != 0x5a;
  EXPECT_EQ(changed, 0u) << "the child wrote below its stack";
  ::munmap(below, kBelow);
}

}  // namespace
}  // namespace aisbx::sys
