// The entrance through the real binary (issue 16), as users launch it: from
// HOME, `/`, `/tmp`, the project root and a subdirectory of it, as the
// caller and (when root) as uid 65534, in layered and landlock mode, with
// the built-in `minimal` profile and the spec's file
// (profiles/ai-sandbox-landlock.yaml, whose copilot-backend profile has
// `working_dir: ~/dev/myproj`):
//
// - the implicit project is refused from HOME, `/` and `/tmp` (exit 125,
//   nothing runs); the git top is the project from a subdirectory;
// - `pwd` inside is the cwd when the sandbox shows it, else
//   command.working_dir, else the run is refused; --chdir overrides;
// - --dry-run / --print-ruleset / --check work from every cwd: the plan is
//   printed, `would refuse:` ends it, exit 125 (--check: 1);
// - a NUL or newline in a profile path is an error naming file:line:col,
//   and in --project / --chdir one naming the option: exit 125, nothing
//   runs.
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

std::string real(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr), &std::free);
  return r ? std::string(r.get()) : path;
}

std::string last_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') + 1);
}

class Entrance : public ::testing::TestWithParam<runner::UserMode> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().mode) == "layered")
      AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
    else
      AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-entrance");
    // HOME holds the project at ~/dev/myproj, the spec's working_dir.
    home_ = real(tree_->dir("home"));
    project_ = real(tree_->dir("home/dev/myproj"));
    tree_->dir("home/dev/myproj/.git");
    tree_->file("home/dev/myproj/README", "inside\n");
    sub_ = real(tree_->dir("home/dev/myproj/sub"));
    spec_ = tree_->file("ai-sandbox-landlock.yaml", runner::read_text(kSpecFile));
    ASSERT_FALSE(runner::read_text(spec_).empty()) << kSpecFile;
  }

  Result run(const std::string& cwd, std::vector<std::string> options,
             const std::vector<std::string>& command = {}) const {
    RunSpec s;
    s.argv = {binary_path(), "--mode", GetParam().mode};
    s.argv.insert(s.argv.end(), options.begin(), options.end());
    if (!command.empty()) {
      s.argv.push_back("--");
      s.argv.insert(s.argv.end(), command.begin(), command.end());
    }
    s.as = GetParam().as;
    s.cwd = cwd;
    s.env = {{"HOME", home_}};
    if (kSanitized) s.env.emplace_back("ASAN_OPTIONS", "detect_leaks=0");
    return runner::run(s);
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, project_, sub_, spec_;
};

// The built-in `minimal` (its project is ${PROJECT}, no working_dir).
TEST_P(Entrance, BuiltinProfileRunsFromTheProjectAndItsSubdirectory) {
  Result r = run(project_, {"--profile", "minimal"}, {"pwd"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, project_ + "\n");

  // From a subdirectory: the git top is the project, the cwd is kept.
  r = run(sub_, {"--profile", "minimal"}, {"pwd"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, sub_ + "\n");
  r = run(sub_, {"--profile", "minimal", "--dry-run"}, {"pwd"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "project: " + project_ +
                                  "  # the top of the git work tree holding the current"));
}

TEST_P(Entrance, BuiltinProfileRefusesHomeRootAndTmpAsTheProject) {
  const std::string marker = tree_->at("ran");
  for (const std::string& cwd : {home_, std::string("/"), std::string("/tmp")}) {
    Result r = run(cwd, {"--profile", "minimal"}, {"sh", "-c", "echo ran; : > " + marker});
    EXPECT_EQ(r.status, 125) << cwd << ": " << r.describe();
    EXPECT_TRUE(contains(r.err, "the current directory `" + cwd + "`")) << cwd;
    EXPECT_TRUE(contains(r.err, "--project DIR")) << cwd;
    EXPECT_EQ(r.out, "") << cwd;
    EXPECT_FALSE(exists(marker)) << cwd;
  }
  // Named explicitly: refused too, unless asked for, then with a warning.
  Result r = run(project_, {"--profile", "minimal", "--project", home_}, {"true"});
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "--allow-wide-project"));
  r = run(project_, {"--profile", "minimal", "--project", home_, "--allow-wide-project"},
          {"pwd"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.err, "warning: --project `" + home_ + "` is your home directory"));
}

