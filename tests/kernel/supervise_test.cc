// What a run leaves behind, through the real binary: a command that
// detaches (setsid, double fork) and sleeps, a launcher killed mid-run, a
// command that takes its terminal's foreground and one that waits for what
// the user types next. After the launcher returns nothing of the run is
// left, the exit status is the command's (128+N for signal N), the caller's
// terminal keeps its foreground process group and its modes, and what is
// typed after the run reaches the caller. The session keyring is the
// sandbox's own in every mode.
//
// Landlock mode, layered mode, and layered mode without user namespaces
// (AISBX_FAKE_NO_USERNS=1: the Landlock-only fallback); as the caller and,
// when the caller is root, as uid/gid 65534.
//
// "Nothing left" is seen two ways: the detached processes hold the
// launcher's stdout, which the runner reads until every holder closed it
// (a survivor makes the run time out); and, where pids are the host's
// (no pid namespace), each detached process wrote its pid, which must name
// no process (ESRCH) once the launcher is gone.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

enum class Walls { landlock, layered, layered_without_userns };

struct Variant {
  As as;
  Walls walls;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << runner::name_of(v.as) << " "
      << (v.walls == Walls::landlock  ? "landlock"
          : v.walls == Walls::layered ? "layered"
                                      : "layered-without-userns");
}

std::vector<Variant> variants() {
  std::vector<Variant> v;
  for (As as : runner::users_to_test())
    for (Walls w : {Walls::landlock, Walls::layered, Walls::layered_without_userns})
      v.push_back({as, w});
  return v;
}

std::string sh_quote_all(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + runner::shell_quote(a);
  return s;
}

class Supervise : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    tree_ = std::make_unique<TempTree>(GetParam().as, "aisbx-supervise", "/var/tmp");
    dir_ = tree_->dir("run");
    // HOME apart from the run's directory, the project: HOME is never one.
    home_ = tree_->dir("home");
  }

  bool host_pids() const { return GetParam().walls != Walls::layered; }

  RunSpec spec(std::vector<std::string> argv) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = GetParam().as;
    s.cwd = dir_;
    s.env = {{"HOME", home_}};
    if (GetParam().walls == Walls::layered_without_userns) s.env.push_back({"AISBX_FAKE_NO_USERNS", "1"});
    s.timeout_seconds = 20;
    return s;
  }

  // aisbx-ns --profile minimal --mode M --rw DIR --ro <sysprobe dir> -- argv
  std::vector<std::string> launcher(const std::vector<std::string>& argv) const {
    std::vector<std::string> v{binary_path(), "--profile", "minimal", "--mode",
                               GetParam().walls == Walls::landlock ? "landlock" : "layered",
                               "--rw", dir_, "--ro", dir_of(sysprobe_path()), "--log-level", "error", "--"};
    v.insert(v.end(), argv.begin(), argv.end());
    return v;
  }

  // A shell line that starts two detached sleepers (one in a new session,
  // one orphaned by a double fork), each writing its pid to a marker, and
  // waits until both markers are there.
  std::string detach_two() const {
    // The temp tree's path needs no quoting (mkdtemp under /var/tmp).
    const std::string a = dir_ + "/setsid.pid", b = dir_ + "/orphan.pid";
    return "setsid /bin/sh -c 'sleep 300 & echo $! > " + a + "; wait' & " +
           "/bin/sh -c '/bin/sh -c \"sleep 300\" & echo $! > " + b + "' & " +
           "while [ ! -s " + a + " ] || [ ! -s " + b + " ]; do sleep 0.05; done; ";
  }

  // Every marker's pid names no process (bounded wait: the guard may still
  // be reaping when the launcher's caller looks).
  void expect_no_survivor() const {
    if (!host_pids()) return;
    for (const char* marker : {"setsid.pid", "orphan.pid"}) {
      const std::string text = runner::read_text(dir_ + "/" + marker);
      const pid_t pid = static_cast<pid_t>(std::atoi(text.c_str()));
      ASSERT_GT(pid, 1) << marker << " holds " << text;
      const bool gone = runner::eventually(5, [&] { return ::kill(pid, 0) != 0 && errno == ESRCH; });
      EXPECT_TRUE(gone) << "pid " << pid << " (" << marker << ") outlived the run";
      if (!gone) ::kill(pid, SIGKILL);  // not ours to leave running
    }
  }

  std::unique_ptr<TempTree> tree_;
  std::string dir_, home_;
};

