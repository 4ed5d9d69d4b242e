// The entrance: which directory is the project, where the command starts,
// how a refused run still shows its plan, and paths with control
// characters (issue 16). Expectations are written from the rules in the
// README ("Where does it run, what does it never see").
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "plan/expand.h"
#include "plan/project_plan.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"
#include "unit/test_world.h"
#include "unit/text_assertions.h"

namespace aisbx::plan {
namespace {

using test::FakeFs;
using test::has;

std::string last_line(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') + 1);
}

struct World : test::TestWorld {
  World() : TestWorld("/home/u/dev/myproj") {
    host.env["PATH"] = "/usr/bin:/bin";
    fs.dir("/usr/bin").dir("/usr/lib").dir("/usr/lib64").dir("/etc").dir("/var/lib");
    fs.file("/usr/bin/sh");
    fs.symlink("/bin", "usr/bin").symlink("/lib", "usr/lib").symlink("/lib64", "usr/lib64");
    fs.dir("/proc").dir("/dev/shm").dir("/tmp/build").dir("/srv/data").dir("/root");
    fs.dir("/home/u/dev/myproj/sub/deep").dir("/home/u/notes").dir("/home/other");
    fs.dir("/home/u/.ai-sandbox/h");
  }

  ProjectChoice choose() const { return choose_project(opt, host, fs); }

