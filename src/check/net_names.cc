// network.allow ahead of a run: a name that does not resolve on this host,
// or resolves only to addresses the proxy refuses (loopback, this host's
// own, metadata, deny_resolved ...), would be denied at every connect; the
// run would start and the tool fail later with a less obvious message.
#include "check/parts.h"
#include "net/resolve.h"

namespace aisbx::check {

void check_allow_names(const plan::Plan& p, Report& report) {
  if (!p.net.enabled) return;
  const net::AddressPolicy policy = net::host_address_policy(p.net);
  bool wildcard = false;
  for (const auto& e : p.net.allow) {
    if (e.kind == net::AllowEntry::Kind::wildcard) wildcard = true;
    if (e.kind != net::AllowEntry::Kind::name) continue;
    const std::uint16_t port = e.port ? e.port : net::kDefaultPorts.back();
    const net::Resolved r = net::resolve_name(e.host, port, policy);
    if (!r.usable.empty()) continue;
    const std::string entry = net::to_string(e);
    report.findings.push_back(
        {"network", entry,
         "network.allow: " + q(entry) + " " + r.why +
             " on this host: the proxy would deny every connection to it",
         r.why.starts_with("does not resolve")
             ? "check the spelling, or remove it from network.allow"
             : "remove it from network.allow, or list the address itself with its port "
               "(`ADDRESS:PORT`) if it really is a destination",
         Severity::warning});
  }
  if (wildcard)
    report.notes.push_back("network.allow: wildcard entries (`*.NAME`) are resolved name by "
                           "name when a program connects; --check cannot resolve them ahead");
}

}  // namespace aisbx::check
