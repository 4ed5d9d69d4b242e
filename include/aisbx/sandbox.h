// The namespace wall and the process model of layered and strict mode:
//   launcher -> unshare(USER|NS|PID|IPC|UTS[|NET]) -> init (pid 1) -> target
// init builds the new root, pivots into it and forks the target, which
// applies Landlock (and seccomp) and execs. Returns the target's exit
// status (128+N for signal N).
#pragma once

#include "aisbx/error.h"
#include "aisbx/plan.h"

namespace aisbx {

Expected<int> run_sandboxed(const plan::Plan& p);

}  // namespace aisbx
