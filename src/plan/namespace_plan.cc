#include <algorithm>
#include <array>
#include <unordered_map>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

bool wants_namespace(Mode m) { return m != Mode::landlock; }

std::size_t depth(const std::string& p) {
  return p == "/" ? 0 : static_cast<std::size_t>(std::count(p.begin(), p.end(), '/'));
}

// The sandbox has its own /proc, /dev and /tmp; a root there names those,
// never the host's (host /proc would show host processes and their roots).
// A root beneath /tmp is the host's, bound into the private /tmp.
bool sandbox_owned(const std::string& path) {
  return is_within(path, "/proc") || is_within(path, "/dev") || path == "/tmp";
}

MountOp* find_target(std::vector<MountOp>& ops, const std::string& target) {
  for (auto& op : ops)
    if (op.target == target) return &op;
  return nullptr;
}

bool visible(const std::vector<MountOp>& ops, const std::string& path) {
  for (const auto& op : ops) {
    if (op.kind == MountKind::tmpfs_root || op.kind == MountKind::symlink) continue;
    if (is_within(path, op.target)) return true;
  }
  return false;
}

void add_implicit_rule(LandlockPlan& l, const std::string& path, AccessMask rights,
                       const std::string& why) {
  // Only file-system rights to grant: none when the ruleset handles none
  // (ns mode, where Landlock holds the scopes alone).
  if (!l.enabled || l.handled_fs == 0) return;
  l.rules.push_back({path, true, rights, rights & l.handled_fs, why, true});
}

// Landlock rights add up downward, across mounts: the rule on the private
// /tmp also covers every root bound beneath it. Narrowing /tmp to what those
// roots grant made it read-only for a read-only root (programs then died on
// their temp files, issue 18), so each root beneath /tmp is held by its
// mount where a mount flag can hold it: read-only and noexec as it grants.
// What no mount flag withholds (make_char, or make_sym from a writable
// root) is withheld from /tmp too, said by --dry-run; when that would leave /tmp unable to
// hold temp files, the run is refused instead.
AccessMask held_by_mount(const Root& r) {
  AccessMask held = 0;
  if (!(r.granted & fs::kWriteRights)) held |= fs::kWriteRights;     // read-only
  if (!(r.granted & fs::kExecute)) held |= fs::kExecute;             // noexec
  return held;
}

// What a temp directory is for: making, writing, reading back and removing
// files and directories in it (listing it is not: mkstemp names its file).
constexpr AccessMask kTmpNeeds = fs::kReadFile | fs::kWriteFile | fs::kMakeReg |
                                 fs::kMakeDir | fs::kRemoveFile | fs::kRemoveDir | fs::kTruncate;

// The rights of the private /tmp's rule; notes which wall holds each root
// beneath it.
Expected<AccessMask> plan_roots_beneath_tmp(Context& cx, const std::vector<Root>& roots) {
  const LandlockPlan& l = cx.plan.landlock;
  AccessMask tmp = fs_rights_at(kMaxKnownAbi);
  if (!l.enabled || l.handled_fs == 0) return tmp;
  for (const auto& r : roots) {
    if (r.path == "/tmp" || !is_within(r.path, "/tmp") || r.link_only) continue;
    // A socket (network.unix_sockets) cannot be opened: only connecting
    // to it means anything, and reaching it is what it is there for.
    if (r.granted == fs::kResolveUnix) continue;
    const AccessMask applicable = l.handled_fs & (r.is_dir ? ~AccessMask{0} : fs::kFileRights);
    // Connecting to a socket beneath it (ABI 9) stays allowed: a private
    // /tmp whose own sockets (tmux, X11) cannot be reached is no /tmp.
    const AccessMask reach = applicable & ~r.granted & fs::kResolveUnix;
    const AccessMask lost = applicable & ~r.granted & ~held_by_mount(r) & ~fs::kResolveUnix;
    const bool ro = !(r.granted & fs::kWriteRights);
    if (lost & kTmpNeeds)
      return fail("root `" + r.path + "` (" + r.group + ", " + r.where.str() +
                      ") lies beneath the private /tmp: a Landlock rule on /tmp would also "
                      "grant it " + join_fs_rights(lost & kTmpNeeds) + ", which its " +
                      (ro ? "read-only" : "writable") +
                      " mount cannot withhold, and withholding them from /tmp would leave "
                      "no writable /tmp",
                  "move it out of /tmp (e.g. under /var/tmp), or grant it " +
                      join_fs_rights(lost & kTmpNeeds) + (ro ? "" : ", or make it read-only"));
    tmp &= ~lost;
    std::string held = ro ? "read-only" : "writable";
    if (!(r.granted & fs::kExecute)) held += ", noexec";
    cx.note("`" + r.path + "` (" + r.group + ") lies beneath the private /tmp: its " + held +
            ", nodev mount guards it (namespace wall)" +
            (lost ? "; Landlock holds " + join_fs_rights(lost) +
                        ", which the private /tmp then lacks too"
                  : "; the private /tmp's Landlock rule covers it too") +
            (reach ? " (and lets it reach the sockets beneath)" : ""));
  }
  return tmp;
}

}  // namespace

