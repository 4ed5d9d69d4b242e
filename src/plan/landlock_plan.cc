#include <algorithm>
#include <unordered_map>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

bool wants_landlock(Mode m) { return m != Mode::ns; }

std::string abi_word(int abi) { return "ABI " + std::to_string(abi); }

// Rights listed with the ABI that brings each: "truncate (ABI 3)".
std::string with_abis(AccessMask m) {
  std::string s;
  for (const auto& n : fs_right_names(m)) {
    if (!s.empty()) s += ", ";
    s += n + " (ABI " + std::to_string(abi_of_fs_right(*fs_right_by_name(n))) + ")";
  }
  return s;
}

void warn_about_rights(Context& cx, const std::vector<Root>& roots) {
  const auto& p = cx.in.profile;
  const AccessMask controlled = p.control_access.granted;
  if (controlled == 0) {
    cx.warn("control_access controls nothing: the Landlock wall restricts no file access");
    return;
  }
  for (const auto& g : p.access_roots) {
    const AccessMask loose = g.permissions.granted & ~controlled;
    if (loose)
      cx.note(g.permissions.where.str() + ": access_roots." + g.name + " grants " +
              join_fs_rights(loose) +
              ", which control_access does not control: allowed everywhere DAC allows");
  }
  (void)roots;
  if ((controlled & fs::kWriteFile) && !(controlled & fs::kMakeReg))
    cx.note("write_file is controlled but make_reg is not: new files can be created "
            "anywhere DAC allows");
  if (!(controlled & fs::kRefer))
    cx.note("refer is not controlled, yet Landlock always denies moving or linking a file "
            "to another directory (EXDEV): add refer to control_access and to the roots "
            "where programs move files (git, package managers)");
}

void plan_net(Context& cx, LandlockPlan& l) {
  const auto& n = cx.in.profile.network;
  auto add = [&](const std::optional<std::vector<std::uint16_t>>& ports, AccessMask right) {
    if (!ports) return;
    l.handled_net |= right;
    for (auto port : *ports) {
      auto it = std::find_if(l.net_rules.begin(), l.net_rules.end(),
                             [&](const PortRule& r) { return r.port == port; });
      if (it != l.net_rules.end())
        it->access |= right;
      else
        l.net_rules.push_back({port, right});
    }
  };
  add(n.connect_tcp, net::kConnectTcp);
  add(n.bind_tcp, net::kBindTcp);
  add(n.connect_udp, net::kConnectSendUdp);
  add(n.bind_udp, net::kBindUdp);
  // Without a network namespace, `none` can only be Landlock's: no TCP (and,
  // from ABI 10, no UDP) bind or connect at all.
  const auto mode = cx.plan.ns.net;
  if (cx.plan.mode == Mode::landlock && mode != profile::NetMode::host) {
    l.handled_net |= net::kBindTcp | net::kConnectTcp | net::kBindUdp | net::kConnectSendUdp;
    if (mode == profile::NetMode::loopback)
      cx.warn("network: loopback cannot be expressed by Landlock alone: TCP and UDP are "
              "denied to every address, loopback included (use --mode layered for a "
              "private loopback)");
  }
  const AccessMask have = net_rights_at(l.abi);
  l.ignored_net = l.handled_net & ~have;
  l.handled_net &= have;
  std::erase_if(l.net_rules, [&](PortRule& r) { return (r.access &= have) == 0; });
}

// Scopes are on by default; on a kernel without them, a default nobody
// wrote is dropped quietly, while a scope the profile asks for is reported
// (and refused by strict mode).
void plan_scopes(Context& cx, LandlockPlan& l) {
  const auto& s = cx.in.profile.scope;
  AccessMask want = 0, asked = 0;
  if (s.abstract_unix_socket.value_or(true)) want |= scope::kAbstractUnixSocket;
  if (s.signal.value_or(true)) want |= scope::kSignal;
  if (s.abstract_unix_socket.value_or(false)) asked |= scope::kAbstractUnixSocket;
  if (s.signal.value_or(false)) asked |= scope::kSignal;
  l.scoped = want & scopes_at(l.abi);
  l.ignored_scopes = asked & ~l.scoped;
}

}  // namespace

