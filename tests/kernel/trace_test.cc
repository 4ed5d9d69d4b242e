// --trace and learn through the real binary, on programs that hit known
// denials (the probe and the sysprobe doing one operation each):
//
// - a file planted outside the roots (namespace wall; Landlock in landlock mode);
// - a library the roots lack (Landlock mode: the loader's open is refused);
// - a TCP connect to a listener of the test in a `network: none` profile;
// - a file created in a read-only root (the read-only mount);
// - a system call the seccomp preset denies.
//
// Each denial must appear exactly once, with the right wall, and the
// profile line --trace gives for it, pasted into the profile, must make the
// same program succeed. `learn` is run the same way: its file loads with
// --config and the program succeeds under the learned profile.
//
// Every test runs as the caller and, when the caller is root, as uid/gid
// 65534 (runner::users_to_test()). ptrace of a child is allowed under
// Yama ptrace_scope 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
  char buf[4096];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// ---------------------------------------------------------------------------
// The JSON of --trace-output, read back crudely: one object per denial.

std::string json_string(const std::string& obj, const std::string& key) {
  const std::string k = "\"" + key + "\":\"";
  auto at = obj.find(k);
  if (at == std::string::npos) return {};
  std::string out;
  for (std::size_t i = at + k.size(); i < obj.size() && obj[i] != '"'; ++i) {
    if (obj[i] == '\\' && i + 1 < obj.size()) ++i;
    out += obj[i];
  }
  return out;
}

struct Found {
  std::string wall, subject, path, under, yaml;
};

std::vector<Found> denials(const std::string& json) {
  std::vector<Found> out;
  const std::string start = "{\"wall\":\"";
  for (auto at = json.find(start); at != std::string::npos;) {
    const auto next = json.find(start, at + 1);
    const std::string obj = json.substr(at, next == std::string::npos ? std::string::npos : next - at);
    out.push_back({json_string(obj, "wall"), json_string(obj, "subject"), json_string(obj, "path"),
                   json_string(obj, "under"), json_string(obj, "yaml")});
    at = next;
  }
  return out;
}

// The denials of `wall` whose path or subject contains `what`.
std::vector<Found> matching(const std::vector<Found>& all, const std::string& wall,
                            const std::string& what) {
  std::vector<Found> out;
  for (const auto& f : all)
    if (f.wall == wall &&
        (f.path.find(what) != std::string::npos || f.subject.find(what) != std::string::npos))
      out.push_back(f);
  return out;
}

// ---------------------------------------------------------------------------

