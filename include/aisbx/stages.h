// The stages: thin syscall code that carries out one part of a Plan each.
// They decide nothing; every choice was made by resolve().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/profile_cache.h"
#include "aisbx/sys/fd.h"

namespace aisbx::stage {

// Test-only (AISBX_TEST_PAUSE_FIFO=PATH, a FIFO): between planning and the
// first stage, waits until the test has written a byte to PATH, so a test
// can change the tree there (a swap the stages must refuse). Once per run;
// does nothing when the variable is unset.
void test_pause_after_planning();

// Creates the private HOME (and missing parents) 0700, as the calling user,
// on the host, walking it with O_NOFOLLOW: refuses a link on the way, and a
// part below ns.home_checked_below that is not a directory of ours or is
// writable by others. `tmpdir`, if not empty, is made inside it 0700 too
// (ExecPlan::tmpdir).
Expected<void> prepare_home(const plan::NamespacePlan& ns, const std::string& tmpdir = {});

// Landlock's part done in init before pivot_root (mount_paths.h):
// `ruleset`, made by build_root, already holds the rule of each bind's own
// root (`added[i]`), added from the source fd the bind opened and compared
// with planning, so the target does not open, stat and close it again;
// `fds[i]` is rule i of LandlockPlan::merged_rules, opened by
// open_merged_rules() in the overlay's merged view (invalid elsewhere).
struct HeldRules {
  sys::UniqueFd ruleset = sys::UniqueFd();
  std::vector<bool> added;
  std::vector<sys::UniqueFd> fds;
};

// PR_SET_NO_NEW_PRIVS, then the ruleset (held.ruleset, or a new one): every
// rule not added yet, its path opened O_PATH (inside the final tree) or
// taken from held.fds, added; restrict_self, ruleset fd closed.
Expected<void> apply_landlock(const plan::LandlockPlan& l, const HeldRules& held = HeldRules());

// Builds the filter without loading it: unknown syscall names fail here,
// before anything runs (and in --dry-run). With `store` and `salt` (the
// binary's identity, DiskTreeStore::parser_salt) the compiled program is
// taken from, or kept in, the profile cache's store.
Expected<void> check_seccomp(const plan::SeccompPlan& s, profile::TreeStore* store = nullptr,
                             std::string_view salt = {});
// --trace: a filter that stops the target on the traced calls
// (SECCOMP_RET_TRACE) and traps the calls `s` denies, for the tracer to
// record and fail with the same errno. Loaded after the tracer attached
// (RET_TRACE without one is ENOSYS) and before apply_seccomp, whose own
// filter stays as it is.
Expected<void> apply_trace_filter(const plan::SeccompPlan& s);
// Loads the filter; last before exec, after Landlock (minijail's order):
// the filter may refuse calls the earlier stages make.
Expected<void> apply_seccomp(const plan::SeccompPlan& s);

// Every fd above 2 is marked close-on-exec, except those in `keep`: fds
// opened before restrict_self keep their rights (spec, security notes).
Expected<void> close_fds_on_exec(const std::vector<int>& keep);

// A new, empty session keyring for the target: the caller's (Kerberos
// tickets, ecryptfs and other keys a login session holds) stays with the
// caller. Before seccomp, which refuses keyctl.
Expected<void> leave_session_keyring();

// The last steps before exec, in the one order every way of running uses:
// Landlock, fds close-on-exec, a new session keyring, the --trace filter
// (when p.trace), the seccomp filter.
Expected<void> restrict_for_exec(const plan::Plan& p, const HeldRules& held = HeldRules());

// After the command ended: what a run created in a protected repository's
// `.git` where no mount could cover it (commondir, hooks,
// config.worktree) is moved aside and reported (src/stages/git_guard.cc).
void quarantine_planted_git_files(const plan::Plan& p);

// Git metadata the namespace wall does not hold (ProtectedPath::restored):
// its content before the command, put back after it (git_restore.cc).
struct GitSnapshot {
  struct File {
    std::string path;
    std::string content;
    mode_t mode = 0;
  };
  struct Dir {
    std::string path;
    std::vector<std::string> names;  // its entries before the command
  };
  struct Pin {
    std::string path;  // a `.git` directory
    FileId id;
  };
  std::vector<File> files;
  std::vector<Dir> dirs;
  std::vector<Pin> pins;
};
GitSnapshot snapshot_git_metadata(const plan::Plan& p);
void restore_git_metadata(const GitSnapshot& s);

// Before the command: what the plan found planted by an earlier run whose
// launcher was killed (p.git_planted) is moved aside the same way; an
// error when it cannot be, so the command never starts beside it.
Expected<void> quarantine_git_planted_at_launch(const plan::Plan& p);

// chdir, environment, execve of p.exec (PATH searched in the Plan's
// environment). Returns only on failure, with exit code 126 or 127 in the
// Error, whose hint names the path and the right the Plan lacks and the
// profile line that would allow it (the Oracle, asked after the fact).
Error exec(const plan::Plan& p);

}  // namespace aisbx::stage
