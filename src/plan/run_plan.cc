// --overlay: the project seen through overlayfs, its writes kept in a run's
// upper directory for review (`aisbx-ns diff|commit|discard`, src/runs/).
// Pure: where the run lives and which mount becomes the overlay.
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

Expected<void> plan_run(Context& cx, const std::vector<Root>& roots) {
  const Options& o = cx.in.options;
  const Fs& fs = cx.in.fs;
  Plan& p = cx.plan;
  const std::string project = fs.realpath(p.project).value_or(normalize(p.project));
  // `overlay: true` in a group: for now only the project itself can be
  // overlaid (one upper dir, one project for diff and commit); any other
  // path is refused rather than bound writable without review.
  for (const auto& g : cx.in.profile.access_roots) {
    if (!g.overlay || !g.overlay->value) continue;
    for (const auto& raw : g.paths) {
      AISBX_ASSIGN(path, expand_path(raw, cx.vars));
      const std::string real = fs.realpath(path).value_or(normalize(path));
      if (real != project)
        return fail(g.overlay->where.str() + ": `overlay: true` in group " + q(g.name) + ": " +
                        q(real) + " is not the project " + q(project) +
                        "; only the project can be overlaid",
                    "move " + q(raw.value) + " to a group without `overlay`, or run from that "
                    "project");
    }
  }
  if (!o.overlay && !profile_wants_overlay(cx.in.profile)) {
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
  if (!o.run_name) return fail("--overlay: no run name (the launcher makes one)");
  if (auto why = run_name_problem(*o.run_name))
    return fail("--run `" + *o.run_name + "`: the name " + *why,
                "use a short name such as `fix-tests` or `2026-01-31a`");

  MountOp* overlay = nullptr;
  for (MountOp& op : p.ns.mounts)
    if (op.kind == MountKind::bind && op.target == project) overlay = &op;
  if (!overlay || overlay->read_only)
    return fail("--overlay: the project " + q(project) + " is not a writable root of profile " +
                    q(p.profile),
                "choose a profile that grants the project write rights (e.g. agent), or --rw " +
                    project);

  const std::string real_home = fs.realpath(cx.in.host.home).value_or(normalize(cx.in.host.home));
  RunPlan& run = p.run;
  run.enabled = true;
  run.name = *o.run_name;
  run.dir = runs_dir(real_home) + "/" + run.name;
  run.checked_below = real_home;
  run.lower = project;
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
  overlay->kind = MountKind::overlay;
  p.ns.overlay_upper = run.dir + "/upper";
  p.ns.overlay_work = run.dir + "/work";
  // Other writable binds are the host's own directories: say that their
  // writes are not kept for review.
  const std::vector<const MountOp*> held = overlays_holding(p.ns);
  for (std::size_t i = 0; i < p.ns.mounts.size(); ++i) {
    const MountOp& op = p.ns.mounts[i];
    if (op.kind == MountKind::bind && !op.read_only && !held[i])
      cx.note("--overlay keeps the project's writes only: " + op.target + " (" + op.origin +
              ") is written directly");
  }
  return {};
}

}  // namespace aisbx::plan
