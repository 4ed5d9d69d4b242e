// The run store: ~/.ai-sandbox/runs/<name>/{meta,upper,work}, kept by
// --overlay runs and read by the host commands (runs, diff, commit,
// discard). Everything in it is opened from the real HOME down, one
// component at a time with O_NOFOLLOW: a run directory is never reached
// through a link.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/sys/fd.h"
#include "runs/changes.h"

namespace aisbx::runs {

// What a run recorded when it started (the `meta` file, `key value` lines,
// values with control characters escaped).
struct Meta {
  std::string name;
  std::string project;  // canonical path of the real project
  // The overlaid roots (lower dirs), canonical, the project first when it
  // is one; root i keeps its writes in plan::run_layer_dir("upper", i).
  // A run that names none overlaid the project alone.
  std::vector<std::string> roots;
  std::string profile;
  std::string mode;
  std::string command;  // shell words
  // CLOCK_REALTIME_COARSE, the clock file timestamps come from: a project
  // file whose ctime is not before this changed while (or after) the run
  // ran, and commit refuses to overwrite it.
  std::int64_t started_sec = 0;
  std::int64_t started_nsec = 0;
  std::string started_utc;  // for people
};

struct RunDir {
  sys::UniqueFd dir;  // the run directory, O_RDONLY | O_DIRECTORY
  Meta meta;
  // The runs directory holding it (create_run): the launcher removes a run
  // whose sandbox could not be built through it, since by then it shares
  // the sandbox's mount namespace and no longer sees the host's paths.
  sys::UniqueFd runs = sys::UniqueFd();
};

// Before the namespaces: makes the run directory 0700 (refusing one that
// exists, or a link on the way), its upper and work dirs and its meta file,
// and returns it flock()ed: commit and discard refuse while the run lives.
Expected<RunDir> create_run(const plan::Plan& p, const std::string& command);

// The runs directory of `real_home`, or an invalid fd when there is none.
Expected<sys::UniqueFd> open_runs_dir(const std::string& real_home, bool must_exist);
// An existing run, named as the user typed it (validated first).
Expected<RunDir> open_run(const std::string& real_home, const std::string& name);
// Takes the run's lock without waiting: an error when a sandbox still uses it.
Expected<void> lock_run(const RunDir& run);
// The run's overlaid root `i` (every component O_NOFOLLOW: a link put on
// the way since the run refuses) and its upper dir.
Expected<sys::UniqueFd> open_root(const Meta& m, std::size_t i);
Expected<sys::UniqueFd> open_upper(const RunDir& run, std::size_t i);
// The run's start and the directories of root `i` its earlier commits
// wrote in (the `committed` file of the root, run_layer_dir("committed",
// i): `SEC NSEC PATH` lines, PATH escaped, "" for the root itself), for
// changed_since().
Expected<Baseline> read_baseline(const RunDir& run, std::size_t i);
// Adds `dirs` (relative to root `i`) with their ctime now to its
// `committed` file, replaced atomically.
Expected<void> record_committed(const RunDir& run, std::size_t i, int root,
                                const std::vector<std::string>& dirs);
// Every run, by name.
Expected<std::vector<std::string>> run_names(const std::string& real_home);

// Removes `name` (a directory tree) below `dirfd` without following any
// link: entries are unlinked, directories entered with O_NOFOLLOW (and made
// searchable first: overlayfs leaves work/work mode 000).
Expected<void> remove_tree(int dirfd, const std::string& name, const std::string& shown);

std::string escape(const std::string& s);

}  // namespace aisbx::runs
