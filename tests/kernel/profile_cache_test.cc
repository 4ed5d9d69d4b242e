// The compiled profile cache with the real binary (include/aisbx/
// profile_cache.h, src/host/profile_cache.cc), as the caller and as uid
// 65534: a changed config is never served from the old entry, even with
// the same size and mtime; an entry with the wrong mode, another owner,
// two links, cut short or flipped, or written for another config is
// ignored and rewritten; a cache directory that is not 0700 is not used;
// and no sandbox, whatever its roots, can read or plant an entry.
//
// What happened is read from `--log-level debug` ("profile cache: ...");
// what the run did (the value its profile sets) is the proof.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

const std::vector<std::string> kSystem = {"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache"};
const std::vector<std::string> kAllRights = {
    "read_file", "read_dir", "execute",  "write_file", "remove_file", "remove_dir",
    "make_reg",  "make_dir", "make_sym", "make_fifo",  "truncate",    "refer"};

// `p`: the system read-only; the command's environment says `value`.
// `home`: the same with `~` writable (every right).
std::string config(const std::string& value) {
  std::string y = "version: 1\nprofiles:\n  p:\n    access_roots:\n";
  y += groups_yaml({{"system", kSystem, {"read_file", "read_dir", "execute"}},
                    {"devnull", {"/dev/null"}, {"read_file", "write_file"}}});
  y += "    command:\n      env:\n        VALUE: " + yq(value) + "\n";
  y += "  home:\n    extends: p\n    access_roots:\n";
  y += groups_yaml({{"home", {"~"}, kAllRights}});
  y += control_yaml(kAllRights);
  return y;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

uid_t owner_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
}

class ProfileCacheRun : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-cache", "/var/tmp");
    home_ = tree_->dir("home");
    cache_ = home_ + "/.cache/aisbx-ns";
    config_ = tree_->file("profiles.yaml", config("one"));
  }

  Result launch(const std::string& cfg, const std::string& profile = "p",
                const std::string& mode = "landlock", const std::string& script = "echo $VALUE") const {
    RunSpec s;
    s.argv = {binary_path(), "--config", cfg,    "--profile", profile, "--mode",
              mode,          "--log-level", "debug", "--",       "/bin/sh", "-c", script};
    s.as = GetParam();
    s.cwd = home_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")}};
    s.timeout_seconds = 60;
    return runner::run(s);
  }

  // The profile entries in the cache directory (the launcher's own files;
  // the compiled seccomp program beside them has its own magic and test,
  // seccomp_cache_test.cc).
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(cache_, ec))
      if (!e.path().filename().string().starts_with(".") &&
          !read_text(e.path().string()).starts_with("AISBXSB1"))
        out.push_back(e.path().string());
    return out;
  }

  // The one entry a launch of config_ leaves (the profile extends no
  // built-in one, so only the user's file is parsed).
  std::string entry() const {
    const auto e = entries();
    EXPECT_EQ(e.size(), 1U);
    return e.empty() ? "" : e.front();
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, cache_, config_;
};

TEST_P(ProfileCacheRun, ASecondLaunchReadsTheEntryItStored) {
  const Result first = launch(config_);
  ASSERT_EQ(first.status, 0) << first.describe();
  EXPECT_EQ(first.out, "one\n");
  EXPECT_TRUE(contains(first.err, "profiles.yaml: miss")) << first.err;
  EXPECT_EQ(mode_of(home_ + "/.cache"), 0700U);
  EXPECT_EQ(mode_of(cache_), 0700U);
  const std::string e = entry();
  EXPECT_EQ(mode_of(e), 0600U);
  EXPECT_EQ(owner_of(e), runner::uid_of(GetParam()));
  const Result second = launch(config_);
  ASSERT_EQ(second.status, 0) << second.describe();
  EXPECT_EQ(second.out, "one\n");
  EXPECT_TRUE(contains(second.err, "profiles.yaml: hit")) << second.err;
}

TEST_P(ProfileCacheRun, AChangedConfigIsNeverServedStaleEvenWithTheSameSizeAndMtime) {
  ASSERT_EQ(launch(config_).out, "one\n");
  struct stat before {};
  ASSERT_EQ(::stat(config_.c_str(), &before), 0);
  tree_->file("profiles.yaml", config("two"));  // same length
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, config_.c_str(), times, 0), 0);
  const Result r = launch(config_);
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "two\n");
  EXPECT_TRUE(contains(r.err, "profiles.yaml: miss")) << r.err;
  // And back: the first entry is still good for the first text.
  tree_->file("profiles.yaml", config("one"));
  const Result back = launch(config_);
  EXPECT_EQ(back.out, "one\n");
  EXPECT_TRUE(contains(back.err, "profiles.yaml: hit")) << back.err;
}

