// `--check` and the exec-failure diagnosis through the real binary, on
// fixtures built in a temp tree owned by the user under test:
//
// - a planted symlink leaving every root is reported, one inside is not;
// - a tmpfs and a bind mount made inside the project (in a private mount
//   namespace: `unshare -m` as root, `unshare -Urm` as 65534) are reported,
//   and not once the profile denies them;
// - a program copied into the tree whose library directory the profile lacks
//   is reported with the library, the real run fails on that very library,
//   and the group the check suggests, pasted into the profile, fixes both;
// - a command that cannot start fails with a message naming the path and
//   the line to add; pasting that line in makes it start;
// - exit status 0 clean, 1 findings, 125 for a bad profile; JSON output;
// - in-process: the bounded scan's counts, and the ELF reader on real and
//   crafted files.
//
// Every launcher test runs as the caller and, when the caller is root, as
// uid/gid 65534 (runner::users_to_test()).
#include "aisbx/check.h"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "aisbx/host_sys.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "check/elf.h"
#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

std::string real(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr),
                                                &std::free);
  return r ? std::string(r.get()) : std::string();
}

// PT_INTERP read here with <elf.h>, independently of the code under test.
std::string interpreter_of(const std::string& path) {
  const std::string bytes = runner::read_text(path);
  Elf64_Ehdr eh{};
  if (bytes.size() < sizeof eh) return {};
  std::memcpy(&eh, bytes.data(), sizeof eh);
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    const std::size_t at = eh.e_phoff + static_cast<std::size_t>(i) * sizeof ph;
    if (at + sizeof ph > bytes.size()) return {};
    std::memcpy(&ph, bytes.data() + at, sizeof ph);
    if (ph.p_type == PT_INTERP) return std::string(bytes.c_str() + ph.p_offset);
  }
  return {};
}

// ---------------------------------------------------------------------------
// Profiles, written as YAML text the way a user would write them.

// One profile `p`; `extra` is pasted verbatim under access_roots (6 spaces).
std::string yaml(const std::vector<Group>& groups,
                 const std::vector<std::string>& control, const std::string& home,
                 const std::string& extra = "") {
  std::string y = "version: 1\nprofiles:\n  p:\n    description: \"check test\"\n";
  y += "    access_roots:\n";
  y += groups_yaml(groups);
  if (!extra.empty()) y += "      " + extra + "\n";
  y += control_yaml(control);
  if (!home.empty()) y += "    home: " + yq(home) + "\n";
  return y;
}

const std::vector<std::string> kControl = {"read_file", "read_dir", "execute", "refer"};
const std::vector<std::string> kRead = {"read_file", "read_dir"};
const std::vector<std::string> kReadExec = {"read_file", "read_dir", "execute"};

// The YAML group a fix suggests: the text in backticks after
// "under access_roots: `", first looked for after `after`.
std::string suggested_group(const std::string& text, const std::string& after) {
  const auto from = text.find(after);
  if (from == std::string::npos) return {};
  const std::string marker = "under access_roots: `";
  const auto at = text.find(marker, from);
  if (at == std::string::npos) return {};
  const auto start = at + marker.size();
  const auto end = text.find('`', start);
  return end == std::string::npos ? std::string() : text.substr(start, end - start);
}

// Every YAML group the fixes of a report suggest, in order, once each;
// a name taken twice gets a suffix, as a user pasting them would do.
std::vector<std::string> suggested_groups(const std::string& text) {
  const std::string marker = "under access_roots: `";
  std::vector<std::string> groups, names;
  for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    const auto start = at + marker.size();
    const auto end = text.find('`', start);
    if (end == std::string::npos) break;
    std::string g = text.substr(start, end - start);
    if (std::find(groups.begin(), groups.end(), g) != groups.end()) continue;
    groups.push_back(g);
  }
  for (auto& g : groups) {
    std::string name = g.substr(0, g.find(':'));
    const std::string base = name;
    for (int n = 2; std::find(names.begin(), names.end(), name) != names.end(); ++n)
      name = base + "-dup" + std::to_string(n);
    names.push_back(name);
    g = name + g.substr(g.find(':'));
  }
  return groups;
}

// The lines of a text report about one finding kind at one path.
bool reports(const std::string& out, const std::string& kind, const std::string& path) {
  return out.find("[" + kind + "] " + path + "\n") != std::string::npos;
}

// ---------------------------------------------------------------------------

class Check : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-check");
    project_ = tree_->dir("project");
    tree_->file("project/README", "inside\n");
    home_ = tree_->dir("home");
    config_ = tree_->at("profiles.yaml");
    private_home_ = tree_->at("sandbox-home");
  }

  Result run(std::vector<std::string> argv, const std::string& cwd = {}) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam();
    s.cwd = cwd.empty() ? project_ : cwd;
    s.env = {{"HOME", home_}};
    if (kSanitized) s.env.emplace_back("ASAN_OPTIONS", "detect_leaks=0");
    return runner::run(s);
  }

  std::vector<std::string> launcher(const std::vector<std::string>& options,
                                    const std::vector<std::string>& command) const {
    std::vector<std::string> v{binary_path(), "--config", config_, "--profile", "p"};
    v.insert(v.end(), options.begin(), options.end());
    v.push_back("--");
    v.insert(v.end(), command.begin(), command.end());
    return v;
  }

  std::unique_ptr<TempTree> tree_;
  std::string project_, home_, config_, private_home_;
};

