// The pieces resolve() is made of, one per wall. Internal to src/plan.
#pragma once

#include <string>
#include <vector>

#include "aisbx/plan.h"
#include "plan/expand.h"

namespace aisbx::plan {

// One path of an access_roots group, expanded and resolved on the host.
struct Root {
  std::string group;
  std::string path;       // canonical (symlinks resolved)
  std::string link_path;  // the path as written, if it was a symlink; else ""
  bool is_dir = true;
  AccessMask granted = 0;  // the group's permissions
  profile::Where where;
  bool git_common = false;  // added by `git: worktree`: the repository's .git
  bool git_added = false;   // added by `git: worktree` (gitdir or common dir)
  // A symlinked path whose target another root already grants with at least
  // these rights (/etc/localtime -> /usr/share/zoneinfo/... with /usr a
  // root): only the link is recreated; no mount, no rule of its own, which
  // would grant the target less than its surroundings in one wall only.
  bool link_only = false;
};

struct Context {
  const Inputs& in;
  Vars vars;
  Plan& plan;
  // Something a run must say every time: a wall degraded, a request not
  // honoured. Advice about how the profile is written is a note().
  void warn(std::string w) { plan.warnings.push_back(std::move(w)); }
  // Advice: shown by --dry-run and --check, printed by a run only at
  // log_level info or debug.
  void note(std::string n) { plan.notes.push_back(std::move(n)); }
};

// What a project's `.git` file (`gitdir: PATH`) may add, judged by
// check_git_link() (git_link.cc): the gitdir and its common dir, or why not.
struct GitGuards {
  std::string real_home;     // canonical
  std::string private_home;  // canonical, "" = none
};
struct GitLink {
  bool ok = false;
  bool missing = false;  // the gitdir does not exist
  std::string why;       // when !ok: what is wrong, after "the gitdir `X` "
  std::string gitdir;    // canonical
  std::string common;    // canonical; == gitdir for a submodule
};
// `project` is canonical; `gitdir` as written in the `.git` file.
GitLink check_git_link(const Fs& fs, const std::string& project, const std::string& gitdir,
                       const GitGuards& guards);

// Sets plan.ns.net, which every wall reads.
Expected<void> plan_net(Context& cx);
// net_plan.cc: the allowlist's share of plan_net (the sandbox gets its own
// network namespace), then, once the walls and the environment are
// planned, the allowlist itself (plan.net, proxy variables).
Expected<void> plan_net_allow_mode(Context& cx);
Expected<void> plan_net_allow(Context& cx);
Expected<std::vector<Root>> collect_roots(Context& cx);
// Sets plan.ns.home (home_plan.cc): before the roots (git: worktree keeps
// it out of them) and the walls, which grant it.
Expected<void> plan_home(Context& cx);
// Refuses a private HOME inside a writable root, once the roots are known.
Expected<void> check_home_outside_roots(Context& cx, const std::vector<Root>& roots);
Expected<void> plan_landlock(Context& cx, const std::vector<Root>& roots);
Expected<void> plan_namespace(Context& cx, const std::vector<Root>& roots);
// Built-in masks (src/plan/masks.cc) beneath the roots, appended to `out`.
Expected<void> collect_home_masks(Context& cx, const std::vector<Root>& roots,
                                  std::vector<ProtectedPath>& out);
// Git metadata of every repository in a writable root, appended to `out`.
Expected<void> collect_git_meta(Context& cx, const std::vector<Root>& roots,
                                std::vector<ProtectedPath>& out);
inline ProtectedPath protected_path(std::string path, bool deny, FileKind kind,
                                    std::string group) {
  ProtectedPath p;
  p.path = std::move(path);
  p.deny = deny;
  p.kind = kind;
  p.group = std::move(group);
  return p;
}
// Adds `p` unless its path is already there (a deny wins over a readonly);
// a symlink is recorded as such, and its target, when a root holds it,
// is protected in its place.
void add_protected(Context& cx, const std::vector<Root>& roots,
                   std::vector<ProtectedPath>& out, ProtectedPath p);
// After the namespace and Landlock parts: masks or splits around them.
Expected<void> plan_protected(Context& cx, const std::vector<Root>& roots);
// --overlay (run_plan.cc): the project's bind becomes an overlay whose
// upper dir is a run's; after plan_protected, whose binds beneath it then
// come from the merged view.
Expected<void> plan_run(Context& cx, const std::vector<Root>& roots);
Expected<void> plan_seccomp(Context& cx);
// After plan_namespace: which wall exists decides what enforces a limit.
Expected<void> plan_limits(Context& cx);
// `roots` as the profile grants them (before any split around protected
// paths): in landlock mode, where the command may start.
Expected<void> plan_exec(Context& cx, const std::vector<Root>& roots);
// desktop_plan.cc: `desktop:` (display, GPU, shm, audio), after plan_exec
// (its variables pass whatever env_policy drops).
Expected<void> plan_desktop(Context& cx);
// agent_hints_plan.cc: what a known agent CLI will meet that it cannot say
// clearly itself (codex's daemon in landlock mode); after plan_desktop.
void plan_agent_hints(Context& cx);
void plan_status(Plan& plan, const Features& f);
// process_plan.cc: how a run without the namespace wall is ended, and its
// status line.
void plan_processes(Plan& plan, const Features& f);
// After every rule (implicit ones too) is known.
void warn_never_granted(Context& cx);
// Last: what planning saw at each path a stage opens (identity_plan.cc).
void plan_identities(Context& cx);

// Rights every sandbox-owned tree gets from the Landlock wall.
AccessMask implicit_proc_rights();
AccessMask implicit_dev_rights();

}  // namespace aisbx::plan
