// network.publish (publish.h): the host's 127.0.0.1:PORT -> 127.0.0.1:PORT
// inside the sandbox's network namespace.
#include "net/publish.h"

#include <linux/close_range.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <map>

#include "net/relay.h"
#include "net/workers.h"

namespace aisbx::net {
namespace {

// Everything the launcher had open but the listeners (and stdio) is closed
// in the relay: it must not keep the proxy's control socket, a pipe to
// init or a profile file alive.
void close_all_but(std::vector<int> keep) {
  keep.push_back(STDIN_FILENO);
  keep.push_back(STDOUT_FILENO);
  keep.push_back(STDERR_FILENO);
  std::sort(keep.begin(), keep.end());
  unsigned int from = 0;
  for (int k : keep) {
    const auto fd = static_cast<unsigned int>(k);
    if (fd > from) ::close_range(from, fd - 1, 0);
    from = fd + 1;
  }
  ::close_range(from, ~0U, 0);
}

// The program's server inside: at 127.0.0.1, else at ::1 (a server bound to
// `localhost` may have taken either).
void serve(sys::UniqueFd client, std::uint16_t port) {
  auto inside = dial(*parse_address("127.0.0.1"), port);
  if (!inside) inside = dial(*parse_address("::1"), port);
  if (!inside) return;  // nothing listens inside yet: the host sees the close
  relay(client.get(), inside->get());
}

[[noreturn]] void relay_main(const std::map<int, std::uint16_t>& ports) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<int> listeners;
  for (const auto& [fd, port] : ports) listeners.push_back(fd);
  if (!serve_on_workers(listeners, [&ports](int listener, sys::UniqueFd c) {
        serve(std::move(c), ports.at(listener));
      }))
    ::_exit(kExitLauncherFailure);
  for (;;) ::pause();  // the workers serve; SIGKILL ends the relay
}

}  // namespace

Published::~Published() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

namespace {

// A listener at the host's 127.0.0.1:PORT or [::1]:PORT. nullopt (no
// error) when the host has no IPv6 loopback: then [::1] is simply not
// published.
Expected<std::optional<sys::UniqueFd>> listen_at(std::uint16_t port, bool v6) {
  const std::string what = std::string("network.publish: ") + (v6 ? "[::1]:" : "127.0.0.1:") +
                           std::to_string(port) + " of the host";
  sys::UniqueFd s(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.get() < 0 && v6 && errno == EAFNOSUPPORT) return std::nullopt;
  if (s.get() < 0) return sys_fail(what + ": socket");
  const int on = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    len = sizeof a;
    ::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof a;
  }
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (v6 && errno == EADDRNOTAVAIL) return std::nullopt;  // IPv6 is off on the host's `lo`
    return sys_fail(what + ": bind",
                    errno == EADDRINUSE ? "another program (or another sandbox) listens there; "
                                          "stop it or publish another port"
                                        : "");
  }
  if (::listen(s.get(), SOMAXCONN) != 0) return sys_fail(what + ": listen");
  return std::optional<sys::UniqueFd>(std::move(s));
}

}  // namespace

Expected<Published> Published::listen(const plan::NetAllowPlan& plan) {
  Published out;
  for (auto port : plan.publish) {
    // Both loopbacks of the host: a client that resolves `localhost` may
    // try ::1 first.
    for (bool v6 : {false, true}) {
      auto s = listen_at(port, v6);
      if (!s) return std::unexpected(std::move(s.error()));
      if (!*s) continue;
      out.listeners_.push_back(std::move(**s));
      out.ports_.push_back(port);
    }
  }
  return out;
}

Expected<void> Published::start() {
  if (listeners_.empty()) return {};
  std::map<int, std::uint16_t> ports;
  for (std::size_t i = 0; i < listeners_.size(); ++i) ports.emplace(listeners_[i].get(), ports_[i]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("network.publish: fork of the relay");
  if (pid == 0) {
    // Dies with the launcher; if the launcher is already gone, now.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(kExitLauncherFailure);
    std::vector<int> keep;
    for (const auto& [fd, port] : ports) keep.push_back(fd);
    close_all_but(keep);
    relay_main(ports);
  }
  pid_ = pid;
  listeners_.clear();  // the relay holds them; the sandbox's init must not
  return {};
}

}  // namespace aisbx::net