std::string user_name(const ::testing::TestParamInfo<As>& info) {
  return runner::name_of(info.param);
}

// ---------------------------------------------------------------------------
// Symlinks.

TEST_P(Check, ReportsASymlinkLeavingEveryRootAndNotOneInside) {
  const std::string outside = tree_->file("outside/secret", "TOPSECRET\n");
  const std::string out_link =
      tree_->symlink("project/deep/er/link", "../../../outside/secret");
  const std::string in_link = tree_->symlink("project/readme-link", "README");
  tree_->file("profiles.yaml",
              yaml({{"project", {project_}, kRead}}, kControl, private_home_));
  const Result r = run(launcher({"--check", "--mode", "landlock"}, {"/bin/true"}));
  // A warning: the run starts, and what the link points to is refused
  // (the command's own findings, /bin/true not being in this profile, are
  // errors: exit 1 either way).
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_TRUE(reports(r.out, "symlink", out_link)) << r.describe();
  EXPECT_TRUE(contains(r.out, "  warning [symlink] " + out_link + "\n")) << r.describe();
  EXPECT_TRUE(contains(r.out, "(`" + outside + "`) leaves every root")) << r.describe();
  EXPECT_FALSE(reports(r.out, "symlink", in_link)) << r.describe();
  // The same finding in JSON.
  const Result j =
      run(launcher({"--check", "--mode", "landlock", "--format", "json"}, {"/bin/true"}));
  EXPECT_EQ(j.status, 1) << j.describe();
  EXPECT_TRUE(contains(j.out, "{\"kind\":\"symlink\",\"path\":\"" + out_link + "\""))
      << j.describe();
  EXPECT_TRUE(contains(j.out, "\"severity\":\"warning\"")) << j.describe();
  // Gone once the target is a root.
  tree_->file("profiles.yaml", yaml({{"project", {project_}, kRead},
                                     {"outside", {dir_of(outside)}, kRead}},
                                    kControl, private_home_));
  const Result fixed = run(launcher({"--check", "--mode", "landlock"}, {"/bin/true"}));
  EXPECT_FALSE(reports(fixed.out, "symlink", out_link)) << fixed.describe();
}

// A read-only tree that is not the project (a "system" tree) linking into a
// directory the profile picks entries from (as /usr links into /etc): the
// profile left that entry out on purpose, so it is a note, not a finding.
// The same link in the project stays a finding.
TEST_P(Check, LinksFromASystemTreeIntoACuratedDirectoryAreNotesNotFindings) {
  tree_->file("conf/picked", "picked\n");
  const std::string left_out = tree_->file("conf/left-out", "left out\n");
  const std::string sys_link = tree_->symlink("system/share/cfg", "../../conf/left-out");
  tree_->file("profiles.yaml",
              yaml({{"project", {project_}, kRead},
                    {"system", {tree_->at("system")}, kReadExec},
                    {"config", {tree_->at("conf/picked")}, kRead}},
                   kControl, private_home_));
  // (The command's own findings, /bin/true not being in this profile, do
  // not matter here.)
  const Result r = run(launcher({"--check", "--mode", "landlock"}, {"/bin/true"}));
  EXPECT_FALSE(reports(r.out, "symlink", sys_link)) << r.describe();
  EXPECT_TRUE(contains(r.out, "1 symlink under `" + real(tree_->at("system")) + "` leads into"))
      << r.describe();
  EXPECT_TRUE(contains(r.out, "`" + real(left_out) + "`")) << r.describe();

  const std::string proj_link = tree_->symlink("project/cfg", "../conf/left-out");
  const Result p = run(launcher({"--check", "--mode", "landlock"}, {"/bin/true"}));
  EXPECT_EQ(p.status, 1) << p.describe();
  EXPECT_TRUE(reports(p.out, "symlink", proj_link)) << p.describe();
}

// Every built-in profile is clean on this machine in the default mode, with
// its own command and with sh. The project and HOME are outside /tmp, which
// the sandbox replaces (roots beneath it are worth a warning of their own).
TEST_P(Check, BuiltInProfilesAreClean) {
  TempTree outside(GetParam(), "aisbx-check", "/var/tmp");
  const std::string project = outside.dir("project");
  outside.file("project/README", "a project\n");
  const std::string home = outside.dir("home");
  for (const char* profile :
       {"minimal", "copilot-backend", "language-server", "vscode-copilot", "agent", "build"}) {
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{}, std::vector<std::string>{"sh", "-c", "true"}}) {
      RunSpec s;
      s.argv = {binary_path(), "--profile", profile, "--check"};
      if (!cmd.empty()) {
        s.argv.push_back("--");
        s.argv.insert(s.argv.end(), cmd.begin(), cmd.end());
      }
      s.as = GetParam();
      s.cwd = project;
      s.env = {{"HOME", home}};
      if (kSanitized) s.env.emplace_back("ASAN_OPTIONS", "detect_leaks=0");
      const Result r = runner::run(s);
      EXPECT_EQ(r.status, 0) << profile << "\n" << r.describe();
      EXPECT_TRUE(contains(r.out, "result: clean")) << profile << "\n" << r.describe();
    }
  }
}

