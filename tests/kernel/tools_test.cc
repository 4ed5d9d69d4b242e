// Real programs in the built-in profiles, as the caller and as an
// unprivileged user, in layered and in landlock mode: python3, gcc, clangd,
// node serving HTTP on loopback, git status and commit. Every run also tries
// the secrets: a key planted in the host HOME and the project's `.env` must
// not be read, and under `agent` `.git/hooks` must not take a new hook.
//
// The tree lives in /var/tmp: a project under /tmp would sit beneath the
// sandbox's private /tmp, a case of its own (namespace_test.cc).
#include <unistd.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

constexpr const char* kHomeSecret = "HOME-SECRET-5f1c";
constexpr const char* kEnvSecret = "ENV-SECRET-8a2e";

constexpr const char* kMainC = R"(#include <stdio.h>
int main(void) { puts("built and ran"); return 0; }
)";

// A server on an ephemeral loopback port and one request to it.
constexpr const char* kServerJs = R"(
const http = require('http');
const server = http.createServer((req, res) => res.end('served ' + req.url));
server.listen(0, '127.0.0.1', () => {
  http.get({host: '127.0.0.1', port: server.address().port, path: '/hello'}, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => { console.log(body); server.close(); });
  }).on('error', (e) => { console.log('request failed: ' + e.code); server.close(); });
});
)";

class RealTools : public ::testing::TestWithParam<runner::UserMode> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    if (mode() == "layered") AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
    AISBX_SKIP_WITHOUT(!exists("/etc/aisbx/profiles.yaml"),
                       "/etc/aisbx/profiles.yaml would replace the built-in profiles");
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-tools", "/var/tmp");
    project_ = tree_->dir("project");
    home_ = tree_->dir("home");
    xdg_ = tree_->dir("xdg");
    secret_ = tree_->file("home/.ssh/id_rsa", std::string(kHomeSecret) + "\n", 0600);
    tree_->file("project/.env", std::string("TOKEN=") + kEnvSecret + "\n");
    tree_->file("project/hello.txt", "hello from the project\n");
    tree_->file("project/main.c", kMainC);
    tree_->file("project/server.js", kServerJs);
    tree_->file("project/compile_flags.txt", "-std=c11\n");
  }

  std::string mode() const { return GetParam().mode; }

  std::vector<std::pair<std::string, std::string>> env() const {
    return {{"HOME", home_},
            {"PATH", "/usr/bin:/bin"},
            {"XDG_CONFIG_HOME", xdg_},
            {"GIT_CONFIG_NOSYSTEM", "1"},
            {"GIT_AUTHOR_NAME", "Sandbox Test"},
            {"GIT_AUTHOR_EMAIL", "sandbox@example.invalid"},
            {"GIT_COMMITTER_NAME", "Sandbox Test"},
            {"GIT_COMMITTER_EMAIL", "sandbox@example.invalid"}};
  }

  Result run(std::vector<std::string> argv) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam().as;
    s.cwd = project_;
    s.env = env();
    s.timeout_seconds = 90;
    return runner::run(s);
  }

  // `script` under sh -c, then the attempts on the secrets, each printing
  // what it read (nothing, when refused).
  std::string with_attempts(const std::string& script) const {
    return script + "\necho '--attempts'\ncat " + runner::shell_quote(secret_) +
           " 2>/dev/null\ncat .env 2>/dev/null\ncat ./.env 2>/dev/null\n"
           "(touch .git/hooks/pre-commit) 2>/dev/null\nexit 0\n";
  }

  Result bare(const std::string& script) const {
    return run({"/bin/sh", "-c", with_attempts(script)});
  }

  Result sandboxed(const std::string& profile, const std::string& script,
                   const std::vector<std::string>& options = {}) const {
    std::vector<std::string> v{binary_path(), "--mode", mode(), "--profile", profile};
    v.insert(v.end(), options.begin(), options.end());
    // git's identity: the launcher's environment is not the sandbox's promise.
    for (const auto& [k, val] : env())
      if (k.starts_with("GIT_")) {
        v.push_back("--env");
        v.push_back(k + "=" + val);
      }
    v.insert(v.end(), {"--", "/bin/sh", "-c", with_attempts(script)});
    return run(v);
  }

  // The attempts on the secrets came to nothing: the host HOME's key
  // always, the project's .env where the profile denies it (every built-in
  // but vscode-copilot and build, whose users edit or build with it).
  void expect_secrets_kept(const Result& r, bool env_denied = true) const {
    EXPECT_TRUE(contains(r.out, "--attempts")) << r.describe();
    EXPECT_FALSE(contains(r.out, kHomeSecret)) << "the host HOME's key was read: " << r.describe();
    if (env_denied) {
      EXPECT_FALSE(contains(r.out, kEnvSecret)) << "the project's .env was read: " << r.describe();
    }
  }

  void git_init() const {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"init", "-q", "-b", "main"},
          std::vector<std::string>{"add", "hello.txt"},
          std::vector<std::string>{"commit", "-q", "-m", "initial"}}) {
      std::vector<std::string> v{"/usr/bin/git"};
      v.insert(v.end(), args.begin(), args.end());
      const Result r = run(v);
      ASSERT_EQ(r.status, 0) << r.describe();
    }
  }

  std::unique_ptr<TempTree> tree_;
  std::string project_, home_, xdg_, secret_;
};

// The attempts work without the sandbox: no probe passes by being broken.
TEST_P(RealTools, TheAttemptsOnTheSecretsWorkOutside) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git_init());
  const Result r = bare("true");
  EXPECT_TRUE(contains(r.out, kHomeSecret)) << r.describe();
  EXPECT_TRUE(contains(r.out, kEnvSecret)) << r.describe();
  EXPECT_TRUE(exists(project_ + "/.git/hooks/pre-commit")) << r.describe();
}

