// The nested-repository walk's cache (src/host/walk_cache.h) may spare a
// launch the reading of directories, never hide a repository that exists
// when the launch begins. Replayed through the real binary: a run plants
// `vendor/lib/.git` with a hook and sets the modification time of each
// directory it changed back to exactly what it was (`touch -r`), as an
// attack on a cache keyed by mtimes would; the next launch must still find
// the repository and hold its hooks read-only (landlock mode: put back after
// the run). Every mode, as the caller and as uid 65534.
// The entry's own format is checked here too (it lives in aisbx_sys).
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "host/walk_cache.h"
#include "kernel_gap.h"
#include "paths.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

TEST(WalkCacheEntry, ReadsBackWhatItWrote) {
  WalkCache::Record r;
  r.dev = 0x801;
  r.ino = 1234567890123ULL;
  r.ctime_s = 1764950000;
  r.ctime_ns = 999999999;
  r.entries = {{"src", FileKind::directory}, {".git", FileKind::regular}};
  const std::vector<std::pair<std::string, WalkCache::Record>> in{{"/p", r}, {"/p/src", {}}};
  const std::string bytes = WalkCache::encode("/p", in);
  const auto out = WalkCache::decode(bytes, "/p");
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->size(), 2u);
  const WalkCache::Record& back = out->at("/p");
  EXPECT_EQ(back.dev, r.dev);
  EXPECT_EQ(back.ino, r.ino);
  EXPECT_EQ(back.ctime_s, r.ctime_s);
  EXPECT_EQ(back.ctime_ns, r.ctime_ns);
  ASSERT_EQ(back.entries.size(), 2u);
  EXPECT_EQ(back.entries[1].name, ".git");
  EXPECT_EQ(back.entries[1].kind, FileKind::regular);
  EXPECT_TRUE(out->at("/p/src").entries.empty());
}

TEST(WalkCacheEntry, AnythingElseIsNoEntry) {
  WalkCache::Record r;
  r.entries = {{"a", FileKind::directory}};
  const std::string bytes = WalkCache::encode("/p", {{"/p", r}});
  EXPECT_FALSE(WalkCache::decode(bytes, "/q").has_value()) << "another root's entry";
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_FALSE(WalkCache::decode(bytes.substr(0, cut), "/p").has_value()) << "cut at " << cut;
  EXPECT_FALSE(WalkCache::decode(bytes + "x", "/p").has_value()) << "trailing bytes";
  std::string slash = bytes;
  slash[slash.size() - 1] = '/';  // the last name, "a", becomes "/"
  EXPECT_FALSE(WalkCache::decode(slash, "/p").has_value()) << "a name with a slash";
}

class WalkCacheRuns : public ::testing::TestWithParam<runner::UserMode> {
 protected:
  void SetUp() override {
    if (GetParam().mode != std::string("landlock")) AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
    if (GetParam().mode != std::string("ns")) AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-walk", "/var/tmp");
    home_ = tree_->dir("home");
    project_ = tree_->dir("proj");
    // Enough directories for the walk to keep an entry.
    for (int i = 0; i < 12; ++i) tree_->dir("proj/src/m" + std::to_string(i) + "/d");
    tree_->dir("proj/vendor");
    const Result g = run({"/usr/bin/git", "init", "-q", project_});
    ASSERT_EQ(g.status, 0) << g.describe();
    // What is kept must have settled: no directory changed in the last
    // WalkCache::kSettleSeconds.
    ::sleep(static_cast<unsigned>(WalkCache::kSettleSeconds) + 1);
  }

  Result run(std::vector<std::string> argv, const std::string& cwd = {}) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam().as;
    s.cwd = cwd.empty() ? project_ : cwd;
    s.env = {{"HOME", home_}, {"GIT_CONFIG_NOSYSTEM", "1"}};
    s.timeout_seconds = 60;
    return runner::run(s);
  }

  Result sandboxed(const std::string& script, const std::string& cwd = {}) const {
    return run({binary_path(), "--mode", GetParam().mode, "--profile", "agent", "--project",
                project_, "--log-level", "debug", "--", "/bin/sh", "-c", script},
               cwd);
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, project_;
};

