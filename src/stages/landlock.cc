#include <fcntl.h>
#include <sys/stat.h>

#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/landlock.h"
#include "stages/open_planned.h"

namespace aisbx::stage {

Expected<void> apply_landlock(const plan::LandlockPlan& l, const HeldRules& held) {
  if (!l.enabled) return {};
  // restrict_self needs no_new_privs (or CAP_SYS_ADMIN); set it always, so
  // a setuid binary in the sandbox cannot gain what Landlock withholds.
  AISBX_TRY(sys::set_no_new_privs());
  sys::UniqueFd made;
  if (held.ruleset.get() < 0) {
    AISBX_ASSIGN(r, sys::create_ruleset({l.handled_fs, l.handled_net, l.scoped}, l.abi));
    made = std::move(r);
  }
  const int ruleset = held.ruleset.get() >= 0 ? held.ruleset.get() : made.get();
  std::size_t next_merged = 0;  // into l.merged_rules, ascending
  for (std::size_t i = 0; i < l.rules.size(); ++i) {
    const plan::LandlockRule& r = l.rules[i];
    const bool merged = next_merged < l.merged_rules.size() && l.merged_rules[next_merged] == i;
    if (merged) ++next_merged;
    if (r.access == 0) continue;  // nothing controlled to grant: no rule
    if (i < held.added.size() && held.added[i]) continue;  // by build_root, from the bind's fd
    // Never through a symlink, and the file planning saw: a rule on a
    // directory swapped for a link to ~/.ssh would grant ~/.ssh.
    const plan::PlannedId seen = i < l.rule_seen.size() ? l.rule_seen[i] : plan::PlannedId{};
    struct stat st {};
    sys::UniqueFd fd;
    if (i < held.fds.size() && held.fds[i].get() >= 0) {
      // Opened in the overlay's merged view before pivot_root, tied there
      // to the host's path (open_merged_rules): here overlayfs's inode
      // numbers could not be compared with the host's.
      fd.reset(::fcntl(held.fds[i].get(), F_DUPFD_CLOEXEC, 3));
      if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0)
        return sys_fail("landlock: the rule of " + q(r.path) + " (opened before pivot_root)");
    } else {
      if (merged && seen.checked && seen.id)
        return fail("landlock: the rule of " + q(r.path) +
                    " lies in an overlay's merged view and was not opened before pivot_root");
      auto opened = open_as_planned(r.path, seen, r.path, /*missing_ok=*/true, &st);
      if (!opened)
        return std::unexpected(
            with_context(opened.error(), "landlock: the rule of " + r.origin));
      fd = std::move(*opened);
    }
    if (fd.get() < 0) continue;  // missing when planned and now: nothing to grant
    // Decide file or directory on the opened fd (its fstat above), not on
    // the plan (where nothing is compared, e.g. a private HOME made at
    // launch).
    const AccessMask access = S_ISDIR(st.st_mode) ? r.access : (r.access & fs::kFileRights);
    if (access == 0) continue;
    if (auto ok = sys::add_path_rule(ruleset, fd.get(), access); !ok)
      return std::unexpected(with_context(ok.error(), "landlock: rule for " + q(r.path)));
  }
  for (const auto& p : l.net_rules)
    if (auto ok = sys::add_port_rule(ruleset, p.port, p.access); !ok)
      return std::unexpected(
          with_context(ok.error(), "landlock: rule for port " + std::to_string(p.port)));
  AISBX_TRY(sys::restrict_self(ruleset, 0));
  return {};  // the ruleset fd closes here; the domain stays
}

}  // namespace aisbx::stage
