// Mount points inside the roots. Both walls see through them: the namespace
// wall binds each root recursively (submounts come along, re-flagged with the
// root's flags), and a Landlock rule covers the path hierarchy beneath it,
// whatever file system lies there. The spec's security notes warn that a
// bind mount inside an allowed root can expose another tree: this names it.
// The table is read through libmount, as the namespace stage reads it.
#include <libmount/libmount.h>

#include <memory>
#include <set>

#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {
namespace {

struct TableFree {
  void operator()(libmnt_table* t) const { mnt_unref_table(t); }
};
struct IterFree {
  void operator()(libmnt_iter* i) const { mnt_free_iter(i); }
};

std::string or_none(const char* s) { return s ? s : "none"; }

}  // namespace

Expected<void> scan_mounts(const plan::Plan& p, const std::string& mountinfo,
                           Report& report) {
  std::unique_ptr<libmnt_table, TableFree> table(
      mnt_new_table_from_file(mountinfo.c_str()));
  if (!table)
    return fail("libmount: cannot parse " + q(mountinfo),
                "--check reads the mount table to find mounts inside the roots");
  const std::vector<Root> roots = plan_roots(p);
  std::unique_ptr<libmnt_iter, IterFree> it(mnt_new_iter(MNT_ITER_FORWARD));
  std::set<std::string> seen_targets;  // stacked mounts: one finding per place
  libmnt_fs* fs = nullptr;
  while (mnt_table_next_fs(table.get(), it.get(), &fs) == 0) {
    const char* t = mnt_fs_get_target(fs);
    if (!t) continue;
    const std::string target = t;
    const Root* root = root_holding(roots, target);
    // A root that is a mount point itself is what the profile named.
    if (!root || !root->is_dir || root->path == target) continue;
    if (plan::is_within(target, "/proc") || plan::is_within(target, "/dev") ||
        plan::is_within(target, "/sys"))
      continue;  // the sandbox's own, or never bound
    if (p.ns.enabled && plan::is_within(target, "/tmp") && root->path == "/tmp") continue;
    if (denied(p, target)) continue;  // hidden by `deny`
    if (!seen_targets.insert(target).second) continue;

    const std::string fs_root = or_none(mnt_fs_get_root(fs));
    const std::string source = or_none(mnt_fs_get_source(fs));
    const std::string type = or_none(mnt_fs_get_fstype(fs));
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
