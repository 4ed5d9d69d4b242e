// The process model with a real terminal: an interactive shell in the
// built-in `minimal` profile, in a detached tmux session (its own socket,
// a temp HOME, so that no user config file is picked up), driven with
// send-keys and read with capture-pane.
//
// What it shows: the shell inside the sandbox gets the terminal (it runs
// commands and prints), Ctrl-C interrupts the foreground command and not
// the shell (nor the launcher), and `exit` ends the launcher and so the
// session.
//
// Runs as the caller and, when the caller is root, as uid/gid 65534.
// Skipped when tmux is missing (a failure under
// AISBX_REQUIRE_KERNEL_FEATURES=1).
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

using runner::now_seconds;

std::string find_tmux() {
  for (const char* p : {"/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"})
    if (exists(p)) return p;
  return {};
}

class ProcessTmux : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
    tmux_ = find_tmux();
    if (tmux_.empty()) {
      const char* why = "needs tmux (apt-get install tmux)";
      if (must_work()) GTEST_FAIL() << why << " (AISBX_REQUIRE_KERNEL_FEATURES=1)";
      GTEST_SKIP() << why;
    }
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-tmux");
    home_ = tree_->dir("home");
    xdg_ = tree_->dir("xdg");
    sockets_ = tree_->dir("sockets", 0700);
    project_ = tree_->dir("project");
    static std::atomic<int> counter{0};
    socket_ = "aisbx-kt-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    session_ = "sandbox";
  }

  void TearDown() override {
    if (started_) tmux({"kill-server"});
  }

  // tmux -L SOCKET -f /dev/null ARGS..., as the user under test. The server
  // it starts keeps this environment, and so does the pane's launcher.
  Result tmux(const std::vector<std::string>& args) const {
    RunSpec s;
    s.argv = {tmux_, "-L", socket_, "-f", "/dev/null"};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.as = GetParam();
    s.cwd = project_;
    s.env = {{"HOME", home_},
             {"XDG_CONFIG_HOME", xdg_},
             {"TMUX_TMPDIR", sockets_},
             {"SHELL", "/bin/sh"},
             {"TERM", "xterm"}};
    s.unset = {"TMUX", "TMUX_PANE"};
    s.timeout_seconds = 15;
    return runner::run(s);
  }

  std::string screen() const { return tmux({"capture-pane", "-p", "-t", session_}).out; }

  // Polls the pane until it shows `text` (at most `seconds`); the last
  // screen either way.
  std::string wait_for_screen(const std::string& text, double seconds = 15) const {
    const double end = now_seconds() + seconds;
    std::string last;
    for (;;) {
      last = screen();
      if (last.find(text) != std::string::npos || now_seconds() > end) return last;
      ::usleep(50 * 1000);
    }
  }

  void keys(const std::vector<std::string>& k) const {
    std::vector<std::string> args{"send-keys", "-t", session_};
    args.insert(args.end(), k.begin(), k.end());
    const Result r = tmux(args);
    EXPECT_EQ(r.status, 0) << r.describe();
  }

  bool session_alive() const { return tmux({"has-session", "-t", session_}).status == 0; }

  std::string tmux_, home_, xdg_, sockets_, project_, socket_, session_;
  std::unique_ptr<TempTree> tree_;
  bool started_ = false;
};

TEST_P(ProcessTmux, InteractiveShellSurvivesCtrlCAndExits) {
  const std::string command =
      runner::shell_quote(binary_path()) + " --profile minimal -- /bin/sh";
  const Result start = tmux({"new-session", "-d", "-s", session_, "-x", "120", "-y", "30",
                             "-c", project_, command});
  ASSERT_EQ(start.status, 0) << start.describe();
  started_ = true;
  // The shell's prompt first: keys typed before it are echoed by the
  // terminal ahead of the prompt and the output joins the prompt's line.
  std::string s;
  const double prompt_by = now_seconds() + 15;
  do {
    s = screen();
    if (s.find_first_not_of(" \n") != std::string::npos) break;
    ::usleep(50 * 1000);
  } while (now_seconds() < prompt_by);
  ASSERT_NE(s.find_first_not_of(" \n"), std::string::npos)
      << "no prompt from the sandboxed shell";

  // The typed line holds `hi-$((6*7))`; only the shell's output holds hi-42.
  keys({"echo hi-$((6*7))", "Enter"});
  s = wait_for_screen("hi-42");
  // Typed ahead of the prompt, the output may follow `$ ` on its line.
  ASSERT_TRUE(contains(s, "hi-42\n")) << "the sandboxed shell did not run the command";

  // Ctrl-C while `sleep 100` runs in the foreground: the sleep dies of
  // SIGINT (status 130), the shell lives on and prints.
  keys({"sleep 100", "Enter"});
  s = wait_for_screen("sleep 100");
  ASSERT_TRUE(contains(s, "sleep 100"));
  ::usleep(500 * 1000);  // the shell has forked the sleep by now
  keys({"C-c"});
  keys({"echo after-$?", "Enter"});
  s = wait_for_screen("after-130", 10);  // far less than the 100 s of the sleep
  EXPECT_TRUE(contains(s, "after-130\n")) << "the shell did not survive Ctrl-C, or the "
                                               "sleep was not interrupted by it";
  EXPECT_TRUE(session_alive()) << "Ctrl-C ended the launcher";

  // `exit` ends the shell, the launcher, and so the session.
  keys({"exit", "Enter"});
  const double end = now_seconds() + 15;
  while (session_alive() && now_seconds() < end) ::usleep(50 * 1000);
  EXPECT_FALSE(session_alive()) << "the session outlived `exit`:\n" << screen();
}

std::string user_name(const ::testing::TestParamInfo<As>& info) {
  return runner::name_of(info.param);
}

INSTANTIATE_TEST_SUITE_P(Process, ProcessTmux,
                         ::testing::ValuesIn(runner::users_to_test()), user_name);

}  // namespace
}  // namespace aisbx::test
