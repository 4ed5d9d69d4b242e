// The allowlist's pure rules (aisbx/net_rules.h). Addresses are parsed by
// hand rather than with inet_pton: this file is planning code (no libc
// networking), and the accepted forms are deliberately narrower than
// inet_aton's (no octal, hex or single-number IPv4).
#include "aisbx/net_rules.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace aisbx::net {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::array<std::uint8_t, 4>> parse_v4(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  for (int i = 0; i < 4; ++i) {
    std::size_t n = 0;
    while (n < s.size() && is_digit(s[n])) ++n;
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) return std::nullopt;
    unsigned v = 0;
    for (std::size_t k = 0; k < n; ++k) v = v * 10 + static_cast<unsigned>(s[k] - '0');
    if (v > 255) return std::nullopt;
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    s.remove_prefix(n);
    if (i < 3) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

// RFC 4291 section 2.2: eight groups of 1-4 hex digits, one `::` for a run
// of zero groups, an IPv4 dotted quad as the last 32 bits.
std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view s) {
  std::vector<std::uint16_t> head, tail;
  bool gap = false;
  if (s.starts_with("::")) {
    gap = true;
    s.remove_prefix(2);
  } else if (s.starts_with(":")) {
    return std::nullopt;
  }
  std::optional<std::array<std::uint8_t, 4>> v4_tail;
  while (!s.empty()) {
    auto& groups = gap ? tail : head;
    const std::size_t end = s.find(':');
    const std::string_view part = s.substr(0, end);
    if (part.find('.') != std::string_view::npos) {
      if (end != std::string_view::npos) return std::nullopt;  // the quad comes last
      v4_tail = parse_v4(part);
      if (!v4_tail) return std::nullopt;
      s = {};
      break;
    }
    if (part.empty() || part.size() > 4) return std::nullopt;
    unsigned v = 0;
    for (char c : part) {
      const int h = hex_value(c);
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(h);
    }
    groups.push_back(static_cast<std::uint16_t>(v));
    if (end == std::string_view::npos) {
      s = {};
      break;
    }
    s.remove_prefix(end + 1);
    if (s.starts_with(":")) {
      if (gap) return std::nullopt;  // a second `::`
      gap = true;
      s.remove_prefix(1);
    } else if (s.empty()) {
      return std::nullopt;  // a trailing single `:`
    }
  }
  const std::size_t words = head.size() + tail.size() + (v4_tail ? 2 : 0);
  if (gap ? words > 7 : words != 8) return std::nullopt;
  std::array<std::uint8_t, 16> out{};
  std::size_t i = 0;
  for (auto w : head) {
    out[i++] = static_cast<std::uint8_t>(w >> 8);
    out[i++] = static_cast<std::uint8_t>(w & 0xff);
  }
  i = 16 - tail.size() * 2 - (v4_tail ? 4 : 0);
  for (auto w : tail) {
    out[i++] = static_cast<std::uint8_t>(w >> 8);
    out[i++] = static_cast<std::uint8_t>(w & 0xff);
  }
  if (v4_tail) std::copy(v4_tail->begin(), v4_tail->end(), out.begin() + 12);
  return out;
}

bool is_mapped(const Address& a) {
  if (a.v4) return false;
  for (int i = 0; i < 10; ++i)
    if (a.bytes[static_cast<std::size_t>(i)] != 0) return false;
  return a.bytes[10] == 0xff && a.bytes[11] == 0xff;
}

bool in_prefix(const Address& a, const Address& base, int prefix) {
  if (a.v4 != base.v4) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const int mask = 0x80 >> (bit % 8);
    if ((a.bytes[byte] & mask) != (base.bytes[byte] & mask)) return false;
  }
  return true;
}

Address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  Address r;
  r.bytes[0] = a;
  r.bytes[1] = b;
  r.bytes[2] = c;
  r.bytes[3] = d;
  return r;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0') ||
      !std::all_of(s.begin(), s.end(), is_digit))
    return std::nullopt;
  unsigned v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// Every label a number, in any form inet_aton reads (`127.1`, `0x7f.1`,
// `2130706433`, `0177.0.0.1`): resolvers treat such a "name" as an
// address, so it is not a name.
bool numeric_like(std::string_view name) {
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.starts_with("0x")) label.remove_prefix(2);
    const bool hex = name.substr(start, 2) == "0x";
    if (label.empty() && !hex) return false;
    for (char c : label)
      if (hex ? hex_value(c) < 0 : !is_digit(c)) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

