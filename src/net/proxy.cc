// The proxy outside the sandbox: the only place the allowlist is decided
// (DESIGN.md). It serves the sockets the launcher made inside:
//   - the DNS stub (UDP in the loop, TCP on a thread each): allowed names
//     get an address from the pool, every other name REFUSED; nothing is
//     ever forwarded, so DNS carries nothing out;
//   - the relay ports: the destination the program dialled (getsockname)
//     decides: a pool address maps back to its name, 127.0.0.1 at a
//     host_ports port leads to the host's loopback, 127.0.0.1 at the proxy
//     port is the HTTP proxy (CONNECT and absolute-form), an address is
//     allowed only when listed with its port;
//   - a name is resolved here, on the host, at connect time, and every
//     address that leads home is refused (net_rules.h: refused()).
// One thread serves it all with an edge-triggered epoll loop (Loop below):
// no hand-over between threads per connection. The host's resolver
// (getaddrinfo) blocks, so a lookup runs on a thread of its own and wakes
// the loop; a name's checked addresses are kept a few seconds
// (State::resolve), so most connections need none.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "net/accept.h"
#include "net/dns_message.h"
#include "net/proxy.h"
#include "net/relay.h"
#include "net/resolve.h"
#include "net/pump.h"

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

  // The result of resolve() for the same name and port of less than
  // kResolveCacheTime ago, without a lookup.
  std::optional<Resolved> cached(const std::string& name, std::uint16_t port) {
    const std::string key = name + ":" + std::to_string(port);
    std::lock_guard lock(mu_);
    if (auto it = resolved_.find(key); it != resolved_.end() && it->second.first > std::chrono::steady_clock::now())
      return it->second.second;
    return std::nullopt;
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

// ---- the HTTP proxy: the request line decides, never a Host header ----

std::string http_reply_text(const std::string& status, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
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

// What a request head (through its blank line, at `end`) asks of the proxy.
struct ProxyRequest {
  std::string bad;  // when set: answered `400 Bad Request` with this body
  std::optional<Address> address;  // a literal address, or else
  std::string name;                // a normalized name, or else a denial:
  std::string why;                 //   why the host is refused
  std::uint16_t port = 0;
  std::string shown;        // the destination as denials name it
  bool tunnel = false;      // CONNECT
  std::string to_upstream;  // the request in origin form, or what followed CONNECT's head
};

ProxyRequest parse_request(const std::string& head, std::size_t end) {
  ProxyRequest r;
  const std::size_t line_end = head.find("\r\n");
  const std::string line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) {
    r.bad = "aisbx-ns: malformed request line\n";
    return r;
  }
  const std::string method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string version = line.substr(sp2 + 1);
  r.tunnel = method == "CONNECT";
  std::string authority, path;
  if (r.tunnel) {
    authority = target;
  } else {
    std::string lower = target.substr(0, 7);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower != "http://") {
      r.bad = "aisbx-ns: the proxy takes CONNECT and absolute-form http:// requests only\n";
      return r;
    }
    const std::string rest = target.substr(7);
    const auto slash = rest.find_first_of("/?");
    authority = rest.substr(0, slash);
    path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (path[0] == '?') path = "/" + path;
  }
  const auto hp = split_authority(authority, r.tunnel ? 0 : 80);
  r.shown = "a request";
  if (!hp) {
    r.why = "malformed host in the request";
  } else if (auto a = parse_address(hp->first)) {
    r.address = unmapped(*a);
    r.port = hp->second;
    r.shown = host_port(to_string(*r.address), r.port);
  } else if (auto name = normalize_name(hp->first)) {
    r.name = *name;
    r.port = hp->second;
    r.shown = host_port(*name, r.port);
  } else {
    r.why = "not a host name";
  }
  const std::string rest = head.substr(end + 4);
  // The request goes on in origin form, its headers as they were.
  r.to_upstream = r.tunnel ? rest
                           : method + " " + path + " " + version +
                                 head.substr(line_end, end + 4 - line_end) + rest;
  return r;
}

bool is_loopback(const Address& a) {
  return a == *parse_address("127.0.0.1") || a == *parse_address("::1");
}