// A profile whose root is `${CWD}` run from HOME would hand over all of
// HOME (~/.ssh stays masked, but every other file): refused like an
// implicit project, with --project or not.
TEST_P(Entrance, AProfileNamingTheCwdRefusesHome) {
  tree_->file("home/.netrc-like", "HOME-FILE\n");
  const std::string config = tree_->file(
      "cwd.yaml",
      "version: 1\nprofiles:\n  here:\n    access_roots:\n"
      "      here: {paths: [\"${CWD}\"], permissions: {read_file: true, read_dir: true}}\n"
      "      sys: {paths: [/usr, /bin, /lib, /lib64], permissions: {read_file: true, read_dir: "
      "true, execute: true}}\n"
      "    control_access: {read_file: true, read_dir: true, execute: true}\n");
  const std::vector<std::string> cat{"/bin/cat", home_ + "/.netrc-like"};
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--project", project_}}) {
    std::vector<std::string> opts{"--config", config, "--profile", "here"};
    opts.insert(opts.end(), extra.begin(), extra.end());
    const Result r = run(home_, opts, cat);
    EXPECT_EQ(r.status, 125) << r.describe();
    EXPECT_FALSE(contains(r.out, "HOME-FILE")) << r.describe();
    EXPECT_TRUE(contains(r.err, "names `${CWD}`")) << r.describe();
  }
  // From the project it runs (and sees the project, not HOME).
  const Result ok = run(project_, {"--config", config, "--profile", "here"}, {"/bin/cat", "README"});
  EXPECT_EQ(ok.status, 0) << ok.describe();
  EXPECT_EQ(ok.out, "inside\n");
}

// The cwd rule with a named project: HOME is not in the sandbox, and
// `minimal` has no working_dir, so the run is refused unless --chdir says
// where to start.
TEST_P(Entrance, InvisibleCwdIsRefusedAndChdirOverrides) {
  Result r = run(home_, {"--profile", "minimal", "--project", project_}, {"pwd"});
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "the current directory `" + home_ + "`"));
  EXPECT_TRUE(contains(r.err, "--chdir DIR"));
  EXPECT_TRUE(contains(r.err, "command.working_dir"));
  EXPECT_EQ(r.out, "");

  r = run(home_, {"--profile", "minimal", "--project", project_, "--chdir", sub_}, {"pwd"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, sub_ + "\n");

  r = run(project_, {"--profile", "minimal", "--chdir", home_}, {"pwd"});
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "--chdir `" + home_ + "`"));
}

// The spec's copilot-backend names fixed paths (no ${PROJECT}) and
// `working_dir: ~/dev/myproj`: from anywhere the sandbox does not show, a
// command after `--` starts there; from the project, where it is.
TEST_P(Entrance, SpecCopilotBackendStartsInItsWorkingDirFromAnywhere) {
  for (const std::string& cwd : {home_, std::string("/"), std::string("/tmp")}) {
    Result r = run(cwd, {"--config", spec_, "--profile", "copilot-backend"}, {"pwd"});
    ASSERT_EQ(r.status, 0) << cwd << ": " << r.describe();
    EXPECT_EQ(r.out, project_ + "\n") << cwd;
  }
  for (const std::string& cwd : {project_, sub_}) {
    Result r = run(cwd, {"--config", spec_, "--profile", "copilot-backend"}, {"pwd"});
    ASSERT_EQ(r.status, 0) << cwd << ": " << r.describe();
    EXPECT_EQ(r.out, cwd + "\n");
  }
  // Its own command (node server.js) starts in working_dir, wherever the
  // caller is: shown by the plan, as node and the server are not here.
  for (const std::string& cwd : {sub_, std::string("/")}) {
    Result r = run(cwd, {"--config", spec_, "--profile", "copilot-backend", "--dry-run"});
    ASSERT_EQ(r.status, 0) << cwd << ": " << r.describe();
    EXPECT_TRUE(contains(r.out, "cwd: " + project_ + "  # command.working_dir")) << cwd;
  }
}

