// The egress allowlist's part of the Plan (network.allow, host_ports,
// deny_resolved). Pure: the rules are aisbx/net_rules.h; what runs is
// src/net/ (the proxy outside the sandbox) and the launcher.
#include <algorithm>
#include <array>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

// Inside, the HTTP proxy listens at 127.0.0.1 on this port (Squid's).
constexpr std::uint16_t kProxyPort = 3128;
constexpr std::uint16_t kDnsPort = 53;
// RFC 2544's benchmarking range: never a real destination, so an address
// the stub hands out cannot be confused with one a program meant.
constexpr const char* kPool = "198.18.0.0/15";

void set_env(Plan& plan, const std::string& k, const std::string& v) {
  auto& env = plan.exec.env;
  auto it = std::find_if(env.begin(), env.end(), [&](const auto& kv) { return kv.first == k; });
  if (it != env.end()) it->second = v;
  else env.emplace_back(k, v);
  std::erase(plan.exec.env_dropped, k);
}

constexpr std::array<const char*, 6> kProxyVariables{
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"};

// Programs that honour proxy variables go through the proxy (HTTP
// absolute-form and CONNECT); curl reads only the lower-case http_proxy.
void set_proxy_variables(Context& cx) {
  const NetAllowPlan& na = cx.plan.net;
  if (na.allow.empty()) return;
  const std::string url = "http://127.0.0.1:" + std::to_string(na.proxy_port);
  for (const char* k : kProxyVariables) set_env(cx.plan, k, url);
  // host_ports are reached at 127.0.0.1 directly, not through the proxy.
  for (const char* k : {"NO_PROXY", "no_proxy"}) set_env(cx.plan, k, "localhost,127.0.0.1,::1");
}

bool wanted(const profile::Network& n) {
  return (n.allow && !n.allow->empty()) || (n.host_ports && !n.host_ports->empty()) ||
         (n.publish && !n.publish->empty());
}

std::string where_of(const profile::Network& n) {
  if (n.allow && !n.allow->empty()) return n.allow->front().where.str();
  return n.where.str();
}

void add_port(std::vector<std::uint16_t>& ports, std::uint16_t p) {
  if (std::find(ports.begin(), ports.end(), p) == ports.end()) ports.push_back(p);
}

}  // namespace

Expected<void> plan_net_allow_mode(Context& cx) {
  const auto& n = cx.in.profile.network;
  if (!wanted(n)) return {};
  const auto& o = cx.in.options;
  if (o.net && cx.plan.ns.net == profile::NetMode::host)
    return fail("--net host conflicts with the profile's network.allow / host_ports / publish (" +
                    where_of(n) + "), which need a network namespace of the sandbox's own",
                "use --net loopback, or a profile without network.allow");
  if (n.mode && *n.mode == profile::NetMode::host)
    return fail(where_of(n) + ": network.allow / host_ports / publish need a network namespace of the "
                              "sandbox's own, and network.mode is `host`",
                "drop `mode: host` (the allowlist implies its own namespace)");
  cx.plan.net.enabled = true;
  if (cx.plan.mode == Mode::landlock &&
      n.landlock_mode.value_or(profile::AllowInLandlock::refuse) ==
          profile::AllowInLandlock::best_effort) {
    // No namespace: the host's network stays, Landlock narrows it
    // (plan_net_allow).
    cx.plan.net.best_effort = true;
    return {};
  }
  // The namespace's loopback carries the relays and the DNS stub.
  cx.plan.ns.net = profile::NetMode::loopback;
  return {};
}