  Expected<Plan> run(const std::string& yaml) const {
    return resolve_yaml(yaml);
  }
};

std::string err(const Expected<Plan>& r) { return r ? "<resolved>" : r.error().what; }

// The project read-only, the system read+execute, optional extra lines
// under the profile (command:, home: ...).
std::string profile_yaml(const std::string& extra = "    command: {binary: sh}\n") {
  return "version: 1\n"
         "profiles:\n"
         "  p:\n"
         "    access_roots:\n"
         "      project:\n"
         "        paths: [\"${PROJECT}\"]\n"
         "        permissions: {read_file: true, read_dir: true}\n"
         "      system:\n"
         "        paths: [/usr]\n"
         "        permissions: {read_file: true, read_dir: true, execute: true}\n"
         "    control_access: {read_file: true, read_dir: true, execute: true}\n" +
         extra;
}

// ---------------------------------------------------------------- project

TEST(EntranceProject, WideDirectoriesAreNamed) {
  const std::string home = "/home/u";
  EXPECT_EQ(too_wide_for_a_project("/", home), "the root directory");
  EXPECT_EQ(too_wide_for_a_project("/home/u", home), "your home directory");
  EXPECT_TRUE(has(too_wide_for_a_project("/home", home).value_or(""), "ancestor"));
  for (const char* d : {"/usr", "/usr/lib", "/usr/bin", "/etc", "/var", "/opt", "/tmp", "/srv",
                        "/boot", "/root", "/run", "/mnt", "/media", "/lib64", "/libx32",
                        "/lib32", "/proc", "/proc/self", "/sys/kernel", "/dev/shm", "/var/tmp"})
    EXPECT_EQ(too_wide_for_a_project(d, home), "a system directory") << d;
  for (const char* d : {"/tmp/build", "/home/u/dev/p", "/usr/src/linux", "/srv/app",
                        "/var/www/site", "/home/other", "/opt/tool/src"})
    EXPECT_FALSE(too_wide_for_a_project(d, home).has_value()) << d;
}

TEST(EntranceProject, ImplicitProjectIsRefusedInHomeRootAndSystemDirs) {
  for (const char* cwd : {"/home/u", "/", "/home", "/usr", "/etc", "/tmp", "/var/lib", "/proc"}) {
    World w;
    w.host.cwd = cwd;
    const ProjectChoice c = w.choose();
    ASSERT_TRUE(c.refusal.has_value()) << cwd;
    EXPECT_TRUE(has(c.refusal->what, std::string("the current directory `") + cwd + "`"));
    EXPECT_TRUE(has(c.refusal->hint, "--project DIR"));
    EXPECT_TRUE(has(c.refusal->hint, "cd into the project"));
    EXPECT_EQ(c.source, ProjectSource::cwd);
  }
}

TEST(EntranceProject, ImplicitProjectIsTheCwdOutsideAGitTree) {
  World w;
  w.host.cwd = "/home/u/dev/myproj/sub";
  const ProjectChoice c = w.choose();
  EXPECT_FALSE(c.refusal.has_value());
  EXPECT_EQ(c.path, "/home/u/dev/myproj/sub");
  EXPECT_EQ(c.source, ProjectSource::cwd);
}

TEST(EntranceProject, GitTopIsPreferredFromASubdirectory) {
  World w;
  w.fs.dir("/home/u/dev/myproj/.git");
  w.host.cwd = "/home/u/dev/myproj/sub/deep";
  const ProjectChoice c = w.choose();
  EXPECT_FALSE(c.refusal.has_value());
  EXPECT_EQ(c.path, "/home/u/dev/myproj");
  EXPECT_EQ(c.source, ProjectSource::git);
}

TEST(EntranceProject, AWorktreesGitFileMarksItsTop) {
  World w;
  w.fs.file("/home/u/dev/myproj/.git", "gitdir: /srv/data/x\n");
  w.host.cwd = "/home/u/dev/myproj/sub";
  EXPECT_EQ(w.choose().path, "/home/u/dev/myproj");
  EXPECT_EQ(w.choose().source, ProjectSource::git);
}

// A dotfiles repository at HOME is no project: below it the cwd is, at it
// the run is refused.
TEST(EntranceProject, AGitTopThatIsTooWideIsIgnored) {
  World w;
  w.fs.dir("/home/u/.git");
  w.host.cwd = "/home/u/notes";
  ProjectChoice c = w.choose();
  EXPECT_FALSE(c.refusal.has_value());
  EXPECT_EQ(c.path, "/home/u/notes");
  EXPECT_EQ(c.source, ProjectSource::cwd);

  w.host.cwd = "/home/u";
  c = w.choose();
  ASSERT_TRUE(c.refusal.has_value());
  EXPECT_TRUE(has(c.refusal->what, "your home directory"));

  World root_repo;
  root_repo.fs.dir("/.git");
  root_repo.host.cwd = "/srv/data";
  EXPECT_EQ(root_repo.choose().path, "/srv/data");
}

TEST(EntranceProject, ExplicitWideProjectNeedsTheOptIn) {
  for (const char* p : {"/home/u", "~", "/", "/usr", "..", "/home"}) {
    World w;
    w.host.cwd = "/home/u/dev";
    w.opt.project = std::string(p) == "~" ? "/home/u" : p;  // the shell expands ~
    ProjectChoice c = w.choose();
    ASSERT_TRUE(c.refusal.has_value()) << p;
    EXPECT_TRUE(has(c.refusal->what, "--project `"));
    EXPECT_TRUE(has(c.refusal->hint, "--allow-wide-project"));
    EXPECT_EQ(c.source, ProjectSource::option);
    EXPECT_FALSE(c.warning.has_value());

    w.opt.allow_wide_project = true;
    c = w.choose();
    EXPECT_FALSE(c.refusal.has_value()) << p;
    ASSERT_TRUE(c.warning.has_value()) << p;
    EXPECT_TRUE(has(*c.warning, "--allow-wide-project"));
  }
}

// Real paths are compared: a link to HOME is HOME, a HOME reached through
// a link is still found.
TEST(EntranceProject, LinksAreSeenThrough) {
  World w;
  w.fs.symlink("/srv/h", "/home/u");
  w.opt.project = "/srv/h";
  ASSERT_TRUE(w.choose().refusal.has_value());
  EXPECT_TRUE(has(w.choose().refusal->what, "your home directory"));

  World linked;
  linked.fs.dir("/data/u/dev/p");
  linked.fs.symlink("/home/lu", "/data/u");
  linked.host.home = "/home/lu";
  linked.host.cwd = "/data/u";
  ASSERT_TRUE(linked.choose().refusal.has_value());
  linked.host.cwd = "/data/u/dev/p";
  EXPECT_FALSE(linked.choose().refusal.has_value());
}

TEST(EntranceProject, ExplicitNarrowProjectIsTakenAsGiven) {
  World w;
  w.host.cwd = "/home/u";
  w.opt.project = "dev/myproj";
  const ProjectChoice c = w.choose();
  EXPECT_FALSE(c.refusal.has_value());
  EXPECT_EQ(c.path, "/home/u/dev/myproj");
  EXPECT_EQ(c.source, ProjectSource::option);
}

// A profile of fixed paths (the spec's copilot-backend) hands nothing over
// from HOME: no refusal there; an explicit wide --project still is one.
TEST(EntranceProject, OnlyAProfileThatUsesTheProjectIsRefused) {
  World w;
  w.host.cwd = "/home/u";
  EXPECT_FALSE(choose_project(w.opt, w.host, w.fs, /*uses_project=*/false).refusal.has_value());
  EXPECT_TRUE(choose_project(w.opt, w.host, w.fs, /*uses_project=*/true).refusal.has_value());
  w.opt.project = "/home/u";
  EXPECT_TRUE(choose_project(w.opt, w.host, w.fs, /*uses_project=*/false).refusal.has_value());

  auto fixed = test::test_profile(
      "version: 1\nprofiles:\n  p:\n    access_roots:\n      g: {paths: [~/dev/myproj], "
      "permissions: {read_dir: true}}\n    command: {binary: sh, working_dir: ~/dev/myproj}\n",
      "t.yaml");
  ASSERT_TRUE(fixed.has_value());
  EXPECT_FALSE(profile_uses(*fixed, "PROJECT"));
  for (const char* y :
       {"    access_roots:\n      g: {paths: [\"${PROJECT}\"]}\n",
        "    access_roots:\n      g: {paths: [/x], deny: [\"${PROJECT}/.env\"]}\n",
        "    command: {binary: sh, working_dir: \"${PROJECT}/sub\"}\n",
        "    command: {binary: sh, env: {P: \"${PROJECT}\"}}\n",
        "    home: \"${PROJECT}/.h\"\n",
        "    network: {unix_sockets: [\"${PROJECT}/s\"]}\n"}) {
    auto p = test::test_profile(std::string("version: 1\nprofiles:\n  p:\n") + y, "t.yaml");
    ASSERT_TRUE(p.has_value()) << y;
    EXPECT_TRUE(profile_uses(*p, "PROJECT")) << y;
  }
}

// `${CWD}` is the launcher's directory as it is: from HOME or `/` it would
// hand all of it over, whatever the project is.
TEST(EntranceProject, AProfileNamingTheCwdIsRefusedWhereItIsTooWide) {
  const std::string yaml =
      "version: 1\nprofiles:\n  p:\n    access_roots:\n      here:\n"
      "        paths: [\"${CWD}\"]\n        permissions: {read_file: true, read_dir: true}\n"
      "    control_access: {read_file: true, read_dir: true}\n    command: {binary: sh}\n";
  for (const char* cwd : {"/home/u", "/", "/home", "/etc"}) {
    World w;
    w.host.cwd = cwd;
    auto r = w.run(yaml);
    ASSERT_TRUE(r.has_value()) << err(r);
    ASSERT_TRUE(r->refusal.has_value()) << cwd;
    EXPECT_TRUE(has(r->refusal->what, "names `${CWD}`")) << r->refusal->what;
    EXPECT_TRUE(has(r->refusal->hint, "--project"));
    // --project names another directory, but ${CWD} is still the cwd.
    w.opt.project = "/home/u/dev/myproj";
    auto p = w.run(yaml);
    ASSERT_TRUE(p.has_value()) << err(p);
    EXPECT_TRUE(p->refusal.has_value()) << cwd;
    // Asked for by name: a warning, and the run goes on.
    w.opt.allow_wide_project = true;
    auto a = w.run(yaml);
    ASSERT_TRUE(a.has_value()) << err(a);
    EXPECT_FALSE(a->refusal.has_value()) << cwd;
    bool warned = false;
    for (const auto& x : a->warnings) warned |= x.find("`${CWD}` hands all of it") != std::string::npos;
    EXPECT_TRUE(warned) << cwd;
  }
  World w;  // from the project itself: nothing to say
  auto r = w.run(yaml);
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->refusal.has_value());
}

// ------------------------------------------------- refusal in the plan

TEST(EntranceRefusal, ARefusedProjectIsStillPlannedAndSaysSoLast) {
  World w;
  w.host.cwd = "/home/u";
  auto r = w.run(profile_yaml());
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_TRUE(r->refusal.has_value());
  EXPECT_EQ(r->project, "/home/u");
  EXPECT_FALSE(r->landlock.rules.empty());
  for (Section s : {Section::all, Section::ruleset}) {
    const std::string text = render_text(*r, s);
    EXPECT_TRUE(has(last_line(text), "would refuse: the current directory `/home/u` is your "
                                     "home directory"))
        << text;
  }
  const std::string json = render_json(*r);
  EXPECT_TRUE(has(json, "\"refusal\":{\"message\":\"the current directory"));
  EXPECT_TRUE(has(json, "\"project_source\":\"cwd\""));
}

TEST(EntranceRefusal, AnAcceptedRunHasNoRefusal) {
  World w;
  w.fs.dir("/home/u/dev/myproj/.git");
  w.host.cwd = "/home/u/dev/myproj/sub";
  auto r = w.run(profile_yaml());
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->refusal.has_value());
  EXPECT_EQ(r->project, "/home/u/dev/myproj");
  const std::string text = render_text(*r);
  EXPECT_TRUE(has(text, "project: /home/u/dev/myproj  # the top of the git work tree"));
  EXPECT_EQ(text.find("would refuse"), std::string::npos);
  EXPECT_TRUE(has(render_json(*r), "\"refusal\":null"));
  EXPECT_TRUE(has(render_json(*r), "\"project_source\":\"git\""));
}