TEST_P(ProfileCacheRun, AnEntryWithTheWrongModeOrTwoLinksIsIgnoredAndRewritten) {
  ASSERT_EQ(launch(config_).out, "one\n");
  const std::string e = entry();
  ASSERT_EQ(::chmod(e.c_str(), 0644), 0);
  Result r = launch(config_);
  EXPECT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "ignored: mode 0644, not 0600")) << r.err;
  EXPECT_TRUE(contains(r.err, "stored")) << r.err;
  EXPECT_EQ(mode_of(e), 0600U);

  const std::string link = tree_->at("other-name");
  ASSERT_EQ(::link(e.c_str(), link.c_str()), 0);
  r = launch(config_);
  EXPECT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "ignored: 2 links")) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(e.c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1U) << "the entry was replaced, not written through the link";
}

TEST_P(ProfileCacheRun, AnEntryOfAnotherOwnerIsIgnored) {
  ASSERT_EQ(launch(config_).out, "one\n");
  const std::string e = entry();
  if (::geteuid() == 0) {
    const uid_t other = runner::uid_of(GetParam()) == 0 ? runner::kNobodyUid : 0;
    ASSERT_EQ(::chown(e.c_str(), other, other), 0);
    ASSERT_EQ(::chmod(e.c_str(), 0644), 0);  // readable, so the owner is what is judged
    const Result r = launch(config_);
    EXPECT_EQ(r.out, "one\n") << r.describe();
    EXPECT_TRUE(contains(r.err, "ignored: owned by uid " + std::to_string(other))) << r.err;
    EXPECT_EQ(owner_of(e), runner::uid_of(GetParam()));
  } else {
    // Without root no file of another owner can be made here: a directory
    // others could write to is the same trust problem, one level up.
    ASSERT_EQ(::chmod(cache_.c_str(), 0770), 0);
    const Result r = launch(config_);
    EXPECT_EQ(r.out, "one\n") << r.describe();
    EXPECT_TRUE(contains(r.err, "off (the directory has mode 0770, not 0700)")) << r.err;
  }
}

TEST_P(ProfileCacheRun, ADirectoryThatIsALinkOrOpenToOthersIsNotUsed) {
  ASSERT_EQ(launch(config_).out, "one\n");
  ASSERT_EQ(::chmod(cache_.c_str(), 0755), 0);
  Result r = launch(config_);
  EXPECT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "off (the directory has mode 0755, not 0700)")) << r.err;
  EXPECT_FALSE(contains(r.err, "hit")) << r.err;

  tree_->dir("elsewhere", 0700);
  std::filesystem::rename(cache_, tree_->at("elsewhere/aisbx-ns"));
  ASSERT_EQ(::chmod(tree_->at("elsewhere/aisbx-ns").c_str(), 0700), 0);
  tree_->symlink("home/.cache/aisbx-ns", tree_->at("elsewhere/aisbx-ns"));
  r = launch(config_);
  EXPECT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "profile cache: off (open `aisbx-ns`")) << r.err;
  EXPECT_FALSE(contains(r.err, "hit")) << r.err;
}

TEST_P(ProfileCacheRun, ACutShortOrCorruptedEntryIsIgnored) {
  ASSERT_EQ(launch(config_).out, "one\n");
  const std::string e = entry();
  const std::string good = read_text(e);
  ASSERT_GT(good.size(), 100U);
  ASSERT_EQ(::truncate(e.c_str(), static_cast<off_t>(good.size() / 2)), 0);
  Result r = launch(config_);
  EXPECT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "entry ignored: truncated")) << r.err;
  EXPECT_EQ(read_text(e), good);

  std::string flipped = good;
  flipped[good.size() - 40] ^= 0x01;
  tree_->file(e.substr(tree_->path().size() + 1), flipped, 0600);
  r = launch(config_);
  EXPECT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "entry ignored: checksum mismatch")) << r.err;
}

TEST_P(ProfileCacheRun, AnEntryOfAnotherConfigIsNotTrusted) {
  const std::string other = tree_->file("other.yaml", config("two"));
  ASSERT_EQ(launch(config_).out, "one\n");
  const std::string mine = entry();
  ASSERT_EQ(launch(other).out, "two\n");
  std::string theirs;
  for (const auto& e : entries())
    if (e != mine) theirs = e;
  ASSERT_FALSE(theirs.empty());
  // The other config's entry put where this config's is looked for.
  std::filesystem::copy_file(theirs, mine, std::filesystem::copy_options::overwrite_existing);
  const Result r = launch(config_);
  EXPECT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "entry ignored: written for another text or parser")) << r.err;
}

// Sets the mtime of `path` (not following a link) to `seconds_ago`.
void age(const std::string& path, std::time_t seconds_ago) {
  const timespec t{std::time(nullptr) - seconds_ago, 0};
  const timespec times[2] = {t, t};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

std::time_t mtime_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mtime : 0;
}

