// The `network:` section's allowlist keys: what an entry of `allow` and of
// `deny_resolved` may be. The YAML walk is the parser's (parse.cc); the
// rules are the allowlist's own (aisbx/net_rules.h), so the profile cannot
// accept what the proxy would read differently.
#include "aisbx/net_rules.h"
#include "aisbx/profile.h"

namespace aisbx::profile {

std::optional<std::string> allow_entry_problem(const std::string& text) {
  std::string why;
  if (net::parse_allow_entry(text, why)) return std::nullopt;
  return why;
}

std::optional<std::string> cidr_problem(const std::string& text) {
  std::string why;
  if (net::parse_cidr(text, why)) return std::nullopt;
  return why;
}

}  // namespace aisbx::profile