TEST_P(Supervise, DetachedProcessesEndWithTheCommand) {
  const Result r = runner::run(spec(launcher({"/bin/sh", "-c", detach_two() + "exit 7"})));
  EXPECT_FALSE(r.timed_out) << "a detached process kept the launcher's stdout: " << r.describe();
  EXPECT_EQ(r.status, 7) << r.describe();
  expect_no_survivor();
}

TEST_P(Supervise, NothingOutlivesAKilledLauncher) {
  // The caller's shell starts the launcher, waits until the command has
  // detached its sleepers, and SIGKILLs the launcher.
  const std::string ready = runner::shell_quote(dir_ + "/ready");
  const std::string inner = detach_two() + "touch " + ready + "; sleep 300";
  const std::string script = sh_quote_all(launcher({"/bin/sh", "-c", inner})) + " & L=$!; " +
                             "i=0; while [ ! -e " + ready + " ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done; " +
                             "kill -9 $L; wait $L; echo launcher=$?";
  const Result r = runner::run(spec({"/bin/sh", "-c", script}));
  EXPECT_FALSE(r.timed_out) << "a process of the run outlived its launcher: " << r.describe();
  EXPECT_TRUE(contains(r.out, "launcher=137")) << r.describe();
  EXPECT_TRUE(runner::exists(dir_ + "/ready")) << r.describe();
  expect_no_survivor();
}

TEST_P(Supervise, ExitStatusAndSignals) {
  Result r = runner::run(spec(launcher({"/bin/sh", "-c", "exit 3"})));
  EXPECT_EQ(r.status, 3) << r.describe();
  EXPECT_FALSE(r.signaled);
  r = runner::run(spec(launcher({"/bin/sh", "-c", "kill -TERM $$"})));
  EXPECT_EQ(r.status, 128 + SIGTERM) << r.describe();
  EXPECT_FALSE(r.signaled) << "the launcher itself must exit, not die";
  r = runner::run(spec(launcher({"/bin/sh", "-c", "kill -KILL $$"})));
  EXPECT_EQ(r.status, 128 + SIGKILL) << r.describe();
  // A signal sent to the launcher reaches the command.
  const std::string script = sh_quote_all(launcher({"/bin/sh", "-c", "trap 'exit 42' USR1; touch " +
                                                        runner::shell_quote(dir_ + "/armed") +
                                                        "; while :; do sleep 0.05; done"})) +
                             " & L=$!; while [ ! -e " + runner::shell_quote(dir_ + "/armed") +
                             " ]; do sleep 0.05; done; kill -USR1 $L; wait $L; echo launcher=$?";
  r = runner::run(spec({"/bin/sh", "-c", script}));
  EXPECT_TRUE(contains(r.out, "launcher=42")) << r.describe();
}

TEST_P(Supervise, KeyringOfTheCallersSession) {
  // The caller's session keyring holds a key (a fresh one of the probe's).
  const std::string secret = "aisbx-supervise-secret-51c2";
  const Result control = runner::run(spec({sysprobe_path(), "key-plant", secret, sysprobe_path(), "key-read",
                                           "aisbx-escape-secret"}));
  ASSERT_TRUE(contains(control.out, secret)) << control.describe();
  std::vector<std::string> argv{sysprobe_path(), "key-plant", secret};
  for (const auto& a : launcher({sysprobe_path(), "key-read", "aisbx-escape-secret"})) argv.push_back(a);
  const Result r = runner::run(spec(argv));
  EXPECT_EQ(r.out.find(secret), std::string::npos) << r.describe();
  // A session keyring of its own: the key is not found (ENOKEY); a seccomp
  // filter that refuses keyctl (EPERM) holds too.
  EXPECT_TRUE(r.status == ENOKEY || r.status == EPERM) << r.describe();
}