constexpr std::time_t kDaySeconds = 24 * 60 * 60;

// Every key names a new entry (another text, another build): the directory
// is pruned after a store, at most once a day. Unused entries and a
// writer's leftovers go; an entry in use (its mtime refreshed by a hit), a
// young one, a file the store did not name, and what a link points to stay.
TEST_P(ProfileCacheRun, OldEntriesAndLeftoversArePrunedOnceADayAndNothingElse) {
  ASSERT_EQ(launch(config_).out, "one\n");
  const std::string mine = entry();
  ASSERT_TRUE(exists(cache_ + "/.pruned"));
  const auto name = [&](char c) { return cache_ + "/" + std::string(64, c); };
  const std::string old_entry = name('a'), young = name('b'), link = name('e');
  const std::string stale_tmp = cache_ + "/.new-" + std::string(64, 'c') + "-1";
  const std::string fresh_tmp = cache_ + "/.new-" + std::string(64, 'd') + "-2";
  const std::string other = cache_ + "/notes.txt";
  const std::string outside = tree_->file("outside", "keep me");
  const std::string rel = cache_.substr(tree_->path().size() + 1);
  for (const auto& [path, ago] : std::vector<std::pair<std::string, std::time_t>>{
           {old_entry, 40 * kDaySeconds}, {young, 10 * kDaySeconds},
           {stale_tmp, 2 * 60 * 60}, {fresh_tmp, 0}, {other, 400 * kDaySeconds}}) {
    tree_->file(path.substr(tree_->path().size() + 1), "x", 0600);
    age(path, ago);
  }
  tree_->symlink(rel + "/" + std::string(64, 'e'), outside);
  age(link, 40 * kDaySeconds);
  // In use: a hit on an entry last used 40 days ago marks it used now.
  age(mine, 40 * kDaySeconds);
  Result r = launch(config_);
  ASSERT_EQ(r.out, "one\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "profiles.yaml: hit")) << r.err;
  EXPECT_GT(mtime_of(mine), std::time(nullptr) - 60);

  // A store the same day does not prune.
  r = launch(tree_->file("two.yaml", config("two")));
  ASSERT_EQ(r.out, "two\n") << r.describe();
  EXPECT_TRUE(exists(old_entry));
  EXPECT_FALSE(contains(r.err, "pruned")) << r.err;

  // A day later it does.
  age(cache_ + "/.pruned", 2 * kDaySeconds);
  r = launch(tree_->file("three.yaml", config("three")));
  ASSERT_EQ(r.out, "three\n") << r.describe();
  EXPECT_TRUE(contains(r.err, "profile cache: pruned 3 old entries")) << r.err;
  EXPECT_FALSE(exists(old_entry));
  EXPECT_FALSE(exists(stale_tmp));
  EXPECT_FALSE(exists(link));
  EXPECT_EQ(read_text(outside), "keep me");
  EXPECT_TRUE(exists(mine)) << "an entry in use was pruned";
  EXPECT_TRUE(exists(young));
  EXPECT_TRUE(exists(fresh_tmp));
  EXPECT_TRUE(exists(other));
  EXPECT_GT(mtime_of(cache_ + "/.pruned"), std::time(nullptr) - 60);
  // And the entry just stored is used by the next launch.
  r = launch(tree_->file("three.yaml", config("three")));
  EXPECT_TRUE(contains(r.err, "three.yaml: hit")) << r.err;

  // A mark from the future (a clock set back, or a planted one) does not
  // stop pruning for good.
  const std::string older = name('f');
  tree_->file(older.substr(tree_->path().size() + 1), "x", 0600);
  age(older, 40 * kDaySeconds);
  age(cache_ + "/.pruned", -10 * kDaySeconds);
  r = launch(tree_->file("four.yaml", config("four")));
  ASSERT_EQ(r.out, "four\n") << r.describe();
  EXPECT_FALSE(exists(older)) << r.err;
}

// The store's names in the cache directory (entries of every kind).
std::size_t store_names(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    n += e.path().filename().string().size() == 64;
  return n;
}

// Beyond the limit, the least recently used entries go.
TEST_P(ProfileCacheRun, BeyondTheLimitTheLeastRecentlyUsedEntriesGo) {
  ASSERT_EQ(launch(config_).out, "one\n");
  const std::string mine = entry();
  const std::size_t before = store_names(cache_);  // mine, and the guard filter's program
  const std::size_t planted = 1010;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < planted; ++i) {
    char hex[65];
    std::snprintf(hex, sizeof hex, "%064zx", i);
    names.push_back(cache_ + "/" + hex);
    tree_->file(names.back().substr(tree_->path().size() + 1), "x", 0600);
    // names[0] the least recently used, all within the last 20 days.
    age(names.back(), static_cast<std::time_t>(planted - i) * 60 * 20);
  }
  age(cache_ + "/.pruned", 2 * kDaySeconds);
  const Result r = launch(tree_->file("two.yaml", config("two")));
  ASSERT_EQ(r.out, "two\n") << r.describe();
  EXPECT_EQ(store_names(cache_), 1000U);
  // The oldest go, all of them planted; what the launches wrote stays.
  const std::size_t gone = before + planted + 1 - 1000;
  for (std::size_t i = 0; i < gone; ++i) EXPECT_FALSE(exists(names[i])) << i;
  EXPECT_TRUE(exists(names[gone]));
  EXPECT_TRUE(exists(mine));
}

