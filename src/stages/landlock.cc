#include <fcntl.h>
#include <sys/stat.h>

#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/landlock.h"

namespace aisbx::stage {

Expected<void> apply_landlock(const plan::LandlockPlan& l) {
  if (!l.enabled) return {};
  // restrict_self needs no_new_privs (or CAP_SYS_ADMIN); set it always, so
  // a setuid binary in the sandbox cannot gain what Landlock withholds.
  AISBX_TRY(sys::set_no_new_privs());
  AISBX_ASSIGN(ruleset, sys::create_ruleset({l.handled_fs, l.handled_net, l.scoped}, l.abi));
  for (const auto& r : l.rules) {
    if (r.access == 0) continue;  // nothing controlled to grant: no rule
    sys::UniqueFd fd(::open(r.path.c_str(), O_PATH | O_CLOEXEC));
    if (fd.get() < 0)
      return sys_fail("landlock: open " + q(r.path) + " (O_PATH) for the rule of " + r.origin,
                      "the path vanished or is not visible in the sandbox");
    // Decide file or directory on the opened fd, not on the plan: the path
    // may have been replaced since planning.
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return sys_fail("landlock: fstat " + q(r.path));
    const AccessMask access = S_ISDIR(st.st_mode) ? r.access : (r.access & fs::kFileRights);
    if (access == 0) continue;
    if (auto ok = sys::add_path_rule(ruleset.get(), fd.get(), access); !ok)
      return std::unexpected(with_context(ok.error(), "landlock: rule for " + q(r.path)));
  }
  for (const auto& p : l.net_rules)
    if (auto ok = sys::add_port_rule(ruleset.get(), p.port, p.access); !ok)
      return std::unexpected(
          with_context(ok.error(), "landlock: rule for port " + std::to_string(p.port)));
  AISBX_TRY(sys::restrict_self(ruleset.get(), 0));
  return {};  // the ruleset fd closes here; the domain stays
}

}  // namespace aisbx::stage