TEST_P(WalkCacheRuns, ARepositoryPlantedWithItsParentsMtimesSetBackIsStillFound) {
  const std::string stored = "walk cache: `" + project_ + "`: stored";
  const Result first = sandboxed("true");
  ASSERT_EQ(first.status, 0) << first.describe();
  ASSERT_TRUE(contains(first.err, stored)) << first.describe();

  struct stat before {};
  ASSERT_EQ(::stat((project_ + "/vendor").c_str(), &before), 0);
  // Served from the entry (nothing to store), while it plants a repository
  // and sets the mtimes of `.` and `vendor` back to exactly what they were
  // (to the nanosecond, from reference files made first), as an attack on
  // a cache keyed by mtimes would. Launched from a subdirectory.
  const Result plant = sandboxed(
      "set -e\ncd " + project_ + "\n"
      "touch -r . src/m0/d/.was-root; touch -r vendor src/m0/d/.was-vendor\n"
      "mkdir -p vendor/lib/.git/hooks\n"
      "printf '#!/bin/sh\\ntouch ran\\n' > vendor/lib/.git/hooks/pre-commit\n"
      "echo '[core]' > vendor/lib/.git/config\n"
      "touch -r src/m0/d/.was-vendor vendor; touch -r src/m0/d/.was-root .\n",
      project_ + "/src/m0");
  ASSERT_EQ(plant.status, 0) << plant.describe();
  EXPECT_FALSE(contains(plant.err, stored)) << "the first entry should have served: "
                                            << plant.describe();
  struct stat after {};
  ASSERT_EQ(::stat((project_ + "/vendor").c_str(), &after), 0);
  ASSERT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec) << "the mtime was not set back";
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec) << "the mtime was not set back";

  // The next launch finds it, and its hooks are the host's again: read-only
  // with the namespace wall; put back when the run ends in landlock mode.
  const Result next = sandboxed(
      "printf 'exit 1\\n' > vendor/lib/.git/hooks/pre-commit 2>/dev/null && echo WROTE-HOOK\n"
      "echo '[core] fsmonitor = x' > vendor/lib/.git/config 2>/dev/null && echo WROTE-CONFIG\n"
      "true\n");
  ASSERT_EQ(next.status, 0) << next.describe();
  if (GetParam().mode != std::string("landlock")) {
    EXPECT_FALSE(contains(next.out, "WROTE-HOOK")) << next.describe();
    EXPECT_FALSE(contains(next.out, "WROTE-CONFIG")) << next.describe();
  }
  EXPECT_EQ(read_text(project_ + "/vendor/lib/.git/hooks/pre-commit"), "#!/bin/sh\ntouch ran\n");
  EXPECT_EQ(read_text(project_ + "/vendor/lib/.git/config"), "[core]\n");
}

TEST_P(WalkCacheRuns, AnEntryOfTheWrongModeIsIgnoredAndTheTreeReadAgain) {
  const Result first = sandboxed("true");
  ASSERT_EQ(first.status, 0) << first.describe();
  // Whatever is in the cache directory: loosen every entry's mode.
  const Result loosen = run({"/bin/sh", "-c", "chmod 0644 " + home_ + "/.cache/aisbx-ns/*"});
  ASSERT_EQ(loosen.status, 0) << loosen.describe();
  tree_->dir("proj/vendor/x/.git/hooks");
  const Result next = sandboxed(
      "echo x > vendor/x/.git/hooks/post-checkout 2>/dev/null && echo WROTE-HOOK\ntrue\n");
  ASSERT_EQ(next.status, 0) << next.describe();
  EXPECT_TRUE(contains(next.err, "walk cache: entry ")) << next.describe();
  EXPECT_TRUE(contains(next.err, "not 0600")) << next.describe();
  if (GetParam().mode != std::string("landlock")) {
    EXPECT_FALSE(contains(next.out, "WROTE-HOOK")) << next.describe();
  }
  EXPECT_FALSE(runner::exists(project_ + "/vendor/x/.git/hooks/post-checkout")) << next.describe();
}