class Trace : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock, Need::Seccomp);
    // Not under /tmp: a writable root beneath the private /tmp with fewer
    // rights than a temp directory needs is refused (the /tmp rule would
    // grant it the rest), and learned profiles grant only what was used.
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-trace", "/var/tmp");
    tree_->dir("home");
    tree_->dir("project");
  }

  // One profile `p`. `extra_groups` lines go under access_roots, `tail`
  // lines at the profile's level (network, seccomp).
  std::string yaml(const std::vector<std::string>& extra_groups, const std::string& tail,
                   bool with_usr = true) const {
    std::vector<std::string> tools{dir_of(real(probe_path()))};
    if (dir_of(real(sysprobe_path())) != tools[0]) tools.push_back(dir_of(real(sysprobe_path())));
    std::string y = "version: 1\nprofiles:\n  p:\n    description: \"trace test\"\n";
    y += "    access_roots:\n";
    if (with_usr)
      y += "      system: {paths: [/usr], permissions: {read_file: true, read_dir: true, "
           "execute: true}}\n";
    y += "      config: {paths: [/etc/ld.so.cache], permissions: {read_file: true}}\n";
    y += "      tools:\n        paths:\n";
    for (const auto& t : tools) y += "          - \"" + t + "\"\n";
    y += "        permissions: {read_file: true, read_dir: true, execute: true}\n";
    y += "      project: {paths: [\"" + tree_->at("project") +
         "\"], permissions: {read_file: true, read_dir: true}}\n";
    for (const auto& g : extra_groups) y += "      " + g + "\n";
    y += "    control_access: {execute: true, write_file: true, read_file: true, read_dir: true,\n"
         "      remove_dir: true, remove_file: true, make_char: true, make_dir: true,\n"
         "      make_reg: true, make_sock: true, make_fifo: true, make_block: true,\n"
         "      make_sym: true, refer: true, truncate: true}\n";
    y += "    home: \"" + tree_->at("sandbox-home") + "\"\n";
    y += tail;
    return y;
  }

  Result launch(const std::vector<std::string>& opts, const std::vector<std::string>& cmd,
                const std::string& config) const {
    RunSpec s;
    s.argv = {binary_path()};
    // `learn` must come first: it is the subcommand.
    const bool learn = !opts.empty() && opts[0] == "learn";
    if (learn) s.argv.push_back("learn");
    s.argv.insert(s.argv.end(), {"--config", config});
    s.argv.insert(s.argv.end(), opts.begin() + (learn ? 1 : 0), opts.end());
    s.argv.push_back("--");
    s.argv.insert(s.argv.end(), cmd.begin(), cmd.end());
    s.as = GetParam();
    s.cwd = tree_->at("project");
    s.env = {{"HOME", tree_->at("home")}};
    return runner::run(s);
  }

  // Runs `cmd` traced under `profile`; expects `status`; returns the denials.
  std::vector<Found> traced(const std::string& profile, const std::vector<std::string>& mode,
                            const std::vector<std::string>& cmd, int status) {
    tree_->file("profiles.yaml", profile);
    std::vector<std::string> opts{"--profile", "p", "--trace", "--trace-output",
                                  tree_->at("trace.json"), "--format", "json"};
    opts.insert(opts.end(), mode.begin(), mode.end());
    const Result r = launch(opts, cmd, tree_->at("profiles.yaml"));
    EXPECT_EQ(r.status, status) << r.describe();
    const std::string json = runner::read_text(tree_->at("trace.json"));
    EXPECT_TRUE(contains(json, "\"denials\"")) << r.describe();
    return denials(json);
  }

  // The same program, untraced, under `profile`.
  Result plain(const std::string& profile, const std::vector<std::string>& mode,
               const std::vector<std::string>& cmd) {
    tree_->file("profiles.yaml", profile);
    std::vector<std::string> opts{"--profile", "p"};
    opts.insert(opts.end(), mode.begin(), mode.end());
    return launch(opts, cmd, tree_->at("profiles.yaml"));
  }

  std::unique_ptr<TempTree> tree_;
};

TEST_P(Trace, AFilePlantedOutsideTheRootsIsTheNamespaceWall) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const std::string secret = tree_->file("outside/secret", "planted\n");
  const std::vector<std::string> cmd{probe_path(), "read", secret};
  const auto all = traced(yaml({}, ""), {}, cmd, ENOENT);
  const auto hit = matching(all, "namespace", secret);
  ASSERT_EQ(hit.size(), 1u) << "denials: " << all.size();
  EXPECT_EQ(hit[0].path, secret);
  ASSERT_EQ(hit[0].under, "access_roots");
  const Result ok = plain(yaml({hit[0].yaml}, ""), {}, cmd);
  EXPECT_EQ(ok.status, 0) << "pasted: " << hit[0].yaml << "\n" << ok.describe();
}

TEST_P(Trace, AFilePlantedOutsideTheRootsIsLandlockInLandlockMode) {
  const std::string secret = tree_->file("outside/secret", "planted\n");
  const std::vector<std::string> cmd{probe_path(), "read", secret};
  const std::vector<std::string> mode{"--mode", "landlock"};
  const auto all = traced(yaml({}, ""), mode, cmd, EACCES);
  const auto hit = matching(all, "landlock", secret);
  ASSERT_EQ(hit.size(), 1u) << "denials: " << all.size();
  EXPECT_TRUE(matching(all, "namespace", secret).empty());
  const Result ok = plain(yaml({hit[0].yaml}, ""), mode, cmd);
  EXPECT_EQ(ok.status, 0) << "pasted: " << hit[0].yaml << "\n" << ok.describe();
}

// The probe copied into the tree, /usr not in the profile: the loader is
// given, libc is not, and the loader's open of libc is refused. In landlock
// mode, as in check_test.cc: with the namespace wall, the loader's own
// chain of merged-/usr links would need all of /usr/lib.
TEST_P(Trace, ALibraryTheRootsLackIsLandlock) {
  if (kSanitized) GTEST_SKIP() << "an ASan build of the probe needs more libraries than libc";
  const std::string tool = tree_->file("bin/tool", runner::read_text(probe_path()), 0755);
  const std::string loader = real("/lib64/ld-linux-x86-64.so.2");
  if (loader.empty()) GTEST_SKIP() << "not an x86_64 glibc system";
  const std::string libc = real("/lib/x86_64-linux-gnu/libc.so.6");
  const std::string profile_head =
      "loader: {paths: [\"" + loader + "\"], permissions: {read_file: true, execute: true}}";
  const std::string own = "own: {paths: [\"" + dir_of(tool) +
                          "\"], permissions: {read_file: true, read_dir: true, execute: true}}";
  const std::vector<std::string> cmd{tool, "exit", "0"};
  const std::vector<std::string> mode{"--mode", "landlock"};
  const auto all = traced(yaml({profile_head, own}, "", false), mode, cmd, 127);
  const auto hit = matching(all, "landlock", "libc.so.6");
  ASSERT_EQ(hit.size(), 1u) << "denials: " << all.size();
  EXPECT_EQ(hit[0].path, libc);
  const Result ok = plain(yaml({profile_head, own, hit[0].yaml}, "", false), mode, cmd);
  EXPECT_EQ(ok.status, 0) << "pasted: " << hit[0].yaml << "\n" << ok.describe();
}

