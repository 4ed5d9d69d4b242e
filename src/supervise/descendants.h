// The processes below the caller, found through /proc, and their end.
#pragma once

#include <sys/types.h>

#include <vector>

namespace aisbx::supervise {

// Every live process below the caller, parents before their children:
// /proc/PID/task/TID/children where the kernel has it
// (CONFIG_PROC_CHILDREN), else the parent pid of every /proc/PID/stat.
std::vector<pid_t> descendants();

// SIGKILL to every descendant, reaping, again until the caller has no
// child left. The caller is a child subreaper (PR_SET_CHILD_SUBREAPER), so
// the orphans of what it kills come back to it and are found in the next
// round; a process that forks while the round runs is caught by the next.
void end_descendants();

}  // namespace aisbx::supervise
