// Mount points inside the roots. Both walls see through them: the namespace
// wall binds each root recursively (submounts come along, re-flagged with the
// root's flags), and a Landlock rule covers the path hierarchy beneath it,
// whatever file system lies there. The spec's security notes warn that a
// bind mount inside an allowed root can expose another tree: this names it.
// The table is read through libmount (sys/mount_table.h).
#include <set>

#include "aisbx/sys/mount_table.h"
#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {
namespace {

std::string or_none(const std::string& s) { return s.empty() ? "none" : s; }

}  // namespace

Expected<void> scan_mounts(const plan::Plan& p, const std::string& mountinfo,
                           Report& report) {
  AISBX_ASSIGN(table, sys::read_mount_table(mountinfo));
  const std::vector<Root> roots = plan_roots(p);
  std::set<std::string> seen_targets;  // stacked mounts: one finding per place
  for (const sys::MountEntry& m : table) {
    if (m.target.empty()) continue;
    const std::string& target = m.target;
    const Root* root = root_holding(roots, target);
    // A root that is a mount point itself is what the profile named.
    if (!root || !root->is_dir || root->path == target) continue;
    if (plan::is_within(target, "/proc") || plan::is_within(target, "/dev") ||
        plan::is_within(target, "/sys"))
      continue;  // the sandbox's own, or never bound
    if (p.ns.enabled && plan::is_within(target, "/tmp") && root->path == "/tmp") continue;
    if (denied(p, target)) continue;  // hidden by `deny`
    if (!seen_targets.insert(target).second) continue;

    const std::string fs_root = or_none(m.root);
    const std::string source = or_none(m.source);
    const std::string type = or_none(m.fstype);
    const bool bind = fs_root != "/";
    const std::string rel = target.substr(root->path == "/" ? 1 : root->path.size() + 1);
    std::string problem =
        "a mount point inside root " + q(root->path) + " (" + root->group +
        "): " + (bind ? "a bind of " + q(fs_root) + " of " : "") + source + " (" + type +
        ") is visible in the sandbox through the recursive " +
        (p.ns.enabled ? "bind, with the root's flags" : "Landlock rule") +
        ": another tree than the root's own";
    const bool editable = root->group != "private HOME";
    std::string fix = editable ? "if the sandbox must not see it, add `" + rel +
                                     "` to access_roots." + root->group +
                                     ".deny; if it should, list " + q(target) +
                                     " as a root of its own so its rights are explicit"
                               : "unmount it, or keep the private HOME free of mounts";
    report.findings.push_back({"mount", target, problem, fix});
  }
  return {};
}

}  // namespace aisbx::check
