// `--check`: the profile linted against the real filesystem, nothing run.
// Each finding names a path, what is wrong there, how much it matters, and
// the profile line that fixes it. Exit status: 1 when a finding is an error
// (or, with --strict, a warning), else 0 (125 stays the launcher's own
// failure: a bad profile never gets this far).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"

namespace aisbx::check {

// How much a finding matters.
enum class Severity {
  info,     // worth knowing; the run is as the profile says (a link that leads
            // nowhere on the host either, advice about how the profile is written)
  warning,  // the run starts, but something in it will not work or is wider
            // than it looks (a link leaving every root, a missing root, a mount)
  error,    // the run would fail (command, interpreter, library, working
            // directory), or a secret is reachable
};

const char* to_string(Severity s);

struct Finding {
  // symlink | mount | missing | overlap | cwd | command | interpreter |
  // library | home | git | network | warning | note
  std::string kind;
  std::string path;
  std::string problem;
  std::string fix;  // the profile line to add or change; "" if none applies
  Severity severity = Severity::warning;
};

// How much of one root the symlink scan looked at.
struct RootScan {
  std::string root;
  std::size_t scanned = 0;      // entries examined
  std::size_t not_scanned = 0;  // entries past the limit, counted by name only
  bool count_capped = false;    // not_scanned is a lower bound
  std::size_t unreadable = 0;   // directories the caller cannot list
};

struct Report {
  std::vector<Finding> findings;
  std::vector<RootScan> scans;
  // What was not checked, and why; what was seen but is no finding.
  std::vector<std::string> notes;
};

struct Limits {
  std::size_t entries_per_root = 50'000;
  // Past the limit, names are still counted (no lstat, no readlink), up to
  // this many, to say how much was left out.
  std::size_t count_per_root = 1'000'000;
};

// Runs every check of the Plan against this host; `fs` is the real one.
// An Error only when the check itself cannot work (mountinfo unreadable).
Expected<Report> run(const plan::Plan& plan, const Fs& fs, const Limits& limits = {});

std::string render_text(const plan::Plan& plan, const Report& report);
std::string render_json(const plan::Plan& plan, const Report& report);

// 1 with an error finding, or with a warning when `strict`; else 0.
int exit_status(const Report& report, bool strict = false);

}  // namespace aisbx::check
