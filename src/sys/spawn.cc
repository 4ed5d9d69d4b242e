#include "aisbx/sys/spawn.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>

namespace aisbx::sys::detail {

pid_t spawn_shared(int (*entry)(void*), void* arg) {
  // The child's own stack: the parent's frames stay as they are while it
  // runs. Reserved, not committed: only the pages it touches are faulted.
  constexpr std::size_t kStack = std::size_t{8} << 20;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  // SIGCHLD: the parent waits for it as for a forked child.
  const pid_t pid = ::clone(entry, static_cast<char*>(stack) + kStack,
                            CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
  const int err = errno;
  // Back here the child has exec'd or exited: its stack is free again.
  ::munmap(stack, kStack);
  errno = err;
  return pid;
}

pid_t start_beside(int (*entry)(void*), void* arg, void* stack_top) {
  return ::clone(entry, stack_top, CLONE_VM | SIGCHLD, arg);
}

}  // namespace aisbx::sys::detail

namespace aisbx::sys {

// The lowest page is a guard: an overflow faults instead of running into
// whatever mapping lies below, which is the launcher's too.
BesideStack::BesideStack() {
  void* p = ::mmap(nullptr, kGuard + kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return;
  if (::mprotect(p, kGuard, PROT_NONE) != 0) {
    ::munmap(p, kGuard + kSize);
    return;
  }
  base_ = static_cast<char*>(p) + kGuard;
}

BesideStack::~BesideStack() {
  if (base_ != nullptr) ::munmap(static_cast<char*>(base_) - kGuard, kGuard + kSize);
}

}  // namespace aisbx::sys
