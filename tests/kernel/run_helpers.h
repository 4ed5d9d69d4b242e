// Helpers for kernel tests that run real programs (the aisbx-ns binary, the
// probe, a shell): temp trees a given user owns, and running an argv as the
// caller or as uid/gid 65534 with its exit status, stdout and stderr.
//
// Every test that runs the launcher runs it twice when the test binary is
// root: as root, and as 65534 (setgroups, setresgid, setresuid in the forked
// child before execve), so that nothing passes only thanks to root's
// capabilities. Unprivileged, it runs once, as the caller.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <initializer_list>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace aisbx::test::runner {

inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNobodyGid = 65534;

// Who runs a command.
enum class As {
  self,    // the test binary's own user
  nobody,  // uid/gid 65534, no supplementary groups (only when we are root)
};

// {self, nobody} when the test binary is root, {self} otherwise.
std::vector<As> users_to_test();
// "root", "caller" or "uid65534": for parameterized test names.
std::string name_of(As as);
uid_t uid_of(As as);
gid_t gid_of(As as);

// Who runs a command, in which --mode: the parameter of tests that run
// in several modes as every user of users_to_test().
struct UserMode {
  As as;
  const char* mode;  // ns | layered | strict | landlock
};
void PrintTo(const UserMode& c, std::ostream* os);
// Every user of users_to_test() in each of `modes`.
std::vector<UserMode> user_modes(std::initializer_list<const char*> modes);
// "root_layered", "uid65534_landlock": for parameterized test names.
std::string user_mode_name(const ::testing::TestParamInfo<UserMode>& info);

// How a run ended.
struct Result {
  int status = -1;  // exit code, or 128+N if killed by signal N (as a shell shows it)
  bool signaled = false;  // killed by a signal (status is then 128+N)
  bool timed_out = false;
  std::string out;
  std::string err;
  // "exit status 13; stderr: ...; stdout: ..." for failure messages.
  std::string describe() const;
};

struct RunSpec {
  std::vector<std::string> argv;  // argv[0] is an absolute path (no PATH search)
  As as = As::self;
  // Set in the child's environment (after AISBX_* and `unset` are removed
  // from the inherited one). PATH is /usr/local/bin:/usr/bin:/bin unless
  // given here: a PATH entry only root can enter would turn "not found"
  // into "permission denied" for 65534.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> unset;
  std::string cwd;  // empty: the test's own
  int timeout_seconds = 30;
  // fds of the test process the command inherits at the same numbers (every
  // other fd above 2 is closed on exec).
  std::vector<int> inherit_fds;
  // stdin instead of /dev/null (e.g. a pty's slave side).
  int stdin_fd = -1;
  // A new session whose controlling terminal is stdin_fd (a pty), as a
  // shell in a terminal has.
  bool controlling_tty = false;
};

// fork, drop to `as`, execve; collects stdout and stderr until both close,
// then waits. A run that outlives its timeout is killed (timed_out).
Result run(const RunSpec& spec);

// CLOCK_MONOTONIC in seconds.
double now_seconds();
// Polls `done` every 20 ms for at most `seconds`; whether it came true.
bool eventually(double seconds, const std::function<bool()>& done);

// A TCP listener on 127.0.0.1, on a port the kernel picks (0 if it could
// not listen): a peer on the host for the network tests.
class TcpListener {
 public:
  TcpListener();
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  int port() const { return port_; }
  bool ok() const { return port_ > 0; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A temp directory under /tmp (mkdtemp), 0755, removed with everything in
// it when the object dies. Everything created through it is owned by
// `owner`, so that DAC allows the owner everything and only the wall under
// test can say no.
class TempTree {
 public:
  // Made in `base` (/tmp, or /var/tmp for a tree the sandbox's private /tmp
  // must not cover).
  explicit TempTree(As owner, const std::string& prefix = "aisbx-kt",
                    const std::string& base = "/tmp");
  ~TempTree();
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& path() const { return root_; }
  // root + "/" + rel (no check that it exists).
  std::string at(const std::string& rel) const;
  // mkdir -p, each new directory 0755 and given to the owner.
  std::string dir(const std::string& rel, mode_t mode = 0755);
  // Writes a file (replacing it), parent directories made as by dir().
  std::string file(const std::string& rel, const std::string& content,
                   mode_t mode = 0644);
  // A symlink at rel pointing at `target` (replacing an existing one).
  std::string symlink(const std::string& rel, const std::string& target);
  // Removes rel and everything below it, if it exists.
  void remove(const std::string& rel);

 private:
  void give(const std::string& path) const;
  As owner_;
  std::string root_;
};

// lstat() succeeds.
bool exists(const std::string& path);
// The file's content; empty if it cannot be read.
std::string read_text(const std::string& path);
// Quotes for sh -c: 'a'\''b'.
std::string shell_quote(const std::string& s);
// For EXPECT_TRUE: the haystack contains the needle, else says what it had.
::testing::AssertionResult contains(const std::string& haystack,
                                    const std::string& needle);

}  // namespace aisbx::test::runner

namespace aisbx::test {
// What nearly every kernel test names, without a using block in each file.
using runner::As;
using runner::contains;
using runner::exists;
using runner::read_text;
using runner::Result;
using runner::RunSpec;
using runner::TempTree;
}  // namespace aisbx::test
