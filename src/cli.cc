#include <CLI/CLI.hpp>
#include <cstdio>
#include <string_view>

#include "aisbx/options.h"
#include "aisbx/profile.h"

namespace aisbx {
namespace {

constexpr const char* kExamples = R"(Examples:
  aisbx-ns --profile copilot-backend -- node server.js
      run a node server that can read the current project and nothing of HOME
  aisbx-ns --config ai-sandbox-landlock.yaml --profile vscode-copilot -- code .
  aisbx-ns --profile agent --dry-run -- sh
      print what the sandbox would do, run nothing
  aisbx-ns --profile minimal --print-ruleset --format json
  aisbx-ns --profile agent --check -- node server.js
      what the sandbox would lack: escaping symlinks, mounts inside roots,
      the command, its loader and libraries, HOME (exit 1 if anything)
  aisbx-ns --mode strict --profile build -- make -j2
      both walls and seccomp, or refuse to run
  aisbx-ns --trace --profile copilot-backend -- sh -c 'cat ~/.ssh/id_rsa; ls /etc'
      run it, then list what the sandbox refused: which wall, and the
      profile line that would allow it (--trace-output FILE --format json)
  aisbx-ns learn --profile copilot-backend -o learned.yaml -- make
      run it traced, then write a profile that extends copilot-backend with
      what it needed, each line saying what used it; secret stores (~/.ssh,
      ~/.gnupg, ~/.aws, keyrings) only commented out, under a WARNING line;
      then: aisbx-ns --config learned.yaml --profile copilot-backend-learned -- make
  aisbx-ns --overlay --run fix --profile agent -- sh
      the project is writable inside, but its writes are kept in the run `fix`:
      aisbx-ns diff fix, then aisbx-ns commit fix [PATH...] or discard fix
  ai-sandbox-landlock --profile copilot-backend -- cat README.md
      Landlock alone, supervised (the same as --mode landlock)

Project and working directory: the project is --project DIR, else the top of
the git work tree holding the current directory, else the current directory;
never /, HOME, an ancestor of HOME or a system directory (exit 125; with
--project, unless --allow-wide-project). A command after `--` starts in the
current directory when the sandbox shows it, else in command.working_dir,
else aisbx-ns refuses (exit 125); --chdir DIR overrides. The profile's own
command starts in its working_dir. --dry-run, --print-ruleset and --check
work from any directory: a run that would be refused ends the output with
`would refuse: ...` and exits 125 (--check: 1).

Exit status: the command's own; 128+N if it died of signal N; 125 if aisbx-ns
itself failed (usage, profile, sandbox set-up); 126 command not executable;
127 command not found.)";

// Parses `args`; on --help or --version sets exit_now to CLI11's status,
// on a usage error prints one line in the launcher's own form (what CLI11
// found, then where to look) and sets exit_now to 125.
void parse_or_exit(CLI::App& app, const std::vector<const char*>& args, ParsedCli& out) {
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::Success& e) {
    out.exit_now = app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    // "Could not convert: --overlay = copy": a flag given a value it does
    // not take, or an option given one it cannot read.
    if (constexpr std::string_view conv = "Could not convert: "; what.starts_with(conv))
      what = "`" + what.substr(conv.size()) + "`: not a value this option takes";
    std::fprintf(stderr, "aisbx-ns: error: %s\n  hint: --help lists the options and their values\n",
                 what.c_str());
    out.exit_now = kExitLauncherFailure;
  }
}

