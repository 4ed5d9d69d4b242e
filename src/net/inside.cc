// The launcher's side of the allowlist: fork the proxy, then, inside the
// new network namespace, make the sockets it serves and pass them over.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <poll.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "net/proxy.h"

namespace aisbx::net {
namespace {

constexpr int kLoopbackIndex = 1;  // `lo` is always interface 1 in a new namespace

// One rtnetlink request, acknowledged (NLM_F_ACK): `lo` up, or a route.
Expected<void> netlink_request(int nl, nlmsghdr* msg, const std::string& what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl, msg, msg->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return sys_fail("network: netlink send (" + what + ")");
  alignas(nlmsghdr) char buf[4096];
  const ssize_t n = ::recv(nl, buf, sizeof buf, 0);
  if (n < 0) return sys_fail("network: netlink receive (" + what + ")");
  const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
  if (n < static_cast<ssize_t>(sizeof(nlmsghdr)) || h->nlmsg_type != NLMSG_ERROR)
    return fail("network: netlink: unexpected answer to " + what);
  if (static_cast<std::size_t>(n) < sizeof(nlmsghdr) + sizeof(nlmsgerr))
    return fail("network: netlink: short answer to " + what);
  const auto* e = reinterpret_cast<const nlmsgerr*>(buf + sizeof(nlmsghdr));
  if (e->error != 0) return errno_fail(-e->error, "network: netlink: " + what);
  return {};
}

Expected<void> loopback_up(int nl) {
  struct {
    nlmsghdr h;
    ifinfomsg i;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_NEWLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = kLoopbackIndex;
  req.i.ifi_flags = IFF_UP;
  req.i.ifi_change = IFF_UP;
  return netlink_request(nl, &req.h, "set `lo` up");
}

// `ip route add local default dev lo table local`: every address of the
// family is this namespace's own, so a connection to any of them reaches
// the relay sockets (or is refused at once), and a datagram to any
// nameserver address reaches the DNS stub.
Expected<void> everything_local(int nl, int family) {
  // The attribute follows the header and rtmsg, both multiples of 4 bytes
  // (NLMSG_ALIGN), so a plain struct has the wire layout.
  struct {
    nlmsghdr h;
    rtmsg r;
    rtattr oif_attr;
    int oif;
  } req{};
  static_assert(sizeof(nlmsghdr) % 4 == 0 && sizeof(rtmsg) % 4 == 0);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_NEWROUTE;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.r.rtm_family = static_cast<unsigned char>(family);
  req.r.rtm_dst_len = 0;
  req.r.rtm_table = RT_TABLE_LOCAL;
  req.r.rtm_protocol = RTPROT_BOOT;
  req.r.rtm_scope = RT_SCOPE_HOST;
  req.r.rtm_type = RTN_LOCAL;
  req.oif_attr.rta_type = RTA_OIF;
  req.oif_attr.rta_len = sizeof(rtattr) + sizeof(int);
  req.oif = kLoopbackIndex;
  return netlink_request(nl, &req.h, family == AF_INET ? "route local 0.0.0.0/0 dev lo"
                                                       : "route local ::/0 dev lo");
}

// A dual-stack socket at [::]:port (IPv4 arrives as ::ffff:a.b.c.d), or
// IPv4 alone when the kernel has no IPv6.
Expected<sys::UniqueFd> listener(int type, std::uint16_t port, bool& v6) {
  const std::string what = std::string(type == SOCK_STREAM ? "TCP" : "UDP") + " port " +
                           std::to_string(port) + " inside";
  if (v6) {
    sys::UniqueFd s(::socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (s.get() >= 0) {
      const int off = 0, on = 1;
      ::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
      ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      if (type == SOCK_DGRAM) ::setsockopt(s.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
      // Accepted connections inherit it: the proxy sets nothing per connection.
      if (type == SOCK_STREAM) ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      a.sin6_addr = in6addr_any;
      if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return sys_fail("network: bind " + what);
      if (type == SOCK_STREAM && ::listen(s.get(), SOMAXCONN) != 0)
        return sys_fail("network: listen " + what);
      return s;
    }
    if (errno != EAFNOSUPPORT) return sys_fail("network: socket for " + what);
    v6 = false;
  }
  sys::UniqueFd s(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.get() < 0) return sys_fail("network: socket for " + what);
  const int on = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (type == SOCK_DGRAM) ::setsockopt(s.get(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  if (type == SOCK_STREAM) ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return sys_fail("network: bind " + what);
  if (type == SOCK_STREAM && ::listen(s.get(), SOMAXCONN) != 0)
    return sys_fail("network: listen " + what);
  return s;
}

// The HTTP proxy's connections are accepted once their first bytes are
// there (TCP_DEFER_ACCEPT): the client always speaks first, so the proxy
// wakes once for the connection and its request, not twice. A client that
// sends nothing is accepted after about a second all the same (at once
// when it closes). Not on the relay ports: a server-first protocol there
// must not wait that second, and a program that connects and waits is seen
// (and a denial reported) at once.
void accept_with_data(int listener) {
  const int seconds = 1;
  ::setsockopt(listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
}

Expected<void> send_fds(int sock, const std::vector<int>& fds) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  char byte = 'f';
  iovec iov{&byte, 1};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control.data();
  m.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  if (::sendmsg(sock, &m, MSG_NOSIGNAL) != 1) return sys_fail("network: pass the sockets to the proxy");
  return {};
}

}  // namespace

Proxy::~Proxy() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

Expected<Proxy> start_proxy(const plan::NetAllowPlan& plan) {
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
    return sys_fail("network: socketpair for the proxy");
  sys::UniqueFd mine(sp[0]), theirs(sp[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("network: fork of the proxy");
  if (pid == 0) {
    mine.reset();
    // Dies with the launcher; if the launcher is already gone, now.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(kExitLauncherFailure);
    proxy_main(plan, theirs.release());
  }
  return Proxy(pid, std::move(mine));
}

std::vector<trace::NetDenial> Proxy::denials() {
  std::vector<trace::NetDenial> out;
  if (pid_ <= 0 || ::send(control_.get(), "c", 1, MSG_NOSIGNAL) != 1) return out;
  pollfd p{control_.get(), POLLIN, 0};
  int r;
  while ((r = ::poll(&p, 1, 1000)) < 0 && errno == EINTR) {
  }
  if (r != 1) return out;
  std::string text(65536, '\0');
  const ssize_t n = ::recv(control_.get(), text.data(), text.size(), MSG_DONTWAIT);
  if (n <= 0) return out;
  text.resize(static_cast<std::size_t>(n));
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    const auto t1 = line.find('\t');
    const auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string::npos) continue;
    trace::NetDenial d;
    d.count = std::strtoull(line.substr(0, t1).c_str(), nullptr, 10);
    d.destination = line.substr(t1 + 1, t2 - t1 - 1);
    d.why = line.substr(t2 + 1);
    out.push_back(std::move(d));
  }
  return out;
}

Expected<void> Proxy::hand_over(const plan::NetAllowPlan& plan) {
  sys::UniqueFd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (nl.get() < 0) return sys_fail("network: socket(AF_NETLINK)");
  AISBX_TRY(loopback_up(nl.get()));
  AISBX_TRY(everything_local(nl.get(), AF_INET));
  bool v6 = true;
  if (auto r = everything_local(nl.get(), AF_INET6); !r) {
    // A kernel without IPv6 (or with it disabled): IPv4 only.
    if (r.error().err != EAFNOSUPPORT && r.error().err != EOPNOTSUPP) return r;
    v6 = false;
  }
  std::vector<sys::UniqueFd> socks;
  for (auto port : plan.relay_ports) {
    AISBX_ASSIGN(s, listener(SOCK_STREAM, port, v6));
    if (port == plan.proxy_port) accept_with_data(s.get());
    socks.push_back(std::move(s));
  }
  AISBX_ASSIGN(dns, listener(SOCK_DGRAM, 53, v6));
  socks.push_back(std::move(dns));
  std::vector<int> fds;
  for (const auto& s : socks) fds.push_back(s.get());
  return pass(fds);
}

Expected<void> Proxy::give(sys::UniqueFd listener) { return pass({listener.get()}); }

Expected<void> Proxy::pass(const std::vector<int>& fds) {
  AISBX_TRY(send_fds(control_.get(), fds));
  char ok = 0;
  ssize_t n;
  while ((n = ::recv(control_.get(), &ok, 1, 0)) < 0 && errno == EINTR) {
  }
  if (n != 1 || ok != 'r') return fail("network: the proxy did not start");
  return {};
}

Expected<std::pair<sys::UniqueFd, std::uint16_t>> listen_on_host() {
  sys::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.get() < 0) return sys_fail("network: socket for the proxy at the host's 127.0.0.1");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const int on = 1;  // inherited by the accepted connections
  ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  accept_with_data(s.get());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(s.get(), SOMAXCONN) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return sys_fail("network: listen at the host's 127.0.0.1 for the proxy");
  const std::uint16_t port = ntohs(a.sin_port);
  return std::pair{std::move(s), port};
}

}  // namespace aisbx::net
