// The compiled seccomp program kept beside the profile cache
// (stage::check_seccomp), with the real binary, as the caller and as uid
// 65534: a second launch loads the stored program and the filter still
// refuses what it refuses; an entry flipped, cut short, or holding the
// program of another filter (the terminal guard's, which lets keyctl
// through) is ignored, the filter compiled again and the entry rewritten.
//
// What happened is read from `--log-level debug` ("seccomp cache: ...");
// what the command met (EPERM from keyctl) is the proof.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

using runner::As;
using runner::contains;
using runner::read_text;
using runner::Result;
using runner::RunSpec;
using runner::TempTree;


constexpr std::string_view kMagic = "AISBXSB1";

class SeccompCache : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock, Need::Seccomp);
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-scc", "/var/tmp");
    home_ = tree_->dir("home");
    tree_->dir("xdg");
    tree_->dir("project");
    cache_ = home_ + "/.cache/aisbx-ns";
  }

  // keyctl in the built-in `minimal` profile with the default filter
  // (`--seccomp default`) or the terminal guard alone (`off`).
  Result keyctl(const std::string& seccomp) const {
    RunSpec s;
    s.argv = {binary_path(), "--profile", "minimal", "--mode",  "layered",
              "--seccomp",   seccomp,     "--log-level", "debug", "--ro",
              dir_of(sysprobe_path()), "--", sysprobe_path(), "keyctl"};
    s.as = GetParam();
    s.cwd = tree_->at("project");
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", tree_->at("xdg")}};
    return runner::run(s);
  }

  // The seccomp entries in the cache directory.
  std::vector<std::string> programs() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(cache_, ec))
      if (read_text(e.path().string()).starts_with(kMagic)) out.push_back(e.path().string());
    return out;
  }

  // Rewrites `path` in place: same inode, owner and mode.
  static void overwrite(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, cache_;
};

TEST_P(SeccompCache, ASecondLaunchLoadsTheStoredProgramAndItStillRefuses) {
  // The control: without the default filter keyctl works, so EPERM below
  // is the filter's.
  const Result off = keyctl("off");
  ASSERT_EQ(off.status, 0) << off.describe();
  const Result first = keyctl("default");
  EXPECT_EQ(first.status, EPERM) << first.describe();
  EXPECT_TRUE(contains(first.err, "seccomp cache: miss")) << first.err;
  const auto stored = programs();
  ASSERT_EQ(stored.size(), 2U) << "one program for each filter";
  for (const auto& p : stored) {
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mode & 07777, 0600U) << p;
    EXPECT_EQ(st.st_uid, runner::uid_of(GetParam())) << p;
  }
  const Result second = keyctl("default");
  EXPECT_EQ(second.status, EPERM) << second.describe();
  EXPECT_TRUE(contains(second.err, "seccomp cache: hit")) << second.err;
  const Result off_again = keyctl("off");
  EXPECT_EQ(off_again.status, 0) << off_again.describe();
  EXPECT_TRUE(contains(off_again.err, "seccomp cache: hit")) << off_again.err;
}

TEST_P(SeccompCache, ADamagedOrForeignEntryIsIgnoredAndTheFilterStillRefuses) {
  ASSERT_EQ(keyctl("off").status, 0);
  const auto guard_only = programs();
  ASSERT_EQ(guard_only.size(), 1U);
  const std::string guard_bytes = read_text(guard_only.front());
  ASSERT_EQ(keyctl("default").status, EPERM);
  std::string entry;
  for (const auto& p : programs())
    if (p != guard_only.front()) entry = p;
  ASSERT_FALSE(entry.empty());
  const std::string good = read_text(entry);
  ASSERT_GT(good.size(), kMagic.size() + 64 + 4 + 32);

  std::string flipped = good;
  flipped[kMagic.size() + 64 + 4 + 3] ^= 0x01;  // inside the first instruction
  std::string cut = good.substr(0, good.size() - 8);
  // The terminal guard's program (keyctl allowed) under the default
  // filter's name: a well-formed entry, written for another filter.
  const struct {
    const char* what;
    std::string bytes;
    const char* why;
  } damaged[] = {{"a flipped bit", flipped, "checksum mismatch"},
                 {"cut short", cut, "truncated, padded or too long"},
                 {"another filter's program", guard_bytes, "written for another filter"}};
  for (const auto& d : damaged) {
    SCOPED_TRACE(d.what);
    overwrite(entry, d.bytes);
    const Result r = keyctl("default");
    EXPECT_EQ(r.status, EPERM) << r.describe();
    EXPECT_TRUE(contains(r.err, std::string("seccomp cache: entry ignored (") + d.why + ")"))
        << r.err;
    EXPECT_EQ(read_text(entry), good) << "the entry is written again as compiled";
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, SeccompCache, ::testing::ValuesIn(runner::users_to_test()),
                         [](const ::testing::TestParamInfo<As>& p) { return runner::name_of(p.param); });

}  // namespace
}  // namespace aisbx::test
