// Names of profile values, shared by the parser, the renderers and the
// command line.
#include "aisbx/profile.h"

namespace aisbx::profile {

std::string Where::str() const {
  if (line > 0) {
    std::string s = (file.empty() ? "<input>" : file) + ":" + std::to_string(line);
    if (column > 0) s += ":" + std::to_string(column);
    return s;
  }
  if (!file.empty()) return file;
  return "command line";
}

const char* to_string(NetMode m) {
  switch (m) {
    case NetMode::host:
      return "host";
    case NetMode::none:
      return "none";
    case NetMode::loopback:
      return "loopback";
  }
  return "?";
}

const char* to_string(LogLevel l) {
  switch (l) {
    case LogLevel::error:
      return "error";
    case LogLevel::warn:
      return "warn";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "?";
}

const char* to_string(EnvMode m) {
  switch (m) {
    case EnvMode::inherit:
      return "inherit";
    case EnvMode::clean:
      return "clean";
  }
  return "?";
}

std::optional<LogLevel> log_level_by_name(const std::string& s) {
  for (const LogLevel l :
       {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug})
    if (s == to_string(l)) return l;
  return std::nullopt;
}

std::optional<NetMode> net_mode_by_name(const std::string& s) {
  for (const NetMode m : {NetMode::host, NetMode::none, NetMode::loopback})
    if (s == to_string(m)) return m;
  return std::nullopt;
}

namespace {

// The name of a control character, as C writes it where it has one.
std::string control_name(unsigned char c) {
  switch (c) {
    case 0: return "\\0";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\r': return "\\r";
    default: break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x") + kHex[c >> 4] + kHex[c & 0xF];
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

}  // namespace

std::optional<std::string> path_text_problem(std::string_view path) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (!is_control(c)) continue;
    const std::string what = c == 0      ? "a NUL byte"
                             : c == '\n' ? "a newline"
                                         : "a control character";
    return "contains " + what + " (" + control_name(c) + ") at byte " + std::to_string(i + 1) +
           "; a path may not hold control characters";
  }
  return std::nullopt;
}

std::string escaped_path(std::string_view path) {
  std::string out;
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    out += is_control(c) ? control_name(c) : std::string(1, ch);
  }
  return out;
}

}  // namespace aisbx::profile