Expected<void> plan_landlock(Context& cx, const std::vector<Root>& roots) {
  LandlockPlan& l = cx.plan.landlock;
  const auto& f = cx.in.features;
  const auto& p = cx.in.profile;
  const Mode mode = cx.plan.mode;

  l.kernel_abi = f.landlock_abi;
  l.abi = std::min(f.landlock_abi, kMaxKnownAbi);
  if (f.landlock_abi > kMaxKnownAbi)
    cx.note("the kernel offers Landlock ABI " + std::to_string(f.landlock_abi) +
            "; this build knows up to " + std::to_string(kMaxKnownAbi) + " and uses that");
  if (p.landlock_abi && p.landlock_abi->value < l.abi) l.abi = p.landlock_abi->value;

  if (cx.in.options.require_landlock) l.required_abi = *cx.in.options.require_landlock;
  if (mode == Mode::strict) l.required_abi = std::max(l.required_abi.value_or(1), 1);
  if (l.required_abi && !wants_landlock(mode))
    return fail("--require-landlock conflicts with --mode ns, which applies no Landlock");

  l.requested_fs = p.control_access.granted;
  if (p.network.unix_sockets) l.requested_fs |= fs::kResolveUnix;
  l.handled_fs = l.requested_fs & fs_rights_at(l.abi);
  l.ignored_fs = l.requested_fs & ~l.handled_fs;
  if (wants_landlock(mode)) warn_about_rights(cx, roots);

  if (l.required_abi) {
    if (f.landlock_abi == 0)
      return fail("Landlock is required" +
                      std::string(mode == Mode::strict ? " in strict mode" : "") +
                      " but this kernel has none: " + f.landlock_why,
                  f.landlock_remedy);
    if (l.abi < *l.required_abi)
      return fail("Landlock " + abi_word(*l.required_abi) + " is required but " +
                      (l.abi < std::min(f.landlock_abi, kMaxKnownAbi)
                           ? "the profile pins " + abi_word(l.abi)
                           : "the kernel offers " + abi_word(f.landlock_abi)),
                  "run on a newer kernel, or lower --require-landlock");
  }
  if (mode == Mode::strict && l.ignored_fs)
    return fail("strict mode: control_access asks for " + with_abis(l.ignored_fs) +
                    ", which Landlock " + abi_word(l.abi) + " cannot enforce",
                "use --mode layered to accept best effort, or drop them from control_access");
  if (l.abi == 1 && !(l.ignored_fs & fs::kRefer) && (l.requested_fs & fs::kWriteRights))
    cx.warn("Landlock ABI 1 has no refer right: moving or linking files between "
            "directories fails with EXDEV everywhere");

  // One rule per path; the index keeps this linear in the number of roots.
  std::unordered_map<std::string, std::size_t> rule_at;
  for (std::size_t i = 0; i < l.rules.size(); ++i) rule_at.emplace(l.rules[i].path, i);
  for (const auto& r : roots) {
    if (r.link_only) continue;
    const AccessMask mask = r.is_dir ? ~AccessMask{0} : fs::kFileRights;
    const auto [at, added] = rule_at.emplace(r.path, l.rules.size());
    if (added) {
      l.rules.push_back({r.path, r.is_dir, r.granted, r.granted & l.handled_fs & mask,
                         r.group, false});
    } else {
      LandlockRule* it = &l.rules[at->second];
      it->requested |= r.granted;
      it->access |= r.granted & l.handled_fs & mask;
      if (it->origin != r.group) it->origin += "," + r.group;
    }
  }
  plan_net(cx, l);
  plan_scopes(cx, l);
  if (mode == Mode::strict && (l.ignored_net || l.ignored_scopes))
    return fail(std::string("strict mode: the profile's ") +
                    (l.ignored_net ? "network rules need Landlock ABI 4 (TCP) or 10 (UDP)"
                                   : "scopes need Landlock ABI 6") +
                    ", and this kernel offers " + abi_word(l.abi),
                "use --mode layered to accept best effort");

  if (mode == Mode::ns && l.scoped) {
    // Scopes are not about files: the namespace wall has no equivalent for
    // abstract unix sockets when the host's network namespace is shared, or
    // for signals to processes it can still name. A ruleset that handles no
    // file or network access and only scopes holds them in ns mode too.
    // The rules stay recorded (--check reads the roots from them), granting
    // nothing: the ruleset handles no right they could carry.
    l.handled_fs = l.ignored_fs = l.handled_net = l.ignored_net = 0;
    l.net_rules.clear();
    for (auto& r : l.rules) r.access = 0;
    l.enabled = true;
    l.enforcement = l.ignored_scopes ? Enforcement::partial : Enforcement::full;
    return {};
  }
  if (!wants_landlock(mode) || l.abi == 0) {
    l.enabled = false;
    if (wants_landlock(mode) && (l.requested_fs || l.handled_net))
      cx.warn("landlock: not enforced: " +
              (f.landlock_why.empty() ? std::string("no Landlock") : f.landlock_why) +
              (mode == Mode::landlock ? "; the command runs WITHOUT a sandbox" : ""));
    l.enforcement = Enforcement::none;
    return {};
  }
  l.enabled = l.handled_fs || l.handled_net || l.scoped;
  l.enforcement = !l.enabled ? Enforcement::none
                  : (l.ignored_fs || l.ignored_net || l.ignored_scopes) ? Enforcement::partial
                                                                        : Enforcement::full;
  if (l.ignored_fs)
    cx.warn("landlock " + abi_word(l.abi) + " cannot enforce " + with_abis(l.ignored_fs) +
            ": not controlled in this run");
  if (l.ignored_net)
    cx.warn("landlock " + abi_word(l.abi) + " cannot restrict " +
            std::string(l.ignored_net & (net::kBindTcp | net::kConnectTcp) ? "TCP (ABI 4)"
                                                                           : "UDP (ABI 10)") +
            ": network rules not enforced by Landlock");
  return {};
}