TEST_P(RealTools, Python3ReadsTheProject) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/python3"), "needs /usr/bin/python3");
  const std::string py =
      "/usr/bin/python3 -c 'print(open(\"hello.txt\").read().strip().upper())'";
  for (const char* profile : {"minimal", "agent"}) {
    const Result r = sandboxed(profile, py);
    EXPECT_EQ(r.status, 0) << profile << ": " << r.describe();
    EXPECT_TRUE(contains(r.out, "HELLO FROM THE PROJECT\n")) << profile << ": " << r.describe();
    expect_secrets_kept(r);
  }
}

TEST_P(RealTools, GccBuildsAndRunsInTheProject) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/gcc"), "needs /usr/bin/gcc");
  const Result r = sandboxed("build", "gcc -o hello main.c && ./hello");
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "built and ran\n")) << r.describe();
  EXPECT_TRUE(exists(project_ + "/hello")) << "the binary did not reach the host";
  expect_secrets_kept(r, /*env_denied=*/false);
}

TEST_P(RealTools, ClangdChecksAProjectFile) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/clangd"), "needs /usr/bin/clangd");
  const Result r = sandboxed("language-server", "clangd --check=main.c 2>&1");
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "All checks completed, 0 errors")) << r.describe();
  expect_secrets_kept(r);
  // The project is read-only to a language server.
  EXPECT_FALSE(exists(project_ + "/.cache")) << r.describe();
}

TEST_P(RealTools, NodeServesHttpOnLoopback) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/node"), "needs /usr/bin/node");
  // Landlock alone cannot tell loopback from the world (TCP is one right):
  // there the host's network, which agent allows.
  const std::vector<std::string> net =
      mode() == "layered" ? std::vector<std::string>{"--net", "loopback"}
                          : std::vector<std::string>{};
  const Result r = sandboxed("agent", "node server.js", net);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "served /hello\n")) << r.describe();
  expect_secrets_kept(r);
}

// In layered mode the agent profile keeps .git/hooks read-only while git
// commits. Landlock alone cannot: rights granted on .git reach .git/hooks
// (README, limits), so in landlock mode git runs in vscode-copilot, whose
// hook attempt lands and is moved aside after the run, and the hooks are
// checked under agent with no commit.
TEST_P(RealTools, GitStatusAndCommit) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git_init());
  const std::string git =
      "git status --porcelain && echo change >> hello.txt && git commit -qam 'from inside' "
      "&& git log -1 --format=%s";
  const std::string profile = mode() == "layered" ? "agent" : "vscode-copilot";
  const Result r = sandboxed(profile, git);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "from inside\n")) << r.describe();
  EXPECT_FALSE(contains(r.out, kHomeSecret)) << r.describe();
  const std::string hook = project_ + "/.git/hooks/pre-commit";
  if (profile == "agent") {
    expect_secrets_kept(r);
    EXPECT_FALSE(exists(hook)) << r.describe();
  } else {
    // vscode-copilot keeps .git writable in Landlock: the hook was written,
    // and moved aside when the run ended (git_restore.cc), so the host's
    // git never runs it.
    EXPECT_FALSE(exists(hook)) << r.describe();
    EXPECT_TRUE(exists(hook + ".aisbx-quarantine")) << r.describe();
    EXPECT_TRUE(contains(r.err, "created `" + hook + "`")) << r.describe();
  }
  const Result log = run({"/usr/bin/git", "log", "-1", "--format=%s"});
  EXPECT_EQ(log.out, "from inside\n") << log.describe();

  const Result agent = sandboxed("agent", "git status --porcelain >/dev/null; echo status $?");
  expect_secrets_kept(agent);
  EXPECT_FALSE(exists(hook)) << agent.describe();
}

// A worktree keeps its metadata in the main repository's .git, outside the
// project: `git: worktree` (vscode-copilot and so agent) brings it in.
TEST_P(RealTools, GitCommitsInsideAWorktree) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  ASSERT_NO_FATAL_FAILURE(git_init());
  const std::string wt = tree_->at("wt");
  const Result add = run({"/usr/bin/git", "worktree", "add", "-q", "-b", "wt", wt});
  ASSERT_EQ(add.status, 0) << add.describe();
  const std::string profile = mode() == "layered" ? "agent" : "vscode-copilot";
  std::vector<std::string> v{binary_path(), "--mode", mode(), "--profile", profile};
  for (const auto& [k, val] : env())
    if (k.starts_with("GIT_")) v.insert(v.end(), {"--env", k + "=" + val});
  v.insert(v.end(), {"--", "/bin/sh", "-c",
                     "git status --porcelain && echo wt >> hello.txt && "
                     "git commit -qam 'in the worktree' && cat " +
                         runner::shell_quote(secret_) + " 2>/dev/null; exit 0"});
  RunSpec s;
  s.argv = v;
  s.as = GetParam().as;
  s.cwd = wt;
  s.env = env();
  s.timeout_seconds = 90;
  const Result r = runner::run(s);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(contains(r.out, kHomeSecret)) << r.describe();
  const Result log = run({"/usr/bin/git", "log", "-1", "--format=%s", "wt"});
  EXPECT_EQ(log.out, "in the worktree\n") << log.describe();
}

INSTANTIATE_TEST_SUITE_P(Tools, RealTools,
                         ::testing::ValuesIn(runner::user_modes({"layered", "landlock"})),
                         runner::user_mode_name);

}  // namespace
}  // namespace aisbx::test
