// What a known agent CLI meets in a wall that the profile cannot change,
// said before it starts instead of after it fails with its own, opaque
// message. Pure: reads only the Plan made so far.
#include "plan/parts.h"

namespace aisbx::plan {
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool has_arg(const std::vector<std::string>& argv, std::initializer_list<const char*> any) {
  for (std::size_t i = 1; i < argv.size(); ++i)
    for (const char* a : any)
      if (argv[i] == a) return true;
  return false;
}

// Whether a rule at /tmp (or /) lets the sandbox make a directory and a
// socket there.
bool tmp_creatable(const LandlockPlan& l) {
  const AccessMask need = (fs::kMakeDir | fs::kMakeSock) & l.handled_fs;
  for (const auto& r : l.rules)
    if ((r.path == "/tmp" || r.path == "/") && (r.access & need) == need) return true;
  return need == 0;
}

}  // namespace

void plan_agent_hints(Context& cx) {
  const Plan& p = cx.plan;
  if (p.exec.argv.empty()) return;
  // codex's interactive front end starts an app-server daemon whose control
  // socket lives in /tmp/codex-daemon-UID (a short path, wherever
  // CODEX_HOME is). Landlock mode has no private /tmp to give it, so codex
  // ends with "app server did not become ready" (EACCES on that socket).
  // `codex --no-daemon` runs the app server in its own process.
  if (!p.ns.enabled && p.landlock.enabled && base_name(p.exec.argv[0]) == "codex" &&
      !has_arg(p.exec.argv, {"--no-daemon", "--version", "-V", "--help", "-h"}) &&
      !tmp_creatable(p.landlock))
    cx.warn("codex in landlock mode: its app-server daemon makes its socket in /tmp/codex-daemon-" +
            std::to_string(cx.in.host.uid) +
            ", and landlock mode has no private /tmp to give it (codex would stop with \"app "
            "server did not become ready\"); run `codex --no-daemon`, or use --mode layered or "
            "strict, whose private /tmp it can use");
}

}  // namespace aisbx::plan
