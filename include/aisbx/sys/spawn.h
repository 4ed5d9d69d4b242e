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
#pragma once

#include <sys/types.h>

namespace aisbx::sys {

namespace detail {
pid_t spawn_shared(int (*entry)(void*), void* arg);
}

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

}  // namespace aisbx::sys
