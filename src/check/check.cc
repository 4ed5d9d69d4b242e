// `--check`: every lint in turn, over one Oracle of the Plan.
#include <algorithm>

#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

bool denied(const plan::Plan& p, const std::string& path) {
  return std::any_of(p.protected_paths.begin(), p.protected_paths.end(),
                     [&](const plan::ProtectedPath& pp) {
                       return pp.deny && plan::is_within(path, pp.path);
                     });
}

std::vector<Root> plan_roots(const plan::Plan& p) {
  std::vector<Root> roots;
  auto add = [&](const std::string& path, const std::string& group, bool is_dir,
                 bool writable) {
    auto same = std::find_if(roots.begin(), roots.end(),
                             [&](const Root& r) { return r.path == path; });
    if (same != roots.end()) {
      same->writable = same->writable || writable;
      return;
    }
    roots.push_back({path, group.substr(0, group.find(',')), is_dir, writable});
  };
  // Rules are recorded for every root in every mode; implicit ones are the
  // sandbox's own trees, not the profile's.
  for (const auto& r : p.landlock.rules)
    if (!r.implicit) add(r.path, r.origin, r.is_dir, (r.requested & fs::kWriteRights) != 0);
  if (!p.ns.home.empty()) add(p.ns.home, "private HOME", true, true);
  std::sort(roots.begin(), roots.end(),
            [](const Root& a, const Root& b) { return a.path < b.path; });
  return roots;
}

const Root* root_holding(const std::vector<Root>& roots, const std::string& path) {
  const Root* best = nullptr;
  for (const auto& r : roots)
    if (plan::is_within(path, r.path) && (!best || r.path.size() > best->path.size()))
      best = &r;
  return best;
}

Expected<Report> run(const plan::Plan& p, const Fs& fs, const Limits& limits) {
  const plan::Oracle oracle(p);
  Report report;
  plan_findings(p, report);
  check_landlock_proc(p, report);
  check_landlock_ttys(p, report);
  scan_symlinks(p, oracle, fs, limits, report);
  AISBX_TRY(scan_mounts(p, "/proc/self/mountinfo", report));
  check_command(p, oracle, fs, report);
  check_home(p, oracle, fs, report);
  check_git_configs(p, fs, report);
  check_allow_names(p, report);
  return report;
}

}  // namespace aisbx::check