std::optional<Address> parse_address(std::string_view text) {
  if (auto b = parse_v4(text)) return v4((*b)[0], (*b)[1], (*b)[2], (*b)[3]);
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  auto b = parse_v6(text);
  if (!b) return std::nullopt;
  Address a;
  a.v4 = false;
  a.bytes = *b;
  return a;
}

std::string to_string(const Address& a) {
  char buf[64];
  if (a.v4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]);
    return buf;
  }
  if (is_mapped(a)) {
    std::snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", a.bytes[12], a.bytes[13], a.bytes[14],
                  a.bytes[15]);
    return buf;
  }
  std::array<unsigned, 8> w{};
  for (std::size_t i = 0; i < 8; ++i) w[i] = (a.bytes[2 * i] << 8) | a.bytes[2 * i + 1];
  // RFC 5952: the longest run of two or more zero groups becomes `::`.
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && w[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && !out.ends_with(":")) out += ":";
    std::snprintf(buf, sizeof buf, "%x", w[static_cast<std::size_t>(i)]);
    out += buf;
  }
  return out;
}

Address unmapped(const Address& a) {
  if (!is_mapped(a)) return a;
  return v4(a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]);
}

Address address_from_bytes(const std::uint8_t* bytes, bool is_v4) {
  Address a;
  a.v4 = is_v4;
  std::copy(bytes, bytes + (is_v4 ? 4 : 16), a.bytes.begin());
  return a;
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string& why) {
  const std::size_t slash = text.find('/');
  const auto a = parse_address(text.substr(0, slash));
  if (!a) {
    why = "expected an address range such as 10.0.0.0/8 or fd00::/8";
    return std::nullopt;
  }
  const int max = a->v4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0') ||
        !std::all_of(p.begin(), p.end(), is_digit)) {
      why = "expected a prefix length after `/`";
      return std::nullopt;
    }
    std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (prefix > max) {
      why = "the prefix length is at most " + std::to_string(max);
      return std::nullopt;
    }
  }
  Cidr c;
  c.base = *a;
  c.prefix = prefix;
  for (int bit = prefix; bit < max; ++bit)
    c.base.bytes[static_cast<std::size_t>(bit / 8)] &=
        static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  return c;
}

std::string to_string(const Cidr& c) { return to_string(c.base) + "/" + std::to_string(c.prefix); }

bool contains(const Cidr& c, const Address& a) {
  return in_prefix(a, c.base, c.prefix) || in_prefix(unmapped(a), c.base, c.prefix);
}

std::optional<std::string> normalize_name(std::string_view text) {
  if (text.ends_with(".")) text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return std::nullopt;
  std::string out;
  out.reserve(text.size());
  std::size_t label = 0;
  for (char c : text) {
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
    } else {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                      c == '-' || c == '_';
      if (!ok || ++label > 63) return std::nullopt;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (label == 0) return std::nullopt;
  return out;
}

std::optional<AllowEntry> parse_allow_entry(std::string_view text, std::string& why) {
  AllowEntry e;
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with("[")) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      why = "an IPv6 address in brackets needs its `]`";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(":")) {
        why = "expected `:PORT` after `]`";
        return std::nullopt;
      }
      port = rest.substr(1);
      if (port.empty()) {
        why = "expected a port number after `:`";
        return std::nullopt;
      }
    }
    const auto a = parse_address(host);
    if (!a || a->v4) {
      why = "expected an IPv6 address inside `[...]`";
      return std::nullopt;
    }
    e.kind = AllowEntry::Kind::address;
    e.address = *a;
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    const auto a = parse_address(text);
    if (!a) {
      why = "not an IPv6 address (write `[ADDRESS]:PORT` for a port)";
      return std::nullopt;
    }
    e.kind = AllowEntry::Kind::address;
    e.address = *a;
  } else {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) {
        why = "expected a port number after `:`";
        return std::nullopt;
      }
    }
    if (auto a = parse_address(host)) {
      e.kind = AllowEntry::Kind::address;
      e.address = *a;
    } else {
      std::string_view name = host;
      if (name.starts_with("*.")) {
        e.kind = AllowEntry::Kind::wildcard;
        name.remove_prefix(2);
      }
      if (name.find('*') != std::string_view::npos) {
        why = "a wildcard is allowed only as a whole first label (`*.example.com`)";
        return std::nullopt;
      }
      const auto n = normalize_name(name);
      if (!n) {
        why = "not a host name (letters, digits, `-`, `_` and `.` only, no empty label)";
        return std::nullopt;
      }
      if (numeric_like(*n)) {
        why = "looks like an address in a form resolvers read as a number; write the "
              "address as four decimal octets (a.b.c.d)";
        return std::nullopt;
      }
      e.host = *n;
    }
  }
  if (!port.empty()) {
    const auto p = parse_port(port);
    if (!p) {
      why = "the port must be a number between 1 and 65535";
      return std::nullopt;
    }
    e.port = *p;
  }
  if (e.kind == AllowEntry::Kind::address) e.host = to_string(e.address);
  return e;
}