// ---- the connections: one event loop ----
//
// Every connection from inside is served on the proxy's one thread, by
// edge-triggered epoll over non-blocking sockets: accept, the decision,
// the dial on the host and the copy both ways, with no hand-over between
// threads per connection (each was a wake-up on this 2-core class of
// machine: bench/NET_RESULTS.md). What blocks runs on a thread of its own
// and reports back: the host's resolver for a name not resolved in the
// last seconds, and DNS over TCP (rare; its reads have deadlines).

constexpr int kConnectTimeoutMs = 10000;
// Bigger than a socket's usual read: fewer system calls per megabyte in a
// bulk transfer. One for the loop, shared by every connection.
constexpr std::size_t kScratch = 256 * 1024;

enum class Phase { head, resolving, connecting, piping };

struct Conn {
  std::uint32_t gen = 1;  // changes when the slot is reused: stale events are dropped
  Phase phase = Phase::head;
  sys::UniqueFd in_fd, out_fd;  // accepted inside; dialled on the host
  SocketReady in, out;
  Flow up, down;  // in -> out, out -> in
  bool http = false;    // at the HTTP proxy's port
  bool tunnel = false;  // CONNECT: `200` once dialled
  std::string head;     // the HTTP proxy's request head so far
  std::string shown;    // the destination, in denials and 403/502 bodies
  std::uint16_t port = 0;
  std::vector<Address> addrs;  // to dial, in order
  std::size_t next = 0;
  std::chrono::steady_clock::time_point deadline{};
};

struct Timer {
  std::chrono::steady_clock::time_point at;
  std::uint32_t slot, gen;
  bool operator>(const Timer& o) const { return at > o.at; }
};

// A host lookup done on its thread, for every connection that waits on
// the same name and port.
struct Lookup {
  std::string key;  // `name:port`
  Resolved result;
};

// epoll data: a connection's socket is (gen << 32) | (slot << 1) | side,
// gen >= 1; the loop's own fds are their number (< 2^31).
constexpr std::uint64_t conn_tag(std::uint32_t slot, std::uint32_t gen, int side) {
  return (std::uint64_t{gen} << 32) | (std::uint64_t{slot} << 1) | static_cast<std::uint64_t>(side);
}

class Loop {
 public:
  Loop(State& st, int ep, int wake) : st_(st), ep_(ep), wake_(wake), bufs_(kScratch) {}

  void on_conn_event(std::uint64_t tag, std::uint32_t events) {
    const auto slot = static_cast<std::uint32_t>((tag & 0xffffffffu) >> 1);
    const int side = static_cast<int>(tag & 1);
    if (slot >= conns_.size() || conns_[slot]->gen != (tag >> 32)) return;
    Conn& c = *conns_[slot];
    SocketReady& s = side ? c.out : c.in;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s.readable = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s.writable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s.hup = true;
    switch (c.phase) {
      case Phase::head:
        if (side == 0) read_head(slot);
        break;
      case Phase::resolving:
        break;  // remembered in the flags
      case Phase::connecting:
        if (side == 1) connect_done(slot, events);
        break;
      case Phase::piping:
        run(slot);
        break;
    }
  }

  // One connection per event: the listener is level-triggered, so the
  // next one is reported again, and no accept4() only says EAGAIN. Out of
  // fds, the connection is shed, not retried (net/accept.h).
  void accept_from(int listener) {
    const int c = acceptor_.accept(listener);
    if (c >= 0) begin(sys::UniqueFd(c));
  }

  // Host lookups done on their threads.
  void lookups_done() {
    std::uint64_t n;
    while (::read(wake_, &n, sizeof n) < 0 && errno == EINTR) {
    }
    std::vector<Lookup> done;
    {
      std::lock_guard lock(mu_);
      done.swap(done_);
    }
    for (auto& l : done) {
      const auto waiting = waiting_.extract(l.key);
      if (waiting.empty()) continue;
      for (const auto& [slot, gen] : waiting.mapped())
        if (conns_[slot]->gen == gen && conns_[slot]->phase == Phase::resolving) use(slot, l.result);
    }
  }

