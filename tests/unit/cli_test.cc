// parse_cli(): the command line into Options, or an exit status after
// CLI11 printed help, version or a usage error (DESIGN.md, "Command line").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aisbx/options.h"

namespace aisbx {
namespace {

using Strings = std::vector<std::string>;

// Runs parse_cli on `args` (args[0] is the program name), keeping what
// CLI11 prints out of the test log.
struct CliRun {
  ParsedCli parsed;
  std::string out;
  std::string err;
};

CliRun parse(const Strings& args) {
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CliRun r;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  r.parsed = parse_cli(static_cast<int>(argv.size()), argv.data());
  r.err = ::testing::internal::GetCapturedStderr();
  r.out = ::testing::internal::GetCapturedStdout();
  return r;
}

// Parses and requires that the launcher goes on (no exit_now).
Options options(const Strings& args) {
  CliRun r = parse(args);
  EXPECT_FALSE(r.parsed.exit_now.has_value())
      << "exit " << r.parsed.exit_now.value_or(-1) << "; stderr: " << r.err;
  return r.parsed.options;
}

int exit_status(const Strings& args) {
  CliRun r = parse(args);
  EXPECT_TRUE(r.parsed.exit_now.has_value()) << "parsed without exiting";
  return r.parsed.exit_now.value_or(-1);
}

TEST(Cli, Defaults) {
  const Options o = options({"aisbx-ns"});
  EXPECT_EQ(o.mode, Mode::layered);
  EXPECT_FALSE(o.mode_given);
  EXPECT_FALSE(o.profile.has_value());
  EXPECT_FALSE(o.config.has_value());
  EXPECT_FALSE(o.require_landlock.has_value());
  EXPECT_FALSE(o.dry_run);
  EXPECT_FALSE(o.print_ruleset);
  EXPECT_EQ(o.format, Format::text);
  EXPECT_TRUE(o.ro.empty());
  EXPECT_TRUE(o.rw.empty());
  EXPECT_TRUE(o.env.empty());
  EXPECT_TRUE(o.keep_fds.empty());
  EXPECT_TRUE(o.command.empty());
}

TEST(Cli, ProfileLongAndShort) {
  EXPECT_EQ(options({"aisbx-ns", "--profile", "copilot-backend"}).profile,
            "copilot-backend");
  EXPECT_EQ(options({"aisbx-ns", "-p", "minimal"}).profile, "minimal");
  EXPECT_EQ(options({"aisbx-ns", "--profile=vscode-copilot"}).profile, "vscode-copilot");
}

TEST(Cli, EveryMode) {
  const struct {
    const char* name;
    Mode mode;
  } cases[] = {{"landlock", Mode::landlock},
               {"ns", Mode::ns},
               {"layered", Mode::layered},
               {"strict", Mode::strict}};
  for (const auto& c : cases) {
    const Options o = options({"aisbx-ns", "--mode", c.name});
    EXPECT_EQ(o.mode, c.mode) << c.name;
    EXPECT_TRUE(o.mode_given) << c.name;
  }
}

TEST(Cli, BadModeIsAUsageError) {
  CliRun r = parse({"aisbx-ns", "--mode", "paranoid"});
  ASSERT_TRUE(r.parsed.exit_now.has_value());
  EXPECT_EQ(*r.parsed.exit_now, 125);
  EXPECT_FALSE(r.err.empty());  // CLI11 says why
}

// A usage error is one line in the launcher's form, naming what was wrong,
// and a hint; a flag given a value says so in words.
TEST(Cli, AUsageErrorNamesWhatWasWrongInOneLine) {
  CliRun r = parse({"aisbx-ns", "--overlay=copy", "--profile", "agent"});
  ASSERT_TRUE(r.parsed.exit_now.has_value());
  EXPECT_EQ(*r.parsed.exit_now, 125);
  EXPECT_TRUE(r.err.starts_with("aisbx-ns: error: `--overlay = copy`: not a value this option "
                                "takes\n  hint: "))
      << r.err;
  r = parse({"aisbx-ns", "--no-such-option"});
  EXPECT_EQ(r.parsed.exit_now.value_or(-1), 125);
  EXPECT_TRUE(r.err.starts_with("aisbx-ns: error: ")) << r.err;
  EXPECT_NE(r.err.find("--no-such-option"), std::string::npos) << r.err;
  r = parse({"aisbx-ns", "diff"});
  EXPECT_EQ(r.parsed.exit_now.value_or(-1), 125);
  EXPECT_TRUE(r.err.starts_with("aisbx-ns: error: RUN is required")) << r.err;
}

TEST(Cli, RequireLandlock) {
  EXPECT_EQ(options({"aisbx-ns", "--require-landlock"}).require_landlock, 1);
  EXPECT_EQ(options({"aisbx-ns", "--require-landlock=3"}).require_landlock, 3);
  // Alone before other options, it does not swallow the next argument.
  const Options o = options({"aisbx-ns", "--require-landlock", "--dry-run", "-p", "x"});
  EXPECT_EQ(o.require_landlock, 1);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.profile, "x");
}

TEST(Cli, DryRunAndPrintRuleset) {
  EXPECT_TRUE(options({"aisbx-ns", "--dry-run"}).dry_run);
  const Options o = options({"aisbx-ns", "--print-ruleset", "--format", "json"});
  EXPECT_TRUE(o.print_ruleset);
  EXPECT_FALSE(o.dry_run);
  EXPECT_EQ(o.format, Format::json);
  EXPECT_EQ(options({"aisbx-ns", "--print-ruleset", "--format", "text"}).format,
            Format::text);
  EXPECT_EQ(exit_status({"aisbx-ns", "--print-ruleset", "--format", "yaml"}), 125);
}

TEST(Cli, RepeatedRoAndRw) {
  const Options o = options(
      {"aisbx-ns", "--ro", "/usr", "--rw", "out", "--ro", "/etc/ssl", "--rw", "/tmp/x"});
  EXPECT_EQ(o.ro, (Strings{"/usr", "/etc/ssl"}));
  EXPECT_EQ(o.rw, (Strings{"out", "/tmp/x"}));
}

TEST(Cli, Env) {
  const Options o =
      options({"aisbx-ns", "--env", "K=V", "--env", "URL=a=b", "--env", "EMPTY="});
  using KV = std::pair<std::string, std::string>;
  EXPECT_EQ(o.env, (std::vector<KV>{{"K", "V"}, {"URL", "a=b"}, {"EMPTY", ""}}));
}

TEST(Cli, BadEnvIsAUsageError) {
  for (const char* bad : {"NOVALUE", "=value"}) {
    CliRun r = parse({"aisbx-ns", "--env", bad});
    ASSERT_TRUE(r.parsed.exit_now.has_value()) << bad;
    EXPECT_EQ(*r.parsed.exit_now, 125) << bad;
    EXPECT_NE(r.err.find(bad), std::string::npos) << "stderr: " << r.err;
  }
}

TEST(Cli, KeepFd) {
  EXPECT_EQ(options({"aisbx-ns", "--keep-fd", "5"}).keep_fds, (std::vector<int>{5}));
  EXPECT_EQ(options({"aisbx-ns", "--keep-fd", "5", "--keep-fd", "9"}).keep_fds,
            (std::vector<int>{5, 9}));
}

TEST(Cli, OtherOverrides) {
  const Options o = options({"aisbx-ns", "--config", "p.yaml", "--project", "../proj",
                             "--net", "none", "--home", "/h", "--log-level", "debug"});
  EXPECT_EQ(o.config, "p.yaml");
  EXPECT_EQ(o.project, "../proj");
  EXPECT_EQ(o.net, "none");
  EXPECT_EQ(o.home, "/h");
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(exit_status({"aisbx-ns", "--net", "everything"}), 125);
}

TEST(Cli, EverythingAfterDoubleDashIsTheCommand) {
  const Options o = options({"aisbx-ns", "-p", "x", "--", "ls", "--all"});
  EXPECT_EQ(o.profile, "x");
  EXPECT_EQ(o.command, (Strings{"ls", "--all"}));

  const Options opts_like = options({"aisbx-ns", "--", "--dry-run", "-p", "y",
                                     "--require-landlock", "--help", "--", "z"});
  EXPECT_EQ(opts_like.command,
            (Strings{"--dry-run", "-p", "y", "--require-landlock", "--help", "--", "z"}));
  EXPECT_FALSE(opts_like.dry_run);
  EXPECT_FALSE(opts_like.profile.has_value());
  EXPECT_FALSE(opts_like.require_landlock.has_value());
}

TEST(Cli, StrayArgumentWithoutDoubleDashIsAUsageError) {
  EXPECT_EQ(exit_status({"aisbx-ns", "-p", "x", "ls"}), 125);
  EXPECT_EQ(exit_status({"aisbx-ns", "--no-such-option"}), 125);
}

TEST(Cli, InvokedAsAiSandboxLandlockMeansLandlockMode) {
  for (const char* argv0 : {"ai-sandbox-landlock", "/usr/local/bin/ai-sandbox-landlock",
                            "./ai-sandbox-landlock"}) {
    const Options o = options({argv0, "-p", "minimal", "--", "cat", "README.md"});
    EXPECT_EQ(o.mode, Mode::landlock) << argv0;
    EXPECT_FALSE(o.mode_given) << argv0;
  }
  const Options given = options({"/opt/bin/ai-sandbox-landlock", "--mode", "ns"});
  EXPECT_EQ(given.mode, Mode::ns);
  EXPECT_EQ(options({"/usr/bin/aisbx-ns"}).mode, Mode::layered);
  // Only the name counts, not a directory that happens to be called so.
  EXPECT_EQ(options({"/ai-sandbox-landlock/aisbx-ns"}).mode, Mode::layered);
}

TEST(Cli, HelpAndVersionExitZero) {
  CliRun help = parse({"aisbx-ns", "--help"});
  ASSERT_TRUE(help.parsed.exit_now.has_value());
  EXPECT_EQ(*help.parsed.exit_now, 0);
  EXPECT_NE(help.out.find("--profile"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--require-landlock"), std::string::npos) << help.out;

  CliRun version = parse({"aisbx-ns", "--version"});
  ASSERT_TRUE(version.parsed.exit_now.has_value());
  EXPECT_EQ(*version.parsed.exit_now, 0);
  EXPECT_NE(version.out.find("aisbx-ns"), std::string::npos) << version.out;
}

}  // namespace
}  // namespace aisbx