TEST_P(Trace, ATcpConnectWithoutNetworkIsTheNetworkNamespace) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  // A listener of the test's own, on the host's loopback.
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 8), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const std::vector<std::string> cmd{probe_path(), "connect-tcp", "127.0.0.1", port};
  const auto all = traced(yaml({}, "    network: none\n"), {}, cmd, ENETUNREACH);
  const auto hit = matching(all, "netns", ":" + port);
  ASSERT_EQ(hit.size(), 1u) << "denials: " << all.size();
  ASSERT_EQ(hit[0].under, "network");
  const Result ok = plain(yaml({}, "    network: " + hit[0].yaml + "\n"), {}, cmd);
  EXPECT_EQ(ok.status, 0) << "pasted: " << hit[0].yaml << "\n" << ok.describe();
  ::close(s);
}

TEST_P(Trace, ACreateInAReadOnlyRootIsTheMount) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const std::string file = tree_->at("project/new");
  const std::vector<std::string> cmd{probe_path(), "create", file};
  const auto all = traced(yaml({}, ""), {}, cmd, EROFS);
  const auto hit = matching(all, "read_only", file);
  ASSERT_EQ(hit.size(), 1u) << "denials: " << all.size();
  EXPECT_EQ(hit[0].path, tree_->at("project"));
  const Result ok = plain(yaml({hit[0].yaml}, ""), {}, cmd);
  EXPECT_EQ(ok.status, 0) << "pasted: " << hit[0].yaml << "\n" << ok.describe();
  EXPECT_TRUE(runner::exists(file));
}

TEST_P(Trace, ASyscallTheSeccompPresetDeniesIsSeccomp) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const std::vector<std::string> cmd{sysprobe_path(), "keyctl"};
  const auto all = traced(yaml({}, "    seccomp: default\n"), {}, cmd, EPERM);
  const auto hit = matching(all, "seccomp", "keyctl");
  ASSERT_EQ(hit.size(), 1u) << "denials: " << all.size();
  ASSERT_EQ(hit[0].under, "seccomp");
  EXPECT_EQ(hit[0].yaml, "{preset: default, allow: [keyctl]}");
  const Result ok = plain(yaml({}, "    seccomp: " + hit[0].yaml + "\n"), {}, cmd);
  EXPECT_EQ(ok.status, 0) << "pasted: " << hit[0].yaml << "\n" << ok.describe();
}

// The summary on stderr, and the command's own status kept.
TEST_P(Trace, TheSummaryNamesWallAndFixAndKeepsTheStatus) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  tree_->file("profiles.yaml", yaml({}, ""));
  const std::string file = tree_->at("project/new");
  const Result r = launch({"--profile", "p", "--trace"}, {probe_path(), "create", file},
                          tree_->at("profiles.yaml"));
  EXPECT_EQ(r.status, EROFS) << r.describe();
  EXPECT_TRUE(contains(r.err, "aisbx-ns: trace: the sandbox refused 1 access"));
  EXPECT_TRUE(contains(r.err, "create `" + file + "`: EROFS, read-only mount"));
  EXPECT_TRUE(contains(r.err, "fix: add `write_file: true, make_reg: true` to "
                              "access_roots.project.permissions"));
  // Nothing refused: said so, status 0.
  const Result fine = launch({"--profile", "p", "--trace"}, {probe_path(), "exit", "0"},
                             tree_->at("profiles.yaml"));
  EXPECT_EQ(fine.status, 0) << fine.describe();
  EXPECT_TRUE(contains(fine.err, "the sandbox refused nothing"));
}

