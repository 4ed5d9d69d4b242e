// A mount moves with its directory. In a writable HOME, `mv ~/.config
// ~/.c2` would take every mask beneath it along and leave the sandbox free
// to make a fresh `~/.config/git/config` (core.fsmonitor: code the user's
// own git runs) or `~/.config/autostart/x.desktop`; in a writable project,
// `mv vendor v2` would do the same for a nested repository's hooks. The
// namespace wall pins every directory between a writable root and what it
// protects (bound onto itself: EBUSY to rename and rmdir).
//
// Replayed through the real binary in every mode with the namespace wall
// (ns, layered, strict), as the caller and as uid 65534. `--mode ns` runs
// only when every masked start-up entry exists (else it refuses), so the
// HOME here holds every entry of the built-in table.
#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "plan/masks.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

constexpr const char* kRights =
    "{read_file: true, read_dir: true, execute: true, write_file: true, remove_file: true, "
    "remove_dir: true, make_reg: true, make_dir: true, make_sym: true, truncate: true, "
    "refer: true}";

std::string profiles_yaml() {
  std::string y = "version: 1\nprofiles:\n  home:\n    access_roots:\n";
  y += "      system:\n        paths: [\"/usr\", \"/bin\", \"/lib\", \"/lib64\", "
       "\"/etc/ld.so.cache\"]\n";
  y += "        permissions: {read_file: true, read_dir: true, execute: true}\n";
  y += "      home:\n        paths: [\"~\"]\n        permissions: " + std::string(kRights) + "\n";
  y += "    control_access: " + std::string(kRights) + "\n";
  return y;
}

class MaskPins : public ::testing::TestWithParam<runner::UserMode> {
 protected:
  void SetUp() override {
    if (mode() != "landlock") AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
    if (mode() != "ns") AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-pins", "/var/tmp");
    home_ = tree_->dir("home");
    // Every built-in entry, so that --mode ns has nothing left to refuse:
    // a directory where another entry lies beneath, a file elsewhere.
    std::vector<std::string> paths;
    for (const auto& m : plan::builtin_masks()) paths.emplace_back(m.path);
    for (const auto& p : paths) {
      const bool parent = std::any_of(paths.begin(), paths.end(),
                                      [&](const std::string& o) { return o.starts_with(p + "/"); });
      // aisbx-ns's own directories (private homes, runs) are directories.
      if (parent || p.starts_with(".ai-sandbox/")) tree_->dir("home/" + p);
      else tree_->file("home/" + p, "# host's " + p + "\n", 0600);
    }
    tree_->file("home/.config/autostart-dir/keep", "x\n");
    config_ = tree_->file("profiles.yaml", profiles_yaml());
  }

  std::string mode() const { return GetParam().mode; }

  Result run(std::vector<std::string> argv, const std::string& cwd) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam().as;
    s.cwd = cwd;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")}, {"GIT_CONFIG_NOSYSTEM", "1"}};
    s.env.insert(s.env.end(), extra_env_.begin(), extra_env_.end());
    s.timeout_seconds = 90;
    return runner::run(s);
  }

  Result sandboxed(std::vector<std::string> args, const std::string& script,
                   const std::string& cwd) const {
    std::vector<std::string> v{binary_path(), "--mode", mode()};
    v.insert(v.end(), args.begin(), args.end());
    v.insert(v.end(), {"--", "/bin/sh", "-c", script});
    return run(v, cwd);
  }

  void attack_home(const std::string& cwd) const;

  std::unique_ptr<TempTree> tree_;
  std::string home_, config_;
  std::vector<std::pair<std::string, std::string>> extra_env_;
};

