// Replays the profile fuzzer's seeds and every input it ever found wrong
// (tests/fuzz/regressions/) through the same pipeline as the fuzz target, so
// each unit test run (under ASan+UBSan in scripts/test.sh) keeps them fixed
// without clang or libFuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/profile_fuzz_one.h"

namespace aisbx::test {
namespace {

std::vector<std::filesystem::path> inputs_in(const std::string& rel, const std::string& ext) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(AISBX_SOURCE_DIR) + "/" + rel))
    if (e.is_regular_file() && e.path().filename() != "README.md" &&
        (ext.empty() || e.path().extension() == ext))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FuzzReplay, SeedsAndProfilesGiveAPlanOrACleanError) {
  std::size_t n = 0;
  for (const auto& [dir, ext] : {std::pair{"profiles", ".yaml"}, std::pair{"tests/fuzz/seeds", ""}})
    for (const auto& p : inputs_in(dir, ext)) {
      SCOPED_TRACE(p.string());
      fuzz::fuzz_one(slurp(p));
      ++n;
    }
  EXPECT_GE(n, 10u) << "the seed corpus went missing";
}

TEST(FuzzReplay, PastFindingsStayFixed) {
  for (const auto& p : inputs_in("tests/fuzz/regressions", "")) {
    SCOPED_TRACE(p.string());
    fuzz::fuzz_one(slurp(p));
  }
}

// The shipped profiles really resolve (not only fail cleanly): a fuzz
// harness whose fake host rejects everything would fuzz nothing.
TEST(FuzzReplay, TheHarnessResolvesTheBuiltInProfiles) {
  const auto& set = fuzz::builtin_set();
  ASSERT_FALSE(set.order.empty());
  for (const auto& name : set.order) {
    auto prof = profile::flatten(set, name);
    ASSERT_TRUE(prof) << name << ": " << prof.error().what;
    Options opt;
    const Features feat = Features::full(7);
    const HostFacts host = fuzz::host_facts();
    auto plan = plan::resolve(plan::Inputs{*prof, "built-in", opt, feat, host, fuzz::host_fs()});
    EXPECT_TRUE(plan) << name << ": " << (plan ? "" : plan.error().what);
  }
}

}  // namespace
}  // namespace aisbx::test
