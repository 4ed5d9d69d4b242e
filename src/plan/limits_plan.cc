// `limits:` resolved against this host: the value of each limit and what
// enforces it, or why nothing does. A run's processes must not be able to
// starve the caller (a fork bomb that leaves the user's shell unable to
// fork, a private /tmp that fills the RAM of a host without swap).
#include "aisbx/features.h"
#include "plan/parts.h"

namespace aisbx::plan {
namespace {

// Without `limits:` in the profile: the private /tmp and /dev/shm get 1 GiB
// instead of the kernel's half of the RAM each; everything else is as the
// caller's own limits are.
constexpr std::uint64_t kDefaultTmpfs = std::uint64_t{1} << 30;

std::string count_text(std::uint64_t n) { return n ? std::to_string(n) : "unlimited"; }
std::string size_value(std::uint64_t n) { return n ? profile::size_text(n) : "unlimited"; }

}  // namespace

Expected<void> plan_limits(Context& cx) {
  const profile::Limits& in = cx.in.profile.limits;
  const Features& f = cx.in.features;
  LimitsPlan& l = cx.plan.limits;
  const bool ns = cx.plan.ns.enabled;
  const bool root = cx.in.host.uid == 0;
  const auto value = [](const auto& v, std::uint64_t dflt) { return v ? v->value : dflt; };
  l.pids = value(in.pids, 0);
  l.memory = value(in.memory, 0);
  l.tmp_size = value(in.tmp_size, kDefaultTmpfs);
  l.shm_size = value(in.shm_size, kDefaultTmpfs);
  l.nofile = value(in.nofile, 0);
  l.cpu_seconds = value(in.cpu_seconds, 0);

  // The run's own cgroup: only where the host process stays to remove it
  // (the namespace wall; landlock mode execs in place).
  const bool v2 = ns && !f.cgroup2_dir.empty();
  const auto add = [&](const char* name, std::string v, std::string by, bool enforced) {
    l.lines.push_back({name, std::move(v), std::move(by), enforced});
  };

  if (!l.pids) {
    add("pids", "unlimited", "", true);
  } else if (ns && !root) {
    l.rlimit_nproc = true;
    add("pids", count_text(l.pids),
        "RLIMIT_NPROC set inside the sandbox's user namespace (counts the sandbox's processes "
        "only)", true);
  } else if (ns && v2 && f.cgroup2_pids) {
    l.cgroup_pids = true;
    add("pids", count_text(l.pids), "pids.max of the run's cgroup (v2)", true);
  } else if (ns && !f.cgroup1_pids_dir.empty()) {
    l.cgroup_pids = true;
    l.cgroup1_pids_dir = f.cgroup1_pids_dir;
    add("pids", count_text(l.pids), "pids.max of the run's cgroup (v1 pids hierarchy)", true);
  } else if (!ns && !root) {
    l.rlimit_nproc = true;
    add("pids", count_text(l.pids),
        "RLIMIT_NPROC on the command (landlock mode: it counts every process of uid " +
            std::to_string(cx.in.host.uid) + ", not only the sandbox's)", true);
  } else {
    const std::string why = std::string("not enforced: the kernel does not apply RLIMIT_NPROC to "
                                        "uid 0, and ") +
                            (ns ? "no writable cgroup offers the pids controller"
                                : "landlock mode makes no cgroup");
    add("pids", count_text(l.pids), why, false);
    cx.warn("limits: pids " + count_text(l.pids) + " is " + why);
  }

  if (!l.memory) {
    add("memory", "unlimited", "", true);
  } else if (ns && v2 && f.cgroup2_memory) {
    l.cgroup_memory = true;
    add("memory", size_value(l.memory), "memory.max of the run's cgroup (v2)", true);
  } else if (ns && !f.cgroup1_memory_dir.empty()) {
    l.cgroup_memory = true;
    l.cgroup1_memory_dir = f.cgroup1_memory_dir;
    add("memory", size_value(l.memory),
        "memory.limit_in_bytes of the run's cgroup (v1 memory hierarchy)", true);
  } else {
    add("memory", size_value(l.memory),
        ns ? "not enforced: no writable cgroup offers the memory controller (as root, or with "
             "a delegated cgroup v2 subtree)"
           : "not enforced: landlock mode makes no cgroup",
        false);
  }
  if (l.cgroup_pids || l.cgroup_memory) {
    if (v2 && ((l.cgroup_pids && f.cgroup2_pids) || (l.cgroup_memory && f.cgroup2_memory)))
      l.cgroup2_dir = f.cgroup2_dir;
  }

  for (const auto& [name, bytes, mount] :
       {std::tuple{"tmp_size", l.tmp_size, "/tmp"}, std::tuple{"shm_size", l.shm_size, "/dev/shm"}}) {
    if (ns)
      add(name, size_value(bytes),
          bytes ? std::string("tmpfs size= of the private ") + mount
                : std::string("the kernel's default for the private ") + mount + " (half the RAM)",
          true);
    else
      add(name, size_value(bytes),
          std::string("not enforced: landlock mode has no private ") + mount, false);
  }
  cx.plan.ns.tmp_size = ns ? l.tmp_size : 0;
  cx.plan.ns.shm_size = ns ? l.shm_size : 0;

  add("nofile", count_text(l.nofile), l.nofile ? "RLIMIT_NOFILE (soft and hard)" : "", true);
  add("cpu_seconds", count_text(l.cpu_seconds), l.cpu_seconds ? "RLIMIT_CPU per process" : "",
      true);
  return {};
}

}  // namespace aisbx::plan
