// Landlock mode shares the host's /proc: its rules are on inodes, and the
// directories of processes that start later (the sandbox's own among them)
// are not beneath any rule but `/proc` itself, so Landlock cannot narrow
// /proc to the sandbox's processes. Granting /proc there shows every host
// process's command line and status; only the namespace wall's private
// procfs hides them. Said here, not on every run.
#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {

void check_landlock_proc(const plan::Plan& p, Report& report) {
  if (p.ns.enabled || !p.landlock.enabled) return;
  constexpr AccessMask kReads = fs::kReadFile | fs::kReadDir;
  for (const auto& r : p.landlock.rules) {
    if (!(r.access & kReads) || !r.is_dir) continue;
    if (!plan::is_within("/proc", r.path) && !plan::is_within(r.path, "/proc")) continue;
    report.findings.push_back(
        {"proc", r.path,
         "without the namespace wall " + q(r.path) + " (" + r.origin +
             ") is the host's /proc: every host process's command line and status are "
             "readable (Landlock cannot limit /proc to the sandbox's own processes)",
         "run with --mode layered (a private /proc), or drop `" + r.path + "` from access_roots." +
             r.origin.substr(0, r.origin.find(',')) + " if the program does without it"});
    return;
  }
}

}  // namespace aisbx::check
