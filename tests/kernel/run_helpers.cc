#include "run_helpers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace aisbx::test::runner {
namespace {

[[noreturn]] void child_die(const char* what) {
  // Only async-signal-safe calls between fork and exec.
  const int err = errno;
  const char* msg = std::strerror(err);
  (void)!::write(2, "runner child: ", 14);
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, ": ", 2);
  (void)!::write(2, msg, std::strlen(msg));
  (void)!::write(2, "\n", 1);
  ::_exit(250);
}

std::vector<std::string> child_environment(const RunSpec& spec) {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    const std::string k = kv.substr(0, eq);
    // The launcher's test hooks and config lookup come only from the test.
    if (k.starts_with("AISBX_")) continue;
    bool drop = false;
    for (const auto& u : spec.unset) drop = drop || u == k;
    if (!drop) env.emplace_back(k, kv.substr(eq + 1));
  }
  auto set = [&env](const std::string& k, const std::string& v) {
    for (auto& [key, value] : env)
      if (key == k) {
        value = v;
        return;
      }
    env.emplace_back(k, v);
  };
  set("PATH", "/usr/local/bin:/usr/bin:/bin");
  for (const auto& [k, v] : spec.env) set(k, v);
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

int remove_entry(const char* path, const struct stat*, int type, FTW*) {
  if (type == FTW_DP)
    ::rmdir(path);
  else
    ::unlink(path);
  return 0;  // best effort: keep going
}

void remove_tree(const std::string& path) {
  ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace

std::vector<As> users_to_test() {
  if (::geteuid() == 0) return {As::self, As::nobody};
  return {As::self};
}

std::string name_of(As as) {
  if (as == As::nobody) return "uid65534";
  return ::geteuid() == 0 ? "root" : "caller";
}

void PrintTo(const UserMode& c, std::ostream* os) { *os << name_of(c.as) << "/" << c.mode; }

std::vector<UserMode> user_modes(std::initializer_list<const char*> modes) {
  std::vector<UserMode> v;
  for (As as : users_to_test())
    for (const char* mode : modes) v.push_back({as, mode});
  return v;
}

std::string user_mode_name(const ::testing::TestParamInfo<UserMode>& info) {
  return name_of(info.param.as) + "_" + info.param.mode;
}

uid_t uid_of(As as) { return as == As::nobody ? kNobodyUid : ::geteuid(); }
gid_t gid_of(As as) { return as == As::nobody ? kNobodyGid : ::getegid(); }

std::string Result::describe() const {
  std::ostringstream s;
  if (timed_out) s << "TIMED OUT; ";
  s << (signaled ? "killed by signal " + std::to_string(status - 128)
                 : "exit status " + std::to_string(status));
  s << "\n--- stderr:\n" << err << "\n--- stdout:\n" << out << "\n---";
  return s.str();
}

Result run(const RunSpec& spec) {
  Result r;
  if (spec.argv.empty()) {
    r.err = "runner: empty argv";
    return r;
  }
  if (spec.as == As::nobody && ::geteuid() != 0) {
    r.err = "runner: only root can run a command as uid 65534";
    return r;
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> args = spec.argv;
  std::vector<std::string> envs = child_environment(spec);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.err = std::string("runner: pipe2: ") + std::strerror(errno);
    return r;
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const bool drop = spec.as == As::nobody;
  const pid_t pid = ::fork();
  if (pid < 0) {
    r.err = std::string("runner: fork: ") + std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    const int in_fd = spec.stdin_fd >= 0 ? spec.stdin_fd : null_fd;
    if (::dup2(in_fd, 0) < 0 || ::dup2(out_pipe[1], 1) < 0 ||
        ::dup2(err_pipe[1], 2) < 0)
      child_die("dup2");
    // No fd of the test binary reaches the command; 0-2 stay, and those
    // the spec names.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) child_die("close_range");
    for (const int fd : spec.inherit_fds)
      if (::fcntl(fd, F_SETFD, 0) != 0) child_die("fcntl(F_SETFD)");
    if (spec.controlling_tty && (::setsid() < 0 || ::ioctl(0, TIOCSCTTY, 0) != 0))
      child_die("setsid/TIOCSCTTY");
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) child_die("chdir");
    if (drop) {
      // Groups first: after setresuid we could no longer change them.
      if (::setgroups(0, nullptr) != 0) child_die("setgroups");
      if (::setresgid(kNobodyGid, kNobodyGid, kNobodyGid) != 0) child_die("setresgid");
      if (::setresuid(kNobodyUid, kNobodyUid, kNobodyUid) != 0) child_die("setresuid");
    }
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    child_die("execve");
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (null_fd >= 0) ::close(null_fd);

  const double deadline = now_seconds() + spec.timeout_seconds;
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&r.out, &r.err};
  int open_count = 2;
  while (open_count > 0) {
    const double left = deadline - now_seconds();
    if (left <= 0) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);  // the child we forked, by its pid
      break;
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(left * 1000) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.status = 128 + WTERMSIG(status);
  }
  return r;
}

