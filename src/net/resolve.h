// Resolving an allowed name on the host, under the allowlist's address
// policy (net_rules.h refused()): the proxy does it at connect time, and
// --check does it ahead of a run to warn about entries that would fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aisbx/net_rules.h"
#include "aisbx/plan.h"

namespace aisbx::net {

// The plan's listed destinations and deny_resolved, and this host's own
// addresses (getifaddrs) as the network namespace of the caller sees them.
AddressPolicy host_address_policy(const plan::NetAllowPlan& plan);

struct Resolved {
  std::vector<Address> usable;  // in the resolver's order, without duplicates
  // When `usable` is empty: why, worded to follow the destination
  // ("does not resolve: Name or service not known", "resolves to a loopback
  // address: 127.0.0.1").
  std::string why;
};
// getaddrinfo() on the host (blocking), then every refused address dropped.
Resolved resolve_name(const std::string& name, std::uint16_t port, const AddressPolicy& policy);

}  // namespace aisbx::net
