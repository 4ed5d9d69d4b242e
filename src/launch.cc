#include "aisbx/launch.h"

#include <cstdio>
#include <iostream>

#include <unistd.h>

#include "aisbx/builtin.h"
#include "aisbx/check.h"
#include "aisbx/features_render.h"
#include "aisbx/host_sys.h"
#include "aisbx/probe.h"
#include "aisbx/stages.h"
#include "aisbx/sandbox.h"

namespace aisbx {
namespace {

using profile::LogLevel;

void log(const plan::Plan& p, LogLevel level, const std::string& msg) {
  if (static_cast<int>(level) > static_cast<int>(p.log_level)) return;
  const char* tag = level == LogLevel::warn ? "warning: " : "";
  std::fprintf(stderr, "aisbx-ns: %s%s\n", tag, msg.c_str());
}

// Every run states what was really enforced: quietly (info) when every
// wall is fully on, as a warning when something is missing.
void report(const plan::Plan& p) {
  for (const auto& w : p.warnings) log(p, LogLevel::warn, w);
  const bool degraded = p.landlock.enforcement != plan::Enforcement::full ||
                        (!p.ns.enabled && p.mode != Mode::landlock);
  for (const auto& s : p.status) log(p, degraded ? LogLevel::warn : LogLevel::info, s);
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("/usr/bin/aisbx-ns");
}

int list_profiles(const LoadedProfiles& lp) {
  auto print = [](const profile::ProfileSet& set, const std::string& from) {
    for (const auto& name : set.order) {
      const auto& p = set.profiles.at(name);
      std::printf("%-20s %-12s %s\n", name.c_str(), from.c_str(), p.description.c_str());
    }
  };
  if (lp.user) print(*lp.user, lp.user->source);
  print(lp.builtin, "built-in");
  return 0;
}

Expected<int> run_plan(const plan::Plan& p) {
  report(p);
  if (!p.ns.home.empty()) AISBX_TRY(stage::prepare_home(p.ns.home, p.exec.tmpdir));
  if (p.ns.enabled) return run_sandboxed(p);
  // Landlock alone (landlock mode, or layered without user namespaces):
  // restrict this very process and exec in place, no fork.
  AISBX_TRY(stage::apply_landlock(p.landlock));
  AISBX_TRY(stage::close_fds_on_exec(p.exec.keep_fds));
  AISBX_TRY(stage::apply_seccomp(p.seccomp));
  return std::unexpected(stage::exec(p));
}

}  // namespace

Expected<LoadedProfiles> load_profiles(const Options& o, const HostFacts& h) {
  LoadedProfiles lp;
  lp.builtin.source = "built-in";
  for (const auto& f : builtin_profile_files()) {
    AISBX_ASSIGN(set, profile::parse_profiles(std::string(f.text), "built-in:" + std::string(f.name)));
    for (const auto& name : set.order) {
      lp.builtin.order.push_back(name);
      lp.builtin.profiles.emplace(name, set.profiles.at(name));
    }
  }
  AISBX_ASSIGN(path, find_config(o, h));
  if (path) {
    AISBX_ASSIGN(text, read_profile_file(*path));
    AISBX_ASSIGN(set, profile::parse_profiles(text, *path));
    lp.user = std::move(set);
  }
  return lp;
}

Expected<std::pair<profile::Profile, std::string>> select_profile(const LoadedProfiles& lp,
                                                                  const std::string& name) {
  if (lp.user && lp.user->profiles.contains(name)) {
    AISBX_ASSIGN(p, profile::flatten(*lp.user, name, &lp.builtin));
    return std::pair{std::move(p), lp.user->source};
  }
  if (!lp.builtin.profiles.contains(name)) {
    std::string names;
    if (lp.user)
      for (const auto& n : lp.user->order) names += (names.empty() ? "" : ", ") + n;
    for (const auto& n : lp.builtin.order) names += (names.empty() ? "" : ", ") + n;
    return fail("no profile named " + q(name) +
                    (lp.user ? " in " + q(lp.user->source) + " or the built-in profiles"
                             : " among the built-in profiles") +
                    " (available: " + names + ")",
                "see --list-profiles");
  }
  AISBX_ASSIGN(p, profile::flatten(lp.builtin, name));
  return std::pair{std::move(p), std::string("built-in")};
}

Expected<int> run(const Options& o) {
  const Features features = probe_features();
  if (o.features) {
    std::fputs(render_features(features, o.format, self_exe()).c_str(), stdout);
    return 0;
  }
  AISBX_ASSIGN(host, read_host_facts());
  AISBX_ASSIGN(profiles, load_profiles(o, host));
  if (o.list_profiles) return list_profiles(profiles);
  if (!o.profile)
    return fail("no profile given", "pass --profile NAME; --list-profiles shows the choices");
  AISBX_ASSIGN(selected, select_profile(profiles, *o.profile));
  RealFs fs;
  AISBX_ASSIGN(p, plan::resolve({selected.first, selected.second, o, features, host, fs}));
  AISBX_TRY(stage::check_seccomp(p.seccomp));

  if (o.check) {
    AISBX_ASSIGN(report, check::run(p, fs));
    const std::string out = o.format == Format::json ? check::render_json(p, report)
                                                     : check::render_text(p, report);
    std::fputs(out.c_str(), stdout);
    return check::exit_status(report);
  }

  if (o.dry_run || o.print_ruleset || p.dry_run) {
    const auto section = o.print_ruleset && !o.dry_run ? plan::Section::ruleset : plan::Section::all;
    const std::string out = o.format == Format::json ? plan::render_json(p, section)
                                                     : plan::render_text(p, section);
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  std::fflush(stdout);
  return run_plan(p);
}

}  // namespace aisbx