// learn: one run, two denials; the learned file loads and the program,
// which failed before, succeeds under it.
TEST_P(Trace, LearnWritesAProfileUnderWhichTheProgramSucceeds) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const std::string secret = tree_->file("outside/data", "data\n");
  const std::string file = tree_->at("project/out");
  const std::string script = tree_->file(
      "project/job.sh", "read x < " + runner::shell_quote(secret) + " && echo \"$x\" > " +
                            runner::shell_quote(file) + "\n");
  const std::vector<std::string> cmd{"/bin/sh", script};
  tree_->file("profiles.yaml", yaml({}, ""));
  const Result before = launch({"--profile", "p"}, cmd, tree_->at("profiles.yaml"));
  EXPECT_NE(before.status, 0) << before.describe();
  // Two rounds: the script stops at its first failure.
  std::string config = tree_->at("profiles.yaml");
  std::string profile = "p";
  for (int round = 1; round <= 2; ++round) {
    const std::string out = tree_->at("learned" + std::to_string(round) + ".yaml");
    const Result l = launch({"learn", "--profile", profile, "-o", out}, cmd, config);
    EXPECT_TRUE(contains(l.err, "aisbx-ns: learn: wrote")) << l.describe();
    const std::string text = runner::read_text(out);
    EXPECT_TRUE(contains(text, "extends: " + profile)) << text;
    EXPECT_TRUE(contains(text, "# used by ")) << text;
    config = out;
    profile += "-learned";
  }
  const Result after = launch({"--profile", profile}, cmd, config);
  EXPECT_EQ(after.status, 0) << runner::read_text(config) << after.describe();
  EXPECT_EQ(runner::read_text(file), "data\n");
}

// The project's names are the last run's choice: a directory literally
// named `${HOME}` and a `home` link to the user's HOME. What `learn`
// writes from a run that used them is literal, and grants nothing outside
// the project: loaded, the learned profile binds or rules nothing in the
// HOME, and authorized_keys stays as it was.
TEST_P(Trace, LearnProposesNothingOutsideTheProjectThroughItsNames) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  const std::string auth = tree_->file("home/.ssh/authorized_keys", "ssh-ed25519 AAAA user\n");
  const std::string project = tree_->at("project");
  tree_->dir("project/${HOME}");
  tree_->symlink("project/home", tree_->at("home"));
  const std::string script = tree_->file(
      "project/job.sh",
      "echo planted >> " + runner::shell_quote(project + "/home/.ssh/authorized_keys") +
          "; echo x > " + runner::shell_quote(project + "/${HOME}/f") + "; exit 0\n");
  const std::vector<std::string> cmd{"/bin/sh", script};
  tree_->file("profiles.yaml", yaml({}, ""));
  for (const char* mode : {"layered", "landlock"}) {
    SCOPED_TRACE(mode);
    const std::string out = tree_->at(std::string("learned-") + mode + ".yaml");
    const Result l = launch({"learn", "--profile", "p", "--mode", mode, "-o", out}, cmd,
                            tree_->at("profiles.yaml"));
    ASSERT_TRUE(contains(l.err, "aisbx-ns: learn: wrote")) << l.describe();
    const std::string text = runner::read_text(out);
    std::size_t at = 0;
    while (at < text.size()) {
      const auto nl = text.find('\n', at);
      const std::string line = text.substr(at, nl - at);
      at = nl == std::string::npos ? text.size() : nl + 1;
      const auto first = line.find_first_not_of(' ');
      if (first == std::string::npos || line[first] == '#') continue;
      EXPECT_FALSE(contains(line, "${HOME}")) << line << "\n" << text;
      EXPECT_FALSE(contains(line, "/.ssh")) << line << "\n" << text;
      EXPECT_FALSE(contains(line, "${PROJECT}/home")) << line << "\n" << text;
    }
    const Result dry =
        launch({"--profile", "p-learned", "--mode", mode, "--dry-run"}, cmd, out);
    EXPECT_EQ(dry.status, 0) << dry.describe();
    EXPECT_FALSE(contains(dry.out, tree_->at("home") + "/.ssh")) << dry.describe();
    const Result again = launch({"--profile", "p-learned", "--mode", mode}, cmd, out);
    EXPECT_EQ(again.status, 0) << again.describe();
  }
  EXPECT_EQ(runner::read_text(auth), "ssh-ed25519 AAAA user\n");
}

INSTANTIATE_TEST_SUITE_P(Users, Trace, ::testing::ValuesIn(runner::users_to_test()),
                         [](const ::testing::TestParamInfo<As>& i) {
                           return runner::name_of(i.param);
                         });

}  // namespace
}  // namespace aisbx::test
