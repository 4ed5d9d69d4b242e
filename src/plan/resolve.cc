#include <algorithm>

#include "plan/parts.h"
#include "plan/project_plan.h"

namespace aisbx::plan {
namespace {

// The XDG Base Directory Specification: a relative value is invalid and
// is ignored, as is an empty one.
std::string xdg_or(const HostFacts& h, const std::string& k, const std::string& dflt) {
  auto it = h.env.find(k);
  return it != h.env.end() && it->second.starts_with("/") ? it->second : dflt;
}

Vars make_vars(const Inputs& in, const std::string& project) {
  const HostFacts& h = in.host;
  Vars v;
  v["HOME"] = h.home;
  v["CWD"] = h.cwd;
  v["PROJECT"] = project;
  // XDG base directory defaults (XDG Base Directory Specification).
  v["XDG_CONFIG_HOME"] = xdg_or(h, "XDG_CONFIG_HOME", h.home + "/.config");
  v["XDG_CACHE_HOME"] = xdg_or(h, "XDG_CACHE_HOME", h.home + "/.cache");
  v["XDG_DATA_HOME"] = xdg_or(h, "XDG_DATA_HOME", h.home + "/.local/share");
  v["XDG_STATE_HOME"] = xdg_or(h, "XDG_STATE_HOME", h.home + "/.local/state");
  return v;
}

}  // namespace

Expected<Plan> resolve(const Inputs& in) {
  const profile::Profile& p = in.profile;

  Plan plan;
  plan.profile = p.name;
  plan.source = in.source;
  plan.mode = in.options.mode;
  plan.dry_run = in.options.dry_run || p.dry_run.value_or(false);
  plan.trace = in.options.trace || in.options.learn;
  plan.log_level = p.log_level.value_or(profile::LogLevel::warn);
  if (in.options.log_level) {
    auto l = profile::log_level_by_name(*in.options.log_level);
    if (!l)
      return fail("--log-level `" + *in.options.log_level +
                  "`: expected error, warn, info or debug");
    plan.log_level = *l;
  }

  // A refused project is still planned with, so that inspection shows
  // what the run would have been handed.
  ProjectChoice project =
      choose_project(in.options, in.host, in.fs, profile_uses(p, "PROJECT"));
  if (profile_uses(p, "CWD")) check_cwd_variable(in.options, in.host, in.fs, project);
  plan.project = project.path;
  plan.project_source = to_string(project.source);
  plan.refusal = std::move(project.refusal);
  if (project.warning) plan.warnings.push_back(*project.warning);
  Context cx{in, make_vars(in, project.path), plan};

  const auto walls = [&]() -> Expected<void> {
    AISBX_TRY(plan_net(cx));
    AISBX_TRY(plan_home(cx));
    AISBX_ASSIGN(roots, collect_roots(cx));
    AISBX_TRY(check_home_outside_roots(cx, roots));
    AISBX_TRY(plan_landlock(cx, roots));
    AISBX_TRY(plan_namespace(cx, roots));
    AISBX_TRY(plan_protected(cx, roots));
    AISBX_TRY(plan_run(cx, roots));
    AISBX_TRY(plan_seccomp(cx));
    AISBX_TRY(plan_limits(cx));
    AISBX_TRY(plan_exec(cx, roots));
    AISBX_TRY(plan_net_allow(cx));
    AISBX_TRY(plan_desktop(cx));
    plan_agent_hints(cx);
    return {};
  };
  if (auto made = walls(); !made) {
    // With a refused project (`/`, HOME) planning may fail for that very
    // reason (a `**` glob walking the whole disk): inspection still shows
    // the refusal, the cause, and as much of the plan as was made.
    // Only an error about the refused project itself: a malformed profile
    // still fails at once.
    const bool about_project =
        made.error().what.find("`" + plan.project + "`") != std::string::npos;
    if (!plan.refusal || !about_project) return std::unexpected(made.error());
    plan.warnings.push_back("planning with the refused project stopped: " + made.error().what);
  }
  warn_never_granted(cx);
  plan_status(plan, in.features);
  plan_processes(plan, in.features);
  plan_identities(cx);  // last: after every rule and mount is final
  return plan;
}

}  // namespace aisbx::plan
