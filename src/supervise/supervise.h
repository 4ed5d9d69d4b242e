// The process model of Landlock-only mode (landlock mode, and layered mode
// without user namespaces), where no pid namespace ends the run:
//
//   aisbx-ns (launcher)  child subreaper; relays the pty; forwards signals;
//    |                   kills what is left if the guard is gone
//    +- guard            child subreaper, its own process group; forwards
//        |               signals; when the target exits or the launcher
//        |               dies, kills every descendant, then exits
//        +- target       new session (and pty), Landlock, seccomp, exec
//
// The guard is what makes "nothing outlives the launcher" hold when the
// launcher is killed: PR_SET_PDEATHSIG reaches only a direct child, and the
// target's own descendants may clear theirs; the guard, outside the
// sandbox, is told of the launcher's death and, as the subreaper every
// orphan of the run comes back to, finds them all.
#pragma once

#include <signal.h>

#include "aisbx/error.h"
#include "aisbx/plan.h"

namespace aisbx::supervise {

// Signals a user sends to a launcher, passed on to the command (and
// SIGCHLD, which the launcher waits on). See sandbox.cc and supervise.cc
// for who forwards which.
sigset_t forwarded_set();

// PR_SET_CHILD_SUBREAPER for the caller.
Expected<void> become_subreaper();

// Runs p's command as drawn above; returns its exit status (128+N for
// signal N). Errors before exec come back through a close-on-exec pipe.
Expected<int> run(const plan::Plan& p);

}  // namespace aisbx::supervise
