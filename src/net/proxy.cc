// The proxy outside the sandbox: the only place the allowlist is decided
// (DESIGN.md). It serves the sockets the launcher made inside:
//   - the DNS stub (UDP here, TCP on its connection threads): allowed names
//     get an address from the pool, every other name REFUSED; nothing is
//     ever forwarded, so DNS carries nothing out;
//   - the relay ports: the destination the program dialled (getsockname)
//     decides: a pool address maps back to its name, 127.0.0.1 at a
//     host_ports port leads to the host's loopback, 127.0.0.1 at the proxy
//     port is the HTTP proxy (CONNECT and absolute-form), an address is
//     allowed only when listed with its port;
//   - a name is resolved here, on the host, at connect time, and every
//     address that leads home is refused (net_rules.h: refused()).
// One epoll loop accepts and answers UDP; each connection gets a thread,
// since the host's resolver (getaddrinfo) blocks.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "net/dns_message.h"
#include "net/proxy.h"

namespace aisbx::net {
namespace {

constexpr int kConnectTimeoutMs = 10000;
constexpr int kHeaderTimeoutMs = 30000;
constexpr std::size_t kMaxHeader = 16384;
constexpr std::size_t kRelayBuffer = 65536;

struct Destination {
  Address address;
  std::uint16_t port = 0;
};

Destination destination_of(const sockaddr_storage& ss) {
  Destination d;
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    d.address = address_from_bytes(reinterpret_cast<const std::uint8_t*>(&a.sin_addr), true);
    d.port = ntohs(a.sin_port);
  } else {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    d.address = address_from_bytes(a.sin6_addr.s6_addr, false);
    d.port = ntohs(a.sin6_port);
  }
  d.address = unmapped(d.address);
  return d;
}

std::string host_port(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

// ---- state shared by the loop and the connection threads ----

class State {
 public:
  explicit State(const plan::NetAllowPlan& p) : plan_(p) {
    policy_.deny_resolved = p.deny_resolved;
    Address lo4 = *parse_address("127.0.0.1");
    for (auto port : p.host_ports) policy_.listed.emplace_back(lo4, port);
    for (const auto& e : p.allow)
      if (e.kind == AllowEntry::Kind::address)
        for (auto port : e.port ? std::vector<std::uint16_t>{e.port}
                                : std::vector<std::uint16_t>(kDefaultPorts.begin(), kDefaultPorts.end()))
          policy_.listed.emplace_back(e.address, port);
    ifaddrs* ifs = nullptr;
    if (::getifaddrs(&ifs) == 0) {
      for (ifaddrs* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        if (i->ifa_addr->sa_family == AF_INET)
          policy_.own.push_back(address_from_bytes(
              reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr), true));
        else if (i->ifa_addr->sa_family == AF_INET6)
          policy_.own.push_back(address_from_bytes(
              reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr.s6_addr, false));
      }
      ::freeifaddrs(ifs);
    }
  }

  const plan::NetAllowPlan& plan() const { return plan_; }
  const AddressPolicy& policy() const { return policy_; }

  // The pool address of an allowed name, the same one each time.
  std::optional<std::array<std::uint8_t, 4>> pool_address(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = by_name_.find(name);
    std::uint32_t index;
    if (it != by_name_.end()) {
      index = it->second;
    } else {
      const std::uint32_t size = 1u << (32 - plan_.pool.prefix);
      if (names_.size() + 2 >= size) return std::nullopt;
      names_.push_back(name);
      index = static_cast<std::uint32_t>(names_.size());  // 1-based: .0 is the network
      by_name_.emplace(name, index);
    }
    std::uint32_t base = (std::uint32_t{plan_.pool.base.bytes[0]} << 24) |
                         (std::uint32_t{plan_.pool.base.bytes[1]} << 16) |
                         (std::uint32_t{plan_.pool.base.bytes[2]} << 8) | plan_.pool.base.bytes[3];
    base += index;
    return std::array<std::uint8_t, 4>{static_cast<std::uint8_t>(base >> 24),
                                       static_cast<std::uint8_t>(base >> 16),
                                       static_cast<std::uint8_t>(base >> 8),
                                       static_cast<std::uint8_t>(base)};
  }

  std::optional<std::string> name_at(const Address& a) {
    if (!contains(plan_.pool, a) || !a.v4) return std::nullopt;
    const std::uint32_t index = ((std::uint32_t{a.bytes[0]} << 24) | (std::uint32_t{a.bytes[1]} << 16) |
                                 (std::uint32_t{a.bytes[2]} << 8) | a.bytes[3]) -
                                ((std::uint32_t{plan_.pool.base.bytes[0]} << 24) |
                                 (std::uint32_t{plan_.pool.base.bytes[1]} << 16) |
                                 (std::uint32_t{plan_.pool.base.bytes[2]} << 8) | plan_.pool.base.bytes[3]);
    std::lock_guard lock(mu_);
    if (index == 0 || index > names_.size()) return std::nullopt;
    return names_[index - 1];
  }

  // Once per destination and reason, on the launcher's stderr.
  void deny(const std::string& what, const std::string& why) {
    std::lock_guard lock(mu_);
    if (!reported_.insert(what + "\n" + why).second) return;
    const std::string line = "aisbx-ns: network: denied " + what + " (" + why + ")\n";
    sys::write_all(STDERR_FILENO, line);
  }

 private:
  const plan::NetAllowPlan& plan_;
  AddressPolicy policy_;
  std::mutex mu_;
  std::vector<std::string> names_;
  std::map<std::string, std::uint32_t> by_name_;
  std::set<std::string> reported_;
};

// ---- DNS ----

std::vector<std::uint8_t> answer(State& st, std::span<const std::uint8_t> msg) {
  std::optional<std::uint16_t> id;
  const auto q = dns::parse_query(msg, id);
  if (!q) return id ? dns::format_error(*id) : std::vector<std::uint8_t>{};
  const auto name = normalize_name(q->name);
  if (!name) return dns::response(*q, dns::Rcode::refused);
  // /etc/hosts is empty inside (net_plan.cc): `localhost` is answered here
  // (RFC 6761), and leads to the sandbox's own loopback.
  if (*name == "localhost" || name->ends_with(".localhost")) {
    if (q->qtype != dns::kTypeA) return dns::response(*q, dns::Rcode::noerror);
    return dns::response(*q, dns::Rcode::noerror, std::array<std::uint8_t, 4>{127, 0, 0, 1});
  }
  if (!name_listed(st.plan().allow, *name) || q->qclass != dns::kClassIN) {
    st.deny(*name, "lookup refused: not in network.allow");
    return dns::response(*q, dns::Rcode::refused);
  }
  if (q->qtype != dns::kTypeA) return dns::response(*q, dns::Rcode::noerror);  // no data
  const auto a = st.pool_address(*name);
  if (!a) return dns::response(*q, dns::Rcode::servfail);
  return dns::response(*q, dns::Rcode::noerror, a);
}

// One datagram: the answer leaves from the address it was sent to
// (IPV6_PKTINFO / IP_PKTINFO), which a resolver that connect()ed its
// socket to its nameserver checks.
void serve_udp(State& st, int fd) {
  for (;;) {
    std::uint8_t buf[4096];
    sockaddr_storage peer{};
    alignas(cmsghdr) char control[256];
    iovec iov{buf, sizeof buf};
    msghdr m{};
    m.msg_name = &peer;
    m.msg_namelen = sizeof peer;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &m, MSG_DONTWAIT);
    if (n < 0) return;
    const auto reply = answer(st, std::span(buf, static_cast<std::size_t>(n)));
    if (reply.empty()) continue;
    alignas(cmsghdr) char out_control[256];
    std::size_t out_len = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if ((c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) ||
          (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)) {
        std::memcpy(out_control, c, c->cmsg_len);
        if (c->cmsg_level == IPPROTO_IPV6) {
          reinterpret_cast<in6_pktinfo*>(CMSG_DATA(reinterpret_cast<cmsghdr*>(out_control)))->ipi6_ifindex = 0;
        } else {
          auto* pi = reinterpret_cast<in_pktinfo*>(CMSG_DATA(reinterpret_cast<cmsghdr*>(out_control)));
          pi->ipi_spec_dst = pi->ipi_addr;
          pi->ipi_ifindex = 0;
        }
        out_len = CMSG_SPACE(c->cmsg_len - CMSG_LEN(0));
        break;
      }
    }
    iovec out{const_cast<std::uint8_t*>(reply.data()), reply.size()};
    msghdr r{};
    r.msg_name = &peer;
    r.msg_namelen = m.msg_namelen;
    r.msg_iov = &out;
    r.msg_iovlen = 1;
    r.msg_control = out_len ? out_control : nullptr;
    r.msg_controllen = out_len;
    ::sendmsg(fd, &r, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
}

// ---- blocking I/O with a deadline, for the connection threads ----

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int r;
  while ((r = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return r == 1;
}

ssize_t read_some(int fd, void* buf, std::size_t len, int timeout_ms) {
  for (;;) {
    const ssize_t n = ::recv(fd, buf, len, MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (!wait_for(fd, POLLIN, timeout_ms)) return -1;
  }
}

bool send_all(int fd, const void* data, std::size_t len) {
  const auto* p = static_cast<const char*>(data);
  while (len) {
    const ssize_t n = ::send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      p += n;
      len -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLOUT, -1)) continue;
    return false;
  }
  return true;
}

bool send_text(int fd, const std::string& s) { return send_all(fd, s.data(), s.size()); }

void serve_dns_tcp(State& st, sys::UniqueFd fd) {
  for (;;) {
    std::uint8_t len[2];
    std::size_t got = 0;
    while (got < 2) {
      const ssize_t n = read_some(fd.get(), len + got, 2 - got, kHeaderTimeoutMs);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
    std::vector<std::uint8_t> msg(static_cast<std::size_t>((len[0] << 8) | len[1]));
    got = 0;
    while (got < msg.size()) {
      const ssize_t n = read_some(fd.get(), msg.data() + got, msg.size() - got, kHeaderTimeoutMs);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
    const auto reply = answer(st, msg);
    if (reply.empty()) return;
    const std::uint8_t rl[2] = {static_cast<std::uint8_t>(reply.size() >> 8),
                                static_cast<std::uint8_t>(reply.size())};
    if (!send_all(fd.get(), rl, 2) || !send_all(fd.get(), reply.data(), reply.size())) return;
  }
}

// ---- dialling out ----

std::optional<sys::UniqueFd> dial(const Address& a, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len;
  if (a.v4) {
    auto& s = reinterpret_cast<sockaddr_in&>(ss);
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    std::memcpy(&s.sin_addr, a.bytes.data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto& s = reinterpret_cast<sockaddr_in6&>(ss);
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    std::memcpy(&s.sin6_addr, a.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  sys::UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return std::nullopt;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno != EINPROGRESS || !wait_for(fd.get(), POLLOUT, kConnectTimeoutMs)) return std::nullopt;
    int err = 0;
    socklen_t el = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) return std::nullopt;
  }
  const int on = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return fd;
}

struct Dialled {
  std::optional<sys::UniqueFd> fd;
  std::string why;  // when !fd: the reason, for the denial or the 502
  bool denied = false;
};

// A name from the sandbox, already normalized: listed? then resolved here,
// every address that leads home dropped, the rest tried in order.
Dialled dial_name(State& st, const std::string& name, std::uint16_t port) {
  Dialled d;
  if (!name_allowed(st.plan().allow, name, port)) {
    d.denied = true;
    d.why = "not in network.allow";
    return d;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    d.denied = true;
    d.why = std::string("does not resolve: ") + ::gai_strerror(rc);
    return d;
  }
  std::vector<Address> ok;
  std::string first_refusal;
  for (addrinfo* i = res; i; i = i->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, i->ai_addr, std::min<std::size_t>(i->ai_addrlen, sizeof ss));
    const Address a = destination_of(ss).address;
    if (auto why = refused(a, port, st.policy())) {
      if (first_refusal.empty()) first_refusal = "resolves to " + *why + ": " + to_string(a);
      continue;
    }
    if (std::find(ok.begin(), ok.end(), a) == ok.end()) ok.push_back(a);
  }
  ::freeaddrinfo(res);
  if (ok.empty()) {
    d.denied = true;
    d.why = first_refusal.empty() ? "does not resolve" : first_refusal;
    return d;
  }
  for (const auto& a : ok) {
    if (auto fd = dial(a, port)) {
      d.fd = std::move(fd);
      return d;
    }
  }
  d.why = "connection failed";
  return d;
}

Dialled dial_address(State& st, const Address& a, std::uint16_t port) {
  Dialled d;
  if (!address_allowed(st.plan().allow, a, port)) {
    d.denied = true;
    d.why = "not in network.allow";
    return d;
  }
  d.fd = dial(a, port);
  if (!d.fd) d.why = "connection failed";
  return d;
}

// Copies both ways until both sides are done; a half-close is passed on.
void relay(int a, int b, std::string pending_to_b = {}) {
  if (!pending_to_b.empty() && !send_text(b, pending_to_b)) return;
  std::vector<char> buf(kRelayBuffer);
  bool a_open = true, b_open = true;
  while (a_open || b_open) {
    pollfd p[2] = {{a, static_cast<short>(a_open ? POLLIN : 0), 0},
                   {b, static_cast<short>(b_open ? POLLIN : 0), 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int from = i == 0 ? a : b, to = i == 0 ? b : a;
      const ssize_t n = ::recv(from, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        ::shutdown(to, SHUT_WR);
        (i == 0 ? a_open : b_open) = false;
        if (n < 0) return;
        continue;
      }
      if (!send_all(to, buf.data(), static_cast<std::size_t>(n))) return;
    }
  }
}

// ---- the HTTP proxy: the request line decides, never a Host header ----

void http_reply(int fd, const std::string& status, const std::string& body) {
  send_text(fd, "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

// `host:port`, `[v6]:port` or `host` (then `dflt`). nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> split_authority(std::string_view a,
                                                                     std::uint16_t dflt) {
  std::string_view host = a, port;
  if (a.starts_with("[")) {
    const auto close = a.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = a.substr(1, close - 1);
    const auto rest = a.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(":")) return std::nullopt;
      port = rest.substr(1);
    }
  } else if (const auto colon = a.rfind(':'); colon != std::string_view::npos) {
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
  }
  std::uint16_t p = dflt;
  if (!port.empty() || a.ends_with(":")) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const long v = std::stol(std::string(port));
    if (v < 1 || v > 65535) return std::nullopt;
    p = static_cast<std::uint16_t>(v);
  }
  if (p == 0 || host.empty()) return std::nullopt;
  return std::pair{std::string(host), p};
}

void serve_http_proxy(State& st, sys::UniqueFd fd) {
  std::string head;
  std::size_t end = std::string::npos;
  while ((end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() >= kMaxHeader) return http_reply(fd.get(), "431 Request Header Fields Too Large", "");
    char buf[4096];
    const ssize_t n = read_some(fd.get(), buf, sizeof buf, kHeaderTimeoutMs);
    if (n <= 0) return;
    head.append(buf, static_cast<std::size_t>(n));
  }
  const std::size_t line_end = head.find("\r\n");
  const std::string line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1)
    return http_reply(fd.get(), "400 Bad Request", "aisbx-ns: malformed request line\n");
  const std::string method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string version = line.substr(sp2 + 1);
  const bool connect = method == "CONNECT";
  std::string authority, path;
  if (connect) {
    authority = target;
  } else {
    std::string lower = target.substr(0, 7);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower != "http://")
      return http_reply(fd.get(), "400 Bad Request",
                        "aisbx-ns: the proxy takes CONNECT and absolute-form http:// requests only\n");
    const std::string rest = target.substr(7);
    const auto slash = rest.find_first_of("/?");
    authority = rest.substr(0, slash);
    path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (path[0] == '?') path = "/" + path;
  }
  const auto hp = split_authority(authority, connect ? 0 : 80);
  Dialled d;
  std::string shown;
  if (!hp) {
    d.denied = true;
    d.why = "malformed host in the request";
    shown = "a request";
  } else if (auto a = parse_address(hp->first)) {
    shown = host_port(to_string(unmapped(*a)), hp->second);
    d = dial_address(st, unmapped(*a), hp->second);
  } else if (auto name = normalize_name(hp->first)) {
    shown = host_port(*name, hp->second);
    d = dial_name(st, *name, hp->second);
  } else {
    d.denied = true;
    d.why = "not a host name";
    shown = "a request";
  }
  if (!d.fd) {
    if (d.denied) {
      st.deny(shown, d.why);
      return http_reply(fd.get(), "403 Forbidden",
                        "aisbx-ns: network: denied " + shown + " (" + d.why + ")\n");
    }
    return http_reply(fd.get(), "502 Bad Gateway", "aisbx-ns: " + shown + ": " + d.why + "\n");
  }
  std::string rest = head.substr(end + 4);
  if (connect) {
    if (!send_text(fd.get(), "HTTP/1.1 200 Connection established\r\n\r\n")) return;
    return relay(fd.get(), d.fd->get(), rest);
  }
  // The request goes on in origin form, its headers as they were.
  const std::string forwarded = method + " " + path + " " + version + head.substr(line_end, end + 4 - line_end) + rest;
  relay(fd.get(), d.fd->get(), forwarded);
}

