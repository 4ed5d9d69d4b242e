#include "aisbx/plan.h"

#include <sstream>

#include "plan/expand.h"

namespace aisbx::plan {
namespace {

std::string mount_line(const MountOp& op) {
  std::string flags = op.read_only ? "ro" : "rw";
  if (op.noexec) flags += ",noexec";
  flags += ",nosuid,nodev";
  switch (op.kind) {
    case MountKind::tmpfs_root:
      return "root tmpfs (empty: only the roots below are visible)";
    case MountKind::host_root:
      return "root bind " + flags + " / (reads are not controlled: the host tree)";
    case MountKind::symlink:
      return "symlink " + op.target + " -> " + op.source;
    case MountKind::proc:
      return "proc " + op.target + " (new, this pid namespace; sys, sysrq-trigger, irq, bus "
             "read-only)";
    case MountKind::dev:
      return "dev " + op.target + " (minimal: null zero full random urandom tty, pts, shm)";
    case MountKind::tmp:
      return "tmpfs " + flags + " " + op.target + " (private)";
    case MountKind::home:
      return "bind " + flags + " " + op.target + "  # private HOME";
    case MountKind::bind:
      return "bind " + flags + " " + op.target + "  # " + op.origin;
    case MountKind::readonly:
      return "bind " + flags + " " + op.target + "  # readonly in " + op.origin;
    case MountKind::mask_dir:
      return "mask dir " + op.target + " (empty read-only tmpfs)  # deny in " + op.origin;
    case MountKind::mask_file:
      return "mask file " + op.target + " (empty read-only file)  # deny in " + op.origin;
    case MountKind::overlay:
      return "overlay " + flags + " " + op.target + " (writes kept for review)  # " + op.origin;
    case MountKind::pin:
      return "pin " + op.target + " (bound onto itself: cannot be renamed or removed)  # " +
             op.origin;
  }
  return "?";
}

void ruleset(std::ostream& o, const Plan& p) {
  const LandlockPlan& l = p.landlock;
  o << "landlock:\n";
  o << "  abi: " << l.abi << " (kernel " << l.kernel_abi << ", this build knows up to "
    << kMaxKnownAbi << ")\n";
  if (l.required_abi) o << "  required: ABI " << *l.required_abi << " or newer\n";
  o << "  enforcement: " << to_string(l.enforcement) << "\n";
  o << "  handled fs: " << join_fs_rights(l.handled_fs) << "\n";
  if (l.ignored_fs)
    o << "  ignored fs: " << join_fs_rights(l.ignored_fs) << "  # not supported by ABI " << l.abi
      << "\n";
  for (const auto& r : l.rules) {
    o << "  rule " << (r.is_dir ? "dir " : "file ") << r.path << ": " << join_fs_rights(r.access);
    o << "  # " << (r.implicit ? "implicit: " : "") << r.origin;
    const AccessMask dropped =
        r.requested & ~r.access & l.requested_fs & (r.is_dir ? ~AccessMask{0} : fs::kFileRights);
    if (dropped) o << "; dropped: " << join_fs_rights(dropped);
    if (r.access == 0) o << "; no controlled right, no rule added";
    // Landlock cannot narrow /proc to the sandbox's processes (--check says more).
    if (!p.ns.enabled && r.is_dir && (r.access & (fs::kReadFile | fs::kReadDir)) &&
        (is_within("/proc", r.path) || is_within(r.path, "/proc")))
      o << "; the host's /proc: every host process's command line is readable";
    o << "\n";
  }
  auto net_names = [](AccessMask m) {
    std::string s;
    auto add = [&](AccessMask bit, const char* n) {
      if (m & bit) s += (s.empty() ? "" : ", ") + std::string(n);
    };
    add(net::kBindTcp, "bind_tcp");
    add(net::kConnectTcp, "connect_tcp");
    add(net::kBindUdp, "bind_udp");
    add(net::kConnectSendUdp, "connect_udp");
    return s.empty() ? std::string("none") : s;
  };
  o << "  handled net: " << net_names(l.handled_net) << "\n";
  if (l.ignored_net)
    o << "  ignored net: " << net_names(l.ignored_net) << "  # not supported by ABI " << l.abi
      << "\n";
  for (const auto& r : l.net_rules) o << "  port " << r.port << ": " << net_names(r.access) << "\n";
  auto scope_names = [](AccessMask m) {
    std::string s;
    if (m & scope::kAbstractUnixSocket) s = "abstract_unix_socket";
    if (m & scope::kSignal) s += (s.empty() ? "" : ", ") + std::string("signal");
    return s.empty() ? std::string("none") : s;
  };
  o << "  scoped: " << scope_names(l.scoped) << "\n";
  if (l.ignored_scopes) o << "  ignored scopes: " << scope_names(l.ignored_scopes) << "\n";
}

}  // namespace

std::string render_text(const Plan& p, Section section) {
  std::ostringstream o;
  o << "profile: " << p.profile << " (" << p.source << ")\n";
  o << "mode: " << to_string(p.mode) << "\n";
  o << "status:\n";
  for (const auto& s : p.status) o << "  " << s << "\n";
  if (section == Section::all) {
    o << "project: " << p.project;
    if (p.project_source == "git")
      o << "  # the top of the git work tree holding the current directory";
    else if (p.project_source == "cwd")
      o << "  # the current directory";
    o << "\n";
    o << "namespace:\n";
    if (!p.ns.enabled) o << "  off\n";
    if (p.ns.enabled) {
      o << "  net: " << profile::to_string(p.ns.net) << (p.net.enabled ? " + allowlist" : "") << "\n";
      for (const auto& m : p.ns.mounts) o << "  " << mount_line(m) << "\n";
    }
  }
  if (section == Section::all && !p.protected_paths.empty()) {
    o << "protected:\n";
    for (const auto& pp : p.protected_paths) {
      o << "  " << (pp.pin ? "pinned " : pp.deny ? "deny " : "readonly ") << pp.path << "  # ";
      if (pp.mask.empty()) o << pp.group << (pp.why.empty() ? "" : ": " + pp.why);
      else if (pp.mask == "git") o << "git metadata: " << pp.why;
      else o << "mask " << pp.mask << ": " << pp.why;
      o << "; ";
      if (!pp.link.empty()) o << "a symlink (to " << pp.link << "), not mounted over";
      else if (pp.kind == FileKind::missing && !pp.creatable)
        o << "does not exist now (if created later, unprotected)";
      else if (pp.masked) o << "namespace: " << (pp.pin ? "bound onto itself" : pp.deny ? "masked" : "read-only mount");
      else if (pp.split && !pp.creatable) o << "landlock: rules split around it";
      else if (pp.restored) o << "NOT read-only without the namespace wall: restored after the command";
      else if (!pp.creatable && pp.ns_only) o << "NOT protected without the namespace wall";
      else if (!pp.creatable) o << "NOT protected";
      if (pp.creatable)
        o << (pp.link.empty() ? "" : "; ") << (pp.split ? "landlock: cannot be created (its directory loses make_*)"
                                                       : "could be created: NOT protected");
      o << "\n";
    }
  }
  if (section == Section::all && p.net.enabled) {
    o << "network allowlist:\n";
    for (const auto& l : net_allow_lines(p.net)) o << "  " << l << "\n";
  }
  for (const auto& u : p.unmasked) o << "unmasked: " << u << "\n";
  for (const auto& g : p.git_scan_limits) o << "git repositories searched: " << g << "\n";
  for (const auto& g : p.git_planted) o << "git: planted, moved aside before the command starts: " << g << "\n";
  ruleset(o, p);
  if (section == Section::all) {
    const auto& sc = p.seccomp;
    o << "seccomp: " << (!sc.enabled ? "off" : sc.preset ? "default" : "custom") << "\n";
    if (!sc.enabled && sc.tty_guard)
      o << "  terminal guard only: ioctl TIOCSTI/TIOCLINUX denied\n";
    if (sc.enabled) {
      if (sc.preset)
        o << "  nested user namespaces: " << (sc.allow_nested_userns ? "allowed" : "denied")
          << "\n  denied by argument: personality flags weakening ASLR/W^X, MPTCP sockets, ioctl TIOCSTI/TIOCLINUX\n";
      if (sc.net_guard)
        o << "  sockets: AF_PACKET, raw IP, SCTP, MPTCP and netlink other than route denied\n";
      o << "  denied (EPERM):";
      for (const auto& n : sc.deny) o << " " << n;
      o << "\n";
    }
    if (!p.limits.lines.empty()) o << "limits:\n";
    for (const auto& l : p.limits.lines)
      o << "  " << l.name << ": " << l.value << (l.by.empty() ? "" : "  # " + l.by) << "\n";
    if (p.desktop.enabled) o << "desktop:\n";
    for (const auto& g : p.desktop.grants) o << "  " << g << "\n";
    o << "exec:\n";
    o << "  argv:";
    for (const auto& a : p.exec.argv) o << " " << a;
    o << "\n  cwd: " << p.exec.cwd;
    if (p.exec.cwd_source == "working_dir") o << "  # command.working_dir";
    else if (p.exec.cwd_source == "chdir") o << "  # --chdir";
    o << "\n";
    if (!p.ns.home.empty())
      o << "  home: " << p.ns.home
        << (p.ns.home_shared ? " (private, shared by every project, created 0700)\n"
                             : " (private to this profile and project, created 0700)\n");
    if (p.run.enabled) {
      o << "  run: " << p.run.name << "  # writes to ";
      for (std::size_t i = 0; i < p.ns.overlays.size(); ++i)
        o << (i ? ", to " : "") << p.ns.overlays[i].lower << " go to " << p.ns.overlays[i].upper;
      o << " (created 0700); review: aisbx-ns diff " << p.run.name << "\n";
    }
    o << "  env: " << p.exec.env.size() << " variables\n";
    if (!p.exec.env_dropped.empty()) {
      o << "  env dropped:";
      for (const auto& k : p.exec.env_dropped) o << " " << k;
      o << "\n";
    }
    for (int fd : p.exec.keep_fds) o << "  keep fd: " << fd << "\n";
  }
  if (!p.warnings.empty()) {
    o << "warnings:\n";
    for (const auto& w : p.warnings) o << "  - " << w << "\n";
  }
  if (!p.notes.empty()) {
    o << "notes:\n";
    for (const auto& n : p.notes) o << "  - " << n << "\n";
  }
  // Last, where a reader of the output looks for the outcome.
  if (p.refusal)
    o << "would refuse: " << p.refusal->what
      << (p.refusal->hint.empty() ? "" : "; " + p.refusal->hint) << "\n";
  return o.str();
}

const char* to_string(MountKind k) {
  switch (k) {
    case MountKind::tmpfs_root: return "tmpfs_root";
    case MountKind::host_root: return "host_root";
    case MountKind::bind: return "bind";
    case MountKind::home: return "home";
    case MountKind::proc: return "proc";
    case MountKind::dev: return "dev";
    case MountKind::tmp: return "tmp";
    case MountKind::symlink: return "symlink";
    case MountKind::readonly: return "readonly";
    case MountKind::mask_dir: return "mask_dir";
    case MountKind::mask_file: return "mask_file";
    case MountKind::overlay: return "overlay";
    case MountKind::pin: return "pin";
  }
  return "?";
}

const char* to_string(Enforcement e) {
  switch (e) {
    case Enforcement::full: return "full";
    case Enforcement::partial: return "partial";
    case Enforcement::none: return "none";
  }
  return "?";
}

}  // namespace aisbx::plan