// Landlock mode has no private /proc: a built-in profile's /proc root is the
// host's there, where every host process's command line is readable. A
// finding of --check and a mark in --dry-run in landlock mode; nothing in
// the namespace wall, whose /proc is the sandbox's own.
TEST_P(Check, TheHostsProcInLandlockModeIsAFinding) {
  TempTree outside(GetParam(), "aisbx-check", "/var/tmp");
  const std::string project = outside.dir("project");
  RunSpec s;
  s.as = GetParam();
  s.cwd = project;
  s.env = {{"HOME", outside.dir("home")}};
  for (const char* mode : {"landlock", "layered"}) {
    const bool host_proc = std::string(mode) == "landlock";
    s.argv = {binary_path(), "--profile", "minimal", "--mode", mode, "--check"};
    const Result c = runner::run(s);
    EXPECT_EQ(reports(c.out, "proc", "/proc"), host_proc) << mode << "\n" << c.describe();
    s.argv = {binary_path(), "--profile", "minimal", "--mode", mode, "--dry-run"};
    const Result d = runner::run(s);
    EXPECT_EQ(d.status, 0) << d.describe();
    EXPECT_EQ(contains(d.out, "the host's /proc"), host_proc) << mode << "\n" << d.describe();
  }
}

// Landlock mode shares the host's /dev: a root at /dev (or /dev/pts) opens
// the user's other terminals. An error of --check there (exit 1); the
// namespace wall's /dev is its own, so nothing to report.
TEST_P(Check, TheUsersTerminalsInLandlockModeAreAnError) {
  TempTree outside(GetParam(), "aisbx-check", "/var/tmp");
  const std::string project = outside.dir("project");
  const std::string config = outside.file(
      "dev.yaml",
      "version: 1\nprofiles:\n  dev:\n    access_roots:\n"
      "      devices: {paths: [/dev], permissions: {read_file: true, write_file: true, read_dir: "
      "true}}\n"
      "      sys: {paths: [/usr], permissions: {read_file: true, read_dir: true, execute: true}}\n"
      "    control_access: {read_file: true, write_file: true, read_dir: true, execute: true}\n");
  RunSpec s;
  s.as = GetParam();
  s.cwd = project;
  s.env = {{"HOME", outside.dir("home")}};
  for (const char* mode : {"landlock", "layered"}) {
    const bool host_dev = std::string(mode) == "landlock";
    s.argv = {binary_path(), "--config", config, "--profile", "dev", "--mode",
              mode,          "--check",  "--",    "/usr/bin/true"};
    const Result c = runner::run(s);
    EXPECT_EQ(reports(c.out, "tty", "/dev"), host_dev) << mode << "\n" << c.describe();
    if (host_dev) {
      EXPECT_EQ(c.status, 1) << c.describe();
    }
  }
}

// ---------------------------------------------------------------------------
// Mount points: made in a private mount namespace, where the launcher's
// --check runs too.

TEST_P(Check, ReportsATmpfsAndABindMountInsideARoot) {
  const std::string unshare = exists("/usr/bin/unshare") ? "/usr/bin/unshare" : "";
  AISBX_SKIP_WITHOUT(!unshare.empty(), "unshare(1) is missing");
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const std::string sub = tree_->dir("project/sub");
  const std::string bound = tree_->dir("project/bound");
  const std::string other = tree_->dir("other-tree");
  tree_->file("other-tree/data", "other\n");
  auto check_in_ns = [&](const std::string& profile) {
    tree_->file("profiles.yaml", profile);
    std::string script = "mount -t tmpfs aisbx-test-tmpfs " + runner::shell_quote(sub) +
                         " && mount --bind " + runner::shell_quote(other) + " " +
                         runner::shell_quote(bound) + " && exec";
    for (const auto& a : launcher({"--check", "--mode", "landlock"}, {"/bin/true"}))
      script += " " + runner::shell_quote(a);
    // Root can make a mount namespace alone; 65534 needs a user namespace
    // (where it is root) to own one.
    const std::string flags =
        GetParam() == As::nobody || ::geteuid() != 0 ? "-Urm" : "-m";
    return run({unshare, flags, "--", "/bin/sh", "-c", script});
  };
  const Result r =
      check_in_ns(yaml({{"project", {project_}, kRead}}, kControl, private_home_));
  ASSERT_NE(r.status, 125) << r.describe();
  EXPECT_EQ(r.status, 1) << "/bin/true is not in the profile: an error\n" << r.describe();
  EXPECT_TRUE(reports(r.out, "mount", sub)) << r.describe();
  EXPECT_TRUE(contains(r.out, "  warning [mount] " + sub + "\n")) << r.describe();
  EXPECT_TRUE(contains(r.out, "aisbx-test-tmpfs (tmpfs)")) << r.describe();
  EXPECT_TRUE(reports(r.out, "mount", bound)) << r.describe();
  EXPECT_TRUE(contains(r.out, "a bind of `" + other + "`")) << r.describe();
  EXPECT_TRUE(contains(r.out, "add `sub` to access_roots.project.deny")) << r.describe();

  // Outside the namespace neither mount exists: nothing to report.
  const Result plain = run(launcher({"--check", "--mode", "landlock"}, {"/bin/true"}));
  EXPECT_FALSE(contains(plain.out, "[mount]")) << plain.describe();

  // Denied, they are the sandbox's no more.
  std::string denied = yaml({{"project", {project_}, kRead}}, kControl, private_home_);
  denied.insert(denied.find("        permissions:"), "        deny: [sub, bound]\n");
  const Result d = check_in_ns(denied);
  EXPECT_FALSE(contains(d.out, "[mount]")) << d.describe();
}

