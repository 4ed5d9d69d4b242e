// The egress allowlist's rules (network.allow, host_ports, deny_resolved):
// what an entry may say, which names it matches, which resolved addresses
// are refused. Pure (no syscalls, no libc resolver): the profile parser,
// the planner and the proxy outside the sandbox (src/net/) all judge with
// these same functions, and unit tests exercise them without a kernel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aisbx::net {

// An IPv4 or IPv6 address. IPv4 uses bytes[0..3].
struct Address {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = true;
  friend bool operator==(const Address&, const Address&) = default;
};

// Strict textual forms only: dotted quad of four decimal octets without
// leading zeros (never inet_aton's `0x7f.1` or `2130706433`), and RFC 4291
// IPv6 text without a zone. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`)
// stays IPv6 here; unmapped() gives its IPv4 address.
std::optional<Address> parse_address(std::string_view text);
std::string to_string(const Address& a);  // `1.2.3.4`, `2001:db8::1`
// `::ffff:a.b.c.d` -> a.b.c.d; anything else unchanged.
Address unmapped(const Address& a);
// From raw network-order bytes (4 or 16), as a socket address holds them.
Address address_from_bytes(const std::uint8_t* bytes, bool v4);

struct Cidr {
  Address base;  // masked to the prefix
  int prefix = 0;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};
// `10.0.0.0/8`, `fd00::/8`, or a single address (/32, /128). nullopt with
// `why` set when malformed.
std::optional<Cidr> parse_cidr(std::string_view text, std::string& why);
std::string to_string(const Cidr& c);
// An IPv4 range also holds the IPv4-mapped IPv6 forms of its addresses.
bool contains(const Cidr& c, const Address& a);

// A name as the allowlist compares it: lower case, one trailing dot
// dropped. nullopt when it is not a host name: empty labels, a label over
// 63 bytes, over 253 bytes in all, or a byte other than a letter, digit,
// `-`, `_` or `.` (so nothing can smuggle CRLF, `@` or a space into a
// CONNECT line or a DNS answer).
std::optional<std::string> normalize_name(std::string_view text);

// One network.allow entry: `registry.npmjs.org`, `*.pypi.org`,
// `api.example.com:443`, `203.0.113.7:8443`, `[2001:db8::1]:443`.
struct AllowEntry {
  enum class Kind { name, wildcard, address };
  Kind kind = Kind::name;
  std::string host;  // normalized name; for a wildcard the part after `*.`
  Address address;   // Kind::address
  std::uint16_t port = 0;  // 0: the default ports (kDefaultPorts)
  friend bool operator==(const AllowEntry&, const AllowEntry&) = default;
};
// An entry without a port allows these: HTTP and HTTPS.
inline constexpr std::array<std::uint16_t, 2> kDefaultPorts{80, 443};

std::optional<AllowEntry> parse_allow_entry(std::string_view text, std::string& why);
std::string to_string(const AllowEntry& e);  // as a profile would write it
bool port_allowed(const AllowEntry& e, std::uint16_t port);
// `name` already normalized. A wildcard `*.example.com` matches
// `a.example.com` and `a.b.example.com`, never `example.com` itself,
// `xexample.com` or `example.com.evil.org`.
bool name_matches(const AllowEntry& e, std::string_view name);
// Does any entry allow this name (at any port / at this port)?
bool name_listed(const std::vector<AllowEntry>& allow, std::string_view name);
bool name_allowed(const std::vector<AllowEntry>& allow, std::string_view name,
                  std::uint16_t port);
bool address_allowed(const std::vector<AllowEntry>& allow, const Address& a,
                     std::uint16_t port);

// Where a resolved address may not lead.
struct AddressPolicy {
  std::vector<Address> own;         // this host's own addresses
  std::vector<Cidr> deny_resolved;  // network.deny_resolved
  // Listed destinations, allowed even when a range below refuses them:
  // allow literals with their ports, and 127.0.0.1:PORT of host_ports.
  std::vector<std::pair<Address, std::uint16_t>> listed;
};
// nullopt: the address may be dialled. Else the reason, worded to follow
// "resolves to": "a loopback address", "the cloud metadata address", ...
std::optional<std::string> refused(const Address& a, std::uint16_t port,
                                   const AddressPolicy& policy);

}  // namespace aisbx::net