// ---- one accepted connection ----

bool is_loopback(const Address& a) {
  return a == *parse_address("127.0.0.1") || a == *parse_address("::1");
}

void serve_connection(State& st, sys::UniqueFd fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
  const Destination dst = destination_of(ss);
  const auto& plan = st.plan();
  const bool host_port_listed =
      std::find(plan.host_ports.begin(), plan.host_ports.end(), dst.port) != plan.host_ports.end();
  if (is_loopback(dst.address) && dst.port == plan.proxy_port && !plan.allow.empty())
    return serve_http_proxy(st, std::move(fd));
  Dialled d;
  std::string shown;
  if (is_loopback(dst.address) && host_port_listed) {
    shown = host_port("127.0.0.1", dst.port);
    d.fd = dial(*parse_address("127.0.0.1"), dst.port);
    if (!d.fd) d.why = "connection failed";
  } else if (auto name = st.name_at(dst.address)) {
    shown = host_port(*name, dst.port);
    d = dial_name(st, *name, dst.port);
  } else if (dst.port == 53 && !address_allowed(plan.allow, dst.address, 53)) {
    return serve_dns_tcp(st, std::move(fd));
  } else {
    shown = host_port(to_string(dst.address), dst.port);
    d = dial_address(st, dst.address, dst.port);
  }
  if (!d.fd) {
    if (d.denied) st.deny(shown, d.why);
    return;  // closing is the answer: the program sees the connection reset
  }
  relay(fd.get(), d.fd->get());
}

