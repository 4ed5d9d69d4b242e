// Landlock mode shares the host's /dev: the user's other terminals are
// /dev/pts/N, owned by the user, so DAC lets the sandbox open them. A rule
// that grants reading or writing beneath /dev/pts (a root at /dev/pts,
// /dev or /) lets it read what is typed in another terminal and write
// into it. The command's own terminal is a pty the launcher relays, and
// /dev/tty names it; neither needs /dev/pts. The namespace wall has a /dev
// of its own (harmless nodes only). Said here, not on every run.
#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {

void check_landlock_ttys(const plan::Plan& p, Report& report) {
  if (p.ns.enabled || !p.landlock.enabled) return;
  constexpr AccessMask kOpen = fs::kReadFile | fs::kWriteFile;
  for (const auto& r : p.landlock.rules) {
    if (!(r.access & kOpen) || !r.is_dir) continue;
    if (!plan::is_within("/dev/pts", r.path) && !plan::is_within(r.path, "/dev/pts")) continue;
    report.findings.push_back(
        {"tty", r.path,
         "without the namespace wall " + q(r.path) + " (" + r.origin +
             ") holds the user's other terminals (/dev/pts/N): the sandbox can read what is "
             "typed there and write into them",
         "grant the devices the program needs by name (/dev/null, /dev/tty, ...) instead of `" +
             r.path + "`, or run with --mode layered (a /dev of its own)",
         Severity::error});
    return;
  }
}

}  // namespace aisbx::check