TempTree::TempTree(As owner, const std::string& prefix, const std::string& base)
    : owner_(owner) {
  std::string tmpl = base + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
    return;
  }
  root_ = tmpl;
  ::chmod(root_.c_str(), 0755);
  give(root_);
}

TempTree::~TempTree() {
  if (!root_.empty()) remove_tree(root_);
}

std::string TempTree::at(const std::string& rel) const { return root_ + "/" + rel; }

void TempTree::give(const std::string& path) const {
  if (::geteuid() != 0) return;  // an unprivileged caller owns what it makes
  if (::lchown(path.c_str(), uid_of(owner_), gid_of(owner_)) != 0)
    ADD_FAILURE() << "lchown " << path << ": " << std::strerror(errno);
}

std::string TempTree::dir(const std::string& rel, mode_t mode) {
  std::string path = root_;
  std::size_t i = 0;
  while (i <= rel.size()) {
    const auto slash = rel.find('/', i);
    const std::string part =
        rel.substr(i, slash == std::string::npos ? std::string::npos : slash - i);
    if (!part.empty()) {
      path += "/" + part;
      if (::mkdir(path.c_str(), mode) == 0) {
        ::chmod(path.c_str(), mode);  // not narrowed by the umask
        give(path);
      } else if (errno != EEXIST) {
        ADD_FAILURE() << "mkdir " << path << ": " << std::strerror(errno);
      }
    }
    if (slash == std::string::npos) break;
    i = slash + 1;
  }
  return path;
}

std::string TempTree::file(const std::string& rel, const std::string& content,
                           mode_t mode) {
  const auto slash = rel.rfind('/');
  if (slash != std::string::npos) dir(rel.substr(0, slash));
  const std::string path = at(rel);
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    ADD_FAILURE() << "create " << path << ": " << std::strerror(errno);
    return path;
  }
  if (::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()))
    ADD_FAILURE() << "write " << path << ": " << std::strerror(errno);
  ::close(fd);
  ::chmod(path.c_str(), mode);
  give(path);
  return path;
}

std::string TempTree::symlink(const std::string& rel, const std::string& target) {
  const auto slash = rel.rfind('/');
  if (slash != std::string::npos) dir(rel.substr(0, slash));
  const std::string path = at(rel);
  ::unlink(path.c_str());
  if (::symlink(target.c_str(), path.c_str()) != 0)
    ADD_FAILURE() << "symlink " << path << ": " << std::strerror(errno);
  give(path);
  return path;
}

void TempTree::remove(const std::string& rel) {
  const std::string path = at(rel);
  if (exists(path)) remove_tree(path);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

::testing::AssertionResult contains(const std::string& haystack,
                                    const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to find `" << needle << "` in:\n"
                                       << haystack;
}

double now_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bool eventually(double seconds, const std::function<bool()>& done) {
  const double end = now_seconds() + seconds;
  for (;;) {
    if (done()) return true;
    if (now_seconds() > end) return false;
    ::usleep(20 * 1000);
  }
}

TcpListener::TcpListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::listen(fd_, 8) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port_ = ntohs(a.sin_port);
}

TcpListener::~TcpListener() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace aisbx::test::runner
