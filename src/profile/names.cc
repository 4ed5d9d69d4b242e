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

}  // namespace aisbx::profile
