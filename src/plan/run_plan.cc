// --overlay and `overlay: true`: the project, or any writable root, seen
// through overlayfs, its writes kept in the run's upper directory for that
// root, for review (`aisbx-ns diff|commit|discard`, src/runs/). Pure: where
// the run lives and which mounts become overlays.
//
// The run directory holds what the next host command (commit) will read and
// apply to the project: it must be out of the sandbox's reach, like a
// private HOME (home_plan.cc): outside every writable root, and reached from
// the real HOME through no symbolic link.
#include <algorithm>

#include "plan/parts.h"

namespace aisbx::plan {

std::optional<std::string> run_name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name.size() > 64) return "is longer than 64 characters";
  if (name[0] == '.' || name[0] == '-') return "starts with `" + name.substr(0, 1) + "`";
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return "may hold only letters, digits, `.`, `_` and `-`";
  }
  return std::nullopt;
}

std::string runs_dir(const std::string& real_home) {
  return (real_home == "/" ? "" : real_home) + "/.ai-sandbox/runs";
}

bool profile_wants_overlay(const profile::Profile& p) {
  for (const auto& g : p.access_roots)
    if (g.overlay && g.overlay->value) return true;
  return false;
}

const MountOp* overlay_covering(const NamespacePlan& ns, const std::string& path) {
  for (const MountOp& op : ns.mounts)
    if (op.kind == MountKind::overlay && is_within(path, op.target)) return &op;
  return nullptr;
}

const MountOp* overlay_holding(const NamespacePlan& ns, std::size_t i) {
  if (i >= ns.mounts.size()) return nullptr;
  const MountOp& op = ns.mounts[i];
  if (op.kind != MountKind::bind && op.kind != MountKind::readonly) return nullptr;
  for (std::size_t j = 0; j < i; ++j)
    if (ns.mounts[j].kind == MountKind::overlay && is_within(op.source, ns.mounts[j].target))
      return &ns.mounts[j];
  return nullptr;
}

std::vector<const MountOp*> overlays_holding(const NamespacePlan& ns) {
  std::vector<const MountOp*> out(ns.mounts.size(), nullptr);
  const bool any = std::any_of(ns.mounts.begin(), ns.mounts.end(),
                               [](const MountOp& op) { return op.kind == MountKind::overlay; });
  if (any)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = overlay_holding(ns, i);
  return out;
}

std::string run_layer_dir(const std::string& kind, std::size_t i) {
  return i == 0 ? kind : kind + "." + std::to_string(i + 1);
}

const OverlayDirs* overlay_dirs(const NamespacePlan& ns, const std::string& lower) {
  for (const OverlayDirs& d : ns.overlays)
    if (d.lower == lower) return &d;
  return nullptr;
}

namespace {

bool group_overlaid(const profile::Profile& p, const std::string& group) {
  for (const auto& g : p.access_roots)
    if (g.name == group) return g.overlay && g.overlay->value;
  return false;
}

// A root to overlay: the project (--overlay) or a root of a group with
// `overlay: true`; `where` says which, for messages.
struct Wanted {
  std::string lower;
  std::string where;
  std::string fix;
};

}  // namespace