std::string to_string(const AllowEntry& e) {
  std::string s = e.kind == AllowEntry::Kind::wildcard ? "*." + e.host : e.host;
  if (e.kind == AllowEntry::Kind::address && !e.address.v4 && e.port) s = "[" + s + "]";
  if (e.port) s += ":" + std::to_string(e.port);
  return s;
}

bool port_allowed(const AllowEntry& e, std::uint16_t port) {
  if (e.port) return e.port == port;
  return std::find(kDefaultPorts.begin(), kDefaultPorts.end(), port) != kDefaultPorts.end();
}

bool name_matches(const AllowEntry& e, std::string_view name) {
  switch (e.kind) {
    case AllowEntry::Kind::name:
      return name == e.host;
    case AllowEntry::Kind::wildcard:
      return name.size() > e.host.size() + 1 && name.ends_with(e.host) &&
             name[name.size() - e.host.size() - 1] == '.';
    case AllowEntry::Kind::address:
      return false;
  }
  return false;
}

bool name_listed(const std::vector<AllowEntry>& allow, std::string_view name) {
  return std::any_of(allow.begin(), allow.end(),
                     [&](const AllowEntry& e) { return name_matches(e, name); });
}

bool name_allowed(const std::vector<AllowEntry>& allow, std::string_view name,
                  std::uint16_t port) {
  return std::any_of(allow.begin(), allow.end(), [&](const AllowEntry& e) {
    return name_matches(e, name) && port_allowed(e, port);
  });
}

bool address_allowed(const std::vector<AllowEntry>& allow, const Address& a,
                     std::uint16_t port) {
  const Address u = unmapped(a);
  return std::any_of(allow.begin(), allow.end(), [&](const AllowEntry& e) {
    return e.kind == AllowEntry::Kind::address && unmapped(e.address) == u &&
           port_allowed(e, port);
  });
}

std::optional<std::string> refused(const Address& in, std::uint16_t port,
                                   const AddressPolicy& policy) {
  const Address a = unmapped(in);
  for (const auto& [addr, p] : policy.listed)
    if (unmapped(addr) == a && p == port) return std::nullopt;
  struct Range {
    const char* cidr;
    const char* why;
  };
  // Order matters: the metadata addresses sit inside link-local and
  // shared address space, and their own word is the more useful one.
  static constexpr Range kRanges[] = {
      {"169.254.169.254/32", "the cloud metadata address"},
      {"100.100.100.200/32", "the cloud metadata address"},
      {"fd00:ec2::254/128", "the cloud metadata address"},
      {"0.0.0.0/8", "an unspecified address"},
      {"::/128", "an unspecified address"},
      {"127.0.0.0/8", "a loopback address"},
      {"::1/128", "a loopback address"},
      {"169.254.0.0/16", "a link-local address"},
      {"fe80::/10", "a link-local address"},
      {"224.0.0.0/4", "a multicast address"},
      {"ff00::/8", "a multicast address"},
      {"255.255.255.255/32", "the broadcast address"},
      {"240.0.0.0/4", "a reserved address"},
  };
  for (const auto& r : kRanges) {
    std::string why;
    if (contains(*parse_cidr(r.cidr, why), a)) return std::string(r.why);
  }
  for (const auto& own : policy.own)
    if (unmapped(own) == a) return std::string("an address of this host");
  for (const auto& c : policy.deny_resolved)
    if (contains(c, a)) return "an address in network.deny_resolved, " + to_string(c);
  return std::nullopt;
}

}  // namespace aisbx::net
