#include "desktop/dbus_proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace aisbx::desktop {
namespace {

constexpr int kReadyTimeoutMs = 10000;
// The proxy's end of the pipe, at a fixed number in the child.
constexpr int kProxyFd = 3;

// The socket's directory: made 0700 if missing, then required to be a
// directory (not a link) of the user's own that no one else may enter, so
// that no one else reaches the socket or puts a file in its place.
Expected<sys::UniqueFd> own_directory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return sys_fail("desktop.dbus: mkdir " + q(dir));
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return sys_fail("desktop.dbus: open " + q(dir) + " (no symlinks)");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail("desktop.dbus: fstat " + q(dir));
  if (st.st_uid != ::getuid() || (st.st_mode & 077) != 0)
    return fail("desktop.dbus: " + q(dir) + " is not a directory of uid " +
                    std::to_string(::getuid()) + " closed to others (mode 0700)",
                "remove it; aisbx-ns makes it again");
  return fd;
}

std::vector<std::string> proxy_argv(const plan::DesktopPlan& d) {
  std::vector<std::string> v{d.dbus_proxy, "--fd=" + std::to_string(kProxyFd), d.dbus_address,
                             d.dbus_socket, "--filter"};
  for (const auto& n : d.dbus_talk) v.push_back("--talk=" + n);
  return v;
}

}  // namespace

DbusProxy::~DbusProxy() {
  if (pid_ <= 0) return;
  alive_.reset();  // the proxy sees the pipe close, removes its socket, exits
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  ::unlink(socket_.c_str());  // in the user's own 0700 directory
}

Expected<DbusProxy> start_dbus_proxy(const plan::DesktopPlan& d) {
  AISBX_ASSIGN(dir, own_directory(d.dbus_dir));
  // A socket left there is a killed run's whose pid we now have: its proxy
  // is gone (it would have removed it), and binding needs the name free.
  const std::string name = d.dbus_socket.substr(d.dbus_socket.rfind('/') + 1);
  if (::unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT)
    return sys_fail("desktop.dbus: unlink " + q(d.dbus_socket));
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("desktop.dbus: pipe2");
  sys::UniqueFd alive(p[0]), theirs(p[1]);
  const std::vector<std::string> args = proxy_argv(d);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("desktop.dbus: fork");
  if (pid == 0) {
    // Its own process group: the terminal's Ctrl-C is the program's, not
    // the proxy's (the program would lose its bus).
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(theirs.get(), kProxyFd) < 0) ::_exit(kExitLauncherFailure);  // dup2 clears CLOEXEC
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  theirs.reset();
  // One byte when the socket listens; EOF when the proxy failed (it says
  // why on stderr).
  pollfd pfd{alive.get(), POLLIN, 0};
  int n;
  while ((n = ::poll(&pfd, 1, kReadyTimeoutMs)) < 0 && errno == EINTR) {
  }
  char ready = 0;
  ssize_t got = -1;
  if (n == 1)
    while ((got = ::read(alive.get(), &ready, 1)) < 0 && errno == EINTR) {
    }
  if (got != 1) {
    alive.reset();
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return fail("desktop.dbus: xdg-dbus-proxy (" + q(d.dbus_proxy) + ") did not start for the bus " +
                    q(d.dbus_address) +
                    (n == 0 ? " within 10 s"
                            : WIFEXITED(status) ? " (exit status " + std::to_string(WEXITSTATUS(status)) + ")"
                                                : std::string()),
                "its message above says why; is the session bus running "
                "($DBUS_SESSION_BUS_ADDRESS)?");
  }
  return DbusProxy(pid, std::move(alive), d.dbus_socket);
}

}  // namespace aisbx::desktop
