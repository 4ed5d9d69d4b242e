// Options: the command line, parsed by CLI11 and nothing more.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aisbx/error.h"

namespace aisbx {

enum class Mode { layered, strict, landlock, ns };
enum class Format { text, json };

// `aisbx-ns runs|diff|commit|discard`: commands on the host, outside any
// sandbox, about the runs kept by --overlay (src/runs/).
struct RunsCommand {
  std::string verb;                // runs, diff, commit, discard
  std::string name;                // the run (not for `runs`)
  std::vector<std::string> paths;  // commit: only these (and what lies below)
  bool stat = false;               // diff --stat
};

struct Options {
  std::optional<std::string> config;
  std::optional<std::string> profile;
  Mode mode = Mode::layered;
  bool mode_given = false;
  // Minimum ABI Landlock must reach; nullopt = best effort.
  std::optional<int> require_landlock;

  bool dry_run = false;
  bool print_ruleset = false;
  Format format = Format::text;
  bool check = false;
  bool strict = false;  // --check fails on warnings too
  bool features = false;
  bool list_profiles = false;
  bool version = false;

  std::optional<std::string> project;
  // --allow-wide-project: --project may name /, HOME, an ancestor of HOME
  // or a system directory (the sandbox then gets all of it).
  bool allow_wide_project = false;
  // --chdir DIR: where the command starts (it must be visible inside).
  std::optional<std::string> chdir;
  std::vector<std::string> ro, rw;
  std::optional<std::string> net;
  std::optional<std::string> home;
  std::vector<std::pair<std::string, std::string>> env;
  std::optional<std::string> log_level;
  std::optional<std::string> seccomp;  // off | default
  std::vector<int> keep_fds;

  // --trace: record what the sandbox refuses, summarize it at exit.
  bool trace = false;
  std::optional<std::string> trace_output;  // --trace-output FILE
  // `aisbx-ns learn`: run traced, then write a profile allowing it.
  bool learn = false;
  std::optional<std::string> learn_output;  // -o FILE (learn only)

  // --overlay: the project is seen read-write, writes go to a run's upper
  // directory (~/.ai-sandbox/runs/NAME/upper) for review; --run NAME names
  // the run (default: generated at launch).
  bool overlay = false;
  std::optional<std::string> run_name;
  std::optional<RunsCommand> runs;

  std::vector<std::string> command;  // after `--`
};

// What the parser decided: run with options, or exit now with a status
// after CLI11 printed help/version/usage errors itself.
struct ParsedCli {
  Options options;
  std::optional<int> exit_now;
};

// `argv0_name` is the name the binary was invoked as: "ai-sandbox-landlock"
// selects --mode landlock, the spec's behaviour.
ParsedCli parse_cli(int argc, const char* const* argv);

const char* to_string(Mode m);

}  // namespace aisbx