TEST(EntranceRefusal, AMalformedProfileStillFailsAtOnce) {
  World w;
  w.host.cwd = "/home/u";
  auto r = w.run(profile_yaml("    command: {binary: sh}\n    home: relative/dir\n"));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(has(r.error().what, "not an absolute path"));
}

// ------------------------------------------------------ working directory

TEST(EntranceCwd, AVisibleCwdIsKept) {
  for (Mode m : {Mode::layered, Mode::landlock}) {
    World w;
    w.opt.mode = m;
    w.opt.project = "/home/u/dev/myproj";
    w.host.cwd = "/home/u/dev/myproj/sub";
    w.opt.command = {"pwd"};
    auto r = w.run(profile_yaml("    command: {binary: sh, working_dir: /usr}\n"));
    ASSERT_TRUE(r.has_value()) << err(r);
    EXPECT_FALSE(r->refusal.has_value()) << r->refusal->what;
    EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj/sub") << to_string(m);
    EXPECT_EQ(r->exec.cwd_source, "cwd");
  }
}

TEST(EntranceCwd, AnInvisibleCwdFallsBackToWorkingDir) {
  for (Mode m : {Mode::layered, Mode::landlock}) {
    for (const char* cwd : {"/srv/data", "/tmp/build", "/home/other"}) {
      World w;
      w.opt.mode = m;
      w.opt.project = "/home/u/dev/myproj";
      w.host.cwd = cwd;
      w.opt.command = {"pwd"};
      auto r = w.run(profile_yaml("    command: {binary: sh, working_dir: \"${PROJECT}/sub\"}\n"));
      ASSERT_TRUE(r.has_value()) << err(r);
      EXPECT_FALSE(r->refusal.has_value()) << cwd << ": " << r->refusal->what;
      EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj/sub") << cwd << " " << to_string(m);
      EXPECT_EQ(r->exec.cwd_source, "working_dir");
      EXPECT_TRUE(has(render_text(*r), "cwd: /home/u/dev/myproj/sub  # command.working_dir"));
    }
  }
}