std::vector<int> receive_fds(int sock) {
  std::vector<int> fds;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 256)];
  char byte;
  iovec iov{&byte, 1};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n != 1) return fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* data = reinterpret_cast<const int*>(CMSG_DATA(c));
    fds.insert(fds.end(), data, data + count);
  }
  return fds;
}

}  // namespace

void proxy_main(const plan::NetAllowPlan& plan, int control) {
  // The launcher's blocked signals and handlers are not the proxy's: it
  // ends by SIGKILL (the launcher's, or its death signal) only.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  State st(plan);
  const std::vector<int> fds = receive_fds(control);
  if (fds.empty()) ::_exit(kExitLauncherFailure);
  const int udp = fds.back();
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) ::_exit(kExitLauncherFailure);
  for (int fd : fds) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  epoll_event cev{};
  cev.events = EPOLLIN | EPOLLRDHUP;
  cev.data.fd = control;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, control, &cev);
  if (::send(control, "r", 1, MSG_NOSIGNAL) != 1) ::_exit(kExitLauncherFailure);
  for (;;) {
    epoll_event evs[32];
    const int n = ::epoll_wait(ep, evs, 32, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ::_exit(kExitLauncherFailure);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == control) ::_exit(0);  // the launcher closed its end: the run is over
      if (fd == udp) {
        serve_udp(st, fd);
        continue;
      }
      for (;;) {
        const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;
        try {
          std::thread([&st, c] { serve_connection(st, sys::UniqueFd(c)); }).detach();
        } catch (const std::system_error&) {
          ::close(c);  // out of threads: this connection is refused
        }
      }
    }
  }
}

}  // namespace aisbx::net
