// Host-side resolution under the address policy (resolve.h).
#include "net/resolve.h"

#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace aisbx::net {

AddressPolicy host_address_policy(const plan::NetAllowPlan& plan) {
  AddressPolicy policy;
  policy.deny_resolved = plan.deny_resolved;
  for (const char* lo : {"127.0.0.1", "::1"})
    for (auto port : plan.host_ports) policy.listed.emplace_back(*parse_address(lo), port);
  for (const auto& e : plan.allow)
    if (e.kind == AllowEntry::Kind::address)
      for (auto port : e.port ? std::vector<std::uint16_t>{e.port}
                              : std::vector<std::uint16_t>(kDefaultPorts.begin(), kDefaultPorts.end()))
        policy.listed.emplace_back(e.address, port);
  ifaddrs* ifs = nullptr;
  if (::getifaddrs(&ifs) == 0) {
    for (ifaddrs* i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr) continue;
      if (i->ifa_addr->sa_family == AF_INET)
        policy.own.push_back(address_from_bytes(
            reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr), true));
      else if (i->ifa_addr->sa_family == AF_INET6)
        policy.own.push_back(address_from_bytes(
            reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr.s6_addr, false));
    }
    ::freeifaddrs(ifs);
  }
  return policy;
}

Resolved resolve_name(const std::string& name, std::uint16_t port, const AddressPolicy& policy) {
  Resolved out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    out.why = std::string("does not resolve: ") + ::gai_strerror(rc);
    return out;
  }
  std::string first_refusal;
  for (addrinfo* i = res; i; i = i->ai_next) {
    Address a;
    if (i->ai_family == AF_INET)
      a = address_from_bytes(
          reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<sockaddr_in*>(i->ai_addr)->sin_addr), true);
    else if (i->ai_family == AF_INET6)
      a = address_from_bytes(reinterpret_cast<sockaddr_in6*>(i->ai_addr)->sin6_addr.s6_addr, false);
    else
      continue;
    a = unmapped(a);
    if (auto why = refused(a, port, policy)) {
      if (first_refusal.empty()) first_refusal = "resolves to " + *why + ": " + to_string(a);
      continue;
    }
    if (std::find(out.usable.begin(), out.usable.end(), a) == out.usable.end()) out.usable.push_back(a);
  }
  ::freeaddrinfo(res);
  if (out.usable.empty()) out.why = first_refusal.empty() ? "does not resolve" : first_refusal;
  return out;
}

}  // namespace aisbx::net
