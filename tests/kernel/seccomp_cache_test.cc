// The compiled seccomp program kept beside the profile cache
// (stage::check_seccomp), with the real binary, as the caller and as uid
// 65534: a second launch loads the stored program and the filter still
// refuses what it refuses; an entry flipped, cut short, or holding the
// program of another filter (the terminal guard's, which lets keyctl
// through) is ignored, the filter compiled again and the entry rewritten.
//
// What happened is read from `--log-level debug` ("seccomp cache: ...");
// what the command met (EPERM from keyctl) is the proof.
#include <linux/filter.h>
#include <linux/seccomp.h>
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
#include "profile/sha256.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

constexpr std::string_view kMagic = "AISBXSB1";

// Rewrites `path` in place: same inode, owner and mode.
void overwrite(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

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

// The attack on the next run: a command whose HOME is writable writes a
// well-formed entry with a program that allows everything under the name
// of its own profile's filter, so that the next run of that profile would
// load it. The control shows such an entry would work: put there from
// outside, keyctl goes through. From inside, in every mode, the cache
// directory is out of reach (the built-in mask `aisbx-cache`): the entry
// stays as compiled and the next run still refuses keyctl.
class SeccompCachePlant : public ::testing::TestWithParam<runner::UserMode> {};

TEST_P(SeccompCachePlant, ASandboxCannotPlantAProgramForTheNextRun) {
  const runner::UserMode um = GetParam();
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock, Need::Seccomp);
  TempTree tree(um.as, "aisbx-scp", "/var/tmp");
  const std::string home = tree.dir("home");
  tree.dir("xdg");
  const std::vector<std::string> all = {"read_file", "read_dir", "write_file", "remove_file",
                                        "make_reg",  "make_dir", "truncate"};
  const std::string cfg = tree.file(
      "profiles.yaml",
      "version: 1\nprofiles:\n  home:\n    seccomp: default\n    access_roots:\n" +
          groups_yaml({{"system", {"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache"},
                        {"read_file", "read_dir", "execute"}},
                       {"devnull", {"/dev/null"}, {"read_file", "write_file"}},
                       {"home", {"~"}, all}}) +
          control_yaml(all));
  const auto run = [&](const std::vector<std::string>& cmd) {
    RunSpec s;
    s.argv = {binary_path(), "--config", cfg, "--profile", "home", "--mode", um.mode,
              "--ro", dir_of(sysprobe_path()), "--"};
    s.argv.insert(s.argv.end(), cmd.begin(), cmd.end());
    s.as = um.as;
    s.cwd = home;
    s.env = {{"HOME", home}, {"XDG_CONFIG_HOME", tree.at("xdg")}};
    return runner::run(s);
  };
  const Result first = run({sysprobe_path(), "keyctl"});
  ASSERT_EQ(first.status, EPERM) << first.describe();
  std::string entry;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(home + "/.cache/aisbx-ns", ec))
    if (read_text(e.path().string()).starts_with(kMagic)) entry = e.path().string();
  ASSERT_FALSE(entry.empty()) << "no program stored";
  const std::string good = read_text(entry);

  // The forged entry: this filter's name, a program of one instruction,
  // RET ALLOW, and a right checksum.
  const std::string key = good.substr(kMagic.size(), 64);
  std::string forged(kMagic);
  forged += key;
  forged += std::string("\x01\x00\x00\x00", 4);
  const sock_filter allow_all = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  forged.append(reinterpret_cast<const char*>(&allow_all), sizeof allow_all);
  const profile::Sha256Digest sum = profile::sha256(forged);
  forged.append(reinterpret_cast<const char*>(sum.data()), sum.size());

  // The control: planted from outside, it would be loaded.
  overwrite(entry, forged);
  const Result opened = run({sysprobe_path(), "keyctl"});
  EXPECT_EQ(opened.status, 0) << "the forged entry was not used, so the test proves nothing: "
                              << opened.describe();
  overwrite(entry, good);

  // The attack, from inside.
  const std::string bait = tree.file("home/forged", forged);
  const Result attack = run({"/bin/sh", "-c",
                             "cp \"$0\" \"$1\" 2>/dev/null; echo x > \"$2\" 2>/dev/null; true",
                             bait, entry, home + "/.cache/aisbx-ns/planted"});
  EXPECT_EQ(attack.status, 0) << attack.describe();
  EXPECT_EQ(read_text(entry), good) << "the sandbox rewrote the stored program";
  EXPECT_FALSE(runner::exists(home + "/.cache/aisbx-ns/planted"));
  const Result next = run({sysprobe_path(), "keyctl"});
  EXPECT_EQ(next.status, EPERM) << next.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, SeccompCachePlant,
                         ::testing::ValuesIn(runner::user_modes({"layered", "strict", "landlock"})),
                         runner::user_mode_name);

INSTANTIATE_TEST_SUITE_P(Kernel, SeccompCache, ::testing::ValuesIn(runner::users_to_test()),
                         [](const ::testing::TestParamInfo<As>& p) { return runner::name_of(p.param); });

}  // namespace
}  // namespace aisbx::test
