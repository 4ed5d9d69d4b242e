// The seccomp part of the Plan: which syscalls fail with EPERM. Pure: the
// names are checked against libseccomp's tables by the stage, before
// anything runs (stage::check_seccomp).
#include <algorithm>
#include <map>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

// systemd-style groups (systemd.exec(5), SystemCallFilter=), trimmed to
// what a sandboxed developer tool never needs.
const std::map<std::string, std::vector<std::string>>& groups() {
  static const std::map<std::string, std::vector<std::string>> g{
      {"@mount",
       {"mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
        "fsmount", "fspick", "mount_setattr", "chroot"}},
      {"@module", {"init_module", "finit_module", "delete_module"}},
      {"@reboot", {"reboot", "kexec_load", "kexec_file_load"}},
      {"@swap", {"swapon", "swapoff"}},
      {"@clock", {"settimeofday", "clock_settime", "clock_adjtime", "adjtimex"}},
      {"@raw-io", {"iopl", "ioperm", "pciconfig_read", "pciconfig_write"}},
      {"@obsolete",
       {"uselib", "_sysctl", "sysfs", "ustat", "create_module", "get_kernel_syms",
        "query_module", "nfsservctl", "vserver", "afs_syscall", "getpmsg", "putpmsg",
        "security", "tuxcall", "lookup_dcookie"}},
      {"@keyring", {"keyctl", "add_key", "request_key"}},
      {"@cpu-emulation", {"modify_ldt", "vm86", "vm86old"}},
      {"@debug",
       {"ptrace", "process_vm_readv", "process_vm_writev", "perf_event_open", "kcmp",
        "lookup_dcookie"}},
      {"@privileged",
       {"acct", "bpf", "quotactl", "quotactl_fd", "syslog", "vhangup", "open_by_handle_at",
        "userfaultfd", "setdomainname", "sethostname", "nfsservctl"}},
  };
  return g;
}

// The default preset: every group above, io_uring (its operations bypass
// the socket and file checks seccomp sees), and the argument-checked rules
// the stage adds (SeccompPlan::preset).
const std::vector<std::string>& default_groups() {
  static const std::vector<std::string> d{"@mount",  "@module",   "@reboot", "@swap",
                                          "@clock",  "@raw-io",   "@obsolete", "@keyring",
                                          "@cpu-emulation", "@debug", "@privileged"};
  return d;
}

Expected<std::vector<std::string>> expand(const std::vector<profile::Located<std::string>>& in,
                                          const std::string& key) {
  std::vector<std::string> out;
  for (const auto& item : in) {
    if (item.value.starts_with("@")) {
      auto it = groups().find(item.value);
      if (it == groups().end()) {
        std::string names;
        for (const auto& [k, _] : groups()) names += (names.empty() ? "" : ", ") + k;
        return fail(item.where.str() + ": seccomp." + key + ": unknown group `" + item.value +
                    "` (known: " + names + ")");
      }
      out.insert(out.end(), it->second.begin(), it->second.end());
    } else if (item.value.empty() ||
               !std::all_of(item.value.begin(), item.value.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; })) {
      return fail(item.where.str() + ": seccomp." + key + ": `" + item.value +
                  "` is not a syscall name");
    } else {
      out.push_back(item.value);
    }
  }
  return out;
}

}  // namespace

Expected<void> plan_seccomp(Context& cx) {
  const auto& s = cx.in.profile.seccomp;
  SeccompPlan& sp = cx.plan.seccomp;
  using profile::SeccompPreset;
  const std::vector<profile::Located<std::string>> none;
  const auto& cli = cx.in.options.seccomp;
  if (cli && *cli == "off" && cx.plan.mode == Mode::strict)
    return fail("--seccomp off conflicts with --mode strict, which requires seccomp");
  sp.preset = (cli ? *cli == "default"
                   : s.preset.value_or(SeccompPreset::off) == SeccompPreset::default_) ||
              cx.plan.mode == Mode::strict;  // strict applies at least `default`
  AISBX_ASSIGN(deny, expand(s.deny.value_or(none), "deny"));
  if (cli && *cli == "off" && cx.plan.net.enabled)
    return fail("--seccomp off conflicts with network.allow, whose socket rules are seccomp's");
  if (cli && *cli == "off") {
    sp = SeccompPlan{};
    sp.tty_guard = cx.in.features.seccomp;
    return {};
  }
  AISBX_ASSIGN(allow, expand(s.allow.value_or(none), "allow"));
  // The preset takes them too: in landlock mode as root, an AF_PACKET or
  // raw socket goes round Landlock's TCP port rules, and netlink (other
  // than route) reaches the kernel's network and device configuration.
  sp.net_guard = cx.plan.net.enabled || sp.preset;
  sp.enabled = sp.preset || sp.net_guard || !deny.empty();
  sp.allow_nested_userns = s.allow_nested_userns.value_or(false);
  for (const auto& a : s.allow.value_or(none)) sp.allow.push_back(a.value);
  if (sp.net_guard) deny.push_back("io_uring_setup");  // its sockets bypass the rules
  if (sp.preset) {
    for (const auto& g : default_groups())
      for (const auto& n : groups().at(g)) deny.push_back(n);
    for (const char* n : {"io_uring_setup", "io_uring_enter", "io_uring_register"})
      deny.push_back(n);
  }
  std::sort(deny.begin(), deny.end());
  deny.erase(std::unique(deny.begin(), deny.end()), deny.end());
  std::erase_if(deny, [&](const std::string& n) {
    return std::find(allow.begin(), allow.end(), n) != allow.end();
  });
  sp.deny = std::move(deny);

  if (sp.enabled && !cx.in.features.seccomp) {
    if (cx.plan.mode == Mode::strict)
      return fail("strict mode needs seccomp filters, which this kernel refuses: " +
                  cx.in.features.seccomp_why);
    cx.warn("seccomp: skipped: " + cx.in.features.seccomp_why);
    sp.enabled = false;
  }
  sp.tty_guard = cx.in.features.seccomp;
  return {};
}

}  // namespace aisbx::plan
