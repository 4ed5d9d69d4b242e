// Findings the Plan already holds: its warnings and notes, the roots it skipped
// because they do not exist, and nested roots whose rights conflict.
#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {
namespace {

// resolve() words a skipped root as
//   "FILE:L:C: access_roots.G.paths: `RAW` (`EXPANDED`) does not exist; skipped"
// (src/plan/roots.cc); the path is the last quoted one before the verdict.
constexpr std::string_view kSkipped = " does not exist; skipped";

std::string last_quoted_before(const std::string& s, std::size_t end) {
  const auto close = s.rfind('`', end == 0 ? 0 : end - 1);
  if (close == std::string::npos || close == 0) return {};
  const auto open = s.rfind('`', close - 1);
  if (open == std::string::npos) return {};
  return s.substr(open + 1, close - open - 1);
}

std::string first_quoted(const std::string& s) {
  const auto open = s.find('`');
  if (open == std::string::npos) return {};
  const auto close = s.find('`', open + 1);
  return close == std::string::npos ? std::string()
                                    : s.substr(open + 1, close - open - 1);
}

Finding missing_root(const std::string& w, std::size_t at) {
  const std::string path = last_quoted_before(w, at);
  const auto colon = w.find(": ");
  const std::string where =
      colon == std::string::npos ? std::string() : w.substr(0, colon);
  return {"missing", path,
          w.substr(0, at) + " does not exist on this host: the root is skipped",
          "create " + q(path) + ", or remove it from the profile" +
              (where.empty() ? std::string() : " (" + where + ")")};
}

Finding overlap_finding(const plan::Plan& p, const plan::Overlap& o) {
  const bool ns = p.ns.enabled;
  std::string problem = "root " + q(o.inner) + " (" + o.inner_groups + ": " +
                        join_fs_rights(o.inner_rights) + ") lies inside root " +
                        q(o.outer) + " (" + o.outer_groups + ": " +
                        join_fs_rights(o.outer_rights) +
                        "): Landlock grants both groups' rights beneath " + q(o.outer) +
                        ", so " + q(o.inner) + " still gets " + join_fs_rights(o.lost);
  if (ns) {
    std::string flags;
    if (o.lost & fs::kWriteRights) flags = "read-only";
    if (o.lost & fs::kExecute)
      flags += std::string(flags.empty() ? "" : " and ") + "noexec";
    if (!flags.empty()) problem += ", while the namespace wall mounts it " + flags;
  }
  const std::string outer_group = o.outer_groups.substr(0, o.outer_groups.find(','));
  const std::string inner_group = o.inner_groups.substr(0, o.inner_groups.find(','));
  const std::string rel = o.inner.substr(o.outer == "/" ? 1 : o.outer.size() + 1);
  std::string fix;
  if (o.lost & fs::kWriteRights)
    fix = "to keep it read-only, list `" + rel + "` under access_roots." + outer_group +
          ".readonly (both walls enforce that) instead of a root of its own; or ";
  fix += "add `" + plan::rights_yaml(o.lost) + "` to access_roots." + inner_group +
         ".permissions so both walls agree";
  return {"overlap", o.inner, problem, fix};
}

}  // namespace

void plan_findings(const plan::Plan& p, Report& report) {
  for (const auto& w : p.warnings) {
    if (const auto at = w.find(kSkipped); at != std::string::npos) {
      report.findings.push_back(missing_root(w, at));
      continue;
    }
    // A `.git` file that leads where the project's metadata cannot be is
    // planted (issue: a run redirecting the next one's roots): an error.
    if (w.starts_with("git: worktree: ignored ")) {
      report.findings.push_back({"git", first_quoted(w), w,
                                 "look at that file: git did not write it; remove it", Severity::error});
      continue;
    }
    report.findings.push_back({"warning", first_quoted(w), w, "", Severity::warning});
  }
  for (const auto& g : p.git_planted)
    report.findings.push_back(
        {"git", g,
         "`" + g + "`: git never writes a commondir in a repository's own `.git`; it makes git "
         "on the host read another directory's config and hooks (a sandboxed run planted it)",
         "look at it and remove it; the next run moves it aside to `commondir.aisbx-quarantine`",
         Severity::error});
  // Advice about how the profile is written: the run is what it says.
  for (const auto& n : p.notes)
    report.findings.push_back({"note", first_quoted(n), n, "", Severity::info});
  for (const auto& o : plan::overlapping_roots(p))
    report.findings.push_back(overlap_finding(p, o));
}

}  // namespace aisbx::check
