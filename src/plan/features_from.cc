// The pure half of the probe: readings in, Features (with why and remedy)
// out. Linked into aisbx_plan, so no syscalls here (STYLE.md 2).
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "aisbx/probe.h"

namespace aisbx {
namespace {

std::string errno_text(int err) {
  return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")";
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// A whole integer, surrounding whitespace allowed (sysctl files end in \n).
std::optional<long> parse_int(std::string_view text) {
  text = trim(text);
  long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return v;
}

std::optional<long> knob(const std::optional<std::string>& contents) {
  if (!contents) return std::nullopt;
  return parse_int(*contents);
}

// Any number a test may want, well below INT_MAX.
constexpr long kMaxFakeAbi = 1000;

void decide_landlock(const ProbeReadings& r, Features& f) {
  if (r.fake_landlock_abi) {
    const auto abi = parse_int(*r.fake_landlock_abi);
    if (!abi || *abi < 0 || *abi > kMaxFakeAbi) {
      f.landlock_why = "AISBX_FAKE_LANDLOCK_ABI=" + *r.fake_landlock_abi +
                       " is not a Landlock ABI (an integer >= 0)";
      f.landlock_remedy = "unset AISBX_FAKE_LANDLOCK_ABI";
      return;
    }
    f.landlock_abi = static_cast<int>(*abi);
    if (f.landlock_abi == 0) {
      f.landlock_why = "faked by AISBX_FAKE_LANDLOCK_ABI=0";
      f.landlock_remedy = "unset AISBX_FAKE_LANDLOCK_ABI";
    }
    return;
  }
  if (r.landlock_abi) {
    f.landlock_abi = *r.landlock_abi > 0 ? *r.landlock_abi : 0;
    if (f.landlock_abi == 0)
      f.landlock_why =
          "the kernel reports Landlock ABI " + std::to_string(*r.landlock_abi);
    return;
  }
  const int err = r.landlock_abi.error();
  switch (err) {
    case 0:
      f.landlock_why = "Landlock was not probed";
      break;
    case ENOSYS:
      // Docker's default seccomp profile answers ENOSYS for syscalls it
      // does not know, so inside a filter ENOSYS may not be the kernel's.
      f.landlock_why = "kernel built without Landlock (CONFIG_SECURITY_LANDLOCK)";
      f.landlock_remedy = "use a kernel built with CONFIG_SECURITY_LANDLOCK=y";
      if (r.in_seccomp_filter) {
        f.landlock_why += ", or a seccomp filter of the container hides its syscalls";
        f.landlock_remedy +=
            ", or run the container with a seccomp profile that allows "
            "landlock_create_ruleset, landlock_add_rule and "
            "landlock_restrict_self";
      }
      break;
    case EOPNOTSUPP:
      f.landlock_why = "Landlock is built into the kernel but disabled at boot";
      f.landlock_remedy = "add `landlock` to lsm= on the kernel command line";
      if (!r.lsm_list.empty()) {
        f.landlock_why += " (active LSMs: " + r.lsm_list + ")";
        f.landlock_remedy += ", e.g. lsm=landlock," + r.lsm_list;
      }
      f.landlock_remedy += ", and reboot";
      break;
    case EPERM:
      if (r.in_seccomp_filter) {
        f.landlock_why =
            "a seccomp filter of the container refuses landlock_create_ruleset";
        f.landlock_remedy =
            "run the container with a seccomp profile that allows the "
            "landlock_* syscalls";
        break;
      }
      [[fallthrough]];
    default:
      f.landlock_why =
          "landlock_create_ruleset(NULL, 0, VERSION) failed: " + errno_text(err);
  }
}

std::string step_name(const ProbeReadings& r) {
  const std::string id = std::to_string(r.uid);
  switch (r.userns_step) {
    case UsernsStep::fork:
      return "fork() of the probe child";
    case UsernsStep::setgroups:
      return "writing `deny` to /proc/self/setgroups";
    case UsernsStep::uid_map:
      return "writing `" + id + " " + id + " 1` to /proc/self/uid_map";
    case UsernsStep::gid_map:
      return "writing the gid map to /proc/self/gid_map";
    default:
      return "unshare(CLONE_NEWUSER|CLONE_NEWNS)";
  }
}

// Names the knob that forbids user namespaces, in the order a user should
// look at them: the ones that say "no" outright before the errno's text.
void decide_userns(const ProbeReadings& r, Features& f) {
  if (r.fake_no_userns == "1") {
    f.userns_why = "faked by AISBX_FAKE_NO_USERNS";
    f.userns_remedy = "unset AISBX_FAKE_NO_USERNS";
    return;
  }
  if (r.userns_ok) {
    f.userns = true;
    f.userns_assumed = r.userns_assumed;
    return;
  }
  if (r.userns_step == UsernsStep::none) {  // readings not filled in
    f.userns_why = "user namespaces were not probed";
    return;
  }
  const std::string kLandlockOnly =
      "use --mode landlock (Landlock needs no user namespace)";
  if (knob(r.unprivileged_userns_clone) == 0) {
    f.userns_why =
        "kernel.unprivileged_userns_clone is 0: unprivileged user namespaces are "
        "disabled";
    f.userns_remedy =
        "as root: sysctl -w kernel.unprivileged_userns_clone=1 (persist it in "
        "/etc/sysctl.d/), or " +
        kLandlockOnly;
  } else if (knob(r.max_user_namespaces) == 0) {
    f.userns_why = "user.max_user_namespaces is 0: no user namespace may be created";
    f.userns_remedy =
        "as root: sysctl -w user.max_user_namespaces=15000 (persist it in "
        "/etc/sysctl.d/), or " +
        kLandlockOnly;
  } else if (auto aa = knob(r.apparmor_restrict_unprivileged_userns); aa && *aa != 0) {
    f.userns_why = "kernel.apparmor_restrict_unprivileged_userns is " +
                   std::to_string(*aa) +
                   ": AppArmor denies user namespaces to unconfined programs";
    f.userns_remedy =
        "as root: save the AppArmor profile that `aisbx-ns --features` prints as "
        "/etc/apparmor.d/aisbx-ns (installed copy: share/aisbx/apparmor/aisbx-ns) and "
        "load it with `apparmor_parser -r /etc/apparmor.d/aisbx-ns`; or, for every "
        "program, sysctl -w kernel.apparmor_restrict_unprivileged_userns=0";
  } else if (r.in_seccomp_filter && r.userns_errno == EPERM) {
    f.userns_why = "a seccomp filter of the container refuses unshare(CLONE_NEWUSER)";
    f.userns_remedy =
        "run the container with a profile that allows it, or use --mode landlock";
  } else if (r.userns_step == UsernsStep::child && r.userns_signal == 0) {
    f.userns_why =
        "waitpid() on the user namespace probe failed: " + errno_text(r.userns_errno);
    f.userns_remedy = kLandlockOnly;
  } else if (r.userns_step == UsernsStep::child) {
    f.userns_why = "the user namespace probe was killed by signal " +
                   std::to_string(r.userns_signal);
    if (r.userns_signal == SIGSYS)
      f.userns_why += " (SIGSYS: a seccomp filter kills unshare)";
    f.userns_remedy = kLandlockOnly;
  } else if (r.userns_step == UsernsStep::unshare && r.userns_errno == EINVAL) {
    f.userns_why = "kernel built without user namespaces (CONFIG_USER_NS)";
    f.userns_remedy = kLandlockOnly;
  } else if (r.userns_step == UsernsStep::unshare && r.userns_errno == ENOSPC) {
    f.userns_why =
        "the limit of user namespaces is reached (user.max_user_namespaces, or "
        "32 nested levels)";
    f.userns_remedy =
        "as root: sysctl -w user.max_user_namespaces=15000, or " + kLandlockOnly;
  } else {
    f.userns_why = step_name(r) + " failed for uid " + std::to_string(r.uid) + ": " +
                   errno_text(r.userns_errno);
    f.userns_remedy = kLandlockOnly;
  }
}

void decide_seccomp(const ProbeReadings& r, Features& f) {
  if (r.seccomp_ok) {
    f.seccomp = true;
  } else if (r.seccomp_errno == EINVAL) {
    f.seccomp_why = "kernel built without seccomp (CONFIG_SECCOMP)";
  } else if (r.seccomp_errno == 0) {
    f.seccomp_why = "seccomp was not probed";
  } else {
    f.seccomp_why = "prctl(PR_GET_SECCOMP) failed: " + errno_text(r.seccomp_errno);
  }
}

}  // namespace

bool userns_knobs_allow(const ProbeReadings& r) {
  const auto aa = knob(r.apparmor_restrict_unprivileged_userns);
  return knob(r.unprivileged_userns_clone) != 0 && knob(r.max_user_namespaces) != 0 &&
         !(aa && *aa != 0) && !r.in_seccomp_filter;
}

Features features_from(const ProbeReadings& r) {
  Features f;
  f.in_seccomp_filter = r.in_seccomp_filter;
  f.mount_setattr = r.mount_setattr && r.fake_no_mount_setattr != "1";
  f.run_cgroup = r.run_cgroup;
  decide_landlock(r, f);
  decide_userns(r, f);
  decide_seccomp(r, f);
  return f;
}

}  // namespace aisbx
