// Starting the command's process without copying the launcher: the child
// shares this process's memory until it execs or exits, and this process
// waits meanwhile (clone(CLONE_VM | CLONE_VFORK), as posix_spawn(3) does).
// A fork() copies the page tables, and every page either process then
// writes is copied on the fault; the exec right after it throws all of
// that away. In a virtual machine each of those faults is a trip to the
// hypervisor: the fork of the target was a fifth of a launch's page faults.
//
// What the child may do: anything that ends in execve() or _exit(), never
// a return. Its fd table, signal mask, credentials, rlimits, no_new_privs,
// Landlock domain and seccomp filter are its own (no CLONE_FILES, no
// CLONE_THREAD); memory it allocates stays allocated in the parent (freed
// with the process). The parent must be single-threaded, which init and the
// guard are (a thread could run while the child writes the shared memory).
//
// start_beside(): a process that shares this one's memory and keeps running
// beside it (clone(CLONE_VM) without CLONE_VFORK): the sandbox's init, which
// never execs. A fork() of the launcher cost about 1 ms here, and init then
// faulted in every code page it ran and copied every heap page it wrote:
// about 3 ms of a launch in all (bench/RESULTS.md). Sharing memory between
// two processes that glibc each believes single-threaded is safe only if
// they never use shared state (the heap, globals, stdio, errno: the TLS is
// one for both) at the same time. The caller hands it over once:
//   - from the start until the hand-off (e.g. a byte on a pipe the child
//     waits for), the child only makes system calls on its own stack;
//   - from the hand-off until the child has been waited for, the parent
//     only makes system calls on its own stack (no malloc, no stdio, no
//     errno it reads);
//   - the child never changes an object the parent owns: it closes its
//     copies of fds by number, never through the parent's UniqueFd; it
//     never returns, calls exit() or lets an exception out: it _exits;
//   - its stack (ChildStack) is unmapped only after it has been waited for.
// What the child's memory holds is the launcher's: it must be as out of
// the sandbox's reach as the launcher. init keeps its capabilities, and a
// process without them cannot ptrace it or open its /proc/PID/mem
// (Escape.InitIsOutOfReachOfTheCommand). A core dump of the child would
// kill the parent with it (the kernel stops every user of the memory).
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace aisbx::sys {

namespace detail {
pid_t spawn_shared(int (*entry)(void*), void* arg);
pid_t start_beside(int (*entry)(void*), void* arg, void* stack_top);
}

// The stack of a child on this process's memory (spawn_shared, start_beside):
// reserved, not committed, with an inaccessible guard below it.
class ChildStack {
 public:
  ChildStack();
  ~ChildStack();
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  bool ok() const { return base_ != nullptr; }
  void* top() const { return static_cast<char*>(base_) + kSize; }
  // The lowest byte of the mapping, guard page included.
  void* bottom() const { return static_cast<char*>(base_) - kGuard; }

  static constexpr std::size_t kSize = std::size_t{8} << 20;
  // As wide as the kernel's own gap below a stack (stack_guard_gap, 256
  // pages): a function with a large frame moves the stack pointer past a
  // single guard page and writes below it (SpawnStack test, 64 KiB frames).
  static constexpr std::size_t kGuard = std::size_t{1} << 20;

 private:
  void* base_ = nullptr;
};

// Returns the child's pid (it has exec'd or exited by then), or -1 with
// errno. `child` runs in the new process and must not return.
template <class F>
pid_t spawn_shared(F& child) {
  return detail::spawn_shared(
      [](void* f) -> int {
        (*static_cast<F*>(f))();
        return 127;  // not reached: `child` execs or exits
      },
      &child);
}

// Returns the child's pid, or -1 with errno. `child` runs in the new
// process on `stack` and must not return (see the hand-off above).
template <class F>
pid_t start_beside(F& child, const ChildStack& stack) {
  if (!stack.ok()) return -1;
  return detail::start_beside(
      [](void* f) -> int {
        (*static_cast<F*>(f))();
        return 127;  // not reached: `child` exits
      },
      &child, stack.top());
}

}  // namespace aisbx::sys
