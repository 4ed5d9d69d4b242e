#include "net/dns_message.h"

namespace aisbx::net::dns {
namespace {

constexpr std::size_t kHeader = 12;
constexpr std::uint32_t kTtl = 60;

std::uint16_t u16(std::span<const std::uint8_t> m, std::size_t at) {
  return static_cast<std::uint16_t>((m[at] << 8) | m[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void header(std::vector<std::uint8_t>& out, std::uint16_t id, bool rd, Rcode rcode,
            std::uint16_t qd, std::uint16_t an) {
  put16(out, id);
  // QR=1, opcode QUERY, AA=1 (the stub is the only authority inside),
  // RD echoed, RA=1 so resolvers do not complain.
  out.push_back(static_cast<std::uint8_t>(0x84 | (rd ? 0x01 : 0x00)));
  out.push_back(static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(rcode)));
  put16(out, qd);
  put16(out, an);
  put16(out, 0);
  put16(out, 0);
}

}  // namespace

std::optional<Query> parse_query(std::span<const std::uint8_t> m,
                                 std::optional<std::uint16_t>& id_out) {
  if (m.size() < kHeader) return std::nullopt;
  Query q;
  q.id = u16(m, 0);
  id_out = q.id;
  const std::uint8_t flags = m[2];
  if (flags & 0x80) return std::nullopt;           // QR: a response
  if ((flags >> 3) & 0x0f) return std::nullopt;    // opcode other than QUERY
  q.recursion_desired = flags & 0x01;
  if (u16(m, 4) != 1) return std::nullopt;         // exactly one question
  std::size_t at = kHeader;
  std::size_t total = 0;
  for (;;) {
    if (at >= m.size()) return std::nullopt;
    const std::uint8_t len = m[at++];
    if (len == 0) break;
    if (len & 0xc0) return std::nullopt;  // compression has no place in a question
    if (at + len > m.size()) return std::nullopt;
    total += len + 1u;
    if (total > 255) return std::nullopt;
    if (!q.name.empty()) q.name += '.';
    q.name.append(reinterpret_cast<const char*>(m.data() + at), len);
    at += len;
  }
  if (at + 4 > m.size()) return std::nullopt;
  q.qtype = u16(m, at);
  q.qclass = u16(m, at + 2);
  at += 4;
  q.question.assign(m.begin() + kHeader, m.begin() + static_cast<std::ptrdiff_t>(at));
  return q;
}

std::vector<std::uint8_t> response(const Query& q, Rcode rcode,
                                   const std::optional<std::array<std::uint8_t, 4>>& a) {
  std::vector<std::uint8_t> out;
  header(out, q.id, q.recursion_desired, rcode, 1, a ? 1 : 0);
  out.insert(out.end(), q.question.begin(), q.question.end());
  if (a) {
    put16(out, 0xc000 | kHeader);  // the name: a pointer to the question's
    put16(out, kTypeA);
    put16(out, kClassIN);
    put16(out, static_cast<std::uint16_t>(kTtl >> 16));
    put16(out, static_cast<std::uint16_t>(kTtl & 0xffff));
    put16(out, 4);
    out.insert(out.end(), a->begin(), a->end());
  }
  return out;
}

std::vector<std::uint8_t> format_error(std::uint16_t id) {
  std::vector<std::uint8_t> out;
  header(out, id, false, Rcode::formerr, 0, 0);
  return out;
}

}  // namespace aisbx::net::dns
