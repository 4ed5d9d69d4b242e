// Limits of a run (LimitsPlan): rlimits in the target, the run's cgroup on
// the host.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/sys/fd.h"

namespace aisbx::stage {

// In the target, before exec (inside the user namespace in layered and
// strict mode): RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_CPU, lowered only.
Expected<void> apply_rlimits(const plan::LimitsPlan& l);

// The run's own cgroup (one directory per hierarchy used), removed when
// this goes away.
class RunCgroup {
 public:
  RunCgroup() = default;
  RunCgroup(RunCgroup&& o) noexcept : dirs_(std::move(o.dirs_)) { o.dirs_.clear(); }
  RunCgroup& operator=(RunCgroup&& o) noexcept {
    remove();
    dirs_ = std::move(o.dirs_);
    o.dirs_.clear();
    return *this;
  }
  // One per hierarchy. Held by fd: the host process shares the sandbox's
  // mount namespace, where /sys/fs/cgroup is gone after the pivot.
  struct Dir {
    sys::UniqueFd parent;
    sys::UniqueFd dir;
    std::string name;
    std::string shown;
  };
  RunCgroup(const RunCgroup&) = delete;
  RunCgroup& operator=(const RunCgroup&) = delete;
  ~RunCgroup();
  bool empty() const { return dirs_.empty(); }
  // Moves `pid` (the sandbox's init, before it forks) into every directory.
  Expected<void> add(pid_t pid);
  void remove();
  // In init: its copies of the fds closed by number, this object (the
  // launcher's, in memory init shares) untouched; nothing removed (the
  // launcher does that). init never execs, so an fd of the host's cgroup
  // tree kept there would last the whole run inside the sandbox.
  void close_fds_in_child() const noexcept;

 private:
  friend Expected<RunCgroup> make_run_cgroup(const plan::LimitsPlan& l);
  std::vector<Dir> dirs_;
};

// Makes and configures it when the plan asks for one; empty otherwise.
Expected<RunCgroup> make_run_cgroup(const plan::LimitsPlan& l);

}  // namespace aisbx::stage