// ---------------------------------------------------------------------------
// A missing library: the probe (it needs libc only) copied into the tree,
// with its loader in the profile but not the directory of libc. In landlock
// mode: with the namespace wall, the loader's own chain of links on a
// merged-/usr system (/lib64 -> usr/lib64, ld-linux -> /lib/...) needs /lib
// and so all of /usr/lib, libc's directory included. There, the library is
// hidden by a `deny` pattern instead.

std::vector<runner::UserMode> mode_cases() { return runner::user_modes({"layered", "landlock"}); }

class CheckLibrary : public ::testing::TestWithParam<As> {
 protected:
  // aisbx-ns --config CONFIG --profile p --mode MODE [--check] -- TOOL exit 0
  Result launch(const TempTree& tree, const std::string& mode, const std::string& tool,
                bool check) const {
    RunSpec s;
    s.argv = {binary_path(), "--config", tree.at("profiles.yaml"), "--profile", "p",
              "--mode",      mode};
    if (check) s.argv.push_back("--check");
    s.argv.insert(s.argv.end(), {"--", tool, "exit", "0"});
    s.as = GetParam();
    s.cwd = tree.at("project");
    s.env = {{"HOME", tree.at("home")}};
    return runner::run(s);
  }
};

TEST_P(CheckLibrary, ReportsALibraryWhoseDirectoryIsNotInTheProfile) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
  AISBX_SKIP_WITHOUT(!kSanitized, "an ASan build of the probe needs more libraries than libc");
  TempTree tree(GetParam(), "aisbx-check-lib");
  tree.dir("project");
  tree.dir("home");
  const std::string tool = tree.file("bin/tool", runner::read_text(probe_path()), 0755);
  const std::string interp = interpreter_of(tool);
  ASSERT_FALSE(interp.empty()) << "the probe is not a dynamic ELF program";
  const std::vector<Group> groups{{"tools", {dir_of(tool)}, kReadExec},
                                  {"loader", {real(interp)}, kReadExec},
                                  {"project", {tree.at("project")}, kRead}};
  tree.file("profiles.yaml", yaml(groups, kControl, tree.at("sandbox-home")));
  const Result c = launch(tree, "landlock", tool, true);
  EXPECT_EQ(c.status, 1) << c.describe();
  EXPECT_TRUE(contains(c.out, "library `libc.so.6` (needed by `" + tool + "`)"))
      << c.describe();
  EXPECT_TRUE(contains(c.out, "lacks read_file: no Landlock rule covers it"))
      << c.describe();
  EXPECT_FALSE(contains(c.out, "[interpreter]"))
      << "the loader is in the profile: " << c.describe();
  const std::string group = suggested_group(c.out, "library `libc.so.6`");
  ASSERT_FALSE(group.empty()) << c.describe();

  // The real run fails on that very library.
  const Result broken = launch(tree, "landlock", tool, false);
  EXPECT_EQ(broken.status, 127) << broken.describe();
  EXPECT_TRUE(contains(broken.err, "libc.so.6")) << broken.describe();

  // The suggested group, pasted in: the check names no library, the program runs.
  tree.file("profiles.yaml", yaml(groups, kControl, tree.at("sandbox-home"), group));
  const Result c2 = launch(tree, "landlock", tool, true);
  EXPECT_NE(c2.status, 125) << c2.describe();
  EXPECT_FALSE(contains(c2.out, "[library]")) << "pasted: " << group << "\n"
                                              << c2.describe();
  const Result ok = launch(tree, "landlock", tool, false);
  EXPECT_EQ(ok.status, 0) << "pasted: " << group << "\n" << ok.describe();
}

