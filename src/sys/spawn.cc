#include "aisbx/sys/spawn.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>

namespace aisbx::sys::detail {

pid_t spawn_shared(int (*entry)(void*), void* arg) {
  // The child's own stack (with a guard: an overflow faults instead of
  // running into the parent's memory): the parent's frames stay as they
  // are while it runs. Back here the child has exec'd or exited, and the
  // stack is unmapped with `stack`.
  pid_t pid = -1;
  int err = 0;
  {
    const ChildStack stack;
    if (!stack.ok()) return -1;
    // SIGCHLD: the parent waits for it as for a forked child.
    pid = ::clone(entry, stack.top(), CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
    err = errno;
  }
  errno = err;  // the clone's, not the unmap's
  return pid;
}

pid_t start_beside(int (*entry)(void*), void* arg, void* stack_top) {
  return ::clone(entry, stack_top, CLONE_VM | SIGCHLD, arg);
}

}  // namespace aisbx::sys::detail

namespace aisbx::sys {

// The lowest kGuard bytes are a guard: an overflow faults instead of
// running into whatever mapping lies below, which is the launcher's too.
ChildStack::ChildStack() {
  void* p = ::mmap(nullptr, kGuard + kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return;
  if (::mprotect(p, kGuard, PROT_NONE) != 0) {
    ::munmap(p, kGuard + kSize);
    return;
  }
  base_ = static_cast<char*>(p) + kGuard;
}

ChildStack::~ChildStack() {
  if (base_ != nullptr) ::munmap(static_cast<char*>(base_) - kGuard, kGuard + kSize);
}

}  // namespace aisbx::sys