// Inspection from every cwd: the whole plan, `would refuse:` last where
// the run would be refused, and the exit status saying it.
TEST_P(Entrance, InspectionWorksFromEveryCwdAndSaysWhatWouldBeRefused) {
  struct Where {
    std::string cwd;
    bool refused;
  };
  const std::vector<Where> wheres = {
      {home_, true}, {"/", true}, {"/tmp", true}, {project_, false}, {sub_, false}};
  for (const auto& w : wheres) {
    for (const char* inspect : {"--dry-run", "--print-ruleset"}) {
      Result r = run(w.cwd, {"--profile", "minimal", inspect}, {"pwd"});
      EXPECT_EQ(r.status, w.refused ? 125 : 0) << w.cwd << " " << inspect << ": " << r.describe();
      EXPECT_TRUE(contains(r.out, "landlock:")) << w.cwd << " " << inspect;
      if (w.refused)
        EXPECT_TRUE(last_line(r.out).starts_with("would refuse: the current directory `" +
                                                 w.cwd + "`"))
            << w.cwd << " " << inspect << ": " << r.out;
      else
        EXPECT_EQ(r.out.find("would refuse"), std::string::npos) << w.cwd << " " << inspect;
    }
    Result j = run(w.cwd, {"--profile", "minimal", "--dry-run", "--format", "json"}, {"pwd"});
    EXPECT_EQ(j.status, w.refused ? 125 : 0) << w.cwd << ": " << j.describe();
    EXPECT_TRUE(contains(j.out, w.refused ? "\"refusal\":{\"message\":\"the current directory"
                                          : "\"refusal\":null"))
        << w.cwd;

    Result c = run(w.cwd, {"--profile", "minimal", "--check"}, {"pwd"});
    if (w.refused) {
      EXPECT_EQ(c.status, 1) << w.cwd << ": " << c.describe();
      EXPECT_TRUE(contains(c.out, "[refusal]")) << w.cwd;
      EXPECT_TRUE(last_line(c.out).starts_with("would refuse: ")) << w.cwd << ": " << c.out;
    } else {
      EXPECT_NE(c.status, 125) << w.cwd << ": " << c.describe();
      EXPECT_EQ(c.out.find("[refusal]"), std::string::npos) << w.cwd << ": " << c.out;
    }
  }
  // The cwd alone (a named project): the same.
  Result r = run(home_, {"--profile", "minimal", "--project", project_, "--dry-run"}, {"pwd"});
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(last_line(r.out).starts_with("would refuse: the current directory `" + home_))
      << r.out;
}

// NUL and newline, written as YAML escapes, in a path of the profile: the
// error names the file, line and column; nothing runs.
TEST_P(Entrance, ControlCharactersInPathsAreRefusedBeforeAnythingRuns) {
  const std::string marker = tree_->at("ran");
  for (const auto& [esc, named] :
       std::vector<std::pair<std::string, std::string>>{{"\\0", "NUL"}, {"\\n", "newline"}}) {
    const std::string config = tree_->file(
        "bad.yaml",
        "version: 1\nprofiles:\n  p:\n    access_roots:\n      project:\n        paths: [\"" +
            project_ + esc + "x\"]\n        permissions: {read_dir: true}\n"
            "    control_access: {read_dir: true}\n");
    for (const char* extra : {"", "--dry-run"}) {
      std::vector<std::string> options{"--config", config, "--profile", "p"};
      if (*extra) options.push_back(extra);
      Result r = run(project_, options, {"sh", "-c", ": > " + marker});
      EXPECT_EQ(r.status, 125) << esc << ": " << r.describe();
      EXPECT_TRUE(contains(r.err, config + ":6:17: profiles.p.access_roots.project.paths[0]"))
          << esc;
      EXPECT_TRUE(contains(r.err, named)) << esc;
      EXPECT_FALSE(exists(marker)) << esc;
    }
  }
  for (const char* option : {"--project", "--chdir", "--ro", "--home"}) {
    Result r = run(project_, {"--profile", "minimal", option, project_ + "\nx"},
                   {"sh", "-c", ": > " + marker});
    EXPECT_EQ(r.status, 125) << option << ": " << r.describe();
    EXPECT_TRUE(contains(r.err, std::string(option) + " `" + project_ + "\\nx`")) << option;
    EXPECT_TRUE(contains(r.err, "newline")) << option;
    EXPECT_FALSE(exists(marker)) << option;
  }
}

INSTANTIATE_TEST_SUITE_P(Users, Entrance,
                         ::testing::ValuesIn(runner::user_modes({"layered", "landlock"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