void MaskPins::attack_home(const std::string& cwd) const {
  const std::string h = home_;
  // Each line tries to move a parent of masked entries out of the way and
  // put the sandbox's own file where the host's tools will read it.
  const std::string script =
      "cd " + h + "\n"
      "mv .config .c2 2>/dev/null && echo MOVED-CONFIG\n"
      "mkdir -p .config/git 2>/dev/null; echo '[core] fsmonitor = planted' > .config/git/config "
      "2>/dev/null\n"
      "mv .cache .cache2 2>/dev/null && echo MOVED-CACHE\n"
      "mv .local/share .local/s2 2>/dev/null && echo MOVED-SHARE\n"
      "mv .local .l2 2>/dev/null && echo MOVED-LOCAL\n"
      "rmdir .docker 2>/dev/null; mv .docker .d2 2>/dev/null && echo MOVED-DOCKER\n"
      "mkdir -p .docker; echo planted > .docker/config.json 2>/dev/null\n"
      // The rest of those directories stays usable.
      "mkdir .config/newapp && echo ok > .config/newapp/settings && echo WROTE-CONFIG\n"
      "mv .config/autostart-dir .config/moved && echo MOVED-PLAIN\n";
  const Result r = sandboxed({"--config", config_, "--profile", "home"}, script, cwd);
  ASSERT_EQ(r.status, 0) << r.describe();
  for (const char* moved : {"MOVED-CONFIG", "MOVED-CACHE", "MOVED-SHARE", "MOVED-LOCAL",
                            "MOVED-DOCKER"})
    EXPECT_FALSE(contains(r.out, moved)) << moved << ": " << r.describe();
  EXPECT_TRUE(contains(r.out, "WROTE-CONFIG")) << r.describe();
  EXPECT_TRUE(contains(r.out, "MOVED-PLAIN")) << r.describe();

  // On the host: every masked entry is where it was, with the host's content.
  EXPECT_FALSE(exists(h + "/.c2"));
  EXPECT_FALSE(exists(h + "/.cache2"));
  EXPECT_FALSE(exists(h + "/.l2"));
  EXPECT_FALSE(exists(h + "/.d2"));
  EXPECT_EQ(read_text(h + "/.config/git/credentials"), "# host's .config/git/credentials\n");
  EXPECT_FALSE(exists(h + "/.config/git/config"));
  EXPECT_EQ(read_text(h + "/.docker/config.json"), "# host's .docker/config.json\n");
  EXPECT_EQ(read_text(h + "/.config/autostart"), "# host's .config/autostart\n");
  EXPECT_EQ(read_text(h + "/.config/newapp/settings"), "ok\n");
}

TEST_P(MaskPins, AParentOfAMaskCannotBeRenamedAwayAndReplaced) { attack_home(home_); }

// From a subdirectory of HOME, and through the older kernels' mount path
// (no mount_setattr: the pin is a recursive bind made with mount(2)).
TEST_P(MaskPins, TheSameFromASubdirectoryWithoutTheNewMountApi) {
  extra_env_ = {{"AISBX_FAKE_NO_MOUNT_SETATTR", "1"}};
  attack_home(tree_->dir("home/work/sub"));
}

TEST_P(MaskPins, DryRunNamesEachPinnedDirectory) {
  const Result r = sandboxed({"--config", config_, "--profile", "home", "--dry-run"}, "true", home_);
  ASSERT_EQ(r.status, 0) << r.describe();
  for (const char* dir : {"/.config", "/.cache", "/.local", "/.local/share", "/.docker"})
    EXPECT_TRUE(contains(r.out, "pinned " + home_ + dir + "  #")) << dir;
  EXPECT_FALSE(contains(r.out, "pinned " + home_ + "/.ssh")) << "a mask is no pin";
}

