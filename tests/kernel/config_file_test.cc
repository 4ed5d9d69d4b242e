// Reading the profile file (src/host/config_file.cc), through the real
// binary, as the caller and as uid 65534: a file of many pages is read
// whole (its profile comes after 200 KB of comment), one past the size
// limit is refused before it is parsed, and a FIFO or a directory at the
// path is refused at once (a FIFO must not hang the launcher). Every
// refusal is exit 125 naming the file, and nothing runs.
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "aisbx/profile.h"
#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

// `p`: the system read-only; the command's environment says `value`.
std::string profile_text(const std::string& value) {
  std::string y = "version: 1\nprofiles:\n  p:\n    access_roots:\n";
  y += groups_yaml({{"system", {"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache"},
                     kReadExec}});
  y += "    command:\n      env:\n        VALUE: " + yq(value) + "\n";
  return y;
}

class ConfigFile : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-config", "/var/tmp");
    home_ = tree_->dir("home");
    project_ = tree_->dir("proj");
  }

  Result launch(const std::string& cfg) const {
    RunSpec s;
    s.argv = {binary_path(), "--config", cfg, "--profile", "p", "--mode", "landlock",
              "--log-level", "error", "--", "/bin/sh", "-c", "echo RAN $VALUE"};
    s.as = GetParam();
    s.cwd = project_;
    s.env = {{"HOME", home_}};
    s.timeout_seconds = 20;
    return runner::run(s);
  }

  std::unique_ptr<TempTree> tree_;
  std::string home_, project_;
};

TEST_P(ConfigFile, AFileOfManyPagesIsReadWhole) {
  // The profile after 200 KB of comment lines: a read that stopped at a
  // page, or at 64 KiB, would find no profile `p`.
  std::string text = "# " + std::string(98, 'x') + "\n";
  std::string big;
  for (int i = 0; i < 2000; ++i) big += text;
  const std::string cfg = tree_->file("big.yaml", big + profile_text("whole"));
  const Result r = launch(cfg);
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "RAN whole\n");
}

TEST_P(ConfigFile, OnePastTheLimitIsRefusedBeforeParsing) {
  std::string text = profile_text("never");
  text += "#" + std::string(profile::kMaxProfileBytes - text.size(), 'x');  // one byte over
  const std::string cfg = tree_->file("huge.yaml", text);
  struct stat st {};
  ASSERT_EQ(::stat(cfg.c_str(), &st), 0);
  ASSERT_EQ(static_cast<std::size_t>(st.st_size), profile::kMaxProfileBytes + 1);
  const Result r = launch(cfg);
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_TRUE(contains(r.err, "profile file `" + cfg + "` is larger than")) << r.err;
  EXPECT_FALSE(contains(r.out, "RAN")) << r.describe();
}

TEST_P(ConfigFile, AFifoOrADirectoryIsRefusedAtOnce) {
  const std::string fifo = tree_->at("fifo.yaml");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const std::string dir = tree_->dir("dir.yaml");
  for (const std::string& cfg : {fifo, dir}) {
    const Result r = launch(cfg);
    EXPECT_EQ(r.status, 125) << cfg << ": " << r.describe();
    EXPECT_TRUE(contains(r.err, "profile file `" + cfg + "` is not a regular file")) << r.err;
    EXPECT_FALSE(contains(r.out, "RAN")) << r.describe();
  }
}

std::string user_name(const ::testing::TestParamInfo<As>& i) { return runner::name_of(i.param); }

INSTANTIATE_TEST_SUITE_P(Users, ConfigFile, ::testing::ValuesIn(runner::users_to_test()),
                         user_name);

}  // namespace
}  // namespace aisbx::test