TEST_P(CheckLibrary, ReportsALibraryHiddenByDeny) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
  AISBX_SKIP_WITHOUT(!kSanitized, "an ASan build of the probe needs more libraries than libc");
  const std::string libc = real("/lib/x86_64-linux-gnu/libc.so.6");
  AISBX_SKIP_WITHOUT(!libc.empty() && runner::exists("/usr/lib64"),
               "not a merged-/usr x86_64 system");
  TempTree tree(GetParam(), "aisbx-check-deny");
  tree.dir("project");
  tree.dir("home");
  const std::string tool = tree.file("bin/tool", runner::read_text(probe_path()), 0755);
  auto write = [&](bool deny) {
    std::string y = yaml({{"system", {"/usr", "/lib", "/lib64", "/bin"}, kReadExec},
                          {"tools", {dir_of(tool)}, kReadExec},
                          {"project", {tree.at("project")}, kRead}},
                         kControl, tree.at("sandbox-home"));
    if (deny)
      y.insert(y.find("        permissions:"), "        deny: [" + yq(libc) + "]\n");
    tree.file("profiles.yaml", y);
  };
  write(true);
  const Result c = launch(tree, "layered", tool, true);
  EXPECT_EQ(c.status, 1) << c.describe();
  EXPECT_TRUE(contains(c.out, "library `libc.so.6` (needed by `" + tool + "`)"))
      << c.describe();
  EXPECT_TRUE(contains(c.out, "`" + libc + "` is hidden by access_roots.system.deny"))
      << c.describe();
  EXPECT_TRUE(contains(
      c.out, "remove the pattern matching `" + libc + "` from access_roots.system.deny"))
      << c.describe();
  const Result broken = launch(tree, "layered", tool, false);
  EXPECT_EQ(broken.status, 127) << broken.describe();
  EXPECT_TRUE(contains(broken.err, "libc.so.6")) << broken.describe();

  write(false);
  const Result c2 = launch(tree, "layered", tool, true);
  EXPECT_FALSE(contains(c2.out, "[library]")) << c2.describe();
  EXPECT_EQ(launch(tree, "layered", tool, false).status, 0);
}

INSTANTIATE_TEST_SUITE_P(Users, CheckLibrary,
                         ::testing::ValuesIn(runner::users_to_test()), user_name);

// ---------------------------------------------------------------------------
// A command that cannot start: the message names the path and the line;
// the line, pasted in, makes it start.

class StartFailure : public ::testing::TestWithParam<runner::UserMode> {};

TEST_P(StartFailure, NamesThePathAndTheLineThatMakesItStart) {
  const As as = GetParam().as;
  const std::string mode = GetParam().mode;
  if (mode == "layered")
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
  else
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
  TempTree tree(as, "aisbx-check-start");
  const std::string project = tree.dir("project");
  const std::string program = runner::read_text(probe_path());
  const std::string tools_tool = tree.file("tools/tool", program, 0755);
  const std::string project_tool = tree.file("project/tool", program, 0755);
  // What the probe needs to load, as the other kernel tests give it.
  const std::vector<Group> groups{
      {"system", {"/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache"}, kReadExec},
      {"project", {project}, kRead}};
  const std::string config = tree.at("profiles.yaml");
  auto launch = [&](const std::string& tool, const std::string& extra) {
    tree.file("profiles.yaml", yaml(groups, kControl, tree.at("sandbox-home"), extra));
    RunSpec s;
    s.argv = {binary_path(), "--config", config, "--profile", "p", "--mode",
              mode,          "--",       tool,   "exit",      "0"};
    s.as = as;
    s.cwd = project;
    s.env = {{"HOME", tree.dir("home")}};
    if (kSanitized) s.env.emplace_back("ASAN_OPTIONS", "detect_leaks=0");
    return runner::run(s);
  };

  // Not in any root: ENOENT behind the namespace wall, EACCES from Landlock.
  const Result absent = launch(tools_tool, "");
  EXPECT_EQ(absent.status, mode == "layered" ? 127 : 126) << absent.describe();
  EXPECT_TRUE(contains(absent.err, "execve `" + tools_tool + "`")) << absent.describe();
  EXPECT_TRUE(contains(absent.err, mode == "layered" ? "is not in the sandbox"
                                                     : "no Landlock rule covers it"))
      << absent.describe();
  EXPECT_TRUE(
      contains(absent.err, "add `" + dir_of(tools_tool) +
                               "` to a group with `execute: true, read_file: true`"))
      << absent.describe();
  const std::string group = suggested_group(absent.err, "add `" + dir_of(tools_tool));
  ASSERT_FALSE(group.empty()) << absent.describe();
  const Result fixed = launch(tools_tool, group);
  EXPECT_EQ(fixed.status, 0) << "pasted: " << group << "\n" << fixed.describe();

  // In a root without execute: EACCES, and the right is named.
  const Result noexec = launch(project_tool, "");
  EXPECT_EQ(noexec.status, 126) << noexec.describe();
  EXPECT_TRUE(contains(noexec.err, "`" + project_tool + "` lacks execute"))
      << noexec.describe();
  EXPECT_TRUE(
      contains(noexec.err, "add `execute: true` to access_roots.project.permissions"))
      << noexec.describe();
  const std::string group2 = suggested_group(noexec.err, "`" + project_tool + "` lacks");
  ASSERT_FALSE(group2.empty()) << noexec.describe();
  const Result fixed2 = launch(project_tool, group2);
  EXPECT_EQ(fixed2.status, 0) << "pasted: " << group2 << "\n" << fixed2.describe();
}

INSTANTIATE_TEST_SUITE_P(Users, StartFailure, ::testing::ValuesIn(mode_cases()),
                         runner::user_mode_name);

// ---------------------------------------------------------------------------
// Fixes converge: every group --check suggests, pasted in once, leaves a
// profile with no finding of those kinds, and the program runs. On a
// merged-/usr system the loader is reached through a chain of links
// (/lib64 -> usr/lib64, /usr/lib64/ld-linux-x86-64.so.2 -> /lib/..., /lib ->
// usr/lib): the fix names what the chain needs, not its first link.

