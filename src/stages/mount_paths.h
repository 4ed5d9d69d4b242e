// Internal to the namespace wall's stages: where the root is assembled.
#pragma once

#include <string>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/stages.h"

namespace aisbx::stage {

// A tmpfs over /tmp (in the new mount namespace only) is the staging root.
inline constexpr const char* kStaging = "/tmp";
// Within the staging root, after the first pivot_root:
inline const std::string kOldRoot = "/oldroot";     // the host's tree
inline const std::string kNewRoot = "/newroot";     // the sandbox's root
inline const std::string kHostProc = "/oldroot/proc";  // for /proc/self/fd/N
inline const std::string kEmptyFile = "/empty";        // bound over denied files

// Pivots into the staging tmpfs; the host tree stays reachable at kOldRoot.
Expected<void> enter_staging(const plan::NamespacePlan& ns);
// Makes every mount of the Plan under kNewRoot. With `l` and `held`, and
// Landlock on, also makes the ruleset in held and adds to it the rule of
// each bind's own root from the source fd the bind opened (HeldRules).
Expected<void> build_root(const plan::NamespacePlan& ns, const plan::LandlockPlan* l = nullptr,
                          HeldRules* held = nullptr);
// After build_root, before pivot_root: each rule of l.merged_rules that
// planning saw (rule_seen) opened in the new root, in the overlay's merged
// view, and tied to the same path in the host's tree
// (open_merged_as_planned): a path swapped on the host since planning
// refuses the run, as it does for a rule beneath a bind.
Expected<void> open_merged_rules(const plan::Plan& p, HeldRules& held);
// Makes kNewRoot the root and detaches everything else.
Expected<void> pivot_into_new_root();

// A new procfs for the sandbox's pid namespace, with the host-wide knobs
// (sys, sysrq-trigger, irq, bus) read-only.
Expected<void> mount_proc(const std::string& at);
// A minimal /dev: the harmless nodes bound from the host, a new devpts
// instance, /dev/shm, and the fd links.
// `shm_size`: tmpfs size= of /dev/shm in bytes, 0 = the kernel's default.
// `extra_nodes`: host device nodes bound in too (NamespacePlan::dev_nodes).
Expected<void> mount_dev(const std::string& at, std::uint64_t shm_size,
                         const std::vector<std::string>& extra_nodes);

}  // namespace aisbx::stage
