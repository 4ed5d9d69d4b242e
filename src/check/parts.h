// The pieces `--check` is made of, one file each. Internal to src/check.
#pragma once

#include <string>
#include <vector>

#include "aisbx/check.h"
#include "aisbx/oracle.h"
#include "check/elf.h"

namespace aisbx::check {

// A path the profile makes visible and grants rights on: every root of a
// group (as its Landlock rule records it, in every mode) and the private HOME.
struct Root {
  std::string path;
  std::string group;  // the first group naming it
  bool is_dir = true;
  bool writable = false;  // the group grants a write right
};

std::vector<Root> plan_roots(const plan::Plan& plan);
// The deepest root holding `path`, nullptr if none.
const Root* root_holding(const std::vector<Root>& roots, const std::string& path);
// A `deny` pattern of the profile covers `path` (in either wall).
bool denied(const plan::Plan& plan, const std::string& path);
// `/usr/lib` -> `/usr`; `/x` -> `/`.
std::string dir_of(const std::string& path);

// The Plan's own findings: its warnings (missing roots among them) and
// roots nested in roots with rights they do not have.
void plan_findings(const plan::Plan& plan, Report& report);

// Landlock mode with /proc (or a part of it) granted: the host's processes
// show (landlock_proc.cc).
void check_landlock_proc(const plan::Plan& plan, Report& report);

// Landlock mode with /dev/pts (or /dev, /) granted: the user's other
// terminals can be opened (landlock_ttys.cc).
void check_landlock_ttys(const plan::Plan& plan, Report& report);

// Symlinks inside the directory roots whose target leaves every root.
void scan_symlinks(const plan::Plan& plan, const plan::Oracle& oracle, const Fs& fs,
                   const Limits& limits, Report& report);

// Mount points inside the roots, from `mountinfo` (libmount).
Expected<void> scan_mounts(const plan::Plan& plan, const std::string& mountinfo,
                           Report& report);

// The command: found in the sandbox's PATH, executable there, and its
// interpreter and libraries loadable.
void check_command(const plan::Plan& plan, const plan::Oracle& oracle, const Fs& fs,
                   Report& report);

// The interpreter and shared libraries of a program the sandbox can reach.
void check_program(const plan::Oracle& oracle, const Fs& fs, const std::string& program,
                   Report& report, int depth = 0);
void check_libraries(const plan::Oracle& oracle, const Fs& fs, const std::string& program,
                     const ElfInfo& info, Report& report);

// HOME: the private one, or the environment's, writable in the sandbox.
void check_home(const plan::Plan& plan, const plan::Oracle& oracle, const Fs& fs,
                Report& report);

// network.allow names that do not resolve here, or only to addresses the
// proxy refuses (net_names.cc).
void check_allow_names(const plan::Plan& plan, Report& report);

// Repositories whose git config runs a command (fsmonitor, hooksPath,
// sshCommand, pager, editor) when git runs there on the host.
void check_git_configs(const plan::Plan& plan, const Fs& fs, Report& report);

}  // namespace aisbx::check