  // Milliseconds until the next deadline, -1 for none. Deadlines that no
  // longer hold (the connection went on, or ended) are dropped first, so
  // that they wake nobody.
  int timeout_ms() {
    while (!timers_.empty() && !live(timers_.top())) timers_.pop();
    if (timers_.empty()) return -1;
    const auto left = timers_.top().at - std::chrono::steady_clock::now();
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms <= 0 ? 0 : static_cast<int>(std::min<long long>(ms, 60000));
  }

  void expire() {
    const auto now = std::chrono::steady_clock::now();
    while (!timers_.empty() && timers_.top().at <= now) {
      const Timer t = timers_.top();
      timers_.pop();
      if (!live(t)) continue;
      Conn& c = *conns_[t.slot];
      if (c.phase == Phase::head) {
        finish(t.slot);  // the old blocking read's deadline: closed unanswered
      } else if (c.phase == Phase::connecting) {
        c.out_fd.reset();
        dial_next(t.slot);
      }
    }
  }

 private:
  bool live(const Timer& t) const {
    return t.slot < conns_.size() && conns_[t.slot]->gen == t.gen && conns_[t.slot]->deadline == t.at;
  }

  // A connection's socket (side 0: accepted inside, 1: dialled on the
  // host) in the loop, edge-triggered.
  bool watch(int fd, std::uint32_t slot, int side) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = conn_tag(slot, conns_[slot]->gen, side);
    return ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  // A slot for a new connection, its socket watched from now on.
  std::optional<std::uint32_t> open(sys::UniqueFd fd) {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(conns_.size());
      conns_.push_back(std::make_unique<Conn>());
    }
    Conn& c = *conns_[slot];
    c.in = SocketReady{fd.get(), true, true, false};
    c.in_fd = std::move(fd);
    if (!watch(c.in.fd, slot, 0)) {
      finish(slot);
      return std::nullopt;
    }
    return slot;
  }

  // The connection is over: both sockets closed, the slot kept for reuse.
  void finish(std::uint32_t slot) {
    Conn& c = *conns_[slot];
    c.in_fd.reset();
    c.out_fd.reset();
    c.in = c.out = SocketReady{};
    for (Flow* f : {&c.up, &c.down}) {
      bufs_.give_back(f->pending);
      f->reset();
    }
    c.http = c.tunnel = false;
    c.head.clear();
    c.shown.clear();
    c.addrs.clear();
    c.next = 0;
    c.port = 0;
    c.phase = Phase::head;
    c.deadline = {};
    if (++c.gen == 0) c.gen = 1;
    free_.push_back(slot);
  }

  void set_deadline(std::uint32_t slot, int ms) {
    Conn& c = *conns_[slot];
    c.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    timers_.push(Timer{c.deadline, slot, c.gen});
  }

  // The destination the program dialled (getsockname) decides.
  void begin(sys::UniqueFd fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
    const Destination dst = destination_of(ss);
    const auto& plan = st_.plan();
    const bool host_port_listed =
        std::find(plan.host_ports.begin(), plan.host_ports.end(), dst.port) != plan.host_ports.end();
    if (is_loopback(dst.address) && dst.port == plan.proxy_port && !plan.allow.empty()) {
      const auto slot = open(std::move(fd));
      if (!slot) return;
      conns_[*slot]->http = true;
      set_deadline(*slot, kHeaderTimeoutMs);
      return read_head(*slot);
    }
    if (is_loopback(dst.address) && host_port_listed) {
      const auto slot = open(std::move(fd));
      if (!slot) return;
      Conn& c = *conns_[*slot];
      c.shown = host_port("127.0.0.1", dst.port);
      c.port = dst.port;
      // The host's service at 127.0.0.1, else at ::1 (one bound to
      // `localhost` may have taken ::1 only); the program may dial either.
      c.addrs = {*parse_address("127.0.0.1"), *parse_address("::1")};
      return dial_next(*slot);
    }
    if (auto name = st_.name_at(dst.address)) {
      const auto slot = open(std::move(fd));
      if (!slot) return;
      conns_[*slot]->shown = host_port(*name, dst.port);
      return start_name(*slot, *name, dst.port);
    }
    if (dst.port == 53 && !address_allowed(plan.allow, dst.address, 53)) {
      // DNS over TCP: rare, and blocking code with deadlines; a thread.
      try {
        std::thread([st = &st_, f = fd.get()] { serve_dns_tcp(*st, sys::UniqueFd(f)); }).detach();
        (void)fd.release();
      } catch (const std::system_error&) {
      }
      return;
    }
    const std::string shown = host_port(to_string(dst.address), dst.port);
    if (!address_allowed(plan.allow, dst.address, dst.port)) {
      st_.deny(shown, "not in network.allow");
      return;  // closing is the answer: the program sees the connection reset
    }
    const auto slot = open(std::move(fd));
    if (!slot) return;
    Conn& c = *conns_[*slot];
    c.shown = shown;
    c.port = dst.port;
    c.addrs = {dst.address};
    dial_next(*slot);
  }

  // The HTTP proxy's request head, read as it comes.
  void read_head(std::uint32_t slot) {
    Conn& c = *conns_[slot];
    std::size_t end;
    while ((end = c.head.find("\r\n\r\n")) == std::string::npos) {
      if (c.head.size() >= kMaxHeader) {
        return answer_and_close(slot, http_reply_text("431 Request Header Fields Too Large", ""));
      }
      if (!c.in.readable) return;
      char buf[4096];
      const ssize_t n = ::recv(c.in.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c.in.readable = false;
        return;
      }
      if (n <= 0) return finish(slot);
      c.head.append(buf, static_cast<std::size_t>(n));
    }
    ProxyRequest r = parse_request(c.head, end);
    c.head.clear();
    c.deadline = {};
    if (!r.bad.empty()) {
      return answer_and_close(slot, http_reply_text("400 Bad Request", r.bad));
    }
    c.shown = r.shown;
    c.port = r.port;
    c.tunnel = r.tunnel;
    c.up.put(r.to_upstream);
    if (r.address) {
      if (!address_allowed(st_.plan().allow, *r.address, r.port))
        return refuse(slot, true, "not in network.allow");
      c.addrs = {*r.address};
      return dial_next(slot);
    }
    if (!r.name.empty()) return start_name(slot, r.name, r.port);
    refuse(slot, true, r.why);
  }

  // A name from the sandbox, already normalized: listed? then resolved on
  // the host, every address that leads home dropped (State::resolve).
  void start_name(std::uint32_t slot, const std::string& name, std::uint16_t port) {
    Conn& c = *conns_[slot];
    c.port = port;
    if (!name_allowed(st_.plan().allow, name, port)) return refuse(slot, true, "not in network.allow");
    if (auto r = st_.cached(name, port)) return use(slot, *r);
    c.phase = Phase::resolving;
    // One lookup per name and port at a time: a burst of connections to a
    // name not resolved lately waits on the same one.
    std::string key = name + ":" + std::to_string(port);
    auto [it, first] = waiting_.try_emplace(key);
    it->second.emplace_back(slot, c.gen);
    if (!first) return;
    try {
      std::thread([this, name, port, key] {
        Resolved r = st_.resolve(name, port);
        {
          std::lock_guard lock(mu_);
          done_.push_back(Lookup{key, std::move(r)});
        }
        const std::uint64_t one = 1;
        while (::write(wake_, &one, sizeof one) < 0 && errno == EINTR) {
        }
      }).detach();
    } catch (const std::system_error&) {
      waiting_.erase(key);
      refuse(slot, false, "no thread for the host lookup");
    }
  }

  void use(std::uint32_t slot, const Resolved& r) {
    if (r.usable.empty()) return refuse(slot, true, r.why);
    conns_[slot]->addrs = r.usable;
    dial_next(slot);
  }

  // The next address, in the order given; a connection that fails goes on
  // to the one after.
  void dial_next(std::uint32_t slot) {
    Conn& c = *conns_[slot];
    while (c.next < c.addrs.size()) {
      auto d = start_dial(c.addrs[c.next++], c.port);
      if (!d) continue;
      c.out = SocketReady{d->fd.get(), false, false, false};
      c.out_fd = std::move(d->fd);
      if (!watch(c.out.fd, slot, 1)) {
        c.out_fd.reset();
        continue;
      }
      if (d->connected) return connected(slot);
      c.phase = Phase::connecting;
      set_deadline(slot, kConnectTimeoutMs);
      return;
    }
    refuse(slot, false, "connection failed");
  }

  // Writable without an error: connected (no getsockopt(SO_ERROR) needed).
  void connect_done(std::uint32_t slot, std::uint32_t events) {
    Conn& c = *conns_[slot];
    if (events & (EPOLLERR | EPOLLHUP)) {
      c.out_fd.reset();
      c.out = SocketReady{};
      return dial_next(slot);
    }
    if (events & EPOLLOUT) connected(slot);
  }

  void connected(std::uint32_t slot) {
    Conn& c = *conns_[slot];
    // No Nagle delay on either side (start_dial, and the listeners in
    // inside.cc): a small reply is not held back waiting for an ACK.
    c.phase = Phase::piping;
    c.deadline = {};
    c.out.writable = true;
    if (c.tunnel) c.down.put("HTTP/1.1 200 Connection established\r\n\r\n");
    run(slot);
  }

  void run(std::uint32_t slot) {
    Conn& c = *conns_[slot];
    if (!pump(c.up, c.in, c.out, bufs_, c.down.ended && c.down.idle()) ||
        !pump(c.down, c.out, c.in, bufs_, c.up.ended && c.up.idle()))
      return finish(slot);
    if (c.up.ended && c.down.ended && c.up.idle() && c.down.idle()) finish(slot);
  }

  // Not dialled: a denial is reported (once per destination, on stderr);
  // through the HTTP proxy the program gets 403 or 502, on a raw
  // connection the close is the answer (it sees the connection reset).
  void refuse(std::uint32_t slot, bool denied, const std::string& why) {
    Conn& c = *conns_[slot];
    if (denied) st_.deny(c.shown, why);
    if (!c.http) return finish(slot);
    answer_and_close(slot, denied ? http_reply_text("403 Forbidden", "aisbx-ns: network: denied " + c.shown +
                                                                         " (" + why + ")\n")
                                  : http_reply_text("502 Bad Gateway", "aisbx-ns: " + c.shown + ": " + why + "\n"));
  }

  // The proxy's own short answer, then the close. It fits a fresh
  // socket's buffer; what does not go at once is dropped.
  void answer_and_close(std::uint32_t slot, const std::string& text) {
    Conn& c = *conns_[slot];
    ::send(c.in.fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    finish(slot);
  }

  State& st_;
  const int ep_, wake_;
  Acceptor acceptor_;
  Buffers bufs_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<std::uint32_t> free_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::map<std::string, std::vector<std::pair<std::uint32_t, std::uint32_t>>> waiting_;  // key -> (slot, gen)
  std::mutex mu_;  // done_, filled by the lookup threads
  std::vector<Lookup> done_;
};

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
  // One loop for everything: the relay and proxy listeners, the
  // connections, DNS over UDP, the host lookups' wake-ups and the launcher.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ep < 0 || wake < 0) ::_exit(kExitLauncherFailure);
  auto watch = [ep](int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = static_cast<std::uint64_t>(fd);
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) ::_exit(kExitLauncherFailure);
  };
  for (int fd : listeners) watch(fd, EPOLLIN);
  if (udp >= 0) watch(udp, EPOLLIN);
  watch(wake, EPOLLIN);
  watch(control, EPOLLIN | EPOLLRDHUP);
  Loop loop(st, ep, wake);
  if (::send(control, "r", 1, MSG_NOSIGNAL) != 1) ::_exit(kExitLauncherFailure);
  for (;;) {
    epoll_event evs[64];
    const int n = ::epoll_wait(ep, evs, 64, loop.timeout_ms());
    if (n < 0 && errno != EINTR) ::_exit(kExitLauncherFailure);
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = evs[i].data.u64;
      if (tag >> 32) {
        loop.on_conn_event(tag, evs[i].events);
        continue;
      }
      const int fd = static_cast<int>(tag);
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
      if (fd == udp) {
        serve_udp(st, fd);
      } else if (fd == wake) {
        loop.lookups_done();
      } else {
        loop.accept_from(fd);
      }
    }
    loop.expire();
  }
}

}  // namespace aisbx::net
