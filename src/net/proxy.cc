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
// One epoll loop answers UDP and the launcher; connections are served on a
// pool of threads (workers.h), since the host's resolver (getaddrinfo)
// blocks. A name's checked addresses are kept a few seconds (State::resolve).
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
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "net/dns_message.h"
#include "net/proxy.h"
#include "net/relay.h"
#include "net/resolve.h"
#include "net/workers.h"

namespace aisbx::net {
namespace {

constexpr int kHeaderTimeoutMs = 30000;
constexpr std::size_t kMaxHeader = 16384;
// How long a name's checked addresses are reused: a client that opens one
// connection per request does not pay a host lookup for each (bench/net.sh),
// and a name that now resolves elsewhere is seen soon. What is kept has
// passed refused() already, so the rebinding checks hold for it.
constexpr auto kResolveCacheTime = std::chrono::seconds(5);
constexpr std::size_t kResolveCacheMax = 4096;
// The denial counts travel in one SOCK_SEQPACKET message.
constexpr std::size_t kMaxCounts = 60000;

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
  explicit State(const plan::NetAllowPlan& p) : plan_(p), policy_(host_address_policy(p)) {}

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

  // resolve_name() under the policy, or its result of less than
  // kResolveCacheTime ago for the same name and port (the port matters:
  // refused() lets listed address-and-port pairs through).
  Resolved resolve(const std::string& name, std::uint16_t port) {
    const auto now = std::chrono::steady_clock::now();
    const std::string key = name + ":" + std::to_string(port);
    {
      std::lock_guard lock(mu_);
      if (auto it = resolved_.find(key); it != resolved_.end() && it->second.first > now)
        return it->second.second;
    }
    Resolved r = resolve_name(name, port, policy_);
    std::lock_guard lock(mu_);
    if (resolved_.size() >= kResolveCacheMax) resolved_.clear();
    resolved_.insert_or_assign(key, std::pair{now + kResolveCacheTime, r});
    return r;
  }

  // Once per destination and reason, on the launcher's stderr; every
  // time in the counts the --trace report shows.
  void deny(const std::string& what, const std::string& why) {
    std::lock_guard lock(mu_);
    auto [it, first] = counts_.try_emplace(what + "\t" + why, 0);
    ++it->second;
    if (!first) return;
    order_.push_back(it->first);
    const std::string line = "aisbx-ns: network: denied " + what + " (" + why + ")\n";
    sys::write_all(STDERR_FILENO, line);
  }

  // `COUNT\tDESTINATION\tWHY\n` per denial, first denied first, within
  // one control message (at most kMaxCounts lines).
  std::string counts() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& key : order_) {
      const std::string line = std::to_string(counts_.at(key)) + "\t" + key + "\n";
      if (out.size() + line.size() > kMaxCounts) break;
      out += line;
    }
    return out;
  }

 private:
  const plan::NetAllowPlan& plan_;
  AddressPolicy policy_;
  std::mutex mu_;
  std::vector<std::string> names_;
  std::map<std::string, std::uint32_t> by_name_;
  std::map<std::string, std::uint64_t> counts_;  // `DESTINATION\tWHY` -> times
  std::vector<std::string> order_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, Resolved>> resolved_;
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
  const Resolved r = st.resolve(name, port);
  if (r.usable.empty()) {
    d.denied = true;
    d.why = r.why;
    return d;
  }
  for (const auto& a : r.usable) {
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
    // The host's service at 127.0.0.1, else at ::1 (one bound to
    // `localhost` may have taken ::1 only); the program may dial either.
    d.fd = dial(*parse_address("127.0.0.1"), dst.port);
    if (!d.fd) d.fd = dial(*parse_address("::1"), dst.port);
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
  // The DNS stub's UDP socket comes last; best effort has none.
  const int udp = plan.best_effort ? -1 : fds.back();
  std::vector<int> listeners = fds;
  if (udp >= 0) listeners.pop_back();
  if (!serve_on_workers(listeners, [&st](int, sys::UniqueFd c) { serve_connection(st, std::move(c)); }))
    ::_exit(kExitLauncherFailure);
  // This thread answers DNS over UDP and the launcher.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) ::_exit(kExitLauncherFailure);
  if (udp >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = udp;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev);
  }
  epoll_event cev{};
  cev.events = EPOLLIN | EPOLLRDHUP;
  cev.data.fd = control;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, control, &cev);
  if (::send(control, "r", 1, MSG_NOSIGNAL) != 1) ::_exit(kExitLauncherFailure);
  for (;;) {
    epoll_event evs[4];
    const int n = ::epoll_wait(ep, evs, 4, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ::_exit(kExitLauncherFailure);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == control) {
        // `c`: the launcher asks for the denial counts (--trace); anything
        // else, or its end closed: the run is over.
        char req = 0;
        if (::recv(control, &req, 1, MSG_DONTWAIT) == 1 && req == 'c') {
          const std::string c = st.counts();
          ::send(control, c.empty() ? "\n" : c.data(), c.empty() ? 1 : c.size(), MSG_NOSIGNAL);
          continue;
        }
        ::_exit(0);
      }
      serve_udp(st, fd);
    }
  }
}

}  // namespace aisbx::net