namespace {

// --mode landlock with network.landlock_mode: best_effort. The proxy
// listens at the host's 127.0.0.1 on a port chosen at run time
// (with_proxy_port); Landlock allows TCP connect to that port and to
// host_ports only, at any address. Nothing stops a program that ignores the
// proxy variables from reaching another host at those ports, and DNS and
// other UDP are not filtered: the warning says so.
// allow, deny_resolved and host_ports as the plan holds them, in both
// the namespace and the best-effort form.
Expected<void> take_lists(const profile::Network& n, NetAllowPlan& na) {
  for (const auto& e : n.allow.value_or(std::vector<profile::Located<std::string>>{})) {
    std::string why;
    auto entry = net::parse_allow_entry(e.value, why);
    if (!entry) return fail(e.where.str() + ": network.allow: `" + e.value + "`: " + why);
    if (std::find(na.allow.begin(), na.allow.end(), *entry) == na.allow.end())
      na.allow.push_back(std::move(*entry));
  }
  for (const auto& c : n.deny_resolved.value_or(std::vector<profile::Located<std::string>>{})) {
    std::string why;
    auto cidr = net::parse_cidr(c.value, why);
    if (!cidr) return fail(c.where.str() + ": network.deny_resolved: `" + c.value + "`: " + why);
    na.deny_resolved.push_back(*cidr);
  }
  for (auto p : n.host_ports.value_or(std::vector<std::uint16_t>{})) add_port(na.host_ports, p);
  return {};
}

Expected<void> plan_best_effort(Context& cx) {
  NetAllowPlan& na = cx.plan.net;
  const auto& n = cx.in.profile.network;
  LandlockPlan& l = cx.plan.landlock;
  if (n.publish && !n.publish->empty())
    return fail(where_of(n) + ": network.publish needs a network namespace of the sandbox's own; "
                              "in --mode landlock a listener is on the host's network already",
                "drop publish, or use --mode layered or strict");
  if (!(net_rights_at(l.abi) & net::kConnectTcp))
    return fail(where_of(n) + ": network.landlock_mode: best_effort needs Landlock TCP rules (ABI 4), "
                              "and this run's Landlock ABI is " + std::to_string(l.abi),
                "use --mode layered or strict where user namespaces work (aisbx-ns --features)");
  AISBX_TRY(take_lists(n, na));
  na.proxy_port = 0;  // chosen at run time
  l.enabled = true;
  l.handled_net |= net::kConnectTcp;
  auto allow_connect = [&](std::uint16_t port) {
    auto it = std::find_if(l.net_rules.begin(), l.net_rules.end(),
                           [&](const PortRule& r) { return r.port == port; });
    if (it != l.net_rules.end()) it->access |= net::kConnectTcp;
    else l.net_rules.push_back({port, net::kConnectTcp});
  };
  allow_connect(0);  // the proxy's port, set by with_proxy_port()
  for (auto p : na.host_ports) allow_connect(p);
  std::string direct;
  for (const auto& r : l.net_rules)
    if (r.port && (r.access & net::kConnectTcp))
      direct += (direct.empty() ? "" : ", ") + std::to_string(r.port);
  cx.warn("network.allow in --mode landlock is best effort (network.landlock_mode: best_effort): "
          "programs that honour HTTP_PROXY/HTTPS_PROXY/ALL_PROXY go through the allowlist's proxy "
          "at the host's 127.0.0.1; Landlock limits TCP connect to the proxy's port" +
          (direct.empty() ? std::string() : " and " + direct) +
          ", at any address; names are not enforced for programs that ignore the proxy "
          "variables, and DNS and other UDP are not filtered (a lookup can carry data out); "
          "--mode layered or strict enforces the list");
  return {};
}

}  // namespace

Expected<void> plan_net_allow(Context& cx) {
  NetAllowPlan& na = cx.plan.net;
  if (!na.enabled) return {};
  const auto& n = cx.in.profile.network;
  if (na.best_effort) {
    AISBX_TRY(plan_best_effort(cx));
    set_proxy_variables(cx);
    return {};
  }
  if (!cx.plan.ns.enabled)
    return fail(where_of(n) + ": network.allow / host_ports / publish need the namespace wall (a network "
                              "namespace of the sandbox's own): " +
                    (cx.plan.mode == Mode::landlock
                         ? std::string("--mode landlock has none, and Landlock alone limits TCP "
                                       "ports, never names (network.landlock_mode: best_effort "
                                       "runs with the proxy variables and Landlock limiting TCP "
                                       "connect to the proxy's port, names unenforced)")
                         : std::string("user namespaces are not available here (") +
                               cx.in.features.userns_why + ")"),
                "use --mode layered or strict where user namespaces work (aisbx-ns --features)");

  AISBX_TRY(take_lists(n, na));
  na.proxy_port = kProxyPort;
  if (std::find(na.host_ports.begin(), na.host_ports.end(), kProxyPort) != na.host_ports.end())
    return fail(where_of(n) + ": network.host_ports: " + std::to_string(kProxyPort) +
                " is where the allowlist's HTTP proxy listens inside the sandbox");
  std::string why;
  na.pool = *net::parse_cidr(kPool, why);

  for (const auto& e : na.allow) {
    if (e.port) {
      add_port(na.relay_ports, e.port);
    } else {
      for (auto p : net::kDefaultPorts) add_port(na.relay_ports, p);
    }
  }
  for (auto p : na.host_ports) add_port(na.relay_ports, p);
  add_port(na.relay_ports, na.proxy_port);
  add_port(na.relay_ports, kDnsPort);
  std::sort(na.relay_ports.begin(), na.relay_ports.end());
  // A published port is the sandbox's own listener: one the relays already
  // hold inside could never be bound by the program.
  for (auto p : n.publish.value_or(std::vector<std::uint16_t>{})) {
    if (std::binary_search(na.relay_ports.begin(), na.relay_ports.end(), p))
      return fail(where_of(n) + ": network.publish: port " + std::to_string(p) +
                      " is held inside by the allowlist's relays (" +
                      (p == kDnsPort ? std::string("the DNS stub")
                       : p == na.proxy_port ? std::string("the HTTP proxy")
                                            : std::string("network.allow or host_ports")) +
                      "), so no program inside could listen on it",
                  "publish another port");
    add_port(na.publish, p);
  }

  // A name /etc/hosts maps would be dialled at its real address, which the
  // proxy refuses (an address is not a name): inside, names resolve
  // through the DNS stub only, which also answers `localhost`.
  const bool hosts_visible =
      cx.in.fs.kind("/etc/hosts") == FileKind::regular &&
      std::any_of(cx.plan.ns.mounts.begin(), cx.plan.ns.mounts.end(), [](const MountOp& m) {
        return m.kind == MountKind::host_root || (m.kind == MountKind::bind && is_within("/etc/hosts", m.target));
      });
  if (hosts_visible)
    cx.plan.ns.mounts.push_back({MountKind::mask_file, "/etc/hosts", "/etc/hosts", true, true,
                                 "network.allow (names resolve through the DNS stub)", true});

  set_proxy_variables(cx);
  return {};
}

