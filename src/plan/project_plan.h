// Which directory is the project (${PROJECT}), and which directories never
// are without being asked for by name: /, HOME, its ancestors and the
// system's own directories. A sandbox "of the project" started in one of
// them would be handed the user's keys or the whole disk.
#pragma once

#include <optional>
#include <string>

#include "aisbx/error.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/profile.h"

namespace aisbx::plan {

enum class ProjectSource { option, git, cwd };

struct ProjectChoice {
  std::string path;  // ${PROJECT}
  ProjectSource source = ProjectSource::cwd;
  // The run must not go on (the plan is still made, for inspection).
  std::optional<Error> refusal;
  // --allow-wide-project was used for a directory that needs it.
  std::optional<std::string> warning;
};

// Why the real path `real` is too wide to be a project: "the root
// directory", "your home directory", "an ancestor of your home directory
// `/home/u`", "a system directory"; nullopt when it may be one.
// `real_home` is HOME with symlinks resolved ("" when unknown).
std::optional<std::string> too_wide_for_a_project(const std::string& real,
                                                  const std::string& real_home);

// The closest directory at or above `real_dir` that holds a `.git`
// (a directory, or a `gitdir:` file of a worktree or submodule).
std::optional<std::string> git_top(const std::string& real_dir, const Fs& fs);

// --project if given (refused when too wide, unless --allow-wide-project);
// else the top of the git work tree holding the cwd when that top may be a
// project; else the cwd, refused when too wide and `uses_project` (a
// profile that never names ${PROJECT}, such as the spec's copilot-backend
// with its fixed paths, hands nothing over from HOME).
ProjectChoice choose_project(const Options& o, const HostFacts& host, const Fs& fs,
                             bool uses_project = true);

// A profile that names `${CWD}` hands the launcher's working directory to
// the sandbox as it is: refused (or, with --allow-wide-project, warned
// about) in `c` when that directory is too wide, as an implicit project is.
void check_cwd_variable(const Options& o, const HostFacts& host, const Fs& fs, ProjectChoice& c);

// Whether any path or variable of the profile names `${NAME}`.
bool profile_uses(const profile::Profile& p, const std::string& name);

const char* to_string(ProjectSource s);

}  // namespace aisbx::plan