class CheckConverges : public ::testing::TestWithParam<runner::UserMode> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().mode) == "layered")
      AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock);
    else
      AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    AISBX_SKIP_WITHOUT(!kSanitized,
                       "an ASan build of the probe needs more libraries than libc");
    AISBX_SKIP_WITHOUT(!real("/lib/x86_64-linux-gnu/libc.so.6").empty(),
                       "no x86_64 multiarch libc here");
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-check-conv");
    project_ = tree_->dir("project");
    tree_->dir("home");
    tool_ = tree_->file("bin/tool", runner::read_text(probe_path()), 0755);
  }

  Result launch(const std::string& extra, bool check) const {
    tree_->file("profiles.yaml", yaml(groups_, kControl, tree_->at("sandbox-home"), extra));
    RunSpec s;
    s.argv = {binary_path(), "--config", tree_->at("profiles.yaml"), "--profile", "p",
              "--mode", GetParam().mode};
    if (check) s.argv.push_back("--check");
    s.argv.insert(s.argv.end(), {"--", tool_, "exit", "0"});
    s.as = GetParam().as;
    s.cwd = project_;
    s.env = {{"HOME", tree_->at("home")}};
    return runner::run(s);
  }

  // Runs --check, pastes every suggested group once, and checks again.
  void converges(const std::vector<std::string>& kinds) {
    const Result first = launch("", true);
    ASSERT_NE(first.status, 125) << first.describe();
    bool any = false;
    for (const auto& k : kinds) any = any || contains(first.out, "[" + k + "]");
    ASSERT_TRUE(any) << "nothing to fix: " << first.describe();
    EXPECT_NE(launch("", false).status, 0) << "the run fails before the fix";
    std::string extra;
    for (const auto& g : suggested_groups(first.out))
      extra += (extra.empty() ? "" : "\n      ") + g;
    ASSERT_FALSE(extra.empty()) << first.describe();
    const Result second = launch(extra, true);
    EXPECT_NE(second.status, 125) << "pasted:\n" << extra << "\n" << second.describe();
    for (const auto& k : kinds)
      EXPECT_FALSE(contains(second.out, "[" + k + "]"))
          << "pasted:\n" << extra << "\n" << second.describe();
    // No new advice about the pasted paths either (a root written through
    // a symlink), beyond what a note may say.
    EXPECT_FALSE(contains(second.out, "warning [warning]")) << second.describe();
    const Result ok = launch(extra, false);
    EXPECT_EQ(ok.status, 0) << "pasted:\n" << extra << "\n" << ok.describe();
  }

  std::unique_ptr<TempTree> tree_;
  std::string project_, tool_;
  std::vector<Group> groups_;
};

// The library directory is there, the loader is not (in the namespace wall
// nothing shows /lib64 or /usr/lib64; Landlock alone sees the host's links
// and the loader's file inside the library directory's rule).
TEST_P(CheckConverges, AMissingLoader) {
  const std::string libdir = dir_of(real("/lib/x86_64-linux-gnu/libc.so.6"));
  groups_ = {{"tools", {dir_of(tool_)}, kReadExec},
             {"libs", {libdir, "/etc/ld.so.cache"}, kReadExec},
             {"project", {project_}, kRead}};
  if (std::string(GetParam().mode) == "landlock") {
    // Nothing to fix there: the same profile is clean and runs.
    const Result c = launch("", true);
    EXPECT_FALSE(contains(c.out, "[interpreter]")) << c.describe();
    EXPECT_EQ(launch("", false).status, 0);
    return;
  }
  converges({"interpreter", "library", "command"});
}

// Neither the loader nor the library directory: only the program's own.
TEST_P(CheckConverges, NoSystemDirectoryAtAll) {
  groups_ = {{"tools", {dir_of(tool_)}, kReadExec}, {"project", {project_}, kRead}};
  converges({"interpreter", "library", "command"});
}

INSTANTIATE_TEST_SUITE_P(Users, CheckConverges, ::testing::ValuesIn(mode_cases()),
                         runner::user_mode_name);

// ---------------------------------------------------------------------------
// Exit status: 0 clean, 1 findings, 125 for a profile that does not load.

