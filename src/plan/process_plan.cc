// Without a pid namespace nothing ends a run but the launcher: which
// mechanism it uses is decided here, from the probe, and said in the plan.
#include "plan/parts.h"

namespace aisbx::plan {

void plan_processes(Plan& plan, const Features& f) {
  if (plan.ns.enabled || plan.mode == Mode::ns) return;
  plan.processes.supervised = true;
  plan.processes.cgroup_parent = f.run_cgroup;
  plan.status.push_back(
      f.run_cgroup.empty()
          ? "processes: ended by the launcher, every descendant found in /proc killed "
            "(no delegated cgroup)"
          : "processes: ended by the launcher, cgroup.kill of a cgroup in `" + f.run_cgroup +
                "`, then every descendant found in /proc killed");
}

}  // namespace aisbx::plan
