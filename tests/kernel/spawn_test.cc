// sys/spawn.h: a child on the launcher's memory that overruns its stack
// with 64 KiB frames faults in the guard, and what lies below the stack
// mapping (here a mapping of the test's, filled with a pattern) is left as
// it was. With a guard of one page (the first version) a frame's far end
// landed below it and the child wrote there before faulting. One frame
// larger than stack and guard together is probed page by page (stack clash
// protection, CMakeLists.txt AISBX_HARDEN) and faults on the guard too.
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

}  // namespace
}  // namespace aisbx::sys