// Runs of one profile keep entries of only what they read; listing the
// profiles, or a name that is nowhere, still sees every one of them.
TEST_P(ProfileCacheRun, ListingAndUnknownNamesSeeEveryProfileWithAWarmCache) {
  for (int i = 0; i < 2; ++i) ASSERT_EQ(launch(config_).out, "one\n");
  RunSpec s;
  s.as = GetParam();
  s.cwd = home_;
  s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")}};
  s.argv = {binary_path(), "--config", config_, "--list-profiles"};
  for (int i = 0; i < 2; ++i) {
    const Result r = runner::run(s);
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "home ")) << r.out;
    EXPECT_TRUE(contains(r.out, "agent ")) << r.out;
  }
  s.argv = {binary_path(), "--config", config_, "--profile", "nowhere", "--", "/bin/true"};
  for (int i = 0; i < 2; ++i) {
    const Result r = runner::run(s);
    EXPECT_EQ(r.status, 125) << r.describe();
    EXPECT_TRUE(contains(r.err, "(available: p, home, ")) << r.err;
  }
  // A built-in profile with the user's file present, twice.
  s.argv = {binary_path(), "--config", config_,   "--profile", "minimal",
            "--mode",      "landlock", "--project", tree_->dir("proj"), "--log-level",
            "debug",       "--dry-run", "--",        "/bin/true"};
  s.cwd = tree_->at("proj");
  for (int i = 0; i < 2; ++i) {
    const Result r = runner::run(s);
    EXPECT_EQ(r.status, 0) << r.describe();
    if (i == 1) {
      EXPECT_TRUE(contains(r.err, "builtin.yaml: hit")) << r.err;
    }
  }
}

std::string user_name(const ::testing::TestParamInfo<As>& i) { return runner::name_of(i.param); }

INSTANTIATE_TEST_SUITE_P(Users, ProfileCacheRun, ::testing::ValuesIn(runner::users_to_test()),
                         user_name);

// A profile whose root is all of HOME, in each mode: the cache directory
// is hidden (secret mask), so nothing inside reads an entry or plants one.
class ProfileCacheHidden : public ::testing::TestWithParam<runner::UserMode> {};

TEST_P(ProfileCacheHidden, NoSandboxReadsOrPlantsAnEntry) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
  if (std::string(GetParam().mode) != "landlock") AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  TempTree tree(GetParam().as, "aisbx-cache", "/var/tmp");
  const std::string home = tree.dir("home");
  tree.file("home/work/file", "w\n");
  const std::string cfg = tree.file("profiles.yaml", config("one"));
  const std::string cache = home + "/.cache/aisbx-ns";
  RunSpec s;
  s.as = GetParam().as;
  s.cwd = home;
  s.env = {{"HOME", home}, {"XDG_CONFIG_HOME", tree.at("xdg")}};
  s.timeout_seconds = 60;
  const std::string script =
      "cat " + cache + "/* 2>/dev/null | head -c 8; ls -A " + cache + " 2>/dev/null\n"
      "echo planted > " + cache + "/planted 2>/dev/null\n"
      "echo more >> " + home + "/work/file && echo HOME-WRITABLE\n";
  s.argv = {binary_path(), "--config", cfg, "--profile", "home", "--mode", GetParam().mode,
            "--", "/bin/sh", "-c", script};
  const Result first = runner::run(s);  // the entry is stored before the sandbox starts
  ASSERT_EQ(first.status, 0) << first.describe();
  const Result r = runner::run(s);
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "HOME-WRITABLE")) << r.describe();
  EXPECT_FALSE(contains(r.out, "AISBXPT1")) << r.describe();
  EXPECT_EQ(r.out, "HOME-WRITABLE\n") << r.describe();
  EXPECT_FALSE(exists(cache + "/planted"));
  bool stored = false;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cache, ec))
    stored = stored || read_text(e.path().string()).starts_with("AISBXPT1");
  EXPECT_TRUE(stored) << "the launcher stored its entry outside the sandbox";
}

INSTANTIATE_TEST_SUITE_P(Modes, ProfileCacheHidden,
                         ::testing::ValuesIn(runner::user_modes({"layered", "strict", "landlock"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
