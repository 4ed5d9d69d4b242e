// What the kernel tests share to write profiles the way a user would:
// double-quoted YAML scalars, groups of paths with their rights, and the
// small path and word helpers their messages use.
#pragma once

#include <string>
#include <vector>

namespace aisbx::test {

inline std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Words joined by spaces, for messages.
inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// Rights as a profile spells them: every one of the 16 filesystem rights,
// and what a tool directory needs.
inline const std::vector<std::string> kAll = {
    "execute",   "write_file", "read_file", "read_dir",  "remove_dir", "remove_file",
    "make_char", "make_dir",   "make_reg",  "make_sock", "make_fifo",  "make_block",
    "make_sym",  "refer",      "truncate",  "ioctl_dev"};
inline const std::vector<std::string> kReadExec = {"read_file", "read_dir", "execute"};

// A YAML double-quoted scalar.
inline std::string yq(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// One access_roots group: its paths, each right set to true.
struct Group {
  std::string name;
  std::vector<std::string> paths;
  std::vector<std::string> rights;
};

// The groups as they stand under `access_roots:` (6 spaces in).
inline std::string groups_yaml(const std::vector<Group>& groups) {
  std::string y;
  for (const auto& g : groups) {
    y += "      " + g.name + ":\n        paths:\n";
    for (const auto& path : g.paths) y += "          - " + yq(path) + "\n";
    y += "        permissions:\n";
    for (const auto& r : g.rights) y += "          " + r + ": true\n";
  }
  return y;
}

// `    control_access:` with each right set to true.
inline std::string control_yaml(const std::vector<std::string>& rights) {
  std::string y = "    control_access:\n";
  for (const auto& r : rights) y += "      " + r + ": true\n";
  return y;
}

}  // namespace aisbx::test