Expected<void> plan_run(Context& cx, const std::vector<Root>& roots) {
  const Options& o = cx.in.options;
  const Fs& fs = cx.in.fs;
  Plan& p = cx.plan;
  const std::string project = fs.realpath(p.project).value_or(normalize(p.project));
  // What is overlaid: the project (--overlay) and every root of a group
  // that says `overlay: true`, the project first. Roots that `git:
  // worktree` adds stay binds: commit never writes git's own database.
  std::vector<Wanted> wanted;
  if (o.overlay)
    wanted.push_back({project, "--overlay: the project",
                      "choose a profile that grants the project write rights (e.g. agent), or "
                      "--rw " + project});
  for (const Root& r : roots) {
    if (r.git_added || r.link_only || !group_overlaid(cx.in.profile, r.group)) continue;
    const bool dup = std::any_of(wanted.begin(), wanted.end(),
                                 [&](const Wanted& w) { return w.lower == r.path; });
    if (dup) continue;
    if (!r.is_dir)
      return fail(r.where.str() + ": `overlay: true` in group " + q(r.group) + ": " + q(r.path) +
                      " is a file; overlayfs overlays directories only",
                  "overlay its directory, or move the file to a group without `overlay`");
    Wanted w{r.path, r.where.str() + ": `overlay: true` in group " + q(r.group) + ": the root",
             "grant group " + q(r.group) + " a write right, or drop its `overlay: true`"};
    if (r.path == project)
      wanted.insert(wanted.begin(), std::move(w));
    else
      wanted.push_back(std::move(w));
  }
  const bool asked = o.overlay || profile_wants_overlay(cx.in.profile);
  if (!asked) {
    if (o.run_name)
      return fail("--run names an overlay run: it needs --overlay",
                  "add --overlay, or drop --run");
    return {};
  }
  if (p.mode == Mode::landlock)
    return fail("--overlay needs the namespace wall: landlock mode has no mount namespace to "
                "mount the overlay in",
                "use --mode layered or --mode strict");
  if (!p.ns.enabled)
    return fail("--overlay needs the namespace wall, which this run does not have (no user "
                "namespace)",
                "see aisbx-ns --features");
  if (wanted.empty()) {  // `overlay: true` on roots none of which exists here
    cx.note("`overlay: true`: none of its roots exists here; nothing is kept for review");
    return {};
  }
  if (!o.run_name) return fail("--overlay: no run name (the launcher makes one)");
  if (auto why = run_name_problem(*o.run_name))
    return fail("--run `" + *o.run_name + "`: the name " + *why,
                "use a short name such as `fix-tests` or `2026-01-31a`");

  // Each overlaid root replaces its own writable bind. One inside another
  // is refused: its writes would be kept in one run dir and hidden from
  // the other's diff.
  std::vector<MountOp*> ops;
  for (const Wanted& w : wanted) {
    MountOp* op = nullptr;
    for (MountOp& m : p.ns.mounts)
      if (m.kind == MountKind::bind && m.target == w.lower) op = &m;
    if (!op || op->read_only)
      return fail(w.where + " " + q(w.lower) + " is not a writable root of profile " +
                      q(p.profile) + (op ? "" : " bound from the host"),
                  w.fix);
    for (const Wanted& other : wanted)
      if (&other != &w && is_within(w.lower, other.lower))
        return fail(w.where + " " + q(w.lower) + " lies inside " + q(other.lower) +
                        ", which is overlaid too",
                    "overlay only the outer one: its run keeps the writes beneath it");
    ops.push_back(op);
  }

  const std::string real_home = fs.realpath(cx.in.host.home).value_or(normalize(cx.in.host.home));
  RunPlan& run = p.run;
  run.enabled = true;
  run.name = *o.run_name;
  run.dir = runs_dir(real_home) + "/" + run.name;
  run.checked_below = real_home;
  run.project = project;
  // Every component below the real HOME is looked at without following it;
  // create_run does the same with O_NOFOLLOW.
  for (std::size_t i = real_home.size() + (real_home == "/" ? 0 : 1); i <= run.dir.size();) {
    std::size_t end = run.dir.find('/', i);
    if (end == std::string::npos) end = run.dir.size();
    const std::string part = run.dir.substr(0, end);
    const FileKind k = fs.kind(part);
    if (k == FileKind::symlink)
      return fail("--overlay: the run directory " + q(run.dir) + " is reached through " +
                      q(part) + ", which is a symbolic link",
                  "a run directory is never entered through a link: remove it");
    if (part == run.dir && k != FileKind::missing)
      return fail("--run " + run.name + ": the run already exists (" + q(run.dir) + ")",
                  "review it with `aisbx-ns diff " + run.name + "`, then `aisbx-ns commit " +
                      run.name + "` or `aisbx-ns discard " + run.name + "`; or choose another name");
    i = end + 1;
  }
  // What commit reads must not be writable from inside.
  for (const Root& r : roots) {
    if (!(r.granted & fs::kWriteRights) || !is_within(run.dir, r.path)) continue;
    return fail("--overlay: the run directory " + q(run.dir) + " lies inside " + q(r.path) +
                    ", which the sandbox may write (" + r.where.str() + ", group " + r.group + ")",
                "keep ~/.ai-sandbox out of every writable root");
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ops[i]->kind = MountKind::overlay;
    p.ns.overlays.push_back({wanted[i].lower, run.dir + "/" + run_layer_dir("upper", i),
                             run.dir + "/" + run_layer_dir("work", i)});
  }
  // Other writable binds are the host's own directories: say that their
  // writes are not kept for review.
  const std::vector<const MountOp*> held = overlays_holding(p.ns);
  for (std::size_t i = 0; i < p.ns.mounts.size(); ++i) {
    const MountOp& op = p.ns.mounts[i];
    if (op.kind == MountKind::bind && !op.read_only && !held[i])
      cx.note("--overlay keeps the overlaid roots' writes only: " + op.target + " (" + op.origin +
              ") is written directly");
  }
  return {};
}

}  // namespace aisbx::plan