void with_proxy_port(Plan& p, std::uint16_t port) {
  if (!p.net.best_effort) return;
  p.net.proxy_port = port;
  for (auto& r : p.landlock.net_rules)
    if (r.port == 0) r.port = port;
  if (!p.net.allow.empty())
    for (const char* k : kProxyVariables) set_env(p, k, "http://127.0.0.1:" + std::to_string(port));
}

std::vector<std::string> net_allow_lines(const NetAllowPlan& n) {
  std::vector<std::string> out;
  if (!n.enabled) return out;
  std::string allow;
  for (const auto& e : n.allow) allow += (allow.empty() ? "" : ", ") + net::to_string(e);
  out.push_back("allow: " + (allow.empty() ? std::string("(nothing)") : allow) +
                "  # a name without a port: ports 80 and 443");
  if (!n.deny_resolved.empty()) {
    std::string d;
    for (const auto& c : n.deny_resolved) d += (d.empty() ? "" : ", ") + net::to_string(c);
    out.push_back("deny_resolved: " + d);
  }
  out.push_back("refused addresses: loopback, unspecified, link-local, multicast, broadcast, "
                "reserved, this host's own, cloud metadata (169.254.169.254, fd00:ec2::254, "
                "100.100.100.200), unless listed with their port");
  if (n.best_effort) {
    out.push_back("best effort (--mode landlock, network.landlock_mode): proxy socket: the host's "
                  "127.0.0.1 at a port chosen at run time (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) -> "
                  "the proxy; Landlock allows TCP connect to that port (and host_ports) only, at "
                  "any address; names are not enforced for programs that ignore the variables; "
                  "DNS and UDP are not filtered");
    return out;
  }
  if (!n.allow.empty()) {
    out.push_back("proxy socket: 127.0.0.1:" + std::to_string(n.proxy_port) +
                  " inside (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY; CONNECT and absolute-form "
                  "requests) -> the proxy outside the sandbox");
    out.push_back("dns: port 53 (UDP, TCP) at every address inside: allowed names get an "
                  "address from " + net::to_string(n.pool) +
                  ", every other name REFUSED, nothing forwarded");
  }
  std::string ports;
  for (auto p : n.relay_ports) ports += (ports.empty() ? "" : " ") + std::to_string(p);
  out.push_back("relay: TCP ports " + ports +
                " at every address inside -> the proxy outside, which decides by the "
                "destination dialled; other ports reach nothing");
  for (auto p : n.host_ports) {
    const std::string port = std::to_string(p);
    out.push_back("host port: 127.0.0.1:" + port + " and [::1]:" + port + " inside -> 127.0.0.1:" +
                  port + " of the host, else [::1]:" + port);
  }
  for (auto p : n.publish) {
    const std::string port = std::to_string(p);
    out.push_back("publish: 127.0.0.1:" + port + " and [::1]:" + port +
                  " of the host (where its lo has IPv6) -> 127.0.0.1:" + port + " inside, else [::1]:" +
                  port + " (a relay outside the sandbox's pid namespace)");
  }
  return out;
}

}  // namespace aisbx::plan
