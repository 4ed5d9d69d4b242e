// The namespace wall and the process model of layered and strict mode:
//   launcher -> unshare(USER|NS|PID|IPC|UTS[|NET]) -> init (pid 1) -> target
// init builds the new root, pivots into it and forks the target, which
// applies Landlock (and seccomp) and execs. Returns the target's exit
// status (128+N for signal N).
#pragma once

#include <functional>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/trace.h"

namespace aisbx {

// The launcher's first step: unshare(USER|NS|PID|IPC|UTS[|NET]) and the
// identity uid/gid maps. When unshare itself is refused nothing has
// changed, and userns_refused() says so: a launcher that assumed user
// namespaces work (ProbeScope::assume_userns) can still plan without them.
// `in_net`, when given, runs once the user and network namespaces exist and
// the maps are written, before the pid namespace: what it forks stays in
// the host's pid namespace (network.publish's relay, src/net/publish.h).
Expected<void> enter_namespaces(const plan::Plan& p,
                                const std::function<Expected<void>()>& in_net = {});
bool userns_refused(const Error& e);

// After enter_namespaces: forks init, which builds the root and forks the
// target. With p.trace, `traced` receives the calls the sandbox refused, as
// init (the tracer) saw them.
Expected<int> run_sandboxed(const plan::Plan& p, trace::Batch* traced = nullptr);

// --trace without the namespace wall: the launcher forks, the child
// restricts itself and execs, the launcher traces it from outside its
// Landlock domain and returns its exit status.
Expected<int> run_traced_in_place(const plan::Plan& p, trace::Batch& traced);

}  // namespace aisbx
