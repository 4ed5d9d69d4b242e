// The kernel probe: what this kernel offers and, where something is
// missing, why and what to do about it.
//
// Split in two so the decisions are unit-tested without a kernel:
//   read_probe()    impure (src/host/probe.cc): syscalls and /proc reads only
//   features_from() pure   (src/plan/features_from.cc): readings -> Features
// probe_features() = features_from(read_probe() + the test hooks below).
//
// Test hooks (environment variables read by probe_features() only), for
// tests of the rest of the program on a kernel that has everything:
//   AISBX_FAKE_LANDLOCK_ABI=N  report Landlock ABI N (an integer >= 0; 0
//                              means "no Landlock", with landlock_why
//                              "faked by AISBX_FAKE_LANDLOCK_ABI=0").
//                              Anything else is reported as ABI 0 with a why
//                              naming the bad value, never ignored.
//   AISBX_FAKE_NO_USERNS=1     report user namespaces as unavailable, with
//                              userns_why "faked by AISBX_FAKE_NO_USERNS".
//   AISBX_FAKE_NO_MOUNT_SETATTR=1  report no mount_setattr(2), so that the
//                              namespace wall takes the path of kernels
//                              before 5.12 (bind, then remount).
// They only make the launcher believe the kernel has less; the kernel's real
// limits still hold (a faked ABI above the real one fails when applied).
#pragma once

#include <sys/types.h>

#include <expected>
#include <optional>
#include <string>

#include "aisbx/features.h"

namespace aisbx {

// The step of the user namespace try that failed.
enum class UsernsStep {
  none,       // it worked
  fork,       // fork() of the probe child
  unshare,    // unshare(CLONE_NEWUSER | CLONE_NEWNS)
  setgroups,  // write "deny" to /proc/self/setgroups
  uid_map,    // write "<uid> <uid> 1" to /proc/self/uid_map
  gid_map,    // write "<gid> <gid> 1" to /proc/self/gid_map
  child,      // killed by a signal (userns_signal), or waitpid() failed
};

// Everything the probe reads from the host, as plain values.
struct ProbeReadings {
  // landlock_create_ruleset(NULL, 0, VERSION): the ABI, or the errno.
  std::expected<int, int> landlock_abi = std::unexpected(0);

  // The user namespace try, done for real in a forked child.
  bool userns_ok = false;
  int userns_errno = 0;  // errno of the failed step
  UsernsStep userns_step = UsernsStep::none;
  int userns_signal = 0;  // for UsernsStep::child: the signal that killed it
  // userns_ok without the try (ProbeScope::assume_userns).
  bool userns_assumed = false;

  // Knobs that forbid user namespaces: the files' contents, nullopt if the
  // file is missing or unreadable.
  // /proc/sys/kernel/unprivileged_userns_clone (Debian's patch)
  std::optional<std::string> unprivileged_userns_clone;
  // /proc/sys/user/max_user_namespaces
  std::optional<std::string> max_user_namespaces;
  // /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu 23.10+)
  std::optional<std::string> apparmor_restrict_unprivileged_userns;

  // /proc/self/status "Seccomp:" is 2: we already run under a seccomp
  // filter, as in most containers.
  bool in_seccomp_filter = false;

  // prctl(PR_GET_SECCOMP) did not fail with EINVAL (the kernel has seccomp).
  bool seccomp_ok = false;
  int seccomp_errno = 0;

  // /sys/kernel/security/lsm if readable ("capability,landlock,..."), else "".
  std::string lsm_list;

  uid_t uid = 0;

  // mount_setattr(2) exists (Linux 5.12).
  bool mount_setattr = false;

  // supervise::delegated_cgroup(): our cgroup v2 directory if writable and
  // with cgroup.kill, else "".
  std::string run_cgroup;

  // The test hooks above, as read from the environment (nullopt: unset).
  std::optional<std::string> fake_landlock_abi;
  std::optional<std::string> fake_no_userns;
  std::optional<std::string> fake_no_mount_setattr;
};

// Pure: decides what is missing, why, and the remedy. No syscalls.
Features features_from(const ProbeReadings& r);

// Pure: no knob read into `r` forbids user namespaces (the sysctls, an
// enclosing seccomp filter), so an unshare will most likely work.
bool userns_knobs_allow(const ProbeReadings& r);

// What to probe. The user namespace try forks a child that unshares: a run
// in landlock mode never uses its answer, so it skips that cost. A sandbox
// that is about to unshare anyway assumes the answer when no knob forbids
// it (assume_userns) and probes only if its own unshare is refused; reports
// (--features, --check, --dry-run) always try for real.
enum class ProbeScope { all, without_userns, assume_userns };

// Impure: the real readings of this host. Ignores the test hooks (the fake_*
// fields stay empty), so tests can ask what the kernel really has.
// Without the user namespace try, userns_step stays `none` ("not probed").
// `cgroups` false: neither the delegated cgroup nor the limits' cgroups
// are looked for (a run asks for them with probe_run_cgroups once its
// profile is known; reports always probe them).
ProbeReadings read_probe(ProbeScope scope = ProbeScope::all, bool cgroups = true);

// What the launcher uses: read_probe(), the test hooks, features_from().
Features probe_features(ProbeScope scope = ProbeScope::all, bool cgroups = true);

// Features::cgroup*: where a run can make its own cgroup (host/cgroups.cc).
void probe_cgroups(Features& f);

// The cgroup parts of the probe a run will use: the delegated cgroup that
// ends a run no pid namespace ends (`run`), the cgroups that enforce the
// profile's pids and memory limits (`limits`). About twenty system calls
// that a run needing neither does not make.
void probe_run_cgroups(Features& f, bool run, bool limits);

}  // namespace aisbx
