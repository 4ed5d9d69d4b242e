// Repositories in the roots whose git config makes git run a command:
// core.fsmonitor, core.hooksPath, core.sshCommand, core.pager, core.editor
// (and any `sshCommand`, `pager.*`, `*.editor`). The namespace wall keeps
// these files read-only during a run, but one planted before (or by a run
// in landlock mode) runs on the host the next time the user runs git
// there. The first 4 KiB of each config are read.
#include <algorithm>
#include <cctype>
#include <sstream>

#include "check/parts.h"

namespace aisbx::check {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool runs_code(const std::string& section, const std::string& key) {
  if (section == "core")
    return key == "fsmonitor" || key == "hookspath" || key == "sshcommand" || key == "pager" ||
           key == "editor";
  return section == "pager" || key == "sshcommand" || key == "editor";
}

}  // namespace

void check_git_configs(const plan::Plan& p, const Fs& fs, Report& report) {
  for (const auto& pp : p.protected_paths) {
    if (pp.mask != "git" || !pp.path.ends_with("/config") || pp.kind != FileKind::regular)
      continue;
    const auto text = fs.read_small(pp.path);
    if (!text) continue;
    std::istringstream in(*text);
    std::string line, section;
    std::vector<std::string> found;
    while (std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line[0] == '[') {
        const auto end = line.find_first_of(" \t\"]", 1);
        section = lower(line.substr(1, end == std::string::npos ? std::string::npos : end - 1));
        continue;
      }
      const std::string key = lower(trim(line.substr(0, line.find('='))));
      if (runs_code(section, key)) found.push_back(section + "." + key);
    }
    if (found.empty()) continue;
    std::string names;
    for (const auto& f : found) names += (names.empty() ? "" : ", ") + f;
    report.findings.push_back(
        {"git", pp.path,
         "git config sets " + names + ": git on the host runs that command in this repository",
         "look at it; remove what you did not set (git config --file " + pp.path +
             " --unset KEY)",
         Severity::error});
  }
}

}  // namespace aisbx::check