Expected<void> plan_net(Context& cx) {
  const auto& o = cx.in.options;
  NamespacePlan& ns = cx.plan.ns;
  ns.net = cx.in.profile.network.mode.value_or(profile::NetMode::host);
  if (o.net) {
    auto m = profile::net_mode_by_name(*o.net);
    if (!m) return fail("--net `" + *o.net + "`: expected host, none or loopback");
    ns.net = *m;
  }
  return plan_net_allow_mode(cx);
}

Expected<void> plan_namespace(Context& cx, const std::vector<Root>& roots) {
  NamespacePlan& ns = cx.plan.ns;
  LandlockPlan& l = cx.plan.landlock;
  const Features& f = cx.in.features;
  const Mode mode = cx.plan.mode;

  // The private HOME is writable in every mode, as the user asked for it.
  if (!ns.home.empty()) add_implicit_rule(l, ns.home, fs_rights_at(kMaxKnownAbi), "private HOME");

  if (!wants_namespace(mode)) return {};
  if (!f.userns) {
    if (mode == Mode::strict || mode == Mode::ns)
      return fail(std::string(mode == Mode::strict ? "strict mode" : "--mode ns") +
                      " needs an unprivileged user namespace, which this system refuses: " +
                      f.userns_why,
                  f.userns_remedy);
    cx.warn("namespace wall skipped: " + f.userns_why +
            (f.userns_remedy.empty() ? "" : " (" + f.userns_remedy + ")"));
    return {};
  }
  ns.enabled = true;
  ns.flag_detached = f.mount_setattr;
  const AccessMask controlled = cx.in.profile.control_access.granted;
  ns.empty_root = (controlled & fs::kReadRights) != 0;

  auto& ops = ns.mounts;
  if (ns.empty_root) {
    ops.push_back({MountKind::tmpfs_root, "", "/", false, true, "implicit", true});
  } else {
    // Reads are not controlled: the host tree stays, read-only if any write
    // right is controlled, and the roots are bound on top with their flags.
    ops.push_back({MountKind::host_root, "/", "/", (controlled & fs::kWriteRights) != 0,
                   (controlled & fs::kExecute) != 0, "implicit", true});
  }

  // Parents before children, so that a nested root is not hidden by its
  // parent. The private HOME and the private /tmp take their place in that
  // order too: roots beneath them are bound into them, and a root at `/`
  // comes before both.
  // (Each root's depth counted once, not in every comparison of the sort.)
  std::vector<std::pair<std::size_t, const Root*>> by_depth;
  by_depth.reserve(roots.size());
  for (const auto& r : roots) by_depth.emplace_back(depth(r.path), &r);
  std::stable_sort(by_depth.begin(), by_depth.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->path < b.second->path;
  });
  std::vector<const Root*> sorted;
  sorted.reserve(by_depth.size());
  for (const auto& [d, r] : by_depth) sorted.push_back(r);
  struct Pending {
    std::size_t depth;
    MountOp op;
  };
  std::vector<Pending> owned{{1, {MountKind::tmp, "tmpfs", "/tmp", false, false, "implicit", true}}};
  if (!ns.home.empty())
    owned.push_back({depth(ns.home), {MountKind::home, ns.home, ns.home, false, false,
                                      "private HOME", true}});
  std::stable_sort(owned.begin(), owned.end(),
                   [](const Pending& a, const Pending& b) { return a.depth < b.depth; });
  auto flush_owned = [&](std::size_t upto) {
    while (!owned.empty() && owned.front().depth <= upto) {
      ops.push_back(owned.front().op);
      owned.erase(owned.begin());
    }
  };
  // Where each target's first op is: a root named twice is one mount
  // (linear in the number of roots, not quadratic).
  std::unordered_map<std::string, std::size_t> op_at;
  std::size_t indexed = 0;
  for (const Root* r : sorted) {
    if (depth(r->path) > 0) flush_owned(depth(r->path));
    for (; indexed < ops.size(); ++indexed) op_at.emplace(ops[indexed].target, indexed);
    if (sandbox_owned(r->path) || r->link_only) continue;
    const bool ro = !(r->granted & fs::kWriteRights);
    const bool noexec = !(r->granted & fs::kExecute);
    if (auto at = op_at.find(r->path);
        at != op_at.end() && ops[at->second].kind == MountKind::bind) {
      MountOp* op = &ops[at->second];
      op->read_only = op->read_only && ro;
      op->noexec = op->noexec && noexec;
      op->origin += "," + r->group;
      continue;
    }
    ops.push_back({MountKind::bind, r->path, r->path, ro, noexec, r->group, false});
  }
  flush_owned(~std::size_t{0});
  // A nested read-only root inside a writable one: the mount makes it
  // read-only, but Landlock grants the union of both rules beneath it.
  // The outer roots are found among the inner one's ancestors, top down (the
  // order of `sorted`), instead of comparing every pair.
  std::unordered_map<std::string, std::vector<const Root*>> writable_at;
  for (const Root* r : sorted)
    if (r->granted & fs::kWriteRights) writable_at[r->path].push_back(r);
  for (const Root* inner : sorted) {
    if (inner->link_only || (inner->granted & fs::kWriteRights) || inner->path == "/" ||
        writable_at.empty())
      continue;
    for (std::size_t end = 0; end != std::string::npos && end < inner->path.size();
         end = inner->path.find('/', end + 1)) {
      const auto outers = writable_at.find(end == 0 ? std::string("/") : inner->path.substr(0, end));
      if (outers == writable_at.end()) continue;
      for (const Root* outer : outers->second)
        cx.note("`" + inner->path + "` (" + inner->group + ", read-only) lies inside `" +
                outer->path + "` (" + outer->group +
                ", writable): the mount is read-only, but Landlock alone would allow writes");
    }
  }

  // Symlinked roots keep working at the path the profile wrote, and merged-/usr
  // links come back when their targets are visible. Never a mount over a link.
  std::vector<std::pair<std::string, std::string>> links;  // path, link text
  for (const Root* r : sorted)
    if (!r->link_path.empty() && cx.in.fs.kind(r->link_path) == FileKind::symlink)
      links.emplace_back(r->link_path, *cx.in.fs.readlink(r->link_path));
  for (const char* d : kMergedUsrLinks)
    if (cx.in.fs.kind(d) == FileKind::symlink) links.emplace_back(d, *cx.in.fs.readlink(d));
  for (const auto& [path, text] : links) {
    if (find_target(ops, path) || !ns.empty_root) continue;
    // Where it really leads: its text may pass through another link
    // (/usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...).
    const std::string resolved = cx.in.fs.realpath(path).value_or(
        absolute(text, path.substr(0, path.rfind('/') + 1)));
    // Part of the target is enough: with only /usr/lib/x86_64-linux-gnu a
    // root, /lib -> usr/lib still leads to it (the ELF loader's path); so is
    // a link recreated there (/usr/lib64/ld-linux-x86-64.so.2 written as a
    // root, which /lib64/ld-linux-x86-64.so.2 reaches through /lib64).
    const bool partly = std::any_of(ops.begin(), ops.end(), [&](const MountOp& op) {
      return (op.kind == MountKind::bind || op.kind == MountKind::symlink) &&
             is_within(op.target, resolved);
    });
    if (visible(ops, resolved) || partly)
      ops.push_back({MountKind::symlink, text, path, true, true, "implicit", true});
  }

  ops.push_back({MountKind::proc, "proc", "/proc", false, true, "implicit", true});
  ops.push_back({MountKind::dev, "", "/dev", false, true, "implicit", true});

  // Landlock opens its rules inside the final tree, where these are the
  // sandbox's own: grant them as a Linux system needs them.
  add_implicit_rule(l, "/proc", implicit_proc_rights(), "sandbox /proc");
  add_implicit_rule(l, "/dev", implicit_dev_rights(), "sandbox /dev");
  add_implicit_rule(l, "/dev/shm", fs_rights_at(kMaxKnownAbi), "sandbox /dev/shm");
  // The private /tmp stays writable whatever lies beneath it
  // (plan_roots_beneath_tmp refuses a root that would make it otherwise).
  AISBX_ASSIGN(tmp_rights, plan_roots_beneath_tmp(cx, roots));
  add_implicit_rule(l, "/tmp", tmp_rights, "sandbox /tmp");
  return {};
}

}  // namespace aisbx::plan
