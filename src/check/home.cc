// HOME as the command will see it: the private HOME the profile names (made
// at launch, bound read-write, with every Landlock right), or else the
// environment's HOME, which must be reachable and writable under the plan:
// shells, git, editors and language tools keep their state there.
#include "check/parts.h"

namespace aisbx::check {

void check_home(const plan::Plan& p, const plan::Oracle& oracle, const Fs& fs,
                Report& report) {
  const bool private_home = !p.ns.home.empty();
  std::string home = p.ns.home;
  if (!private_home)
    for (const auto& [k, v] : p.exec.env)
      if (k == "HOME") home = v;
  const std::string set_private =
      "set `home: ~/.ai-sandbox/homes` in the profile (a private HOME per project, created 0700)";
  if (home.empty()) {
    report.findings.push_back({"home", "", "HOME is not set in the sandbox's environment",
                               set_private + ", or --env HOME=DIR"});
    return;
  }
  // A private HOME that does not exist yet is created at launch: judge the
  // path the plan will bind.
  std::string target = home;
  if (!private_home || fs.kind(home) != FileKind::missing) {
    const plan::Resolution r = oracle.resolve(fs, home);
    if (!r.target) {
      report.findings.push_back(
          {"home", home, "HOME: " + oracle.explain(r), set_private});
      return;
    }
    target = *r.target;
  }
  const plan::Verdict v = oracle.check(target, plan::need_home());
  if (v.ok()) return;
  // Never "add HOME to a writable group": the real HOME holds the keys and
  // the shell start-up files the sandbox must not write.
  report.findings.push_back(
      {"home", target, "HOME is not writable in the sandbox: " + oracle.explain(v),
       private_home ? oracle.suggest(target, plan::need_home(), &v) : set_private});
}

}  // namespace aisbx::check
