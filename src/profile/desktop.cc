// The `desktop:` section's names and rules: display modes and well-known
// D-Bus bus names. The YAML walk is the parser's (parse.cc).
#include <array>
#include <utility>

#include "aisbx/profile.h"

namespace aisbx::profile {
namespace {

constexpr std::array<std::pair<const char*, Display>, 4> kDisplays{{
    {"none", Display::none},
    {"wayland", Display::wayland},
    {"x11", Display::x11},
    {"both", Display::both},
}};

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

}  // namespace

std::optional<Display> display_by_name(const std::string& s) {
  for (const auto& [name, d] : kDisplays)
    if (s == name) return d;
  return std::nullopt;
}

const char* to_string(Display d) {
  for (const auto& [name, v] : kDisplays)
    if (v == d) return name;
  return "none";
}

// The D-Bus specification's rules for a well-known name: at most 255
// bytes, two or more dot-separated elements of [A-Za-z0-9_-], none empty
// and none starting with a digit. A trailing `.*` (xdg-dbus-proxy's
// "this name and its sub-names") is allowed. Unique names (`:1.42`) change
// every session: a profile cannot mean one.
std::optional<std::string> bus_name_problem(const std::string& name) {
  std::string n = name;
  if (n.size() > 2 && n.ends_with(".*")) n.resize(n.size() - 2);
  if (n.empty()) return "an empty bus name";
  if (n.size() > 255) return "a bus name is at most 255 bytes";
  if (n[0] == ':') return "a unique name (`:1.42`) is not stable; name a well-known one";
  std::size_t elements = 0, start = 0;
  while (start <= n.size()) {
    std::size_t end = n.find('.', start);
    if (end == std::string::npos) end = n.size();
    if (end == start) return "an empty element between dots";
    if (n[start] >= '0' && n[start] <= '9') return "an element starts with a digit";
    for (std::size_t i = start; i < end; ++i)
      if (!name_char(n[i]))
        return "only letters, digits, `_` and `-` between dots (like org.freedesktop.Notifications)";
    ++elements;
    start = end + 1;
  }
  if (elements < 2) return "a bus name has at least two dot-separated elements";
  return std::nullopt;
}

}  // namespace aisbx::profile
