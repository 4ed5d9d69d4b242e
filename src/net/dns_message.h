// The DNS stub's messages: one question in, one answer out (RFC 1035
// section 4). Pure byte work, unit-tested and fuzzed without a socket.
//
// Written here rather than with c-ares: Debian 12 has c-ares 1.18, which
// can build a query and parse a response but neither parse a query nor
// build a response (its dns_record API came with 1.22). The stub needs only
// the header, one question and an A record, and rejects everything else.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace aisbx::net::dns {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeAAAA = 28;
inline constexpr std::uint16_t kClassIN = 1;

enum class Rcode : std::uint8_t { noerror = 0, formerr = 1, servfail = 2, refused = 5 };

struct Query {
  std::uint16_t id = 0;
  bool recursion_desired = false;
  // The question's labels as sent, joined with `.` (bytes outside the
  // allowlist's name alphabet are kept: normalize_name() refuses them).
  std::string name;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::vector<std::uint8_t> question;  // the question section's bytes, echoed back
};

// nullopt: not a standard query with exactly one question (a response, an
// opcode other than QUERY, a truncated message, a compressed or over-long
// name). `id_out` gets the message id when the header could be read, so
// the caller can still answer FORMERR.
std::optional<Query> parse_query(std::span<const std::uint8_t> msg,
                                 std::optional<std::uint16_t>& id_out);

// A response to `q`: the question echoed, `rcode`, and when `a` is set one
// A record with a short TTL (the pool address is valid for this run only).
std::vector<std::uint8_t> response(const Query& q, Rcode rcode,
                                   const std::optional<std::array<std::uint8_t, 4>>& a = {});
// FORMERR for a message whose question could not be read.
std::vector<std::uint8_t> format_error(std::uint16_t id);

}  // namespace aisbx::net::dns