// `aisbx-ns runs|diff|commit|discard ...`: host commands about the runs
// --overlay keeps (src/runs/). Their own small parsers, so that --help
// shows only what applies.
ParsedCli parse_runs_cli(int argc, const char* const* argv, const std::string& invoked_as) {
  ParsedCli out;
  RunsCommand c;
  c.verb = argv[1];
  CLI::App app{"", invoked_as + " " + c.verb};
  if (c.verb == "runs") {
    app.description("List the runs kept by --overlay: name, start, profile, size of the "
                    "changes, project, command");
  } else {
    app.add_option("RUN", c.name, "The run (see `" + invoked_as + " runs`)")->required();
    if (c.verb == "diff") {
      app.description("Show what a run changed in its project: one line per path, then a "
                      "unified diff of each text file");
      app.add_flag("--stat", c.stat, "Only the list of changed paths");
    } else if (c.verb == "commit") {
      app.description("Apply a run's changes to the real project, atomically per file; a path "
                      "changed on the host since the run started is refused");
      app.add_option("PATH", c.paths, "Only these paths (and what lies below them)");
    } else {
      app.description("Remove a run and everything it kept");
    }
  }
  std::vector<const char*> args{argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  parse_or_exit(app, args, out);
  if (out.exit_now) return out;
  out.options.runs = std::move(c);
  return out;
}

std::string basename_of(std::string_view p) {
  const auto slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

}  // namespace

const char* to_string(Mode m) {
  switch (m) {
    case Mode::layered: return "layered";
    case Mode::strict: return "strict";
    case Mode::landlock: return "landlock";
    case Mode::ns: return "ns";
  }
  return "?";
}

ParsedCli parse_cli(int argc, const char* const* argv) {
  ParsedCli out;
  Options& o = out.options;
  const std::string invoked_as = argc > 0 ? basename_of(argv[0]) : "aisbx-ns";
  if (argc > 1) {
    const std::string_view verb = argv[1];
    if (verb == "runs" || verb == "diff" || verb == "commit" || verb == "discard")
      return parse_runs_cli(argc, argv, invoked_as);
  }

  // Split at the first `--`: what follows is the command, never options of
  // ours. `--require-landlock` alone means ABI 1 (the `=ABI` form is optional,
  // which CLI11 cannot express without also eating the next argument).
  std::vector<std::string> own;
  int i = 1;
  // `aisbx-ns learn [options] -- CMD`: the same options, traced, and -o.
  if (argc > 1 && std::string_view(argv[1]) == "learn") {
    o.learn = true;
    i = 2;
  }
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    own.emplace_back(a == "--require-landlock" ? "--require-landlock=1" : std::string(a));
  }
  for (; i < argc; ++i) o.command.emplace_back(argv[i]);

  CLI::App app{
      "Run a tool so that it sees only the project and what its profile allows:\n"
      "a user+mount namespace and Landlock built from one YAML profile.\n"
      "  " + invoked_as + " [options] --profile NAME [-- CMD [ARGS...]]\n"
      "  " + invoked_as + " learn --profile NAME [--config FILE] [-o FILE] -- CMD: run CMD\n"
      "      traced, write a profile extending NAME with what it needed\n"
      "  " + invoked_as + " runs | diff RUN | commit RUN [PATH...] | discard RUN:\n"
      "      review what an --overlay run wrote, apply it to the project or drop it",
      invoked_as};
  app.footer(kExamples);
  app.set_version_flag("--version", std::string("aisbx-ns ") + AISBX_VERSION);
  app.get_formatter()->column_width(34);

  std::string mode;
  std::string format = "text";
  app.add_option("--config", o.config, "Profile file (default: $AISBX_CONFIG, "
                 "$XDG_CONFIG_HOME/aisbx/profiles.yaml, /etc/aisbx/profiles.yaml, built-in)");
  app.add_option("-p,--profile", o.profile, "Profile to use");
  app.add_option("--mode", mode, "landlock | ns | layered (default) | strict")
      ->check(CLI::IsMember({"landlock", "ns", "layered", "strict"}));
  app.add_option("--require-landlock", o.require_landlock,
                 "Refuse to run unless Landlock is applied (at least ABI N with =N)")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--dry-run", o.dry_run, "Print the plan, run nothing");
  app.add_flag("--print-ruleset", o.print_ruleset, "Print the Landlock ruleset, run nothing");
  auto* check = app.add_flag(
      "--check", o.check,
      "Lint the profile against this filesystem, run nothing (exit 1 on an error finding)");
  app.add_flag("--strict", o.strict, "With --check: exit 1 on a warning finding too")
      ->needs(check);
  app.add_option("--format", format,
                 "Output of --dry-run/--print-ruleset/--check/--features: text|json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--features", o.features, "What this kernel supports, and why not");
  app.add_flag("--list-profiles", o.list_profiles, "Profiles and where each comes from");
  app.add_option("--project", o.project,
                 "Sets ${PROJECT} (default: the top of the git work tree holding the current "
                 "directory, else the current directory; never /, HOME, an ancestor of HOME "
                 "or a system directory)");
  app.add_flag("--allow-wide-project", o.allow_wide_project,
               "Let --project name /, HOME, an ancestor of HOME or a system directory, and a "
               "profile naming ${CWD} run from one (the sandbox gets all of it; a warning "
               "says so)");
  app.add_option("--chdir", o.chdir,
                 "Start the command in DIR, which must be visible in the sandbox (default: "
                 "the current directory if visible, else command.working_dir)");
  app.add_option("--ro", o.ro, "Add a read-only root (read, list, execute)");
  app.add_option("--rw", o.rw, "Add a read-write root (every right)");
  app.add_option("--net", o.net, "Network: host | none | loopback")
      ->check(CLI::IsMember({"host", "none", "loopback"}));
  app.add_option("--home", o.home, "Private HOME directory (created 0700)");
  std::vector<std::string> env;
  app.add_option("--env", env, "Set a variable in the sandbox: NAME=VALUE");
  app.add_option("--log-level", o.log_level, "error | warn | info | debug")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
  app.add_option("--seccomp", o.seccomp, "off | default: override the profile's seccomp")
      ->check(CLI::IsMember({"off", "default"}));
  app.add_option("--keep-fd", o.keep_fds, "Pass this open fd to the command (Landlock mode)")
      ->check(CLI::Range(3, 1 << 20));
  app.add_flag("--trace", o.trace,
               "Record every access the sandbox refuses (which wall, the profile line that "
               "allows it); summary on stderr when the command exits");
  app.add_option("--trace-output", o.trace_output,
                 "Write the --trace summary to FILE (--format json for tools)");
  app.add_flag("--overlay", o.overlay,
               "Writes to the project go to a run kept in ~/.ai-sandbox/runs/RUN for review "
               "(diff, commit, discard); the project is unchanged until commit");
  app.add_option("--run", o.run_name, "With --overlay: the run's name (default: the time and "
                 "a random suffix, printed when the command ends)");
  app.add_option("-o,--output", o.learn_output,
                 "learn: write the proposed profile to FILE (default: stdout)");

  std::vector<const char*> args;
  args.push_back(argc > 0 ? argv[0] : "aisbx-ns");
  for (const auto& s : own) args.push_back(s.c_str());
  parse_or_exit(app, args, out);
  if (out.exit_now) return out;

  if (!mode.empty()) {
    o.mode_given = true;
    o.mode = mode == "landlock" ? Mode::landlock
             : mode == "ns"     ? Mode::ns
             : mode == "strict" ? Mode::strict
                                : Mode::layered;
  } else if (invoked_as == "ai-sandbox-landlock") {
    o.mode = Mode::landlock;  // the spec's tool: Landlock alone
  }
  o.format = format == "json" ? Format::json : Format::text;
  if (o.learn_output && !o.learn) {
    std::fprintf(stderr, "%s: error: -o/--output is for `%s learn`\n", invoked_as.c_str(),
                 invoked_as.c_str());
    out.exit_now = kExitLauncherFailure;
    return out;
  }
  if (o.trace_output) o.trace = true;
  // A path with a control character is never what the user meant, and
  // the kernel would cut it at a NUL.
  const auto bad_path = [&](const char* option, const std::string& path) {
    const auto bad = profile::path_text_problem(path);
    if (bad)
      std::fprintf(stderr, "%s: error: %s `%s`: %s\n", invoked_as.c_str(), option,
                   profile::escaped_path(path).c_str(), bad->c_str());
    return bad.has_value();
  };
  bool refused = false;
  for (const auto& [option, value] :
       {std::pair{"--project", &o.project}, {"--chdir", &o.chdir}, {"--home", &o.home}})
    if (*value) refused = bad_path(option, **value) || refused;
  for (const auto& [option, values] : {std::pair{"--ro", &o.ro}, {"--rw", &o.rw}})
    for (const auto& v : *values) refused = bad_path(option, v) || refused;
  if (refused) {
    out.exit_now = kExitLauncherFailure;
    return out;
  }
  for (const auto& kv : env) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "%s: error: --env `%s`: expected NAME=VALUE\n", invoked_as.c_str(),
                   kv.c_str());
      out.exit_now = kExitLauncherFailure;
      return out;
    }
    o.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

}  // namespace aisbx