TEST_P(Check, ExitsZeroWhenCleanOneWithFindingsAndOneTwentyFiveOnABadProfile) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
  AISBX_SKIP_WITHOUT(!kSanitized, "an ASan build of the probe needs more libraries than libc");
  // Everything the probe needs, and nothing with links leaving it: its
  // copy, a copy of libc (found through LD_LIBRARY_PATH), the loader file.
  const std::string tool = tree_->file("bin/tool", runner::read_text(probe_path()), 0755);
  const std::string interp = interpreter_of(tool);
  ASSERT_FALSE(interp.empty());
  const std::string libc = real("/lib/" + std::string("x86_64-linux-gnu") + "/libc.so.6");
  AISBX_SKIP_WITHOUT(!libc.empty(), "no x86_64 multiarch libc here");
  tree_->file("lib/libc.so.6", runner::read_text(libc), 0755);
  const std::vector<Group> groups{{"tools", {dir_of(tool)}, kReadExec},
                                  {"libs", {tree_->at("lib")}, kReadExec},
                                  {"loader", {real(interp)}, kReadExec},
                                  {"project", {project_}, kRead}};
  tree_->file("profiles.yaml", yaml(groups, kControl, private_home_));
  const std::vector<std::string> opts = {"--check", "--mode", "landlock", "--env",
                                         "LD_LIBRARY_PATH=" + tree_->at("lib")};
  const Result clean = run(launcher(opts, {tool, "exit", "0"}));
  EXPECT_EQ(clean.status, 0) << clean.describe();
  EXPECT_TRUE(contains(clean.out, "result: clean")) << clean.describe();
  auto json_opts = opts;
  json_opts.insert(json_opts.end(), {"--format", "json"});
  const Result json = run(launcher(json_opts, {tool, "exit", "0"}));
  EXPECT_EQ(json.status, 0) << json.describe();
  EXPECT_TRUE(contains(json.out, "\"findings\":[]")) << json.describe();
  EXPECT_TRUE(contains(json.out, "\"result\":\"clean\"")) << json.describe();
  // And it really runs.
  std::vector<std::string> real_run = opts;
  real_run.erase(real_run.begin());
  EXPECT_EQ(run(launcher(real_run, {tool, "exit", "0"})).status, 0);

  // A finding: the same without the copy of libc on the library path.
  const Result finding =
      run(launcher({"--check", "--mode", "landlock"}, {tool, "exit", "0"}));
  EXPECT_EQ(finding.status, 1) << finding.describe();
  EXPECT_TRUE(contains(finding.out, "[library]")) << finding.describe();

  // A profile with a typo is the launcher's failure, not a finding.
  tree_->file("profiles.yaml", yaml(groups, {"read_file", "read_dirr"}, private_home_));
  const Result bad = run(launcher({"--check"}, {tool}));
  EXPECT_EQ(bad.status, 125) << bad.describe();
  EXPECT_TRUE(contains(bad.err, "read_dirr")) << bad.describe();
}

// The exit status follows the worst finding: info (a link that leads
// nowhere on the host either) never fails, a warning (a link to a real file
// outside every root) fails only with --strict, an error (a library the
// program cannot load) always does.
TEST_P(Check, SeveritiesDecideTheExitStatus) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
  AISBX_SKIP_WITHOUT(!kSanitized, "an ASan build of the probe needs more libraries than libc");
  const std::string tool = tree_->file("bin/tool", runner::read_text(probe_path()), 0755);
  const std::string interp = interpreter_of(tool);
  ASSERT_FALSE(interp.empty());
  const std::string libc = real("/lib/x86_64-linux-gnu/libc.so.6");
  AISBX_SKIP_WITHOUT(!libc.empty(), "no x86_64 multiarch libc here");
  tree_->file("lib/libc.so.6", runner::read_text(libc), 0755);
  tree_->file("profiles.yaml", yaml({{"tools", {dir_of(tool)}, kReadExec},
                                     {"libs", {tree_->at("lib")}, kReadExec},
                                     {"loader", {real(interp)}, kReadExec},
                                     {"project", {project_}, kRead}},
                                    kControl, private_home_));
  const std::vector<std::string> base = {"--check", "--mode", "landlock", "--env",
                                         "LD_LIBRARY_PATH=" + tree_->at("lib")};
  auto check = [&](bool strict, bool with_libs = true) {
    std::vector<std::string> o = with_libs ? base : std::vector<std::string>{
                                                        "--check", "--mode", "landlock"};
    if (strict) o.push_back("--strict");
    return run(launcher(o, {tool, "exit", "0"}));
  };
  ASSERT_EQ(check(true).status, 0) << check(true).describe();

  // Info only.
  const std::string stale = tree_->symlink("project/stale", "../nowhere/at-all");
  const Result info = check(false);
  EXPECT_EQ(info.status, 0) << info.describe();
  EXPECT_TRUE(contains(info.out, "  info [symlink] " + stale + "\n")) << info.describe();
  EXPECT_TRUE(contains(info.out, "result: 1 finding (1 info)")) << info.describe();
  EXPECT_EQ(check(true).status, 0) << check(true).describe();

  // A warning as well.
  tree_->file("outside/file", "outside\n");
  const std::string out = tree_->symlink("project/out", "../outside/file");
  const Result warning = check(false);
  EXPECT_EQ(warning.status, 0) << warning.describe();
  EXPECT_TRUE(contains(warning.out, "  warning [symlink] " + out + "\n")) << warning.describe();
  const Result strict = check(true);
  EXPECT_EQ(strict.status, 1) << strict.describe();
  const Result json = run(launcher({"--check", "--mode", "landlock", "--strict", "--format",
                                    "json", "--env", "LD_LIBRARY_PATH=" + tree_->at("lib")},
                                   {tool, "exit", "0"}));
  EXPECT_EQ(json.status, 1) << json.describe();
  EXPECT_TRUE(contains(json.out, "\"severity\":\"info\"")) << json.describe();
  EXPECT_TRUE(contains(json.out, "\"severity\":\"warning\"")) << json.describe();

  // An error: libc is not on the library path the profile shows.
  const Result error = check(false, false);
  EXPECT_EQ(error.status, 1) << error.describe();
  EXPECT_TRUE(contains(error.out, "  error [library] ")) << error.describe();

  // --strict means nothing without --check.
  const Result alone = run(launcher({"--strict"}, {tool, "exit", "0"}));
  EXPECT_EQ(alone.status, 125) << alone.describe();
}