TEST(EntranceCwd, AnInvisibleCwdWithoutWorkingDirIsARefusalNamingBothRemedies) {
  for (Mode m : {Mode::layered, Mode::landlock}) {
    World w;
    w.opt.mode = m;
    w.opt.project = "/home/u/dev/myproj";
    w.host.cwd = "/srv/data";
    w.opt.command = {"pwd"};
    auto r = w.run(profile_yaml());
    ASSERT_TRUE(r.has_value()) << err(r);
    ASSERT_TRUE(r->refusal.has_value()) << to_string(m);
    EXPECT_TRUE(has(r->refusal->what, "the current directory `/srv/data`"));
    EXPECT_TRUE(has(r->refusal->hint, "--chdir DIR"));
    EXPECT_TRUE(has(r->refusal->hint, "command.working_dir"));
    EXPECT_TRUE(has(r->refusal->hint, "cd into the project"));
  }
}

// The sandbox's own /tmp hides the host's: named as such.
TEST(EntranceCwd, TheHostsTmpIsNamedAsHidden) {
  World w;
  w.opt.project = "/home/u/dev/myproj";
  w.host.cwd = "/tmp/build";
  w.opt.command = {"pwd"};
  auto r = w.run(profile_yaml("    command: {binary: sh}\n    home: ~/.ai-sandbox/h\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_TRUE(r->refusal.has_value());
  EXPECT_TRUE(has(r->refusal->what, "`/tmp/build` lies in /tmp, which is the sandbox's own"));
}

// In landlock mode the private HOME counts as visible, as does a rule
// granting read_dir; a rule without read_dir does not.
TEST(EntranceCwd, LandlockModeAsksTheRules) {
  World w;
  w.opt.mode = Mode::landlock;
  w.opt.project = "/home/u/dev/myproj";
  w.opt.command = {"pwd"};
  w.host.cwd = "/home/u/.ai-sandbox/h";
  auto r = w.run(profile_yaml("    command: {binary: sh}\n    home: {path: ~/.ai-sandbox/h, shared: true}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->refusal.has_value());
  EXPECT_EQ(r->exec.cwd, "/home/u/.ai-sandbox/h");

  w.host.cwd = "/srv/data";
  r = w.run(profile_yaml());
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->refusal.has_value());
  EXPECT_TRUE(has(r->refusal->what, "read_dir"));

  // A root split around a denied directory is still where work happens.
  w.fs.dir("/home/u/dev/myproj/secrets");
  w.host.cwd = "/home/u/dev/myproj";
  std::string yaml = profile_yaml();
  const std::string perms = "permissions: {read_file: true, read_dir: true}\n";
  yaml.insert(yaml.find(perms) + perms.size(), "        deny: [secrets]\n");
  r = w.run(yaml);
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_FALSE(r->protected_paths.empty());
  EXPECT_TRUE(r->protected_paths[0].split);
  EXPECT_FALSE(r->refusal.has_value()) << r->refusal->what;
  EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj");
}

TEST(EntranceCwd, ChdirOverridesAndMustBeVisible) {
  World w;
  w.opt.project = "/home/u/dev/myproj";
  w.host.cwd = "/home/u/dev/myproj";
  w.opt.command = {"pwd"};
  w.opt.chdir = "sub";
  auto r = w.run(profile_yaml("    command: {binary: sh, working_dir: \"${PROJECT}\"}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->refusal.has_value());
  EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj/sub");
  EXPECT_EQ(r->exec.cwd_source, "chdir");

  w.opt.chdir = "/srv/data";
  r = w.run(profile_yaml());
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_TRUE(r->refusal.has_value());
  EXPECT_TRUE(has(r->refusal->what, "--chdir `/srv/data`"));
}

TEST(EntranceCwd, TheProfilesOwnCommandStartsInItsWorkingDir) {
  World w;
  w.opt.project = "/home/u/dev/myproj";
  w.host.cwd = "/home/u/dev/myproj";
  auto r = w.run(profile_yaml("    command: {binary: sh, working_dir: \"${PROJECT}/sub\"}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj/sub");
  EXPECT_EQ(r->exec.cwd_source, "working_dir");

  // Not visible itself: refused, naming the profile line.
  r = w.run(profile_yaml("    command: {binary: sh, working_dir: /srv/data}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_TRUE(r->refusal.has_value());
  EXPECT_TRUE(has(r->refusal->what, "test.yaml:12:"));
  EXPECT_TRUE(has(r->refusal->what, "command.working_dir `/srv/data`"));
}

// Issue 16: from HOME, the spec's copilot-backend (fixed paths, no
// ${PROJECT}) runs a command after `--` in its working_dir.
TEST(EntranceCwd, SpecCopilotBackendFromHomeStartsInItsWorkingDir) {
  std::ifstream in(AISBX_SOURCE_DIR "/profiles/ai-sandbox-landlock.yaml", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  for (Mode m : {Mode::layered, Mode::landlock}) {
    World w;
    w.opt.mode = m;
    w.fs.file("/usr/bin/node");
    w.host.cwd = "/home/u";
    w.opt.command = {"node", "server.js"};
    auto set = profile::parse_profiles(text.str(), "ai-sandbox-landlock.yaml");
    ASSERT_TRUE(set.has_value()) << set.error().what;
    auto prof = profile::flatten(*set, "copilot-backend");
    ASSERT_TRUE(prof.has_value());
    auto r = resolve(Inputs{*prof, "ai-sandbox-landlock.yaml", w.opt, w.feat, w.host, w.fs});
    ASSERT_TRUE(r.has_value()) << err(r);
    EXPECT_FALSE(r->refusal.has_value()) << r->refusal->what;
    EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj") << to_string(m);
    EXPECT_EQ(r->exec.cwd_source, "working_dir");
  }
}

// A refused project is the first refusal; the cwd's does not replace it.
TEST(EntranceCwd, TheProjectsRefusalComesFirst) {
  World w;
  w.host.cwd = "/";
  w.opt.command = {"pwd"};
  auto r = w.run(profile_yaml());
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_TRUE(r->refusal.has_value());
  EXPECT_TRUE(has(r->refusal->what, "the root directory"));
}

// ------------------------------------------------- control characters

TEST(EntrancePaths, ControlCharactersAreNamed) {
  EXPECT_FALSE(profile::path_text_problem("/home/u/a b/ü").has_value());
  EXPECT_TRUE(has(profile::path_text_problem(std::string("/a\0b", 4)).value_or(""),
                  "a NUL byte (\\0) at byte 3"));
  EXPECT_TRUE(has(profile::path_text_problem("/a\nb").value_or(""), "a newline (\\n) at byte 3"));
  EXPECT_TRUE(has(profile::path_text_problem("/a\x1b").value_or(""), "(\\x1b) at byte 3"));
  EXPECT_TRUE(has(profile::path_text_problem("/a\x7f").value_or(""), "(\\x7f)"));
  EXPECT_TRUE(has(profile::path_text_problem("/a\tb").value_or(""), "(\\t)"));
  EXPECT_EQ(profile::escaped_path(std::string("/a\0\n", 4)), "/a\\0\\n");
}

// Every key that holds a path, with `\0`, `\n` and `\e` escapes in double
// quotes (the raw bytes are refused by the text check before YAML).
TEST(EntrancePaths, ProfilePathsWithControlCharactersAreErrorsAtTheirPosition) {
  struct Case {
    std::string yaml;  // the profile body, with @ where the bad path goes
    std::string key;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"    access_roots:\n      g:\n        paths: [@]\n", "access_roots.g.paths[0]", "6:17"},
      {"    access_roots:\n      g:\n        paths: [/x]\n        deny: [@]\n",
       "access_roots.g.deny[0]", "7:16"},
      {"    access_roots:\n      g:\n        paths: [/x]\n        readonly: [@]\n",
       "access_roots.g.readonly[0]", "7:20"},
      {"    home: @\n", "home", "4:11"},
      {"    command: {binary: sh, working_dir: @}\n", "command.working_dir", "4:40"},
      {"    command: {binary: @}\n", "command.binary", "4:23"},
      {"    network: {unix_sockets: [@]}\n", "network.unix_sockets[0]", "4:30"},
  };
  for (const auto& c : cases)
    for (const auto& [esc, named] : std::vector<std::pair<std::string, std::string>>{
             {"\\0", "NUL"}, {"\\n", "newline"}, {"\\e", "control character"}}) {
      std::string body = c.yaml;
      body.replace(body.find('@'), 1, "\"/a" + esc + "b\"");
      const std::string text = "version: 1\nprofiles:\n  p:\n" + body;
      auto set = profile::parse_profiles(text, "t.yaml");
      ASSERT_FALSE(set.has_value()) << text;
      const std::string& what = set.error().what;
      EXPECT_TRUE(has(what, "t.yaml:" + c.where + ": ")) << what;
      EXPECT_TRUE(has(what, c.key)) << what;
      EXPECT_TRUE(has(what, named)) << what;
    }
}

TEST(EntrancePaths, AVariableThatBringsAControlCharacterIsAnError) {
  World w;
  w.host.home = "/home/u\nx";
  w.host.cwd = "/home/u/dev/myproj";
  w.opt.project = "/home/u/dev/myproj";
  auto r = w.run(profile_yaml("    command: {binary: sh}\n    home: ~/.ai-sandbox/h\n"));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(has(r.error().what, "test.yaml:"));
  EXPECT_TRUE(has(r.error().what, "expands to `/home/u\\nx/.ai-sandbox/h`"));
  EXPECT_TRUE(has(r.error().what, "newline"));
}

}  // namespace
}  // namespace aisbx::plan