// A directory whose ctime is within WalkCache::kSettleSeconds of the walk
// is read, never kept: a change in the same clock tick as the read would
// leave its ctime as the entry recorded it, and the next walk would take
// the entry's stale list (a repository planted then, unseen). Once it has
// settled, it is kept. Read from the entry the launch stored.
TEST_P(WalkCacheRuns, ADirectoryChangedJustBeforeTheWalkIsNotKept) {
  tree_->dir("proj/src/fresh");  // `src` changes too
  const std::string entry = home_ + "/.cache/aisbx-ns/" + WalkCache::key_of(project_);
  const auto kept = [&]() {
    const auto records = WalkCache::decode(read_text(entry), project_);
    EXPECT_TRUE(records.has_value()) << entry;
    return records.value_or(std::unordered_map<std::string, WalkCache::Record>{});
  };
  const Result first = sandboxed("true");
  ASSERT_EQ(first.status, 0) << first.describe();
  auto records = kept();
  EXPECT_TRUE(records.contains(project_ + "/src/m0")) << "a settled directory was not kept";
  EXPECT_FALSE(records.contains(project_ + "/src")) << "kept while it may still change unseen";
  EXPECT_FALSE(records.contains(project_ + "/src/fresh")) << "kept while it may still change unseen";

  ::sleep(static_cast<unsigned>(WalkCache::kSettleSeconds) + 1);
  const Result later = sandboxed("true");
  ASSERT_EQ(later.status, 0) << later.describe();
  records = kept();
  EXPECT_TRUE(records.contains(project_ + "/src"));
  EXPECT_TRUE(records.contains(project_ + "/src/fresh"));
}

// The sandbox's init never execs: an fd the launcher left open reaches it
// and stays for the whole run. The command is kept out of /proc/1/fd (its
// capabilities are dropped, and Landlock scopes it), but no fd of init
// should lead to the host's tree in the first place: the launcher's cache
// directory, whose entries later launches trust, least of all; nor the
// run's cgroup directories (a write to the parent's cgroup.procs would
// leave the run's cgroup). Looked at from the host, while the command runs.
class InitFds : public ::testing::TestWithParam<runner::UserMode> {};

TEST_P(InitFds, InitHoldsNoFdOfTheCacheOrTheRunsCgroup) {
  const std::string mode = GetParam().mode;
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  if (mode != "ns") AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
  TempTree tree(GetParam().as, "aisbx-initfd", "/var/tmp");
  const std::string home = tree.dir("home"), project = tree.dir("proj");
  for (int i = 0; i < 12; ++i) tree.dir("proj/d" + std::to_string(i));
  tree.dir("home/.cache/aisbx-ns", 0700);
  RunSpec s;
  s.as = GetParam().as;
  s.cwd = project;
  s.env = {{"HOME", home}};
  s.argv = {"/bin/sh", "-c",
            "\"$0\" --mode " + mode + " --profile agent --project . -- /bin/sh -c "
            "'touch ready; sleep 5' & l=$!\n"
            "for _ in $(seq 100); do [ -e ready ] && break; sleep 0.05; done\n"
            "for p in $(cat /proc/$l/task/*/children); do echo \"init $p\"; "
            "ls -l /proc/$p/fd/; done\n"
            "kill $l; wait $l; true",
            binary_path()};
  const Result r = runner::run(s);
  ASSERT_EQ(r.status, 0) << r.describe();
  ASSERT_TRUE(contains(r.out, "init ")) << r.describe();
  EXPECT_FALSE(contains(r.out, ".cache/aisbx-ns")) << r.describe();
  // Nor the run's cgroup directories (the launcher removes them by fd).
  EXPECT_FALSE(contains(r.out, "/sys/fs/cgroup")) << r.describe();
  EXPECT_FALSE(contains(r.out, home + " ")) << r.describe();
  EXPECT_FALSE(contains(r.out, home + "\n")) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Kernel, InitFds,
                         ::testing::ValuesIn(runner::user_modes({"ns", "layered"})),
                         runner::user_mode_name);

INSTANTIATE_TEST_SUITE_P(Kernel, WalkCacheRuns,
                         ::testing::ValuesIn(runner::user_modes({"ns", "layered", "strict",
                                                                 "landlock"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
