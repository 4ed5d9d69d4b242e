// The Xauthority file format (libXau's): pure, so unit tests read it.
#include "desktop/desktop.h"

namespace aisbx::desktop {
namespace {

// One length-prefixed field (16-bit big-endian length, then the bytes).
bool field(const std::string& f, std::size_t& at, std::string* out) {
  if (at + 2 > f.size()) return false;
  const std::size_t n = (static_cast<unsigned char>(f[at]) << 8) | static_cast<unsigned char>(f[at + 1]);
  if (at + 2 + n > f.size()) return false;
  if (out) *out = f.substr(at + 2, n);
  at += 2 + n;
  return true;
}

}  // namespace

std::optional<std::string> xauth_entries_for(const std::string& f, const std::string& display,
                                             const std::string& as) {
  std::string out;
  std::size_t at = 0;
  while (at < f.size()) {
    const std::size_t start = at;
    std::string number;
    if (at + 2 > f.size()) return std::nullopt;
    at += 2;  // family
    if (!field(f, at, nullptr)) return std::nullopt;
    const std::size_t number_at = at;
    if (!field(f, at, &number)) return std::nullopt;
    const std::size_t number_end = at;
    if (!field(f, at, nullptr) || !field(f, at, nullptr)) return std::nullopt;
    if (number != display || as.size() > 0xffff) continue;
    const std::string len{static_cast<char>(as.size() >> 8), static_cast<char>(as.size() & 0xff)};
    out += f.substr(start, number_at - start) + len + as + f.substr(number_end, at - number_end);
  }
  return out;
}

}  // namespace aisbx::desktop
