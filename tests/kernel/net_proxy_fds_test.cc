// The allowlist's proxy out of file descriptors (src/net/accept.h): a
// sandboxed program holds open more connections to the proxy than the
// proxy may have fds. The proxy must shed what it cannot take (the client
// sees the connection closed, one line on stderr says why) instead of
// spinning on a listener that stays readable, and serve again once the
// connections are gone.
//
// The proxy's own loop (net::proxy_main) runs in a child, with
// RLIMIT_NOFILE at 24; its listener is the HTTP proxy port on 127.0.0.1.
// Its "host" is the lab's (tests/net/lab.sh), never this machine: user,
// network and mount namespaces the test makes, private /etc/hosts and
// /etc/resolv.conf, and 192.0.2.1 on its lo as the host's own address (what
// the proxy's address policy reads when it starts).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aisbx/net_rules.h"
#include "aisbx/plan.h"
#include "kernel_gap.h"
#include "net/proxy.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

constexpr int kHeld = 60;

int connect_to(std::uint16_t port) {
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (c >= 0 && ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return c;
  if (c >= 0) ::close(c);
  return -1;
}

// utime + stime of `pid`, in clock ticks.
long cpu_ticks(pid_t pid) {
  char buf[1024] = {};
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  const std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) {
      stime = std::stol(f);
      break;
    }
  }
  return utime + stime;
}

// The lab's "host": its own network and mount namespaces, private name
// files made in `dir` before the user namespace (where the caller's uid is
// unmapped and can create nothing), 192.0.2.1 on lo.
bool lab_host(const std::string& dir) {
  const std::string hosts = dir + "/hosts", resolv = dir + "/resolv.conf";
  {
    std::ofstream h(hosts), r(resolv);
    h << "127.0.0.1 localhost\n198.51.100.10 allowed.test\n";
    r << "nameserver 198.51.100.53\n";
    if (!h || !r) return false;
  }
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  // Mapped to root inside, so that ip(8) keeps the namespace's capabilities
  // across its exec.
  const auto write_file = [](const char* path, const std::string& text) {
    std::ofstream f(path);
    f << text;
    f.flush();
    return static_cast<bool>(f);
  };
  return ::unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) == 0 &&
         write_file("/proc/self/setgroups", "deny") &&
         write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
         write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1") &&
         ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
         ::mount(hosts.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) == 0 &&
         ::mount(resolv.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) == 0 &&
         std::system("ip link set lo up && ip addr add 192.0.2.1/32 dev lo") == 0;
}

// What the child saw, one fact per line, for the test to check.
std::string run_scenario(const std::string& dir) {
  std::ostringstream out;
  if (!lab_host(dir)) return "setup: no lab host\n";
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener, 256) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return "setup: no listener\n";
  const std::uint16_t port = ntohs(a.sin_port);

  plan::NetAllowPlan plan;
  plan.enabled = true;
  plan.best_effort = true;  // the proxy port alone: no relays, no DNS stub
  std::string why;
  plan.allow.push_back(*net::parse_allow_entry("allowed.test", why));
  plan.proxy_port = port;

  int ctl[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0 ||
      ::pipe2(err, O_CLOEXEC) != 0)
    return "setup: no socketpair\n";
  const pid_t proxy = ::fork();
  if (proxy == 0) {
    ::close(ctl[0]);
    ::dup2(err[1], 2);
    const rlimit few{24, 24};
    ::setrlimit(RLIMIT_NOFILE, &few);
    net::proxy_main(plan, ctl[1]);
  }
  ::close(ctl[1]);
  ::close(err[1]);
  // The listener to the proxy, as the launcher hands it over.
  char byte = 'l';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &listener, sizeof(int));
  char ready = 0;
  if (::sendmsg(ctl[0], &m, 0) != 1 || ::recv(ctl[0], &ready, 1, 0) != 1 || ready != 'r') {
    ::kill(proxy, SIGKILL);
    ::waitpid(proxy, nullptr, 0);
    return "setup: the proxy did not start\n";
  }
  ::close(listener);

  // More connections than the proxy has fds, each sending nothing (the
  // proxy waits for its request head).
  std::vector<int> held;
  for (int i = 0; i < kHeld; ++i)
    if (const int fd = connect_to(port); fd >= 0) held.push_back(fd);
  out << "connected " << held.size() << "\n";
  // Connections shed come back closed: poll all of them for a while.
  int closed = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::vector<bool> seen(held.size(), false);
  while (std::chrono::steady_clock::now() < until && closed == 0) {
    std::vector<pollfd> pfds;
    for (int fd : held) pfds.push_back({fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 100);
    for (std::size_t i = 0; i < pfds.size(); ++i) {
      char b;
      if (!seen[i] && (pfds[i].revents & (POLLIN | POLLHUP)) &&
          ::recv(held[i], &b, 1, MSG_DONTWAIT) <= 0) {
        seen[i] = true;
        ++closed;
      }
    }
  }
  out << "shed " << (closed > 0 ? "yes" : "no") << "\n";
  // Whether it spins: its CPU over one second, the held connections still
  // open (the head timeout is longer).
  const long t0 = cpu_ticks(proxy);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long ticks = cpu_ticks(proxy) - t0;
  out << "busy " << (ticks * 100 / ::sysconf(_SC_CLK_TCK) >= 50 ? "yes" : "no") << " (" << ticks
      << " ticks)\n";
  // Once they are gone, it serves again: a request without an absolute
  // URL gets an HTTP answer.
  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string answer;
  if (const int fd = connect_to(port); fd >= 0) {
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)!::send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    char buf[64] = {};
    if (::poll(&p, 1, 3000) == 1 && ::recv(fd, buf, sizeof buf - 1, 0) > 0) answer = buf;
    ::close(fd);
  }
  out << "served again " << (answer.starts_with("HTTP/1.") ? "yes" : "no") << "\n";
  ::kill(proxy, SIGKILL);
  ::waitpid(proxy, nullptr, 0);
  std::string log;
  char buf[4096];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) log.append(buf, static_cast<std::size_t>(n));
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = log.find("no file descriptor left", at)) != std::string::npos; ++at)
    ++lines;
  out << "reported " << lines << "\n";
  return out.str();
}

TEST(ProxyFds, AProxyOutOfFdsShedsConnectionsAndDoesNotSpin) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
  AISBX_SKIP_WITHOUT(runner::exists("/usr/sbin/ip") || runner::exists("/sbin/ip") ||
                         runner::exists("/bin/ip"),
                     "no ip(8) (iproute2) to give the lab host its address");
  char dir[] = "/tmp/aisbx-proxyfds.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string r = run_scenario(dir);
    (void)!::write(pipefd[1], r.data(), r.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string r;
  char buf[1024];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) r.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(r.find("setup:"), std::string::npos) << r;
  EXPECT_NE(r.find("connected " + std::to_string(kHeld)), std::string::npos) << r;
  EXPECT_NE(r.find("shed yes"), std::string::npos) << r;
  EXPECT_NE(r.find("busy no"), std::string::npos) << r;
  EXPECT_NE(r.find("served again yes"), std::string::npos) << r;
  EXPECT_NE(r.find("reported 1\n"), std::string::npos) << r;
}

}  // namespace
}  // namespace aisbx::test