// The launcher in a terminal: a pty whose slave is its stdin and its
// session's controlling terminal, as a shell in a terminal has.
class Terminal {
 public:
  explicit Terminal(As as) {
    if (::openpty(&master_, &slave_, nullptr, nullptr, nullptr) != 0) return;
    if (as == As::nobody) (void)!::fchown(slave_, runner::kNobodyUid, runner::kNobodyGid);
    ::tcgetattr(slave_, &before_);
  }
  ~Terminal() {
    if (slave_ >= 0) ::close(slave_);
    if (master_ >= 0) ::close(master_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  bool ok() const { return slave_ >= 0; }
  int master() const { return master_; }
  int slave() const { return slave_; }
  const termios& before() const { return before_; }

  // What the terminal gives a reader of the slave within `seconds`.
  std::string read_line(double seconds) const {
    std::string got;
    const double end = runner::now_seconds() + seconds;
    while (got.find('\n') == std::string::npos && runner::now_seconds() < end) {
      pollfd p{slave_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      char buf[256];
      const ssize_t n = ::read(slave_, buf, sizeof buf);
      if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  int master_ = -1, slave_ = -1;
  termios before_{};
};

TEST_P(Supervise, CommandCannotTakeTheCallersTerminal) {
  Terminal tty(GetParam().as);
  ASSERT_TRUE(tty.ok()) << std::strerror(errno);
  // The session leader is a shell, as in a terminal: it runs the launcher,
  // whose command puts a process group of its own in its terminal's
  // foreground and leaves a reader of that terminal behind; then the shell
  // says which group holds its terminal's foreground.
  const std::string captured = dir_ + "/captured";
  const std::string inner = "stty -echo -icanon 2>/dev/null; " +
                            sh_quote_all({sysprobe_path(), "tty-grab", "0"}) + " && echo grabbed; " +
                            "setsid /bin/sh -c 'read line; echo \"$line\" > " +
                            runner::shell_quote(captured) + "' & sleep 0.2; exit 0";
  const std::string script = sh_quote_all(launcher({"/bin/sh", "-c", inner})) + "; echo launcher=$?; " +
                             sh_quote_all({sysprobe_path(), "tty-pgrp", "0"}) + "; echo shell=$$";
  RunSpec s = spec({"/bin/sh", "-c", script});
  s.stdin_fd = tty.slave();
  s.controlling_tty = true;
  const Result r = runner::run(s);
  ASSERT_FALSE(r.timed_out) << r.describe();
  // The command did take its terminal's foreground: the sandbox's own.
  EXPECT_TRUE(contains(r.out, "grabbed")) << r.describe();
  EXPECT_TRUE(contains(r.out, "launcher=0")) << r.describe();
  std::istringstream lines(r.out);
  std::string line, fg, shell;
  while (std::getline(lines, line)) {
    if (line.rfind("shell=", 0) == 0) shell = line.substr(6);
    else if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) fg = line;
  }
  EXPECT_FALSE(shell.empty()) << r.describe();
  // Layered mode with its namespaces gives the command the caller's
  // terminal (its pid namespace ends every process with the run), and the
  // launcher gives the foreground back when it ends; Landlock-only runs get
  // a pty. Either way the shell holds its terminal after the run.
  EXPECT_EQ(fg, shell) << "the caller's terminal's foreground is no longer the shell's group: "
                       << r.describe();

  // Typed after the run: it reaches the terminal's reader (here the test),
  // no process of the run.
  const std::string typed = "typed-after-the-run\n";
  ASSERT_EQ(::write(tty.master(), typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  EXPECT_TRUE(contains(tty.read_line(5), "typed-after-the-run"));
  // (The reader may have seen its terminal close before it was killed.)
  EXPECT_EQ(runner::read_text(captured).find("typed-after"), std::string::npos);

  // The terminal's modes are back as they were (raw while the run ran in
  // landlock mode; changed by the command itself in layered mode).
  termios after{};
  ASSERT_EQ(::tcgetattr(tty.slave(), &after), 0);
  EXPECT_EQ(after.c_lflag, tty.before().c_lflag);
  EXPECT_EQ(after.c_iflag, tty.before().c_iflag);
  EXPECT_EQ(after.c_oflag, tty.before().c_oflag);
}

TEST_P(Supervise, DryRunSaysWhatEndsTheRun) {
  std::vector<std::string> dry = launcher({"/bin/true"});
  dry.insert(dry.end() - 2, "--dry-run");
  const Result plan = runner::run(spec(dry));
  ASSERT_EQ(plan.status, 0) << plan.describe();
  if (!host_pids()) {  // the pid namespace ends the run
    EXPECT_FALSE(contains(plan.out, "processes:")) << plan.describe();
    return;
  }
  ASSERT_TRUE(contains(plan.out, "processes: ended by the launcher")) << plan.describe();
  // What the plan says is what the run does: the command's cgroup is one
  // of the run's own exactly when the plan names cgroup.kill, and it is
  // gone after the run.
  const bool cgroup = plan.out.find("cgroup.kill") != std::string::npos;
  std::vector<std::string> run = launcher({"/bin/sh", "-c", "exec cat /proc/self/cgroup"});
  run.insert(run.end() - 4, {"--ro", "/proc"});
  const Result r = runner::run(spec(run));
  ASSERT_EQ(r.status, 0) << r.describe();
  const auto at = r.out.find("0::");
  ASSERT_NE(at, std::string::npos) << r.describe();
  const std::string line = r.out.substr(at + 3, r.out.find('\n', at) - at - 3);
  const auto name = line.rfind("/aisbx-");
  EXPECT_EQ(name != std::string::npos, cgroup) << line << "\n" << plan.out;
  if (name != std::string::npos) {
    const std::string prefix = plan.out.substr(plan.out.find("cgroup in `") + 11);
    const std::string parent = prefix.substr(0, prefix.find('`'));
    EXPECT_FALSE(runner::exists(parent + line.substr(name))) << "the run's cgroup was left";
  }
}

// Under a container's seccomp profile, where clone3 fails with ENOSYS
// (Docker's default; glibc then falls back to clone): the run works, and
// the command is in a cgroup of the run's own exactly when the plan says.
TEST_P(Supervise, UnderAFilterThatRefusesClone3TheRunIsAsPlanned) {
  std::vector<std::string> dry = launcher({"/bin/true"});
  dry.insert(dry.end() - 2, "--dry-run");
  const Result plan = runner::run(spec(dry));
  ASSERT_EQ(plan.status, 0) << plan.describe();
  const bool cgroup = plan.out.find("cgroup.kill") != std::string::npos;
  std::vector<std::string> run = launcher({"/bin/sh", "-c", "exec cat /proc/self/cgroup"});
  run.insert(run.end() - 4, {"--ro", "/proc"});
  run.insert(run.begin(), {sysprobe_path(), "no-clone3"});
  const Result r = runner::run(spec(run));
  ASSERT_EQ(r.status, 0) << r.describe();
  const auto at = r.out.find("0::");
  ASSERT_NE(at, std::string::npos) << r.describe();
  const std::string line = r.out.substr(at + 3, r.out.find('\n', at) - at - 3);
  EXPECT_EQ(line.rfind("/aisbx-") != std::string::npos, cgroup) << line << "\n" << plan.out;
}

INSTANTIATE_TEST_SUITE_P(Kernel, Supervise, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant>& param_info) {
                           std::ostringstream os;
                           PrintTo(param_info.param, &os);
                           std::string s = os.str();
                           for (char& c : s)
                             if (c == ' ' || c == '-') c = '_';
                           return s;
                         });

}  // namespace
}  // namespace aisbx::test