void warn_never_granted(Context& cx) {
  const AccessMask controlled = cx.in.profile.control_access.granted;
  if (controlled == 0 || cx.plan.mode == Mode::ns) return;
  // Implicit rules count: the private /tmp grants what the roots do not.
  AccessMask granted = 0;
  for (const auto& g : cx.in.profile.access_roots) granted |= g.permissions.granted;
  for (const auto& r : cx.plan.landlock.rules) granted |= r.requested;
  // Without the namespace wall nothing is implicit: a shell's `> /dev/null`
  // fails unless the profile lists it. Say so before the program does.
  if (!cx.plan.ns.enabled && cx.plan.landlock.enabled && (controlled & fs::kWriteFile)) {
    const bool dev_null = std::any_of(
        cx.plan.landlock.rules.begin(), cx.plan.landlock.rules.end(), [](const LandlockRule& r) {
          return (r.access & fs::kWriteFile) && is_within("/dev/null", r.path);
        });
    if (!dev_null)
      cx.note("`/dev/null` is in no root granting write_file: writing to it fails in this "
              "sandbox (add it to a group with read_file, write_file" +
              std::string(controlled & fs::kTruncate ? ", truncate" : "") + ")");
  }
  const AccessMask never = controlled & ~granted;
  if (never & fs::kTruncate)
    cx.note("truncate is controlled but granted to no root: opening any file with O_TRUNC "
            "fails (shell `>` redirection, editors saving in place)");
  if (never & ~fs::kTruncate)
    cx.note("controlled but granted to no root, so denied everywhere: " +
            join_fs_rights(never & ~fs::kTruncate));
}

AccessMask implicit_proc_rights() { return fs::kReadFile | fs::kReadDir | fs::kWriteFile; }
AccessMask implicit_dev_rights() {
  // truncate: the shell's `> /dev/null` opens with O_TRUNC.
  return fs::kReadFile | fs::kReadDir | fs::kWriteFile | fs::kIoctlDev | fs::kTruncate;
}

}  // namespace aisbx::plan
