// Features: what this kernel offers, probed once. Plain data so that tests
// can inject any kernel (ABI 0..10, user namespaces refused, ...).
#pragma once

#include <string>

namespace aisbx {

struct Features {
  // Landlock ABI reported by the kernel, 0 if none. Not clamped: a kernel
  // newer than kMaxKnownAbi is reported as it is and used at kMaxKnownAbi.
  int landlock_abi = 0;
  std::string landlock_why;     // why 0: "kernel built without Landlock" ...
  std::string landlock_remedy;  // what to do about it

  bool userns = false;          // an unprivileged user namespace really works
  std::string userns_why;       // which knob forbids it
  std::string userns_remedy;    // the exact command or file that lifts it
  // `userns` is an assumption (ProbeScope::assume_userns), not a result:
  // a launcher that plans with it falls back when unshare is refused.
  bool userns_assumed = false;

  bool seccomp = false;         // seccomp filters can be installed
  std::string seccomp_why;

  bool in_seccomp_filter = false;  // already under a filter: likely a container

  // mount_setattr(2) (Linux 5.12): a bind gets its flags on every mount of
  // its tree before it is attached; without it, remounts after the binds.
  bool mount_setattr = false;

  // A cgroup v2 directory (ours) where the caller may make a cgroup for a
  // run and end it with cgroup.kill; empty: none is delegated, and a
  // Landlock-only run is ended by a /proc walk alone (src/supervise/).
  std::string run_cgroup;

  // Where a run can make a cgroup of its own for the pids and memory
  // limits (host/cgroups.cc; looked for only as root, "" = nowhere): a
  // writable cgroup v2 directory and which of the two controllers it
  // offers, else the cgroup v1 hierarchies of a hybrid host.
  std::string cgroup2_dir;
  bool cgroup2_pids = false;
  bool cgroup2_memory = false;
  std::string cgroup1_pids_dir;
  std::string cgroup1_memory_dir;

  // A full-featured kernel, for tests and documentation.
  static Features full(int abi = 7) {
    Features f;
    f.landlock_abi = abi;
    f.userns = true;
    f.seccomp = true;
    f.mount_setattr = true;
    return f;
  }
};

}  // namespace aisbx