INSTANTIATE_TEST_SUITE_P(Users, Check, ::testing::ValuesIn(runner::users_to_test()),
                         user_name);

// ---------------------------------------------------------------------------
// In-process: the bounded scan and the ELF reader.

TEST(CheckScan, StopsAtTheLimitAndCountsWhatItLeftOut) {
  TempTree tree(As::self, "aisbx-check-scan");
  const std::string project = tree.dir("project");
  for (int d = 0; d < 3; ++d)
    for (int f = 0; f < 10; ++f)
      tree.file("project/d" + std::to_string(d) + "/f" + std::to_string(f), "x");
  // 3 directories + 30 files = 33 entries.
  const std::string y = yaml({{"project", {project}, kRead}}, kControl, "");
  auto set = profile::parse_profiles(y, "scan.yaml");
  ASSERT_TRUE(set) << set.error().what;
  auto prof = profile::flatten(*set, "p");
  ASSERT_TRUE(prof) << prof.error().what;
  Options opt;
  opt.mode = Mode::landlock;
  opt.command = {"/bin/true"};
  HostFacts h;
  h.uid = ::getuid();
  h.gid = ::getgid();
  h.home = tree.dir("home");
  h.cwd = project;
  const Features f = Features::full(7);
  RealFs fs;
  auto plan = plan::resolve({*prof, "scan.yaml", opt, f, h, fs});
  ASSERT_TRUE(plan) << plan.error().what;

  auto scan_of = [&](const check::Report& r) -> const check::RootScan* {
    for (const auto& s : r.scans)
      if (s.root == project) return &s;
    return nullptr;
  };
  auto all = check::run(*plan, fs, {1000, 1000});
  ASSERT_TRUE(all) << all.error().message();
  ASSERT_NE(scan_of(*all), nullptr);
  EXPECT_EQ(scan_of(*all)->scanned, 33u);
  EXPECT_EQ(scan_of(*all)->not_scanned, 0u);

  auto bounded = check::run(*plan, fs, {10, 1000});
  ASSERT_TRUE(bounded);
  ASSERT_NE(scan_of(*bounded), nullptr);
  EXPECT_EQ(scan_of(*bounded)->scanned, 10u);
  EXPECT_EQ(scan_of(*bounded)->not_scanned, 23u);
  EXPECT_FALSE(scan_of(*bounded)->count_capped);
  EXPECT_TRUE(contains(check::render_text(*plan, *bounded),
                       "10 entries scanned, 23 not scanned"));

  auto capped = check::run(*plan, fs, {10, 5});
  ASSERT_TRUE(capped);
  EXPECT_EQ(scan_of(*capped)->not_scanned, 5u);
  EXPECT_TRUE(scan_of(*capped)->count_capped);
  EXPECT_TRUE(contains(check::render_text(*plan, *capped), "more than 5 not scanned"));
}

TEST(CheckElf, ReadsTheLoaderAndTheLibrariesOfARealProgram) {
  const std::string probe = probe_path();
  auto info = check::read_elf(probe);
  ASSERT_TRUE(info) << info.error().message();
  ASSERT_TRUE(*info) << "the probe is an ELF program";
  EXPECT_TRUE((*info)->supported);
  EXPECT_EQ((*info)->elf_class, ELFCLASS64);
  EXPECT_EQ((*info)->interp, interpreter_of(probe));
  bool libc = false;
  for (const auto& n : (*info)->needed) libc = libc || n == "libc.so.6";
  EXPECT_TRUE(libc) << "DT_NEEDED of the probe lacks libc.so.6";
}

TEST(CheckElf, RefusesTruncatedFilesAndReportsOtherClassesAndScripts) {
  TempTree tree(As::self, "aisbx-check-elf");
  const std::string bytes = runner::read_text(probe_path());
  ASSERT_GT(bytes.size(), 64u);
  // The header alone: the program headers it points at are not there.
  const std::string cut = tree.file("cut", bytes.substr(0, 64));
  EXPECT_FALSE(check::read_elf(cut)) << "a truncated ELF file must be an error";
  // A 32-bit little-endian header for i386.
  std::string h32(52, '\0');
  h32[0] = 0x7f, h32[1] = 'E', h32[2] = 'L', h32[3] = 'F';
  h32[EI_CLASS] = ELFCLASS32;
  h32[EI_DATA] = ELFDATA2LSB;
  h32[18] = static_cast<char>(EM_386);
  auto i32 = check::read_elf(tree.file("elf32", h32));
  ASSERT_TRUE(i32) << i32.error().message();
  ASSERT_TRUE(*i32);
  EXPECT_FALSE((*i32)->supported);
  EXPECT_EQ((*i32)->elf_class, ELFCLASS32);
  EXPECT_EQ((*i32)->machine, EM_386);
  const std::string script = tree.file("script", "#!/bin/sh -e\necho hi\n", 0755);
  auto s = check::read_elf(script);
  ASSERT_TRUE(s);
  EXPECT_FALSE(*s) << "a script is not ELF";
  EXPECT_EQ(check::read_shebang(script), "/bin/sh");
  EXPECT_EQ(check::read_shebang(cut), std::nullopt);
}

}  // namespace
}  // namespace aisbx::test
