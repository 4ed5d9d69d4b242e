// The `limits:` section's keys and values. The YAML walk is the parser's
// (parse.cc); what a key means and how a size is written live here.
#include <charconv>

#include "aisbx/profile.h"

namespace aisbx::profile {

const std::vector<LimitKey>& limit_keys() {
  static const std::vector<LimitKey> keys{
      {"pids", false, &Limits::pids},           {"memory", true, &Limits::memory},
      {"tmp_size", true, &Limits::tmp_size},    {"shm_size", true, &Limits::shm_size},
      {"nofile", false, &Limits::nofile},       {"cpu_seconds", false, &Limits::cpu_seconds},
  };
  return keys;
}

std::optional<std::uint64_t> parse_size(const std::string& text, std::string& why) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) {
    why = "expected a size such as 512M or 1G";
    return std::nullopt;
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (ec != std::errc() || end != text.data() + digits) {
    why = "the number is too large";
    return std::nullopt;
  }
  std::string unit = text.substr(digits);
  // K, KB, KiB (and k): all binary, as tmpfs and cgroups read them.
  if (unit.size() == 3 && unit[1] == 'i' && unit[2] == 'B') unit.resize(1);
  if (unit.size() == 2 && unit[1] == 'B') unit.resize(1);
  unsigned shift = 0;
  if (unit.empty()) shift = 0;
  else if (unit == "K" || unit == "k") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else {
    why = "unknown unit `" + text.substr(digits) + "` (use K, M, G or T)";
    return std::nullopt;
  }
  if (shift && n > (~std::uint64_t{0} >> shift)) {
    why = "the size is too large";
    return std::nullopt;
  }
  return n << shift;
}

std::string size_text(std::uint64_t bytes) {
  static constexpr struct {
    unsigned shift;
    char unit;
  } kUnits[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
  for (const auto& u : kUnits)
    if (bytes >= (std::uint64_t{1} << u.shift) && bytes % (std::uint64_t{1} << u.shift) == 0)
      return std::to_string(bytes >> u.shift) + u.unit;
  return std::to_string(bytes);
}

}  // namespace aisbx::profile