// A nested repository's hooks in a writable project: its parents are
// pinned, so `mv vendor v2` cannot leave a fresh `vendor/x/.git` behind
// for the user's git.
TEST_P(MaskPins, ANestedRepositorysParentsCannotBeRenamedAway) {
  const std::string project = tree_->dir("proj");
  for (const std::string& dir : {project, tree_->dir("proj/vendor/x")}) {
    const Result g = run({"/usr/bin/git", "init", "-q", dir}, dir);
    ASSERT_EQ(g.status, 0) << g.describe();
  }
  tree_->file("proj/vendor/x/.git/hooks/pre-commit", "#!/bin/sh\nexit 0\n", 0755);
  const std::string script =
      "mv vendor v2 2>/dev/null && echo MOVED-VENDOR\n"
      "mv vendor/x vendor/y 2>/dev/null && echo MOVED-X\n"
      "mkdir -p vendor/x/.git/hooks 2>/dev/null\n"
      "printf '#!/bin/sh\\ntouch planted\\n' > vendor/x/.git/hooks/pre-commit 2>/dev/null\n"
      "mkdir src && mv src lib && echo MOVED-PLAIN\n";
  const Result r = sandboxed({"--profile", "agent", "--project", project}, script, project);
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(contains(r.out, "MOVED-VENDOR")) << r.describe();
  EXPECT_FALSE(contains(r.out, "MOVED-X")) << r.describe();
  EXPECT_TRUE(contains(r.out, "MOVED-PLAIN")) << r.describe();
  EXPECT_FALSE(exists(project + "/v2"));
  EXPECT_FALSE(exists(project + "/vendor/y"));
  EXPECT_EQ(read_text(project + "/vendor/x/.git/hooks/pre-commit"), "#!/bin/sh\nexit 0\n");
}

INSTANTIATE_TEST_SUITE_P(Kernel, MaskPins,
                         ::testing::ValuesIn(runner::user_modes({"ns", "layered", "strict"})),
                         runner::user_mode_name);

// The same attack on a profile's `readonly` file deep in a writable
// project, in every mode: the namespace wall pins the way; Landlock alone
// takes the rights to remove from every directory on the way (rights add
// up along a path), so neither `rm` nor `mv docs docs2; mv src docs` can
// put another file where the protected one is.
class ReadOnlyInPlace : public MaskPins {};

TEST_P(ReadOnlyInPlace, AReadOnlyFileCannotBeRemovedOrSwappedAway) {
  const std::string project = tree_->dir("ro-proj");
  tree_->file("ro-proj/docs/a/b.md", "host's b\n");
  tree_->file("ro-proj/src/s.c", "int x;\n");
  const std::string y = std::string("version: 1\nprofiles:\n  ro:\n    access_roots:\n") +
                        "      proj:\n        paths: [" + yq(project) + "]\n" +
                        "        readonly: [\"docs/a/b.md\"]\n        permissions: " + kRights +
                        "\n      system:\n        paths: [\"/usr\", \"/bin\", \"/lib\", "
                        "\"/lib64\", \"/etc/ld.so.cache\"]\n        permissions: {read_file: "
                        "true, read_dir: true, execute: true}\n    control_access: " +
                        kRights + "\n";
  const std::string config = tree_->file("ro.yaml", y);
  const std::string script =
      "rm -f docs/a/b.md 2>/dev/null; mv docs docs2 2>/dev/null; mv docs/a docs/a2 2>/dev/null\n"
      "mv -T src docs 2>/dev/null; mkdir -p docs/a 2>/dev/null\n"
      "echo planted > docs/a/b.md 2>/dev/null\n"
      // A sibling keeps every right.
      "echo more >> src/s.c && mkdir src/q && rmdir src/q && echo SIBLING-OK\n";
  const Result r = sandboxed({"--config", config, "--profile", "ro"}, script, project);
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "SIBLING-OK")) << r.describe();
  EXPECT_EQ(read_text(project + "/docs/a/b.md"), "host's b\n");
  EXPECT_FALSE(exists(project + "/docs2"));
  EXPECT_FALSE(exists(project + "/docs/a2"));
  EXPECT_EQ(read_text(project + "/src/s.c"), "int x;\nmore\n");
}

INSTANTIATE_TEST_SUITE_P(Kernel, ReadOnlyInPlace,
                         ::testing::ValuesIn(runner::user_modes({"ns", "layered", "strict",
                                                                 "landlock"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
